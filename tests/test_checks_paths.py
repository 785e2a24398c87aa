"""IAMR-001 (forbidden synthetic -> PHI paths): failing, passing and UNKNOWN, on small graphs."""

from __future__ import annotations

from test_checks_support import PROD, SYN, Kit, ev, run

from iamreach.analyses.checks.forbidden import forbidden_path


def _chain(with_trust_edge: bool = True) -> tuple[Kit, dict[str, str]]:
    k = Kit()
    k.account(PROD, "production")
    k.account(SYN, "synthetic")
    n = {}
    n["role"] = k.role("synth-fn-role", SYN)
    n["fn"] = k.workload("lambda_function", "generator", SYN, n["role"])
    n["prod"] = k.role("prod-reader", PROD)
    n["bucket"] = k.bucket("phi-claims", PROD, "phi")
    if with_trust_edge:
        k.edge(n["role"], n["prod"], "can_assume", actions=("sts:AssumeRole",),
               evidence=(ev("trust_policy", n["prod"], sid="SynthEtl"),))
    k.edge(n["prod"], n["bucket"], "reads", actions=("s3:GetObject",),
           evidence=(ev("identity_policy", f"arn:aws:iam::{PROD}:policy/read-claims", sid="Read"),))
    return k, n


def test_001_fails_with_path_and_min_cut_remediation():
    k, n = _chain()
    found = run(forbidden_path, k.G)
    by_source = {src: f for f in found for src in (n["fn"], n["role"]) if src in f.key}
    assert len(found) == 2
    assert set(by_source) == {n["fn"], n["role"]}
    f = by_source[n["fn"]]
    assert f.resource == n["bucket"] and f.severity == "critical" and f.status == "fail"
    assert [h.kind for h in f.paths[0].hops] == ["runs_as", "can_assume", "reads"]
    assert n["bucket"] in f.message and n["fn"] in f.message
    # the remediation names the concrete statement behind an edge of the smallest cut (or, when
    # the cut is not available, of the shortest path)
    assert f.evidence[0]["type"] in ("min_cut", "path_hop")
    assert ('Sid "SynthEtl"' in f.remediation) or ('Sid "Read"' in f.remediation)


def test_001_passes_without_a_path():
    k, _ = _chain(with_trust_edge=False)
    assert run(forbidden_path, k.G) == []


def test_001_unknown_when_a_gap_could_hide_the_edge():
    k, n = _chain(with_trust_edge=False)
    k.gap("iam", "GetAccountAuthorizationDetails", account=PROD)
    found = run(forbidden_path, k.G)
    assert [f.status for f in found] == ["unknown"]
    assert found[0].resource == n["bucket"] and found[0].gaps
