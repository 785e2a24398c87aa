"""docs/notebooks/explore.ipynb runs top to bottom, offline, in a real Jupyter kernel."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "explore.ipynb"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SVG = "{http://www.w3.org/2000/svg}"


def _mimes(cell) -> set[str]:
    return {m for out in cell.get("outputs", ()) for m in out.get("data", {})}


def test_notebook_is_saved_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_explore_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[0]: c for c in code}
    paths_cell = by_source['paths = env.paths("synthetic", "phi")']
    assert {"image/svg+xml", "text/html"} <= _mimes(paths_cell)
    svg = next(o["data"]["image/svg+xml"] for o in paths_cell.outputs if "image/svg+xml" in o.get("data", {}))
    root = ET.fromstring(svg)
    assert "meridian-phi-records" in " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    around = by_source['reader = f"arn:aws:iam::{org.production}:role/phi-analytics-reader"']
    assert "image/svg+xml" in _mimes(around)
    report = by_source["report = env.check()"]
    html_out = next(o["data"]["text/html"] for o in report.outputs if "text/html" in o.get("data", {}))
    assert "IAMR-001" in html_out and "finding(s)" in html_out
    saved = by_source['page = work / "paths.html"']
    text = "".join(o.get("text", "") for o in saved.outputs)
    assert "paths.html" in text
    json.dumps(nb)  # outputs are plain JSON
