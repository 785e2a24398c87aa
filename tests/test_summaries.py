"""Summary nodes never change an answer.

A summary stands for a set of alike targets (resources of a kind, the roles of an account, the
roles trusting a service). These tests build the same generated organization twice: once with
summaries, once with them switched off (``summary_min`` above any set size, so every edge is
decided and drawn per member), and require that expanding every edge to a summary into one edge
per member gives exactly the per-member graph; then they check how path queries, checks and
min-cut read summaries.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from iamreach.analyses.checks._common import in_edges, out_edges
from iamreach.analyses.paths import min_cut, paths, reachable_from
from iamreach.graph.builder import build_graph
from iamreach.inventory import Account, Inventory, Principal, Resource
from iamreach.model import SUMMARY_MIN, is_summary

ROOT = Path(__file__).resolve().parent.parent
V = "2012-10-17"
ACCT = "111122223333"

pytestmark = pytest.mark.xdist_group("summaries")


def _expanded(G) -> dict[tuple[str, str, str, str | None], tuple]:
    """(u, v, kind, method) -> (decision, actions, conditions) with every summary expanded."""
    out: dict = {}
    for u, v, d in G.edges(data=True):
        if d["kind"] == "includes":
            continue
        targets = G.nodes[v]["members"] if is_summary(v) else (v,)
        for t in targets:
            if t == u:
                continue  # a role among the roles it can take over: no edge to itself
            key = (u, t, d["kind"], d.get("method"))
            conds = tuple(sorted(repr(sorted(c.items())) for c in d.get("conditions") or ()))
            out[key] = (d["decision"], tuple(d.get("actions") or ()), conds)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_expand_to_exactly_the_per_member_graph(gen, seed):
    spec = gen.SizeSpec("custom", accounts=2, principals=140, resources=320)
    inv = gen.generate(spec, seed=seed)
    plain = build_graph(inv, summary_min=10**9)
    summarized = build_graph(inv)
    assert not any(is_summary(n) for n in plain)
    summaries = [n for n in summarized if is_summary(n)]
    assert summaries, "the generated organization has sets of alike targets: summaries are expected"
    assert summarized.number_of_edges() < plain.number_of_edges()
    want, got = _expanded(plain), _expanded(summarized)
    missing = sorted(set(want) - set(got))[:5]
    extra = sorted(set(got) - set(want))[:5]
    assert not missing and not extra, (missing, extra)
    differ = [(k, want[k], got[k]) for k in want if want[k][:2] != got[k][:2]]
    assert not differ, differ[:5]


@pytest.mark.parametrize("seed", [1, 2])
def test_forbidden_paths_and_checks_agree_with_and_without_summaries(gen, seed):
    from iamreach.analyses.checks import default_registry
    from iamreach.analyses.paths import forbidden_paths

    spec = gen.SizeSpec("custom", accounts=2, principals=140, resources=320)
    inv = gen.generate(spec, seed=seed)
    plain, summarized = build_graph(inv, summary_min=10**9), build_graph(inv)
    for (rule, a), (_, b) in zip(forbidden_paths(plain).items(), forbidden_paths(summarized).items(), strict=True):
        assert a.pairs() == b.pairs(), rule
        assert all(not is_summary(n) for p in b.paths for n in p.nodes)
    fa = sorted((f.check_id, f.resource) for f in default_registry().run(plain, plain.graph["config"]).findings)
    fb = sorted((f.check_id, f.resource) for f in default_registry().run(summarized, summarized.graph["config"]).findings)
    assert fa == fb


# -- hand-made: a broad role, N alike buckets, one scoped role ----------------------------------------


def _inventory(n_buckets: int) -> Inventory:
    inv = Inventory(accounts=[Account(id=ACCT, name="prod")])
    broad = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    scoped = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                           "Resource": "arn:aws:s3:::data-0/*"}]}
    inv.principals = [
        Principal(arn=f"arn:aws:iam::{ACCT}:role/broad", kind="role", account=ACCT, name="broad",
                  inline_policies={"p": broad}),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/scoped", kind="role", account=ACCT, name="scoped",
                  inline_policies={"p": scoped}),
    ]
    inv.resources = [Resource(arn=f"arn:aws:s3:::data-{i}", kind="s3_bucket", account=ACCT, region="us-east-1",
                              name=f"data-{i}", tags={"Classification": "phi"}, attributes={})
                     for i in range(n_buckets)]
    return inv


def _labelled(G):
    for _, d in G.nodes(data=True):
        if d["kind"] == "s3_bucket":
            d["labels"] = ("phi",)
    return G


def test_a_broad_role_reads_a_summary_and_paths_reach_each_member():
    G = _labelled(build_graph(_inventory(SUMMARY_MIN + 2)))
    broad = f"arn:aws:iam::{ACCT}:role/broad"
    reads = [(v, d) for _, v, d in G.out_edges(broad, data=True) if d["kind"] == "reads"]
    assert len(reads) == 1 and is_summary(reads[0][0])
    summary = reads[0][0]
    assert len(G.nodes[summary]["members"]) == SUMMARY_MIN + 2
    assert any(e["type"] == "summary" for e in reads[0][1]["evidence"])
    # the scoped role's statement names one bucket: its edge goes to that bucket alone
    scoped = [v for _, v, d in G.out_edges(f"arn:aws:iam::{ACCT}:role/scoped", data=True) if d["kind"] == "reads"]
    assert scoped == ["arn:aws:s3:::data-0"]
    ps = paths(G, [broad], "label:phi")
    assert len(ps.pairs()) == SUMMARY_MIN + 2
    for p in ps.paths:
        assert len(p.hops) == 1 and p.hops[0].via == summary and p.hops[0].kind == "reads"
        assert p.hops[0].to_dict()["via"] == summary
    # max_hops counts the principal's steps, not the free step out of the summary
    assert paths(G, [broad], "label:phi", max_hops=1).pairs() == ps.pairs()
    dist = reachable_from(G, broad)
    assert summary not in dist and dist["arn:aws:s3:::data-3"] == 1
    # the cut is the permission, never the set membership
    cut = min_cut(G, [broad], "label:phi")
    assert {(u, v) for u, v, _, _ in cut} == {(broad, summary)}
    assert "reads" in {d["kind"] for _, _, _, d in cut}
    # checks read an edge to a summary as one edge to each member
    assert {v for _, v, _, _ in out_edges(G, broad, ("reads",))} == {f"arn:aws:s3:::data-{i}" for i in range(SUMMARY_MIN + 2)}
    assert broad in {u for u, _, _, _ in in_edges(G, "arn:aws:s3:::data-5", ("reads",))}


def test_small_sets_are_not_summarized():
    G = build_graph(_inventory(SUMMARY_MIN - 1))
    assert not any(is_summary(n) for n in G)
    reads = {v for _, v, d in G.out_edges(f"arn:aws:iam::{ACCT}:role/broad", data=True) if d["kind"] == "reads"}
    assert len(reads) == SUMMARY_MIN - 1


def test_a_tag_condition_splits_the_set():
    inv = _inventory(2 * SUMMARY_MIN)
    for i, r in enumerate(inv.resources):
        r.tags = {"Classification": "phi" if i % 2 else "public"}
    cond = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                         "Condition": {"StringEquals": {"aws:ResourceTag/Classification": "public"}}}]}
    inv.principals.append(Principal(arn=f"arn:aws:iam::{ACCT}:role/tagged", kind="role", account=ACCT, name="tagged",
                                    inline_policies={"p": cond}))
    G = build_graph(inv)
    reached = defaultdict(set)
    for _, v, d in G.out_edges(f"arn:aws:iam::{ACCT}:role/tagged", data=True):
        for m in G.nodes[v].get("members") or (v,):
            reached[d["kind"]].add(m)
    assert reached["reads"] == {r.arn for r in inv.resources if r.tags["Classification"] == "public"}



def test_members_the_keys_answer_alike_keep_a_summary_when_other_keys_refuse():
    """A set split by its KMS keys' answers: the members that stay readable (no customer key here)
    are still one summary edge when there are at least SUMMARY_MIN of them, and expand to exactly
    the per-member edges."""
    n_plain, n_locked = SUMMARY_MIN + 1, 3
    inv = _inventory(n_plain + n_locked)
    key_arn = f"arn:aws:kms:us-east-1:{ACCT}:key/locked"
    only_root = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/keeper"},
                                              "Action": "kms:*", "Resource": "*"}]}
    inv.resources.append(Resource(arn=key_arn, kind="kms_key", account=ACCT, region="us-east-1", name="locked",
                                  id="locked", policy=only_root, attributes={"key_manager": "CUSTOMER"}))
    for r in inv.resources[n_plain:n_plain + n_locked]:
        r.attributes = {"encryption": {"algorithm": "aws:kms", "kms_key_arn": key_arn}}
    G, plain = build_graph(inv), build_graph(inv, summary_min=10**9)
    broad = f"arn:aws:iam::{ACCT}:role/broad"
    reads = [v for _, v, d in G.out_edges(broad, data=True) if d["kind"] == "reads"]
    assert len(reads) == 1 and is_summary(reads[0])
    readable = {f"arn:aws:s3:::data-{i}" for i in range(n_plain)}
    assert set(G.nodes[reads[0]]["members"]) == readable
    assert _expanded(G) == _expanded(plain)


def test_workloads_with_one_policy_template_are_pooled_and_their_policies_read():
    """Lambda functions whose resource policies are one template (their own ARN aside) are one pool
    for the workload escalation methods; the policy is evaluated with the request, so a function
    whose policy denies UpdateFunctionCode gives no edge to its role."""
    inv = Inventory(accounts=[Account(id=ACCT, name="prod")])
    dev = f"arn:aws:iam::{ACCT}:role/dev"
    inv.principals = [Principal(arn=dev, kind="role", account=ACCT, name="dev", inline_policies={"p": {
        "Version": V, "Statement": [{"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": "*"}]}})]
    n = SUMMARY_MIN + 1

    def fn(i: int, deny: bool) -> Resource:
        arn = f"arn:aws:lambda:us-east-1:{ACCT}:function:f{i}"
        st = [{"Sid": "s3invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
               "Action": "lambda:InvokeFunction", "Resource": arn}]
        if deny:
            st.append({"Sid": "frozen", "Effect": "Deny", "Principal": "*", "Action": "lambda:UpdateFunctionCode",
                       "Resource": arn})
        return Resource(arn=arn, kind="lambda_function", account=ACCT, region="us-east-1", name=f"f{i}",
                        policy={"Version": V, "Statement": st}, attributes={"role_arn": f"arn:aws:iam::{ACCT}:role/fr{i}"})

    inv.resources = [fn(i, deny=i == n) for i in range(n + 1)]
    inv.principals += [Principal(arn=f"arn:aws:iam::{ACCT}:role/fr{i}", kind="role", account=ACCT, name=f"fr{i}")
                       for i in range(n + 1)]
    G, plain = build_graph(inv), build_graph(inv, summary_min=10**9)
    taken = [(v, d) for _, v, d in G.out_edges(dev, data=True)
             if d["kind"] == "escalates_to" and d.get("method") == "workload-lambda-updatecode"]
    assert len(taken) == 1 and is_summary(taken[0][0])
    assert set(G.nodes[taken[0][0]]["members"]) == {f"arn:aws:iam::{ACCT}:role/fr{i}" for i in range(n)}
    plain_targets = {v for _, v, d in plain.out_edges(dev, data=True) if d.get("method") == "workload-lambda-updatecode"}
    assert f"arn:aws:iam::{ACCT}:role/fr{n}" not in plain_targets  # the function whose policy denies it
    assert _expanded(G) == _expanded(plain)
