"""``iamreach demo`` end to end: the real CLI as a subprocess builds, collects, checks and draws.

The subprocess gets no AWS settings at all: the demo starts its own in-process emulator on a
free local port and points only itself at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from iamreach import snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FILES = ("report.html", "attack-paths.svg", "findings.sarif", "summary.md", "snapshot.json.gz")


def _run_demo(out):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "iamreach", "demo", "-o", str(out)], capture_output=True,
                          text=True, env=env, timeout=300)
    return proc, out, time.monotonic() - start


def test_demo_end_to_end(tmp_path, shared_dir):
    """One demo run (about a minute), then every check on what it wrote."""
    demo = _run_demo(tmp_path / "demo-output")
    _check_outputs(demo)
    _check_findings(demo, shared_dir)
    _check_pictures(demo)


def _check_outputs(demo):
    proc, out, seconds = demo
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert seconds < 120, seconds
    for name in FILES:
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert path.stat().st_mode & 0o777 == 0o600, name
    assert "127.0.0.1 - -" not in proc.stderr  # no emulator request log on the terminal
    # the closing summary says where to look
    assert f"open   {out / 'report.html'}" in proc.stdout
    assert "forbidden path(s) synthetic -> phi" in proc.stdout


def _check_findings(demo, shared_dir):
    proc, out, _ = demo
    inv = snapshot.load(out / "snapshot.json.gz")
    assert len(inv.accounts) >= 3 and inv.principals and inv.resources
    sarif = json.loads((out / "findings.sarif").read_text())
    schema = json.loads((shared_dir / "reference" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(sarif)
    rule_ids = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "IAMR-001" in rule_ids
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# iamreach demo: Meridian Health")
    n_paths = int(proc.stdout.split(" forbidden path(s)")[0].rsplit(" ", 1)[1])
    assert n_paths > 0 and f"forbidden paths synthetic → phi: **{n_paths}**" in summary
    assert "meridian-phi-records" in summary


def _check_pictures(demo):
    _, out, _ = demo
    root = ET.fromstring((out / "attack-paths.svg").read_bytes())
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "meridian-phi-records" in texts and "synthetic" in texts
    page = (out / "report.html").read_text()
    data = page.split('<script type="application/json" id="iamreach-data">', 1)[1].split("</script>", 1)[0]
    parsed = json.loads(data)
    assert parsed["nodes"] and parsed["edges"]
    assert any("meridian-phi-records" in (n["arn"] or "") for n in parsed["nodes"])
    assert "<h2>Findings</h2>" in page and "IAMR-001" in page
    assert "<h2>Forbidden paths</h2>" in page
