"""``paths`` searches only where a path of at most ``max_hops`` can run, and shares searches.

:func:`iamreach.analyses.paths._toward` cuts the region to the nodes within ``max_hops`` of a source
whose distance to a target keeps the sum within ``max_hops``; sources whose rows list the same
successors share one search; the witnesses are found from the targets or from the sources,
whichever are fewer. All are shortcuts, so the answer must be the answer of the whole region
searched from every source, either way: the same witnesses (nodes, edges, ``via``), the same further
paths in the same order, the same unknown pairs. Compared here on generated organizations, with
the default forbid rule and with selectors whose sources are also targets; and each witness is
checked against its definition (the first shortest path in the graph's successor order) over
every shortest path networkx finds.
"""

from __future__ import annotations

import networkx as nx
import pytest

from iamreach.analyses import paths as paths_mod
from iamreach.analyses.paths import forbidden_paths, paths
from iamreach.graph.builder import build_graph

pytestmark = pytest.mark.xdist_group("summaries")


@pytest.fixture(scope="module", params=["S", "10-accounts"])
def G(request, gen):
    # both plant forbidden paths: size S (one member account) and ten accounts of an organization
    spec = (gen.SIZES["S"] if request.param == "S" else
            gen.SizeSpec("custom", accounts=10, principals=800, resources=800))
    return build_graph(gen.generate(spec, seed=1 if request.param == "S" else 4), jobs=1)


def _whole(monkeypatch, fn, *args, **kwargs):
    """``fn`` with the whole region searched from every source (no search shared)."""
    with monkeypatch.context() as m:
        m.setattr(paths_mod, "_CUT_REGION", False)
        m.setattr(paths_mod, "_SHARE_TREES", False)
        m.setattr(paths_mod, "_BY_TARGET", False)
        return fn(*args, **kwargs)


def _way(monkeypatch, by_target, fn, *args, **kwargs):
    """``fn`` with the witnesses found from the targets (True) or the sources (False)."""
    with monkeypatch.context() as m:
        m.setattr(paths_mod, "_BY_TARGET", by_target)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("max_hops", [1, 2, 3, 8])
@pytest.mark.parametrize("max_paths", [0, 50, 5_000])
def test_forbidden_paths_are_those_of_the_whole_region(G, monkeypatch, max_hops, max_paths):
    cut = forbidden_paths(G, max_hops=max_hops, max_paths=max_paths)
    whole = _whole(monkeypatch, forbidden_paths, G, max_hops=max_hops, max_paths=max_paths)
    assert cut == whole
    for by_target in (True, False):
        assert _way(monkeypatch, by_target, forbidden_paths, G, max_hops=max_hops, max_paths=max_paths) == whole
    if max_hops == 8:
        (found,) = cut.values()
        assert found.paths, "the generated organization should plant forbidden paths"


@pytest.mark.parametrize("include_conditional", [True, False])
def test_sources_that_are_targets_and_edge_filters_change_nothing(G, monkeypatch, include_conditional):
    # sources overlap targets (buckets are both), and a filter that keeps only some edge kinds
    sources = "kind:role,kind:user,kind:s3_bucket,kind:ec2_instance,kind:lambda_function"
    targets = "kind:s3_bucket,kind:rds_instance,kind:dynamodb_table"
    found = 0
    for kinds in (None, ("can_assume", "runs_as", "reads", "writes", "includes")):
        cut = paths(G, sources, targets, kinds=kinds, max_hops=4, max_paths=200,
                    include_conditional=include_conditional)
        whole = _whole(monkeypatch, paths, G, sources, targets, kinds=kinds, max_hops=4, max_paths=200,
                       include_conditional=include_conditional)
        assert cut == whole
        for by_target in (True, False):
            assert _way(monkeypatch, by_target, paths, G, sources, targets, kinds=kinds, max_hops=4,
                        max_paths=200, include_conditional=include_conditional) == whole
        found += len(cut.paths)
    assert found


def test_the_region_is_cut(G):
    """The shortcut is taken: the cut region is a part of the whole one."""
    rule = G.graph["config"].forbid[0]
    src = {n for n, d in G.nodes(data=True) if rule.source in (d.get("labels") or ())
           and d.get("kind") in paths_mod.ACTOR_KINDS}
    tgt = {n for n, d in G.nodes(data=True) if rule.target in (d.get("labels") or ())
           and d.get("kind") in paths_mod.TARGET_KINDS}
    pred = paths_mod._edge_pred(None, True)
    _, whole, _ = paths_mod._toward(G, pred, tgt, 8)
    _, cut, _ = paths_mod._toward(G, pred, tgt, 8, src)
    assert cut.keys() <= whole.keys()
    assert len(cut) < len(whole)
    assert all(whole[v] <= d for v, d in cut.items())


def _steps(G, include_conditional, every_edge=False):
    """The graph as networkx sees it for a path query: one arc per pair with a traversable edge
    (``every_edge``: any edge), weighted 0 out of a summary (its ``includes`` step is free) and 1
    otherwise."""
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        if d.get("kind") in paths_mod.NON_TRAVERSABLE and not every_edge:
            continue
        if not include_conditional and d.get("decision") != "allowed":
            continue
        H.add_edge(u, v, weight=0 if u.startswith("summary:") else 1)
    return H


def _full_nodes(p):
    """A path's nodes with the summaries its hops pass through put back."""
    out = [p.hops[0].source]
    for h in p.hops:
        if h.via is not None:
            out.append(h.via)
        out.append(h.target)
    return out


@pytest.mark.parametrize("by_target", [True, False])
def test_each_witness_is_the_first_shortest_path_in_successor_order(G, monkeypatch, by_target):
    """The witness rule, checked against every shortest path networkx finds: among a pair's
    shortest paths, the witness is the one whose steps come first in each node's successor order
    (compared step by step from the source)."""
    found = _way(monkeypatch, by_target, paths, G, "kind:role,kind:user,kind:lambda_function",
                 "kind:s3_bucket,kind:dynamodb_table,kind:rds_instance", max_hops=8, max_paths=0)
    H = _steps(G, include_conditional=True)
    order = {u: {v: i for i, v in enumerate(G._succ[u])} for u in H}
    by_pair = {(p.source, p.target): p for p in found.paths}
    assert len(by_pair) == len(found.paths)  # max_paths=0: one witness per pair
    checked = ties = 0
    for (s, t), p in sorted(by_pair.items())[::max(1, len(by_pair) // 60)]:
        shortest = list(nx.all_shortest_paths(H, s, t, weight="weight"))
        ties += len(shortest) > 1
        length = nx.path_weight(H, shortest[0], "weight")
        assert len(p) == length <= 8
        first = min(shortest, key=lambda q: [order[a][b] for a, b in zip(q, q[1:], strict=False)])
        assert _full_nodes(p) == first
        checked += 1
    assert checked >= 20
    assert ties >= 5, "the sample should hold pairs with more than one shortest path"


def test_paths_come_in_the_documented_order(G):
    """Shortest first, allowed before conditional, then by nodes and hop kinds (Path.sort_key),
    whichever way the witnesses were found."""
    from iamreach.analyses.results import Path

    (found,) = forbidden_paths(G, max_paths=200).values()
    assert found.paths
    assert list(found.paths) == sorted(found.paths, key=Path.sort_key)
    assert len({p.nodes for p in found.paths}) == len(found.paths)


@pytest.mark.parametrize("limit", [1, 2, 8])
@pytest.mark.parametrize("sources", ["synthetic", "kind:user", "kind:role,kind:lambda_function,kind:ec2_instance"])
def test_the_forward_walk_gives_every_distance_networkx_does(G, limit, sources):
    """The region's forward walk (0-1 BFS: a step out of a summary is free), against networkx's
    Dijkstra over the same steps: the same nodes within ``limit``, at the same distances."""
    src = sorted(paths_mod.select(G, sources))
    assert src
    pred = paths_mod._edge_pred(None, True)
    H = _steps(G, include_conditional=True)
    H.add_nodes_from(src)  # a source without a step out
    want = nx.multi_source_dijkstra_path_length(H, src, cutoff=limit, weight="weight")
    assert paths_mod._forward_dist(G, pred, src, limit) == want


@pytest.mark.parametrize("limit", [1, 2, 8])
def test_the_bounds_walk_counts_every_edge(G, limit):
    """The default filter's forward walk (level by level, every edge a step): networkx's distances
    over every edge, which bound the exact walk's from below over a superset of its nodes."""
    src = sorted(paths_mod.select(G, "synthetic"))
    H = _steps(G, include_conditional=True, every_edge=True)
    H.add_nodes_from(src)
    bounds = paths_mod._reach_within(G, src, limit)
    assert bounds == nx.multi_source_dijkstra_path_length(H, src, cutoff=limit, weight="weight")
    exact = paths_mod._forward_dist(G, paths_mod._edge_pred(None, True), src, limit)
    assert all(bounds[v] <= d for v, d in exact.items())


def test_a_made_path_and_its_nodes_agree(G):
    """``_make_path`` finds a path's nodes and decision in the pass that makes its hops, and
    ``_path_nodes`` finds the nodes alone: both say what the :class:`Path` says, through summaries too."""
    (found,) = forbidden_paths(G).values()
    adj = paths_mod._Succs(G, paths_mod._edge_pred(None, True))
    through = 0
    for p in found.paths:
        trail = [p.hops[0].source]
        for h in p.hops:
            trail.extend((h.via, h.target) if h.via is not None else (h.target,))
        through += len(trail) > len(p.nodes)
        nodes, made, conditional = paths_mod._make_path(adj, trail)
        assert nodes == paths_mod._path_nodes(trail) == p.nodes == made.nodes
        assert made == p and conditional == (p.decision == "conditional")
    assert through, "some paths should pass through a summary"
