"""Exact path sets on the demo organization, end to end: moto -> `iamreach collect --org` -> graph.

Every reachability pattern planted by :mod:`iamreach.demo.org` must come out as a path with exactly
the planted hop kinds, and every fixed twin (the same shape with the one statement or rule that
breaks the leak removed) must have no such path. The CLI contract of `iamreach paths` is checked
on the same snapshot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from iamreach.analyses.paths import forbidden_paths, paths
from iamreach.graph.builder import build_graph
from iamreach.snapshot import load


@pytest.fixture
def demo_graph(moto, tmp_path):
    from iamreach.demo import build_demo_org

    org = build_demo_org(region="us-east-1", endpoint_url=moto)
    snap = tmp_path / "snap.json.gz"
    proc = subprocess.run([sys.executable, "-m", "iamreach", "collect", "--org", "--regions", "us-east-1",
                           "--quiet", "-o", str(snap)], env=dict(os.environ), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return org, snap, build_graph(load(snap))


def test_planted_paths_and_fixed_twins(demo_graph):
    org, _, G = demo_graph
    checked = 0
    for p in org.planted():
        if not (p.source and p.target and p.hops):
            continue
        checked += 1
        assert p.source in G and p.target in G, f"{p.id}: {p.source} or {p.target} missing from the graph"
        found = paths(G, [p.source], [p.target], kinds=set(p.hops), max_hops=len(p.hops))
        shapes = {tuple(h.kind for h in path.hops) for path in found}
        if p.fixed:
            assert tuple(p.hops) not in shapes, f"fixed twin {p.id} must not be reachable: {shapes}"
        else:
            assert tuple(p.hops) in shapes, f"{p.id}: expected hops {p.hops}, found {shapes or 'no path'}"
            path = next(x for x in found if tuple(h.kind for h in x.hops) == tuple(p.hops))
            assert all(h.evidence for h in path.hops), f"{p.id}: every hop carries evidence"
    assert checked >= 10


def test_forbidden_pairs_cover_the_planted_leaks_and_no_twin(demo_graph):
    org, _, G = demo_graph
    (ps,) = forbidden_paths(G).values()
    pairs = set(ps.pairs())
    for p in org.planted():
        if p.source and p.target and p.hops and "phi" in G.nodes[p.target].get("labels", ()) \
                and G.nodes[p.source]["kind"] not in ("account_principals", "internet") \
                and set(p.hops) <= {"runs_as", "can_assume", "reads", "can_connect", "unlocks", "decrypts",
                                    "escalates_to", "writes"} \
                and G.nodes[p.target]["kind"] not in ("kms_key",):
            assert ((p.source, p.target) in pairs) != p.fixed, p.id


def test_paths_cli_contract(demo_graph):
    _, snap, _ = demo_graph
    run = subprocess.run([sys.executable, "-m", "iamreach", "paths", str(snap), "--from", "synthetic", "--to", "phi",
                          "--format", "json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert set(doc) == {"paths", "unknown", "gaps"} and doc["paths"]
    hop = doc["paths"][0]["hops"][0]
    assert {"from", "to", "kind", "decision", "actions", "ports", "evidence"} <= set(hop)
    clean = subprocess.run([sys.executable, "-m", "iamreach", "paths", str(snap), "--from", "id:internet",
                            "--to", "kind:rds_cluster"], capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    bad = subprocess.run([sys.executable, "-m", "iamreach", "paths", str(snap), "--from", "nope:x", "--to", "phi"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--from" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
