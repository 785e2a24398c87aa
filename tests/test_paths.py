"""Path queries on small hand-built graphs that follow the documented schema."""

from __future__ import annotations

import networkx as nx
import pytest

from iamreach.analyses.paths import forbidden_paths, min_cut, paths, reachable_from
from iamreach.config import Config
from iamreach.errors import InputError

WL, ROLE, PROD, BUCKET, DB, SNAP = ("arn:aws:lambda:us-east-1:2:function:gen", "arn:aws:iam::2:role/gen",
                                    "arn:aws:iam::1:role/prod-reader", "arn:aws:s3:::phi",
                                    "arn:aws:rds:us-east-1:1:cluster:phi", "arn:aws:rds:us-east-1:1:cluster-snapshot:s")


def _graph(gaps=()):
    G = nx.MultiDiGraph(gaps=list(gaps), accounts={}, config=Config.default())
    for n, k, acct, labels in [(WL, "lambda_function", "2", ("synthetic",)), (ROLE, "role", "2", ("synthetic",)),
                               (PROD, "role", "1", ("production",)), (BUCKET, "s3_bucket", "1", ("phi", "production")),
                               (DB, "rds_cluster", "1", ("phi", "production")),
                               (SNAP, "rds_cluster_snapshot", "1", ("phi", "production"))]:
        G.add_node(n, kind=k, account=acct, labels=labels, name=n.rsplit(":", 1)[-1])

    def e(u, v, kind, decision="allowed", **kw):
        G.add_edge(u, v, key=kind, kind=kind, decision=decision, conditions=(), actions=kw.get("actions", ()),
                   ports=kw.get("ports", ()), evidence=({"type": "test", "ref": f"{u}->{v}", "detail": kind},),
                   method=None, reason="")

    e(WL, ROLE, "runs_as")
    e(ROLE, PROD, "can_assume", actions=("sts:AssumeRole",))
    e(PROD, BUCKET, "reads", actions=("s3:GetObject",))
    e(WL, DB, "can_connect", "conditional", ports=("tcp/5432",))
    e(DB, SNAP, "snapshot_of")
    return G


def test_shortest_first_every_pair_with_evidence():
    ps = paths(_graph(), "synthetic", "phi")
    assert [p.nodes for p in ps] == [
        (WL, DB),
        (ROLE, PROD, BUCKET),
        (WL, ROLE, PROD, BUCKET),
    ]
    assert ps.paths[0].decision == "conditional"
    assert ps.paths[1].hops[1].actions == ("s3:GetObject",)
    assert ps.paths[1].hops[0].evidence[0]["ref"] == f"{ROLE}->{PROD}"
    # snapshot_of is descriptive: reading the cluster's network port is not reading its snapshot
    assert SNAP not in {p.target for p in ps}


def test_kinds_filter_and_conditional_switch():
    G = _graph()
    assert [p.nodes for p in paths(G, "synthetic", "phi", kinds="can_connect")] == [(WL, DB)]
    assert all(p.decision == "allowed" for p in paths(G, "synthetic", "phi", include_conditional=False))
    assert paths(G, "synthetic", "phi", kinds=lambda u, v, d: d["kind"] not in ("can_assume", "snapshot_of")).pairs() == [(WL, DB)]


def test_max_hops_limits():
    assert [p.nodes for p in paths(_graph(), WL, BUCKET, max_hops=2)] == []
    assert [p.nodes for p in paths(_graph(), [WL], [BUCKET], max_hops=3)] == [(WL, ROLE, PROD, BUCKET)]
    with pytest.raises(InputError):
        paths(_graph(), WL, BUCKET, max_hops=0)


def test_json_contract():
    d = paths(_graph(), "synthetic", "phi").to_dict()
    assert set(d) == {"paths", "unknown", "gaps"}
    hop = d["paths"][1]["hops"][0]
    assert {"from", "to", "kind", "decision", "actions", "ports", "evidence"} <= set(hop)
    assert d["paths"][1]["source"] == ROLE and d["paths"][1]["target"] == BUCKET


def test_unknown_when_a_gap_could_hide_an_edge():
    G = _graph(gaps=[{"account": "1", "region": "us-east-1", "service": "s3", "api": "GetBucketPolicy",
                      "error_code": "AccessDenied"}])
    G.remove_edge(PROD, BUCKET, key="reads")
    ps = paths(G, ROLE, BUCKET)
    assert not ps.paths
    assert [(u.source, u.target) for u in ps.unknown] == [(ROLE, BUCKET)]
    assert ps.unknown[0].gaps[0]["api"] == "GetBucketPolicy"


def test_no_unknown_without_gaps():
    G = _graph()
    G.remove_edge(PROD, BUCKET, key="reads")
    assert paths(G, ROLE, BUCKET).unknown == ()


def test_min_cut_names_the_edge_to_remove():
    cut = min_cut(_graph(), [WL, ROLE], [BUCKET])
    assert [(u, v) for u, v, _, _ in cut] in ([(ROLE, PROD)], [(PROD, BUCKET)])
    G = _graph()
    G.remove_edge(PROD, BUCKET, key="reads")
    assert min_cut(G, [WL], [BUCKET]) == []


def test_reachable_from_and_forbidden_paths():
    G = _graph()
    assert reachable_from(G, ROLE) == {ROLE: 0, PROD: 1, BUCKET: 2}
    fp = forbidden_paths(G)
    (rule, ps), = fp.items()
    assert (rule.source, rule.target) == ("synthetic", "phi")
    assert ps.pairs() == sorted([(ROLE, BUCKET), (WL, BUCKET), (WL, DB)])


def test_graph_not_mutated():
    G = _graph()
    before = (G.number_of_nodes(), G.number_of_edges())
    paths(G, "synthetic", "phi")
    min_cut(G, "synthetic", "phi")
    assert (G.number_of_nodes(), G.number_of_edges()) == before


@pytest.mark.parametrize("seed", range(40))
def test_min_cut_flow_matches_networkx(seed):
    """The min-cut's own max-flow (Dinic) gives networkx's ``minimum_cut`` partition exactly, on
    random networks with unit and unbounded capacities, antiparallel arcs and dead ends."""
    import random

    from iamreach.analyses.paths import _INF, _source_side

    rng = random.Random(seed)
    n = rng.randint(3, 30)
    nodes = [f"n{i}" for i in range(n)]
    arcs: dict = {}
    H = nx.DiGraph()
    for _ in range(rng.randint(n, 4 * n)):
        u, v = rng.sample(nodes, 2)
        if v in arcs.get(u, {}):
            continue
        unbounded = rng.random() < 0.2
        arcs.setdefault(u, {})[v] = _INF if unbounded else 1
        H.add_edge(u, v) if unbounded else H.add_edge(u, v, capacity=1)
    S, T = ("S",), ("T",)
    starts = rng.sample(nodes, rng.randint(1, 3))
    rest = [x for x in nodes if x not in starts]
    ends = rng.sample(rest, min(len(rest), rng.randint(1, 3)))
    arcs[S] = dict.fromkeys(starts, _INF)
    for s in starts:
        H.add_edge(S, s)
    for t in ends:
        arcs.setdefault(t, {})[T] = _INF
        H.add_edge(t, T)
    try:
        value, (reach, _) = nx.minimum_cut(H, S, T, capacity="capacity")
    except nx.NetworkXUnbounded:
        return  # an all-unbounded path: no finite cut (the graph builder never makes one)
    mine = _source_side(arcs, S, T)
    assert {u for u in mine if u in H} == set(reach)
    assert sum(1 for u in mine for v in arcs.get(u, ()) if v not in mine) == value


@pytest.mark.parametrize("by_target", [None, True, False])
def test_node_ids_need_not_be_strings(monkeypatch, by_target):
    """The queries take any networkx graph: node ids that are not strings (never a summary) work,
    whichever way the witnesses are found."""
    import iamreach.analyses.paths as P

    monkeypatch.setattr(P, "_BY_TARGET", by_target)
    G = nx.MultiDiGraph(gaps=[], accounts={})
    for n, kind in [(1, "lambda_function"), (2, "role"), (3, "s3_bucket"), (4, "s3_bucket"), ((5, "x"), "role")]:
        G.add_node(n, kind=kind, labels=(), account="1")
    G.add_edge(1, 2, kind="runs_as", decision="allowed")
    G.add_edge(2, 3, kind="reads", decision="allowed")
    G.add_edge(2, 4, kind="reads", decision="conditional")
    G.add_edge(4, 3, kind="unlocks", decision="allowed")
    G.add_edge((5, "x"), 2, kind="can_assume", decision="allowed")
    ps = paths(G, [1], [3, 4])
    assert [p.nodes for p in ps.paths] == [(1, 2, 3), (1, 2, 4), (1, 2, 4, 3)]
    assert [p.decision for p in ps.paths] == ["allowed", "conditional", "conditional"]
    assert [p.nodes for p in paths(G, [(5, "x")], [3]).paths] == [((5, "x"), 2, 3), ((5, "x"), 2, 4, 3)]
    assert reachable_from(G, 1) == {1: 0, 2: 1, 3: 2, 4: 2}
    assert {(u, v) for u, v, *_ in min_cut(G, [1], [3])} == {(1, 2)}
