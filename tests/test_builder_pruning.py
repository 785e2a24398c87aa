"""The builder skips engine calls only where the engine is bound to deny.

``_Builder.decide_unless_denied`` answers DENIED without asking the engine when a resource-based
policy cannot let the actor in (across accounts both sides must allow; in the account a policy
naming only the account delegates to identity policies; a KMS key policy is required). These
tests ask the engine about every request the builder skips and require a DENIED answer, and
require the graph built without any skipping to be the same graph, edge attributes included.
"""

from __future__ import annotations

import pytest

from iamreach.graph import builder
from iamreach.graph.builder import build_graph
from iamreach.graph.policy import Decision
from iamreach.graph.tables import ACCESS
from iamreach.inventory import Account, Inventory, Principal, Resource

pytestmark = pytest.mark.xdist_group("summaries")

V = "2012-10-17"
A, B = "111122223333", "444455556666"


def _edges(G) -> dict:
    return {(u, v, k): d for u, v, k, d in G.edges(keys=True, data=True)}


def _ask_engine_always(monkeypatch) -> list:
    """Make the builder ask the engine about every request; record the ones it would skip."""
    skipped: list = []

    def always(self, actor, action, resource, *, resource_account, resource_policy, resource_tags, doc,
               required=False):
        res = self.decide(actor, action, resource, resource_account=resource_account,
                          resource_policy=resource_policy, resource_tags=resource_tags)
        if (resource_policy is not None and doc is not None
                and self._surely_denied(actor, action, resource_account, doc, required)):
            skipped.append((actor.node, action, resource, res.decision))
        return res

    monkeypatch.setattr(builder._Builder, "decide_unless_denied", always)
    return skipped


@pytest.mark.parametrize("seed", [1, 2])
def test_skipped_requests_are_denied_and_the_graph_is_unchanged(gen, monkeypatch, seed):
    inv = gen.generate(gen.SizeSpec("custom", accounts=3, principals=150, resources=300), seed=seed)
    pruned = build_graph(inv)
    with monkeypatch.context() as m:
        skipped = _ask_engine_always(m)
        full = build_graph(inv)
    assert len(skipped) > 100, "the generated organization has requests the builder can skip"
    assert {d for *_, d in skipped} == {Decision.DENIED}, [s for s in skipped if s[3] != Decision.DENIED][:5]
    assert pruned.graph["stats"]["evaluations"] < full.graph["stats"]["evaluations"]
    assert _edges(pruned) == _edges(full)


def test_cross_account_write_skipped_read_decided(monkeypatch):
    """A bucket policy granting another account only reads: that account's s3:* role gets a
    reads edge (decided) and no writes edge (both writes skipped as certain denies)."""
    bucket = "arn:aws:s3:::shared-data"
    policy = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                                           "Action": "s3:GetObject", "Resource": f"{bucket}/*"}]}
    s3_all = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    role = f"arn:aws:iam::{B}:role/reader"
    inv = Inventory(accounts=[Account(id=A), Account(id=B)],
                    principals=[Principal(arn=role, kind="role", account=B, name="reader",
                                          inline_policies={"s3": s3_all})],
                    resources=[Resource(arn=bucket, kind="s3_bucket", account=A, region="us-east-1",
                                        name="shared-data", policy=policy)])
    G = build_graph(inv)
    kinds = {d["kind"] for _, _, d in G.edges(role, data=True)}
    assert "reads" in kinds and "writes" not in kinds
    with monkeypatch.context() as m:
        skipped = _ask_engine_always(m)
        full = build_graph(inv)
    assert {(s[1], s[3]) for s in skipped} >= {("s3:PutObject", Decision.DENIED), ("s3:DeleteObject", Decision.DENIED)}
    assert _edges(G) == _edges(full)


def test_candidates_of_organization_shared_resources_match_the_per_resource_rule(gen, monkeypatch):
    """Resources whose policy names every principal ("*") are grouped by account and the actor's
    Allow patterns tested on them once per pattern set (``_Builder._everyones``); the candidates
    are those of the rule applied resource by resource — the actor's own account's, and another
    account's only when one of its Allow patterns reaches the resource — less the other accounts'
    resources whose policy cannot admit the actor's account for the action, each of which the
    engine denies; and the graph is the one the plain rule gives."""
    inv = gen.generate(gen.SizeSpec("custom", accounts=3, principals=150, resources=300), seed=3)
    grouped = build_graph(inv)
    seen: list = []
    dropped: list = []
    candidates = builder._Builder._candidates

    def per_resource(self, actor, kind, action):
        out: set = set()
        if not self.actor_may(actor, action):
            return out
        pats = tuple(actor.allows.resource_patterns(action))
        if pats:
            out |= self._pattern_hits(pats, kind, actor.account)
        for arn in self.rp_index.lookup((actor.arn, f"account:{actor.account}", "*"), kind):
            account = self.resources[arn].account
            if account == actor.account or (pats and arn in self._pattern_hits(pats, kind, account)):
                out.add(arn)
        got = candidates(self, actor, kind, action)
        seen.append(got <= out)
        for arn in out - got:
            r = self.resources[arn]
            assert r.account != actor.account and not self.grantees.may_admit(r.policy, action, actor.account)
            for a, template in ACCESS[kind][next(k for k, pairs in ACCESS[kind].items()
                                                 if any(x == action for x, _ in pairs))]:
                if a == action:
                    res = self.decide(actor, action, self.fill(template, r), resource_account=r.account,
                                      resource_policy=self._resource_policy(r), resource_tags=r.tags)
                    dropped.append(res.decision)
        return out

    with monkeypatch.context() as m:
        m.setattr(builder._Builder, "_candidates", per_resource)
        reference = build_graph(inv)
    assert seen and all(seen)
    assert dropped and set(dropped) == {Decision.DENIED}
    everyone = [arn for (key, _kind), arns in reference.graph["authorizer"].rp_index._by_key.items()
                if key == "*" for arn in arns]
    assert everyone, "the generated organization shares resources with every principal"
    assert _edges(grouped) == _edges(reference)


def test_statements_pinned_to_the_callers_account_admit_no_other_account(monkeypatch):
    """A key policy's "via service" statement (``Principal: *``, ``kms:CallerAccount`` = its own
    account) and a bucket statement pinned by ``aws:PrincipalAccount`` let no other account's
    principal in: those requests are skipped (and the resources are no candidates of that account's
    actors), the engine denies each of them, and the graph is the one built asking the engine
    everything. The key's own account is still decided."""
    key = f"arn:aws:kms:us-east-1:{A}:key/k1"
    key_policy = {"Version": V, "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "AllowUseViaS3", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": A, "kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}
    bucket = "arn:aws:s3:::pinned"
    bucket_policy = {"Version": V, "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{bucket}/*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": [A, "999999999999"]}}}]}
    everything = {"Version": V, "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}
    mine, theirs = f"arn:aws:iam::{A}:role/mine", f"arn:aws:iam::{B}:role/theirs"
    inv = Inventory(
        accounts=[Account(id=A), Account(id=B)],
        principals=[Principal(arn=arn, kind="role", account=acct, name=arn.rsplit("/", 1)[1],
                              inline_policies={"all": everything}) for arn, acct in ((mine, A), (theirs, B))],
        resources=[Resource(arn=key, kind="kms_key", account=A, region="us-east-1", name="k1", policy=key_policy),
                   Resource(arn=bucket, kind="s3_bucket", account=A, region="us-east-1", name="pinned",
                            policy=bucket_policy)])
    G = build_graph(inv)
    with monkeypatch.context() as m:  # no candidate dropped, every request asked
        m.setattr(builder._Builder, "_admitting", lambda self, arns, action, account: arns)
        skipped = _ask_engine_always(m)
        full = build_graph(inv)
    assert _edges(G) == _edges(full)
    assert {d for *_, d in skipped} == {Decision.DENIED}
    by_theirs = {(action, resource) for node, action, resource, _ in skipped if node == theirs}
    assert ("kms:Decrypt", key) in by_theirs and ("s3:GetObject", f"{bucket}/*") in by_theirs
    assert not any(node == mine and action == "kms:Decrypt" for node, action, *_ in skipped)
    assert G.has_edge(mine, key) and not G.has_edge(theirs, key) and not G.has_edge(theirs, bucket)


def test_caller_accounts_reads_only_conditions_it_is_sure_of():
    from iamreach.graph.candidates import caller_accounts

    kms = {"StringEquals": {"kms:CallerAccount": A}}
    assert caller_accounts(kms, "kms:Decrypt") == {A}
    assert caller_accounts(kms, "s3:GetObject") is None  # only kms: requests carry kms:CallerAccount
    assert caller_accounts({"StringEquals": {"AWS:PrincipalAccount": [A, B]}}, "s3:GetObject") == {A, B}
    both = {"StringEquals": {"aws:PrincipalAccount": [A, B], "kms:CallerAccount": B}}
    assert caller_accounts(both, "kms:Decrypt") == {B}  # ANDed
    for unsure in ({"StringEqualsIfExists": {"aws:PrincipalAccount": A}},
                   {"StringLike": {"aws:PrincipalAccount": A}},
                   {"ForAnyValue:StringEquals": {"aws:PrincipalAccount": A}},
                   {"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
                   {"StringEquals": {"aws:PrincipalAccount": []}},
                   {"StringEquals": {"aws:PrincipalAccount": 111122223333}},
                   {"StringEquals": {"aws:SourceAccount": A}},
                   None, "junk"):
        assert caller_accounts(unsure, "kms:Decrypt") is None, unsure
