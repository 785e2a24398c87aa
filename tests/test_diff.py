"""``iamreach diff``: hand-built graphs for the rules of the diff, real plan snapshots end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from iamreach.analyses.diff import diff_graphs, diff_snapshots
from iamreach.errors import InputError
from iamreach.loaders.terraform import apply_plan, load_plan

DATA = Path(__file__).parent / "data" / "terraform"
SARIF_SCHEMA = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "sarif-schema-2.1.0.json"
IAMREACH = [sys.executable, "-m", "iamreach"]
ACCOUNT = "123456789012"

W, R, B, X = "arn:aws:lambda:us-east-1:1:function:w", "arn:aws:iam::1:role/r", "arn:aws:s3:::phi", "arn:aws:s3:::x"


def _graph(edges) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(gaps=[], accounts={})
    for n, kind, labels in [(W, "lambda_function", ("synthetic",)), (R, "role", ()), (B, "s3_bucket", ("phi",)),
                            (X, "s3_bucket", ())]:
        G.add_node(n, kind=kind, labels=labels, account="1")
    for u, v, kind, decision, actions in edges:
        G.add_edge(u, v, kind=kind, decision=decision, actions=actions, ports=(), conditions=(), method=None,
                   reason="", evidence=({"type": "identity_policy", "ref": None, "sid": None, "index": None,
                                         "detail": ",".join(actions)},))
    return G


RUNS = (W, R, "runs_as", "allowed", ())
READS = (R, B, "reads", "allowed", ("s3:GetObject",))


def test_opened_pair_marks_the_new_hop_and_fails():
    d = diff_graphs(_graph([RUNS]), _graph([RUNS, READS]), checks=False)
    (rule,) = d.rules
    assert d.exit_code == 1 and rule.fails
    (opened,) = rule.opened
    assert opened.pair == (W, B) and opened.decision_after == "allowed"
    assert [h.status for h in opened.paths[0]] == ["same", "added"]
    assert [(e.source, e.target, e.change) for e in d.edges] == [(R, B, "added")]


def test_closed_pair_passes_and_lists_removed_hops():
    d = diff_graphs(_graph([RUNS, READS]), _graph([RUNS]), checks=False)
    assert d.exit_code == 0
    (closed,) = d.rules[0].closed
    assert [h.status for h in closed.paths[0]] == ["same", "removed"]
    assert [(e.source, e.target, e.change) for e in d.edges] == [(R, B, "removed")]


def test_conditional_to_allowed_fails_and_allowed_to_conditional_passes():
    cond = (R, B, "reads", "conditional", ("s3:GetObject",))
    up = diff_graphs(_graph([RUNS, cond]), _graph([RUNS, READS]), checks=False)
    assert up.exit_code == 1 and up.rules[0].escalated[0].pair == (W, B)
    assert up.edges[0].change == "changed"
    down = diff_graphs(_graph([RUNS, READS]), _graph([RUNS, cond]), checks=False)
    assert down.exit_code == 0 and down.rules[0].relaxed[0].decision_after == "conditional"


def test_only_edges_between_the_rule_ends_matter():
    other = (R, X, "reads", "allowed", ("s3:GetObject",))
    d = diff_graphs(_graph([RUNS, READS]), _graph([RUNS, READS, other]), checks=False)
    assert d.exit_code == 0 and d.edges == ()
    widened = (R, B, "reads", "allowed", ("s3:GetObject", "s3:ListBucket"))
    d = diff_graphs(_graph([RUNS, READS]), _graph([RUNS, widened]), checks=False)
    assert [(e.change, e.after["actions"]) for e in d.edges] == [("changed", ("s3:GetObject", "s3:ListBucket"))]
    assert d.rules[0].opened == () and d.exit_code == 0


def test_identical_graphs_diff_to_nothing():
    G = _graph([RUNS, READS])
    d = diff_graphs(G, G, checks=False)
    assert d.exit_code == 0 and d.edges == () and not any(r.opened or r.closed for r in d.rules)
    assert d.to_dict()["summary"]["opened"] == 0


def test_bad_fail_on_is_input_error():
    G = _graph([RUNS])
    with pytest.raises(InputError, match="--fail-on"):
        diff_graphs(G, G, checks=False, fail_on="severe")


# -- real snapshots from the Terraform fixtures ---------------------------------------------------
@pytest.fixture(scope="module")
def plan_snapshots():
    base = apply_plan(load_plan(str(DATA / "baseline.plan.json")), account=ACCOUNT).after
    result = apply_plan(load_plan(str(DATA / "change.plan.json")), base, tf_dir=str(DATA / "change"))
    return result.before, result.after


@pytest.fixture(scope="module")
def plan_diff(plan_snapshots):
    before, after = plan_snapshots
    return diff_snapshots(before, after)


def _arn(inv, kind, name):
    return next(r.arn for r in inv.resources if r.kind == kind and r.name == name)


def test_plan_diff_opens_synthetic_to_phi_at_the_terraform_change(plan_snapshots, plan_diff):
    before, after = plan_snapshots
    fn, bucket = _arn(after, "lambda_function", "synthetic-etl"), _arn(after, "s3_bucket", "prod-phi-records")
    assert plan_diff.exit_code == 1
    (rule,) = plan_diff.rules
    opened = {c.pair: c for c in (*rule.opened, *rule.escalated)}
    assert (fn, bucket) in opened
    hops = opened[(fn, bucket)].paths[0]
    changed = [h for h in hops if h.status != "same"]
    assert changed and changed[-1].hop.target == bucket
    assert changed[-1].location["terraform_address"] == "aws_iam_role_policy.synthetic_phi"
    assert Path(changed[-1].location["file"]).name == "changes.tf"
    assert any(e.target == bucket and e.change == "added" for e in plan_diff.edges)
    assert plan_diff.checks_ran and plan_diff.findings_new


def test_plan_diff_reversed_closes_and_passes(plan_snapshots):
    before, after = plan_snapshots
    back = diff_snapshots(after, before, checks=False)
    assert back.exit_code == 0
    assert back.rules[0].closed and not back.rules[0].opened


def test_same_snapshot_reuses_the_graph(plan_snapshots):
    _, after = plan_snapshots
    d = diff_snapshots(after, after)
    assert d.exit_code == 0 and d.timings["reused_graph"] is True
    assert not d.findings_new and not d.edges


def test_diff_json_is_stable(plan_snapshots, plan_diff):
    before, after = plan_snapshots
    again = diff_snapshots(before, after)
    first = json.dumps(plan_diff.to_dict(), sort_keys=True)
    assert first == json.dumps(again.to_dict(), sort_keys=True)
    assert "planted" not in first


@pytest.mark.e2e
def test_cli_diff_formats_and_exit_codes(tmp_path, plan_snapshots):
    from iamreach import snapshot

    before, after = plan_snapshots
    b, a = tmp_path / "before.json", tmp_path / "after.json.gz"
    snapshot.save(before, b)
    snapshot.save(after, a)

    def run(*args):
        return subprocess.run([*IAMREACH, "diff", *args], capture_output=True, text=True, env=os.environ, timeout=300)

    text = run(str(b), str(a))
    assert text.returncode == 1, text.stderr
    assert text.stdout.startswith("iamreach diff: FAIL") and "[ADDED]" in text.stdout
    js = run(str(b), str(a), "--format", "json", "--no-checks")
    assert js.returncode == 1
    doc = json.loads(js.stdout)
    assert doc["schema"] == "iamreach-diff/1" and doc["exit_code"] == 1 and doc["summary"]["opened"] >= 1
    sarif_path = tmp_path / "d.sarif"
    sar = run(str(b), str(a), "--format", "sarif", "-o", str(sarif_path))
    assert sar.returncode == 1 and sar.stdout == ""
    jsonschema = pytest.importorskip("jsonschema")
    sarif = json.loads(sarif_path.read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    assert any(r["ruleId"] == "IAMR-D01" for r in sarif["runs"][0]["results"])
    md = run(str(b), str(a), "--format", "markdown")
    assert md.returncode == 1 and md.stdout.startswith("## :x: iamreach reachability diff")
    same = run(str(a), str(a), "--no-checks")
    assert same.returncode == 0 and same.stdout.startswith("iamreach diff: OK")


@pytest.mark.e2e
def test_cli_diff_bad_snapshot_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "inventory": {}, "content_hash": "sha256:0"}')
    proc = subprocess.run([*IAMREACH, "diff", str(bad), str(bad)], capture_output=True, text=True, env=os.environ,
                          timeout=60)
    assert proc.returncode == 2 and str(bad) in proc.stderr and "content hash" in proc.stderr
    assert proc.stdout == ""


def test_parallel_and_sequential_sides_agree(plan_snapshots, plan_diff):
    before, after = plan_snapshots
    sequential = diff_snapshots(before, after, parallel=False)
    assert sequential.timings["parallel"] is False
    assert plan_diff.timings["parallel"] is ((os.cpu_count() or 1) >= 2)
    assert json.dumps(sequential.to_dict(), sort_keys=True) == json.dumps(plan_diff.to_dict(), sort_keys=True)


def test_plan_diff_network_hop_points_at_the_database_ingress_change(plan_snapshots, plan_diff):
    _, after = plan_snapshots
    fn, db = _arn(after, "lambda_function", "synthetic-etl"), _arn(after, "rds_instance", "prod-phi-db")
    (rule,) = plan_diff.rules
    (change,) = [c for c in rule.opened if c.pair == (fn, db)]
    (hop,) = change.paths[0]
    assert hop.hop.kind == "can_connect" and hop.status == "added" and hop.hop.ports == ("tcp/5432",)
    assert hop.location["terraform_address"] in {"aws_security_group.db", "aws_vpc_security_group_ingress_rule.db_from_app"}


def test_a_failing_before_process_falls_back_to_this_one(plan_snapshots, plan_diff, monkeypatch):
    import iamreach.analyses.diff as diff_mod

    parent, real = os.getpid(), diff_mod._side_of

    def flaky(inv, cfg, opts, **kw):
        if os.getpid() != parent:
            raise RuntimeError("simulated crash in the forked process")
        return real(inv, cfg, opts, **kw)

    monkeypatch.setattr(diff_mod, "_side_of", flaky)
    before, after = plan_snapshots
    d = diff_snapshots(before, after)
    assert d.timings["parallel"] is False
    assert json.dumps(d.to_dict(), sort_keys=True) == json.dumps(plan_diff.to_dict(), sort_keys=True)
