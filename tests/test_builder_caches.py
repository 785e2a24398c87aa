"""The builder's build-time caches are dropped between accounts without changing the graph.

``_Builder._actors_by_account`` visits the actors one account after the other and empties every
build-time cache between two accounts (they had grown with every account of an organization).
A cache only saves work: the graph built with the drops must be the graph built without them,
edge attributes included, and every actor must still be visited exactly once, whatever the order
of the principals in the inventory.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from iamreach.graph import builder
from iamreach.graph.builder import build_graph

pytestmark = pytest.mark.xdist_group("summaries")


def _edges(G) -> dict:
    return {(u, v, k): d for u, v, k, d in G.edges(keys=True, data=True)}


@pytest.fixture(scope="module")
def org(gen):
    return gen.generate(gen.SizeSpec("custom", accounts=4, principals=240, resources=400), seed=3)


def test_dropping_caches_between_accounts_leaves_the_graph_unchanged(org, monkeypatch):
    drops: list[int] = []
    real = builder._Builder._drop_build_caches

    def counting(self):
        drops.append(sum(len(c) for c in self._build_caches()))
        real(self)

    with monkeypatch.context() as m:
        m.setattr(builder._Builder, "_drop_build_caches", counting)
        dropped = build_graph(org)
    accounts = {p.account for p in org.principals if p.kind in ("user", "role")}
    # between each two accounts of the three passes over the actors (data access, escalation,
    # escalation amplifiers), then once at the end of the build; each emptied real entries
    assert len(drops) == 3 * (len(accounts) - 1) + 1
    assert all(n > 0 for n in drops[:-1])

    with monkeypatch.context() as m:
        ends = []

        def only_at_end(self):
            # the reference: keep every cache for the whole access-edge phase
            if self.G.graph.get("stats") is not None:
                real(self)
            ends.append(1)

        m.setattr(builder._Builder, "_drop_build_caches", only_at_end)
        kept = build_graph(org)
    assert _edges(dropped) == _edges(kept)
    assert dropped.graph["stats"] == kept.graph["stats"]


def test_actors_are_visited_by_account_once_each_whatever_the_inventory_order(org):
    """Principals interleaved across accounts: still one pass per account, every actor once."""
    principals = list(org.principals)
    random.Random(5).shuffle(principals)
    shuffled = dataclasses.replace(org, principals=principals)

    passes: list[list] = []
    real = builder._Builder._actors_by_account

    def recording(self, actors=None, drop=True):
        passes.append([])
        for actor in real(self, actors, drop):
            passes[-1].append(actor)
            yield actor

    with pytest.MonkeyPatch.context() as m:
        m.setattr(builder._Builder, "_actors_by_account", recording)
        G = build_graph(shuffled)
    actors = G.graph["authorizer"].actors
    people = sorted(a.node for a in actors.values() if a.kind in ("user", "role"))
    assert len(passes) == 3  # data access, escalation, escalation amplifiers
    assert sorted(a.node for a in passes[0]) == sorted(a.node for a in actors.values())
    for visited in passes[1:]:
        assert sorted(a.node for a in visited) == people
    for visited in passes:
        # grouped: an account never comes back once another has started
        seen: list[str] = []
        for acc in (a.account for a in visited):
            if not seen or seen[-1] != acc:
                assert acc not in seen
                seen.append(acc)
    # and the graph's edges do not depend on it (evidence aside: a summary's evidence names the
    # member it was decided on, the first of its pool in inventory order)
    decided = {k: (d["decision"], d["actions"], d["conditions"]) for k, d in _edges(G).items()}
    assert decided == {k: (d["decision"], d["actions"], d["conditions"]) for k, d in _edges(build_graph(org)).items()}


def test_alike_keys_share_one_decrypt_answer_without_changing_the_graph(org):
    """``kms:Decrypt`` on keys alike (same account, manager, key policy template and the tag values
    and statement matches it reads) is asked once per actor: the same edges, attributes and
    evidence (each gate still names its own key) as asking for every key, with fewer engine calls."""
    inv = dataclasses.replace(org)
    keys = [r for r in inv.resources if r.kind == "kms_key"]
    assert len(keys) > 4
    each = builder._Builder(inv, builder.Config.default(), jobs=1)
    each.share_key_gates = False
    G_each = each.build()
    calls: list[str] = []
    real = builder._Builder.decide

    def counting(self, actor, action, resource, **kw):
        calls.append(action)
        return real(self, actor, action, resource, **kw)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(builder._Builder, "decide", counting)
        G_alike = build_graph(inv, jobs=1)
    assert _edges(G_alike) == _edges(G_each)
    assert list(G_alike.nodes(data=True)) == list(G_each.nodes(data=True))
    decrypts = calls.count("kms:Decrypt")
    assert 0 < decrypts < G_each.graph["stats"]["evaluations"] - (G_alike.graph["stats"]["evaluations"] - decrypts)
    assert G_alike.graph["stats"]["evaluations"] < G_each.graph["stats"]["evaluations"]


def test_lowered_contexts_decide_as_the_mixed_case_ones(org, monkeypatch):
    """``decide`` lower-cases the actor's context keys once (``Actor.lower_context``) and hands the
    engine a ``LowerKeys``; the graph is the one the mixed-case context of every request gave."""

    def mixed_case_decide(self, actor, action, resource, *, resource_account, resource_policy=None,
                          resource_tags=None, extra=None):
        # the builder's decide before the lowered contexts: a plain dict, keys as AWS spells them
        ctx = dict(actor.context)
        if resource_account:
            ctx["aws:ResourceAccount"] = resource_account
            if self.org_id and resource_account in self.accounts:
                ctx["aws:ResourceOrgID"] = self.org_id
        for k, v in (resource_tags or {}).items():
            ctx[f"aws:ResourceTag/{k}"] = v
        if extra:
            ctx.update(extra)
        req = builder.Request(principal=actor.arn, action=action, resource=resource, resource_account=resource_account,
                              principal_account=actor.account, context=ctx, unknown_keys="unknown",
                              known_keys=self.known_keys)
        self.evaluations += 1
        return builder.evaluate(
            req, identity_policies=actor.identity, resource_policy=resource_policy,
            permission_boundaries=actor.boundaries, scps=actor.scps,
            rcps=self._rcp_levels.get(resource_account, ()) if resource_account else (),
            principal_is_management_account=actor.is_management,
            resource_in_management_account=bool(resource_account and resource_account == self.mgmt),
            principal_is_service_linked_role=actor.is_service_linked)

    lowered = build_graph(org, jobs=1)
    with monkeypatch.context() as m:
        m.setattr(builder._Builder, "decide", mixed_case_decide)
        mixed = build_graph(org, jobs=1)
    tagged = [p for p in org.principals if p.tags] and [r for r in org.resources if r.tags]
    assert tagged, "the organization must have tagged principals and resources for this to test anything"
    assert lowered.graph["stats"]["evaluations"] == mixed.graph["stats"]["evaluations"] > 0
    assert _edges(lowered) == _edges(mixed)
