"""A build fanned out over forked processes is the build of one process, exactly.

:mod:`iamreach.graph.fanout`: runs of actors go to forked children, whose logged graph changes
the parent replays in run order. The graphs must be equal in everything a reader can see: the
nodes and their attributes in order, each node's successors and predecessors in order, every
edge's key and attributes, the gaps, the engine-call count. A child that fails, dies or hangs
costs time, never an edge: its run is decided again in the parent.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections import Counter

import pytest

from iamreach.graph import builder as builder_mod
from iamreach.graph import fanout
from iamreach.graph.builder import build_graph

pytestmark = pytest.mark.xdist_group("summaries")


def _view(G) -> dict:
    """Everything of a graph a reader can tell apart, orders included."""
    return {
        "nodes": [(n, {k: (id(v) if k == "record" else v) for k, v in d.items()}) for n, d in G.nodes(data=True)],
        "succ": [(u, [(v, list(keyed.items())) for v, keyed in nbrs.items()]) for u, nbrs in G._succ.items()],
        "pred": [(v, list(nbrs)) for v, nbrs in G._pred.items()],
        "gaps": G.graph["gaps"],
        "evaluations": G.graph["stats"]["evaluations"],
        "edges": G.graph["stats"]["edges"],
    }


@pytest.fixture(scope="module")
def org(gen):
    inv = gen.generate(gen.SizeSpec("custom", accounts=3, principals=300, resources=400), seed=5)
    # a resource policy and a key policy that do not parse: each is one gap, reported once however
    # many processes come across it
    last: dict[tuple[str, str], object] = {}
    for r in inv.resources:
        if r.kind in ("s3_bucket", "kms_key"):
            last[(r.account, r.kind)] = r
    for (_account, kind), r in last.items():
        r.policy = ({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*",
                                                             "Principal": "*", "Resource": "*"}]}
                    if kind == "s3_bucket" else
                    {"Statement": [{"Effect": "Allow", "Action": 7, "Principal": "*", "Resource": "*"}]})
    return inv


@pytest.fixture(scope="module")
def single(org):
    return build_graph(org, jobs=1)


@pytest.mark.parametrize("jobs", [2, 3])
def test_fanned_out_build_is_the_single_process_build(org, single, jobs, monkeypatch):
    replayed: Counter = Counter()
    real = builder_mod._Builder._replay

    def counting(self, logged, evaluations):
        replayed.update(event[0] for event in logged)
        return real(self, logged, evaluations)

    monkeypatch.setattr(builder_mod._Builder, "_replay", counting)
    G = build_graph(org, jobs=jobs)
    assert G.graph["stats"]["processes"] == jobs
    assert G.graph["stats"]["parts_recomputed"] == 0
    assert single.graph["stats"]["processes"] == 1
    assert _view(G) == _view(single)
    # every kind of logged change came back from a child: edges, summary and service nodes, and
    # documents that did not parse (one gap each, however many processes read them)
    assert {"e", "s", "n", "p"} <= set(replayed), replayed
    bad = [g["resource"] for g in G.graph["gaps"] if g["error_code"] == "PolicyParseError"]
    assert bad and len(bad) == len(set(bad))
    # the authorizer kept with the graph answers as the single-process one does
    role = next(p.arn for p in org.principals if p.kind == "role")
    bucket = next(r.arn for r in org.resources if r.kind == "s3_bucket")
    a = G.graph["authorizer"].can(role, "s3:ListBucket", bucket)
    b = single.graph["authorizer"].can(role, "s3:ListBucket", bucket)
    assert (a.decision, a.explanation) == (b.decision, b.explanation)


def test_interleaved_accounts_fan_out_alike(org):
    """Principals of the accounts interleaved in the inventory: the runs still follow the passes'
    account order, so the graphs are equal."""
    principals = list(org.principals)
    random.Random(3).shuffle(principals)
    shuffled = dataclasses.replace(org, principals=principals)
    assert _view(build_graph(shuffled, jobs=3)) == _view(build_graph(shuffled, jobs=1))


def test_environment_sets_the_processes(org, single, monkeypatch):
    monkeypatch.setenv("IAMREACH_BUILD_JOBS", "2")
    G = build_graph(org)
    assert G.graph["stats"]["processes"] == 2
    assert _view(G) == _view(single)
    monkeypatch.setenv("IAMREACH_BUILD_JOBS", "1")
    assert build_graph(org).graph["stats"]["processes"] == 1


def test_default_forks_only_for_large_inventories(monkeypatch):
    monkeypatch.delenv("IAMREACH_BUILD_JOBS", raising=False)
    monkeypatch.setattr(fanout, "cpus", lambda: 8)
    monkeypatch.setattr(fanout, "memory", lambda: (1 << 30, 64 << 30))
    monkeypatch.setattr(fanout.threading, "active_count", lambda: 1)
    assert fanout.jobs_for(None, fanout.AUTO_MIN_ACTORS - 1) == 1
    assert fanout.jobs_for(None, fanout.AUTO_MIN_ACTORS) == fanout.AUTO_MAX_JOBS
    # no more processes than the memory holds: each may grow to twice this process
    monkeypatch.setattr(fanout, "memory", lambda: (4 << 30, 17 << 30))
    assert fanout.jobs_for(None, 50_000) == 3
    assert fanout.jobs_for(8, 50_000) == 3
    # the default takes no chance with other threads running; an explicit number does
    monkeypatch.setattr(fanout.threading, "active_count", lambda: 3)
    assert fanout.jobs_for(None, 50_000) == 1
    assert fanout.jobs_for(2, 50_000) == 2
    monkeypatch.setattr(fanout, "cpus", lambda: 1)
    monkeypatch.setattr(fanout.threading, "active_count", lambda: 1)
    assert fanout.jobs_for(None, 50_000) == 1
    assert fanout.jobs_for(1, 50_000) == 1
    monkeypatch.setenv("IAMREACH_BUILD_JOBS", "many")
    assert fanout.jobs_for(None, 50_000) == 1


def _fail_in_child(monkeypatch, how: str) -> None:
    """Make every forked child fail ``how`` in its first access decision (the parent is untouched)."""
    parent = os.getpid()
    real = builder_mod._Builder._access_edge

    def access_edge(self, *args, **kwargs):
        if os.getpid() != parent:
            if how == "raise":
                raise RuntimeError("injected")
            if how == "exit":
                os._exit(3)
            if how == "hang":
                time.sleep(600)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(builder_mod._Builder, "_access_edge", access_edge)


@pytest.mark.parametrize("how", ["raise", "exit", "hang"])
def test_a_failed_child_costs_time_never_an_edge(org, single, monkeypatch, caplog, how):
    _fail_in_child(monkeypatch, how)
    b = builder_mod._Builder(org, builder_mod.Config.default(), jobs=2)
    b.patience_min = 3.0
    G = b.build()
    assert G.graph["stats"]["parts_recomputed"] == 1
    assert _view(G) == _view(single)
    expected = {"raise": "failed (RuntimeError: injected)", "exit": "exit code 3", "hang": "took too long"}[how]
    assert any(expected in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_child_files_are_removed(org, tmp_path, monkeypatch):
    monkeypatch.setattr(fanout.tempfile, "tempdir", str(tmp_path))
    build_graph(org, jobs=3)
    assert list(tmp_path.iterdir()) == []


def _gone(pid: int) -> bool:
    """Has process ``pid`` ended (gone, or a zombie nobody reaped yet)?"""
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[1] == "Z" for line in fh if line.startswith("State:"))
    except FileNotFoundError:
        return True


def test_an_interrupted_build_leaves_no_child_and_no_file(org, tmp_path, monkeypatch):
    monkeypatch.setattr(fanout.tempfile, "tempdir", str(tmp_path))
    spawned: list[int] = []
    real_spawn = fanout.spawn

    def spawn(work):
        child = real_spawn(work)
        spawned.append(child.pid)
        return child

    monkeypatch.setattr(fanout, "spawn", spawn)
    parent, real = os.getpid(), builder_mod._Builder._access_edge

    def access_edge(self, *args, **kwargs):
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(builder_mod._Builder, "_access_edge", access_edge)
    with pytest.raises(KeyboardInterrupt):
        build_graph(org, jobs=3)
    assert len(spawned) >= 2
    assert all(_gone(pid) for pid in spawned)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_a_child_ends_with_its_parent(tmp_path):
    """A build process killed outright (no chance to clean up) takes its children with it."""
    import subprocess
    import sys

    script = (
        "import os, sys, time\n"
        "from iamreach.graph import fanout\n"
        "child = fanout.spawn(lambda: time.sleep(120))\n"
        "print(child.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)
