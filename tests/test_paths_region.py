"""``paths`` searches only where a path of at most ``max_hops`` can run, and shares searches.

:func:`iamreach.analyses.paths._toward` cuts the region to the nodes within ``max_hops`` of a source
whose distance to a target keeps the sum within ``max_hops``; sources whose rows list the same
successors share one search. Both are shortcuts, so the answer must be the answer of the whole
region searched from every source: the same witnesses (nodes, edges, ``via``), the same further
paths in the same order, the same unknown pairs. Compared here on generated organizations, with
the default forbid rule and with selectors whose sources are also targets.
"""

from __future__ import annotations

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
    """``fn`` with the whole region searched from every source."""
    with monkeypatch.context() as m:
        m.setattr(paths_mod, "_CUT_REGION", False)
        m.setattr(paths_mod, "_SHARE_TREES", False)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("max_hops", [1, 2, 3, 8])
@pytest.mark.parametrize("max_paths", [0, 50, 5_000])
def test_forbidden_paths_are_those_of_the_whole_region(G, monkeypatch, max_hops, max_paths):
    cut = forbidden_paths(G, max_hops=max_hops, max_paths=max_paths)
    whole = _whole(monkeypatch, forbidden_paths, G, max_hops=max_hops, max_paths=max_paths)
    assert cut == whole
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
    _, whole = paths_mod._toward(G, pred, tgt, 8)
    _, cut = paths_mod._toward(G, pred, tgt, 8, src)
    assert cut.keys() <= whole.keys()
    assert len(cut) < len(whole)
    assert all(whole[v] <= d for v, d in cut.items())
