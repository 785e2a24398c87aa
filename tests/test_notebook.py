"""The Jupyter layer: Environment, display classes, pandas tables, lazy ``iamreach.load``."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from test_render_graphs import BUCKET, DB, EC2, HOSTILE, LAMBDA, PROD_ROLE, contract_graph

import iamreach
from iamreach.errors import InputError
from iamreach.notebook import Environment, GraphView, PathSetView, ReportView


@pytest.fixture
def env() -> Environment:
    return Environment.from_graph(contract_graph())


def test_load_is_lazy_and_exported():
    code = ("import sys, iamreach; assert 'iamreach.notebook' not in sys.modules; "
            "f = iamreach.load; assert 'iamreach.notebook' in sys.modules; print(f.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "iamreach.notebook"
    with pytest.raises(AttributeError):
        iamreach.no_such_thing  # noqa: B018


def test_paths_display_as_svg_and_table(env):
    view = env.paths("synthetic", "phi")
    assert isinstance(view, PathSetView)
    pairs = {(p.source, p.target) for p in view}
    assert (LAMBDA, BUCKET) in pairs and (EC2, DB) in pairs
    bundle = view._repr_mimebundle_()
    assert {"text/plain", "text/html", "image/svg+xml"} <= set(bundle)
    ET.fromstring(bundle["image/svg+xml"])  # well-formed SVG
    page = bundle["text/html"]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    df = view.to_pandas()
    assert list(df.columns) == ["source", "target", "decision", "hops", "kinds", "route"]
    assert len(df) == len(view)
    row = df[(df.source == LAMBDA) & (df.target == BUCKET)].iloc[0]
    assert row.kinds == "runs_as > can_assume > reads"
    assert PROD_ROLE in row.route


def test_render_views(env, tmp_path):
    whole = env.render()
    assert isinstance(whole, GraphView) and not whole.doc.overview
    assert "image/svg+xml" in whole._repr_mimebundle_()
    assert whole._repr_svg_().startswith("<svg")
    around = env.render(around=PROD_ROLE, hops=1)
    assert set(around.doc.node_ids) == {PROD_ROLE, BUCKET, "arn:aws:iam::222233334444:role/synthetic-lambda"}
    paths = env.render("synthetic", "phi")
    assert LAMBDA in paths.doc.node_ids and "snapshot_of" not in paths.dot
    for name in ("p.svg", "p.png", "p.dot", "p.html"):
        paths.save(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 100
    html_text = (tmp_path / "p.html").read_text()
    assert 'id="iamreach-data"' in html_text and "<script>alert" not in html_text
    with pytest.raises(InputError, match="no node"):
        env.render(around="arn:aws:iam::1:role/nope")
    with pytest.raises(InputError):
        env.render("synthetic")


def test_nodes_and_edges_frames(env):
    nodes = env.nodes()
    assert len(nodes) == env.graph.number_of_nodes()
    assert nodes.set_index("id").loc[BUCKET, "labels"] == "phi,production"
    edges = env.edges()
    assert len(edges) == env.graph.number_of_edges()
    conn = edges[edges.kind == "can_connect"].iloc[0]
    assert conn.ports == "tcp/5432" and conn.source == EC2


def test_report_view_escapes_and_tabulates():
    from iamreach.analyses.report import Finding, Report

    f = Finding(check_id="IAMR-001", title="forbidden path", status="fail", severity="critical",
                resource=PROD_ROLE, account="111122223333", message=f"role {HOSTILE} reaches PHI",
                remediation="r", key=("k",))
    view = ReportView(Report(findings=(f,)))
    page = view._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1 critical" in page
    df = view.to_pandas()
    assert df.iloc[0].check_id == "IAMR-001" and df.iloc[0].severity == "critical"


def test_check_runs_the_registry(env):
    report = env.check()
    assert isinstance(report, ReportView)
    ids = {f.check_id for f in report.findings}
    assert "IAMR-001" in ids  # synthetic -> phi paths exist in the contract graph
    assert "IAMR-001" in report._repr_html_()


def test_can_and_who_can_on_a_built_graph():
    from test_render_cli import BUCKET as B
    from test_render_cli import PROD_ROLE as READER
    from test_render_cli import SYN_ROLE, small_inventory

    env = Environment(small_inventory())
    yes = env.can(READER, "s3:GetObject", f"{B}/x.csv")
    assert yes.decision == "allowed"
    assert "ALLOWED" in yes._repr_html_()
    no = env.can(SYN_ROLE, "s3:GetObject", f"{B}/x.csv")
    assert no.decision != "allowed"
    who = env.who_can("s3:GetObject", f"{B}/x.csv")
    assert READER in {p for p, _ in who}
    assert READER in who._repr_html_() and list(who.to_pandas().columns) == ["principal", "decision", "conditions"]
    assert len(env.paths("synthetic", "phi")) >= 1
