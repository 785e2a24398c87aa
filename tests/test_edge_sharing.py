"""Edges of a built graph share what is equal between them, and that sharing changes no edge.

A summary's ``includes`` edges carry equal attributes, so they are one attribute dict; access and
escalation reasons name the target, the edge kind and the actions but not the source (every reader
shows the source beside the reason), so one string stands for the edges of every actor of an
account. The graph must read exactly as if networkx had made one dict per edge.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import pytest

from iamreach.graph.builder import build_graph
from iamreach.model import EdgeKind, is_summary

pytestmark = pytest.mark.xdist_group("summaries")


@pytest.fixture(scope="module")
def G(gen):
    org = gen.generate(gen.SizeSpec("custom", accounts=3, principals=200, resources=400), seed=5)
    return build_graph(org)


def test_includes_edges_of_a_summary_share_one_attribute_dict(G):
    summaries = [n for n in G if is_summary(n)]
    assert summaries, "the generated org has summaries"
    for node in summaries:
        members = G.nodes[node]["members"]
        assert set(G.successors(node)) == set(members)
        dicts = {id(d) for _, _, d in G.out_edges(node, data=True)}
        assert len(dicts) == 1
        for m in members:
            (key, data), = G[node][m].items()
            assert key == "includes:" and data["kind"] == "includes" and data["decision"] == "allowed"
            assert G._pred[m][node] is G._succ[node][m]  # one keydict per edge, as networkx keeps it
            assert G.has_edge(node, m, key="includes:")
    assert G.number_of_edges() == sum(len(kd) for nbrs in G._succ.values() for kd in nbrs.values())


def test_shared_dicts_read_like_per_edge_dicts(G):
    # copies made by networkx (one dict per edge) give the same edges, and so does the reverse
    copy = nx.MultiDiGraph()
    copy.add_nodes_from(G)
    copy.add_edges_from(G.edges(keys=True, data=True))
    again = G.copy()
    back = G.reverse(copy=False)
    edges = sorted((u, v, k, tuple(sorted(d.items(), key=lambda kv: kv[0])))
                   for u, v, k, d in G.edges(keys=True, data=True))
    for other in (copy, again):
        assert sorted((u, v, k, tuple(sorted(d.items(), key=lambda kv: kv[0])))
                      for u, v, k, d in other.edges(keys=True, data=True)) == edges
        assert other.number_of_edges() == G.number_of_edges()
        assert sorted(other.in_degree()) == sorted(G.in_degree())
    assert sorted((v, u, k) for u, v, k in back.edges(keys=True)) == sorted(G.edges(keys=True))


def test_access_reasons_name_kind_target_and_actions_not_the_source(G):
    by_text: dict[str, set[int]] = defaultdict(set)
    sources: dict[str, set[str]] = defaultdict(set)
    seen = 0
    for u, _v, d in G.edges(data=True):
        if d["kind"] in ("can_assume", "escalates_to") and u.startswith("arn:aws:iam::"):
            assert u not in d["reason"], d["reason"]
            assert d["kind"] != "can_assume" or d["reason"].startswith("can_assume ")
        if d["kind"] not in ("reads", "writes", "administers", "decrypts"):
            continue
        seen += 1
        reason = d["reason"]
        assert reason.startswith(f"{d['kind']} "), reason
        assert u not in reason
        assert reason.endswith(f"({', '.join(d['actions'])})")
        by_text[reason].add(id(reason))
        sources[reason].add(u)
    assert seen > 100
    # edges of several actors to one target share the reason text (and, within an account, the object)
    assert any(len(s) > 1 for s in sources.values())
    assert sum(len(ids) for ids in by_text.values()) < seen


def test_edges_with_the_same_attribute_values_share_one_dict(G):
    """Beyond the ``includes`` edges: edges whose attribute values are the same objects (the
    builder shares equal reasons, actions, conditions and evidence) are one attribute dict."""
    by_dict: dict[int, list] = defaultdict(list)
    for u, v, k, d in G.edges(keys=True, data=True):
        if d["kind"] != "includes":
            by_dict[id(d)].append((u, v, k, d))
    edges = sum(len(e) for e in by_dict.values())
    shared = [e for e in by_dict.values() if len(e) > 1]
    assert shared and len(by_dict) < edges
    # the sharing reaches across actors: edges of different sources to one target share a dict
    assert any(len({u for u, _v, _k, _d in group}) > 1 and len({v for _u, v, _k, _d in group}) == 1
               for group in shared)
    for group in shared:
        first = group[0][3]
        for _u, _v, k, d in group:
            assert d is first and k == f"{d['kind']}:{d['method'] or ''}"


def test_an_edge_added_again_takes_its_new_attributes_alone(gen):
    """Adding an edge that exists replaces its attributes (as networkx's update of the edge's own
    dict would) and leaves every edge that shared its old dict as it was."""
    org = gen.generate(gen.SizeSpec("custom", accounts=2, principals=80, resources=120), seed=9)
    G = build_graph(org)
    b = G.graph["authorizer"]
    groups: dict[int, list] = defaultdict(list)
    for u, v, k, d in G.edges(keys=True, data=True):
        if d["kind"] in ("reads", "writes", "administers"):
            groups[id(d)].append((u, v, k, d))
    (u, v, k, d), (u2, v2, k2, d2), *_ = next(g for g in groups.values() if len(g) > 1)
    before = dict(d2)
    n = G.number_of_edges()
    kind = EdgeKind(d["kind"])
    b.add_edge(u, v, kind, decision="conditional", actions=d["actions"], reason="changed", evidence=d["evidence"],
               conditions=({"operator": "Bool", "key": "aws:SecureTransport", "values": ["true"]},))
    assert G.number_of_edges() == n
    assert G[u][v][k]["decision"] == "conditional" and G[u][v][k]["reason"] == "changed"
    assert G._pred[v][u] is G._succ[u][v]
    assert G[u2][v2][k2] is d2 and d2 == before  # the edge that shared the old dict is untouched
    # a new edge between nodes the graph lacks adds them, as networkx would
    b.add_edge("x-node", "y-node", kind, reason="r")
    assert G.has_edge("x-node", "y-node", key=f"{kind.value}:") and G.nodes["x-node"] == {}


def test_the_attribute_dict_cache_is_bounded_and_starting_afresh_changes_no_edge(gen, monkeypatch):
    """The cache of shared attribute dicts starts afresh at ``ATTR_CACHE_MAX`` entries (a forked
    child's replayed edges come with no account boundary to empty it at); that only shares less."""
    from iamreach.graph import builder

    org = gen.generate(gen.SizeSpec("custom", accounts=2, principals=80, resources=120), seed=9)
    whole = build_graph(org, jobs=1)
    sizes: list[int] = []
    real = builder._Builder.add_edge

    def watched(self, *args, **kwargs):
        real(self, *args, **kwargs)
        sizes.append(len(self._attr_dicts))

    with monkeypatch.context() as m:
        m.setattr(builder, "ATTR_CACHE_MAX", 40)
        m.setattr(builder._Builder, "add_edge", watched)
        bounded = build_graph(org, jobs=1)
    assert max(sizes) == 40  # it filled up, and started afresh instead of growing past the bound
    rows = lambda G: sorted((u, v, k, tuple(sorted((a, repr(x)) for a, x in d.items())))  # noqa: E731
                            for u, v, k, d in G.edges(keys=True, data=True))
    assert rows(bounded) == rows(whole)
    assert len({id(d) for *_e, d in bounded.edges(keys=True, data=True)}) >= len(
        {id(d) for *_e, d in whole.edges(keys=True, data=True)})
