"""A graph updated for a change of identity policies is the graph a full build gives.

``identity_changes`` says when two inventories differ only in identity policies (and which
principals that reaches); ``update_graph`` re-decides those principals' own edges in the first
inventory's graph. Every test compares with ``build_graph`` of the second inventory: the same
nodes with the same attributes (records pointing at the new inventory's objects), the same edges
with the same attributes, and ``diff_snapshots`` gives the same answer either way.
"""

from __future__ import annotations

import copy

import pytest

from iamreach.analyses.diff import diff_snapshots
from iamreach.graph import incremental
from iamreach.graph.builder import build_graph
from iamreach.graph.incremental import can_update, identity_changes, update_graph

pytestmark = pytest.mark.xdist_group("summaries")


def _edges(G) -> dict:
    return {(u, v, k): d for u, v, k, d in G.edges(keys=True, data=True)}


def _nodes(G) -> dict:
    return {n: {k: (id(v) if k == "record" else v) for k, v in d.items()} for n, d in G.nodes(data=True)}


def _assert_same_graph(updated, full) -> None:
    assert _nodes(updated) == _nodes(full)
    assert _edges(updated) == _edges(full)
    assert updated.graph["gaps"] == full.graph["gaps"]
    assert updated.graph["accounts"] == full.graph["accounts"]
    assert updated.graph["inventory"] is full.graph["inventory"]


@pytest.fixture(scope="module")
def org(gen):
    return gen.generate(gen.SizeSpec("custom", accounts=3, principals=300, resources=400), seed=11)


@pytest.mark.parametrize("percent,seed", [(1, 1), (5, 2), (20, 3)])
def test_mutated_policies_update_to_the_full_build(gen, org, percent, seed):
    after = copy.deepcopy(org)
    assert gen.mutate(after, percent, seed) > 0
    changed = identity_changes(org, after)
    assert changed, "the mutation reaches some users or roles"
    full = build_graph(after)
    G = build_graph(org)
    assert can_update(G)
    updated = update_graph(G, after, changed)
    assert updated is G
    _assert_same_graph(updated, full)
    assert updated.graph["stats"]["updated_principals"] == len(changed)
    # the graph's authorizer (can / who-can) answers for the new inventory, changed or not
    buckets = [r.arn for r in after.resources if r.kind == "s3_bucket"][:3]
    some = sorted(changed)[:3] + [p.arn for p in after.principals if p.kind == "role" and p.arn not in changed][:2]
    for principal in some:
        for bucket in buckets:
            got = updated.graph["authorizer"].can(principal, "s3:GetObject", f"{bucket}/k")
            want = full.graph["authorizer"].can(principal, "s3:GetObject", f"{bucket}/k")
            assert (got.decision, got.conditions) == (want.decision, want.conditions)


def test_attachments_boundaries_and_group_policies(org):
    after = copy.deepcopy(org)
    roles = [p for p in after.principals if p.kind == "role" and not p.is_service_linked]
    users = [p for p in after.principals if p.kind == "user"]
    groups = [p for p in after.principals if p.kind == "group"]
    admin = next(p for p in after.policies if p.name == "AdministratorAccess")
    roles[0].managed_policy_arns = [*roles[0].managed_policy_arns, admin.arn]
    roles[1].managed_policy_arns = []
    users[0].permissions_boundary_arn = next(p.arn for p in after.policies if p.name == "ReadOnlyAccess")
    group = next(g for g in groups if any(g.arn in u.groups for u in users))
    group.inline_policies = {**group.inline_policies, "added": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}
    members = {u.arn for u in users if group.arn in u.groups}
    changed = identity_changes(org, after)
    assert changed >= {roles[0].arn, roles[1].arn, users[0].arn} | members
    assert group.arn not in changed  # groups are not actors: their members are
    _assert_same_graph(update_graph(build_graph(org), after, changed), build_graph(after))


def _edit(org, how):
    after = copy.deepcopy(org)
    how(after)
    return after


def _tag_principal(inv):
    next(p for p in inv.principals if p.kind == "role").tags["team"] = "other"


def _change_trust(inv):
    role = next(p for p in inv.principals if p.kind == "role" and p.trust_policy)
    role.trust_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}


def _change_bucket_policy(inv):
    bucket = next(r for r in inv.resources if r.kind == "s3_bucket")
    bucket.policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{bucket.arn}/*"}]}


def _new_tag_key_reference(inv):
    role = next(p for p in inv.principals if p.kind == "role" and p.inline_policies)
    role.inline_policies["abac"] = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/never-seen-before": "x"}}}]}


def _add_managed_policy(inv):
    inv.policies.append(copy.deepcopy(inv.policies[0]))
    inv.policies[-1].arn += "-copy"


def _change_group_membership(inv):
    user = next(p for p in inv.principals if p.kind == "user" and p.groups)
    user.groups = []


def _change_scp(inv):
    inv.org_policies[0].document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}


@pytest.mark.parametrize("how", [_tag_principal, _change_trust, _change_bucket_policy, _new_tag_key_reference,
                                 _add_managed_policy, _change_group_membership, _change_scp])
def test_other_changes_need_a_full_build(org, how):
    assert identity_changes(org, _edit(org, how)) is None


def test_no_change_is_an_empty_set(org):
    assert identity_changes(org, copy.deepcopy(org)) == frozenset()


def test_a_graph_with_build_gaps_is_not_updated(org):
    inv = copy.deepcopy(org)
    role = next(p for p in inv.principals if p.kind == "role" and p.trust_policy)
    role.trust_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "sts:AssumeRole"}]}
    G = build_graph(inv)
    assert not can_update(G)
    with pytest.raises(ValueError):
        update_graph(G, inv, frozenset())


def test_diff_updates_the_before_graph_and_agrees_with_two_builds(gen, org):
    after = copy.deepcopy(org)
    gen.mutate(after, 5, 7)
    updated = diff_snapshots(org, after, parallel=False)
    full = diff_snapshots(org, after, parallel=False, incremental=False)
    assert updated.timings["updated"] and updated.timings["changed_principals"] > 0
    assert not full.timings["updated"]
    a, b = updated.to_dict(), full.to_dict()
    a.pop("timings", None), b.pop("timings", None)
    assert a == b
    assert updated.exit_code == full.exit_code


def test_diff_falls_back_to_a_build_when_the_graph_cannot_be_updated(gen, org, monkeypatch):
    after = copy.deepcopy(org)
    gen.mutate(after, 5, 8)
    monkeypatch.setattr(incremental, "can_update", lambda G: False)
    d = diff_snapshots(org, after, parallel=False)
    assert not d.timings["updated"]
    full = diff_snapshots(org, after, parallel=False, incremental=False)
    a, b = d.to_dict(), full.to_dict()
    a.pop("timings", None), b.pop("timings", None)
    assert a == b


def test_diff_summarizes_the_before_graph_in_a_forked_child_while_updating(gen, org, monkeypatch):
    import os

    import iamreach.analyses.diff as diff_mod

    after = copy.deepcopy(org)
    gen.mutate(after, 5, 9)
    full = diff_snapshots(org, after, parallel=False, incremental=False)
    both = diff_snapshots(org, after)
    assert both.timings["updated"] and both.timings["parallel"] == ((os.cpu_count() or 1) >= 2)

    parent, real = os.getpid(), diff_mod._summarize

    def flaky(G, cfg, **opts):  # the child dies: the before side is built again in this process
        if os.getpid() != parent:
            raise RuntimeError("simulated crash in the forked process")
        return real(G, cfg, **opts)

    monkeypatch.setattr(diff_mod, "_summarize", flaky)
    fallback = diff_snapshots(org, after)
    assert fallback.timings["updated"] and fallback.timings["parallel"] is False
    for d in (both, fallback):
        a, b = d.to_dict(), full.to_dict()
        a.pop("timings", None), b.pop("timings", None)
        assert a == b
