"""Graph builder scenarios on hand-made inventories: one per edge kind, each with its negative twin."""

from __future__ import annotations

import copy

import pytest

from iamreach.analyses.paths import can, paths, who_can
from iamreach.graph.builder import build_graph
from iamreach.inventory import (
    Account,
    InstanceProfile,
    ManagedPolicy,
    Organization,
    OrgPolicy,
    Principal,
    Resource,
)

PROD, SYN, MGMT = "111111111111", "222222222222", "333333333333"
V = "2012-10-17"


def doc(*statements):
    return {"Version": V, "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role(account, name, trust=None, inline=None, tags=None, managed=()):
    return Principal(arn=f"arn:aws:iam::{account}:role/{name}", kind="role", account=account, name=name,
                     trust_policy=trust, inline_policies=inline or {}, tags=tags or {},
                     managed_policy_arns=list(managed))


def trust_aws(principal, **cond):
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if cond:
        st["Condition"] = cond
    return doc(st)


def trust_service(svc):
    return doc({"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"})


def base_inventory():
    from iamreach.inventory import Inventory

    inv = Inventory()
    inv.organization = Organization(id="o-abc", management_account_id=MGMT, root_id="r-1",
                                    units=[{"id": "r-1", "name": "Root"}, {"id": "ou-prod", "name": "Production"},
                                           {"id": "ou-syn", "name": "Synthetic"}])
    inv.accounts = [Account(id=PROD, name="production", ou_path=["r-1", "ou-prod"], tags={"Environment": "production"}),
                    Account(id=SYN, name="synthetic", ou_path=["r-1", "ou-syn"], tags={"Environment": "synthetic"}),
                    Account(id=MGMT, name="management", ou_path=["r-1"], is_management=True)]
    full = doc(allow("*"))
    inv.org_policies = [OrgPolicy(id="p-FullAWSAccess", type="SCP", name="FullAWSAccess", document=full,
                                  targets=["r-1", "ou-prod", "ou-syn", PROD, SYN, MGMT], aws_managed=True)]
    return inv


SYN_ROLE = f"arn:aws:iam::{SYN}:role/generator"
PROD_ROLE = f"arn:aws:iam::{PROD}:role/phi-reader"
BUCKET = "arn:aws:s3:::phi-records"


def bucket(policy=None, kms=None, **attrs):
    a = {"public_access_block": None, "ownership": None, "acl_grants": [],
         "encryption": {"algorithm": "aws:kms", "kms_key_arn": kms} if kms else None}
    a.update(attrs)
    return Resource(arn=BUCKET, kind="s3_bucket", account=PROD, region="us-east-1", id="phi-records",
                    name="phi-records", tags={"DataClassification": "PHI"}, policy=policy, attributes=a)


def edges(G, u, v=None, kind=None):
    return [(a, b, d) for a, b, d in G.out_edges(u, data=True)
            if (v is None or b == v) and (kind is None or d["kind"] == kind)]


# --------------------------------------------------------------------------- can_assume
def test_cross_account_assume_needs_trust_and_identity():
    inv = base_inventory()
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("sts:AssumeRole", PROD_ROLE))}),
                      role(PROD, "phi-reader", trust=trust_aws(f"arn:aws:iam::{SYN}:root"))]
    G = build_graph(inv)
    (e,) = edges(G, SYN_ROLE, PROD_ROLE, "can_assume")
    assert e[2]["decision"] == "allowed" and e[2]["evidence"]
    # negative twin: no identity allow -> cross-account assume impossible
    inv2 = copy.deepcopy(inv)
    inv2.principals[0].inline_policies = {}
    assert edges(build_graph(inv2), SYN_ROLE, PROD_ROLE, "can_assume") == []


def test_external_id_makes_the_trust_conditional():
    inv = base_inventory()
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("sts:AssumeRole"))}),
                      role(PROD, "phi-reader", trust=trust_aws(f"arn:aws:iam::{SYN}:root",
                                                               StringEquals={"sts:ExternalId": "x-123"}))]
    (e,) = edges(build_graph(inv), SYN_ROLE, PROD_ROLE, "can_assume")
    assert e[2]["decision"] == "conditional"
    assert any("ExternalId" in str(c) for c in e[2]["conditions"])


def test_scp_deny_on_synthetic_ou_blocks_assume():
    inv = base_inventory()
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("sts:AssumeRole"))}),
                      role(PROD, "phi-reader", trust=trust_aws(f"arn:aws:iam::{SYN}:root"))]
    inv.org_policies.append(OrgPolicy(id="p-deny", type="SCP", name="no-prod", targets=["ou-syn"],
                                      document=doc({"Effect": "Deny", "Action": "sts:AssumeRole",
                                                    "Resource": f"arn:aws:iam::{PROD}:role/*"})))
    assert edges(build_graph(inv), SYN_ROLE, PROD_ROLE, "can_assume") == []


def test_service_principal_trust():
    inv = base_inventory()
    inv.principals = [role(SYN, "fn", trust=trust_service("lambda.amazonaws.com"))]
    G = build_graph(inv)
    assert edges(G, "service:lambda.amazonaws.com", f"arn:aws:iam::{SYN}:role/fn", "can_assume")


# --------------------------------------------------------------------------- data access
def test_bucket_policy_grant_to_synthetic_role_cross_account():
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("s3:GetObject"))})]
    inv.resources = [bucket(pol)]
    G = build_graph(inv)
    (e,) = edges(G, SYN_ROLE, BUCKET, "reads")
    assert e[2]["actions"] == ("s3:GetObject",)
    # twin: bucket policy gone -> identity allow alone does not cross accounts
    inv.resources = [bucket(None)]
    assert edges(build_graph(inv), SYN_ROLE, BUCKET, "reads") == []


def test_same_account_resource_policy_grants_without_identity_allow():
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": {"AWS": PROD_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.principals = [role(PROD, "phi-reader")]
    inv.resources = [bucket(pol)]
    assert edges(build_graph(inv), PROD_ROLE, BUCKET, "reads")


def test_account_root_in_bucket_policy_is_delegation_not_grant():
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SYN}:root"}, "Action": "s3:GetObject",
               "Resource": f"{BUCKET}/*"})
    inv.principals = [role(SYN, "generator"), role(SYN, "reader", inline={"a": doc(allow("s3:GetObject", f"{BUCKET}/*"))})]
    inv.resources = [bucket(pol)]
    G = build_graph(inv)
    assert edges(G, SYN_ROLE, BUCKET, "reads") == []
    assert edges(G, f"arn:aws:iam::{SYN}:role/reader", BUCKET, "reads")


def test_kms_decrypt_gates_sse_kms_reads():
    key_arn = f"arn:aws:kms:us-east-1:{PROD}:key/k1"
    pol = doc({"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    key_policy_prod_only = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                                "Action": "kms:*", "Resource": "*"})
    inv = base_inventory()
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow(["s3:GetObject", "kms:Decrypt"]))})]
    key = Resource(arn=key_arn, kind="kms_key", account=PROD, region="us-east-1", id="k1", policy=key_policy_prod_only,
                   attributes={"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": [], "grants": []})
    inv.resources = [bucket(pol, kms=key_arn), key]
    assert edges(build_graph(inv), SYN_ROLE, BUCKET, "reads") == []
    key.policy = doc(key_policy_prod_only["Statement"][0],
                     {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SYN}:root"}, "Action": "kms:Decrypt",
                      "Resource": "*"})
    G = build_graph(inv)
    assert edges(G, SYN_ROLE, BUCKET, "reads")
    assert edges(G, SYN_ROLE, key_arn, "decrypts")


def test_keys_with_one_key_policy_still_answer_by_their_tags_and_arns():
    """Keys alike share one kms:Decrypt answer per actor (``_Builder._key_sig``), but only alike:
    a tag an identity condition reads, or a statement naming one key, tells them apart."""
    def key(name, tags):
        return Resource(arn=f"arn:aws:kms:us-east-1:{PROD}:key/{name}", kind="kms_key", account=PROD,
                        region="us-east-1", id=name, tags=tags,
                        policy=doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                                    "Action": "kms:*", "Resource": "*"}),
                        attributes={"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": [], "grants": []})

    def data(i, key_arn):
        return Resource(arn=f"arn:aws:dynamodb:us-east-1:{PROD}:table/t{i}", kind="dynamodb_table", account=PROD,
                        region="us-east-1", id=f"t{i}", name=f"t{i}", attributes={"kms_key_arn": key_arn})

    keys = [key("k1", {"team": "a"}), key("k2", {"team": "a"}), key("k3", {"team": "b"}), key("k4", {"team": "a"})]
    reader = role(PROD, "reader", inline={"a": doc(
        allow("dynamodb:GetItem"),
        allow("kms:Decrypt", "*", Condition={"StringEquals": {"aws:ResourceTag/team": "a"}}),
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": keys[3].arn})})
    inv = base_inventory()
    inv.principals = [reader]
    inv.resources = [*keys, *(data(i, k.arn) for i, k in enumerate(keys))]
    G = build_graph(inv)
    readable = sorted(v for _, v, d in G.out_edges(reader.arn, data=True) if d["kind"] == "reads")
    assert readable == [f"arn:aws:dynamodb:us-east-1:{PROD}:table/t0", f"arn:aws:dynamodb:us-east-1:{PROD}:table/t1"]
    for i in (0, 1):
        (_, _, d), = edges(G, reader.arn, f"arn:aws:dynamodb:us-east-1:{PROD}:table/t{i}", "reads")
        assert keys[i].arn in str(d["evidence"])  # the gate names the key(s) in front


def test_shared_snapshot_restorable_by_synthetic_role():
    inv = base_inventory()
    snap = Resource(arn=f"arn:aws:rds:us-east-1:{PROD}:cluster-snapshot:phi-snap", kind="rds_cluster_snapshot",
                    account=PROD, region="us-east-1", id="phi-snap",
                    attributes={"source_arn": f"arn:aws:rds:us-east-1:{PROD}:cluster:phi", "encrypted": False,
                                "kms_key_arn": None, "snapshot_type": "manual", "shared_accounts": [SYN]})
    db = Resource(arn=f"arn:aws:rds:us-east-1:{PROD}:cluster:phi", kind="rds_cluster", account=PROD,
                  region="us-east-1", id="phi", tags={"DataClassification": "PHI"}, attributes={})
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("rds:RestoreDBClusterFromSnapshot"))})]
    inv.resources = [snap, db]
    G = build_graph(inv)
    assert edges(G, SYN_ROLE, snap.arn, "reads")
    assert "phi" in G.nodes[snap.arn]["labels"]  # inherited from the cluster it was taken from
    assert edges(G, snap.arn, f"account:{SYN}:principals", "shared_with")
    snap.attributes["shared_accounts"] = []
    assert edges(build_graph(inv), SYN_ROLE, snap.arn, "reads") == []


# --------------------------------------------------------------------------- escalation
def test_passrole_lambda_escalation_and_twin():
    inv = base_inventory()
    actor = Principal(arn=f"arn:aws:iam::{SYN}:user/dev", kind="user", account=SYN, name="dev",
                      inline_policies={"p": doc(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]))})
    target = role(SYN, "admin-fn", trust=trust_service("lambda.amazonaws.com"), inline={"a": doc(allow("*"))})
    inv.principals = [actor, target]
    G = build_graph(inv)
    (e,) = edges(G, actor.arn, target.arn, "escalates_to")
    assert e[2]["method"] == "passrole-lambda-invoke"
    actor.inline_policies = {"p": doc(allow(["iam:PassRole", "lambda:CreateFunction"]))}
    assert [d["method"] for _, _, d in edges(build_graph(inv), actor.arn, target.arn, "escalates_to")] == []


def test_self_escalation_to_account_admin():
    inv = base_inventory()
    me = role(SYN, "generator", inline={"p": doc(allow("iam:PutRolePolicy", SYN_ROLE))})
    inv.principals = [me]
    G = build_graph(inv)
    (e,) = edges(G, SYN_ROLE, f"arn:aws:iam::{SYN}:root", "escalates_to")
    assert e[2]["method"] == "self-putrolepolicy"


def test_instance_profile_chain_and_paths():
    inv = base_inventory()
    prof = InstanceProfile(arn=f"arn:aws:iam::{SYN}:instance-profile/gen", account=SYN, name="gen", role_arns=[SYN_ROLE])
    inst = Resource(arn=f"arn:aws:ec2:us-east-1:{SYN}:instance/i-1", kind="ec2_instance", account=SYN, region="us-east-1",
                    id="i-1", tags={"Workload": "synthetic-data"},
                    attributes={"instance_profile_arn": prof.arn, "vpc_id": None, "subnet_id": None,
                                "security_group_ids": [], "private_ips": [], "public_ip": None, "state": "running"})
    pol = doc({"Effect": "Allow", "Principal": {"AWS": PROD_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("sts:AssumeRole", PROD_ROLE))}),
                      role(PROD, "phi-reader", trust=trust_aws(SYN_ROLE))]
    inv.instance_profiles = [prof]
    inv.resources = [inst, bucket(pol)]
    G = build_graph(inv)
    ps = paths(G, "synthetic", "phi")
    assert (inst.arn, prof.arn, SYN_ROLE, PROD_ROLE, BUCKET) in [p.nodes for p in ps]
    assert [h.kind for h in ps.paths[-1].hops] == ["runs_as", "runs_as", "can_assume", "reads"]


# --------------------------------------------------------------------------- can / who-can
def test_can_and_who_can():
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.principals = [role(SYN, "generator", inline={"a": doc(allow("s3:GetObject"))}), role(SYN, "other")]
    inv.resources = [bucket(pol)]
    G = build_graph(inv)
    assert can(G, SYN_ROLE, "s3:GetObject", f"{BUCKET}/x.csv").decision.value == "allowed"
    assert can(G, f"arn:aws:iam::{SYN}:role/other", "s3:GetObject", f"{BUCKET}/x.csv").decision.value == "denied"
    who = [p for p, _ in who_can(G, "s3:GetObject", f"{BUCKET}/x.csv")]
    assert SYN_ROLE in who and f"arn:aws:iam::{SYN}:role/other" not in who


# --------------------------------------------------------------------------- exposure
@pytest.mark.parametrize("bpa, exposed", [(None, True), ({"RestrictPublicBuckets": True}, False)])
def test_public_bucket_exposure_unless_block_public_access(bpa, exposed):
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.resources = [bucket(pol, public_access_block=bpa)]
    assert bool(edges(build_graph(inv), "internet", BUCKET, "exposes")) is exposed


def test_managed_policy_attachment_is_used():
    inv = base_inventory()
    mp = ManagedPolicy(arn=f"arn:aws:iam::{SYN}:policy/read", name="read", account=SYN,
                       document=doc(allow("s3:GetObject")))
    pol = doc({"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    inv.policies = [mp]
    inv.principals = [role(SYN, "generator", managed=[mp.arn])]
    inv.resources = [bucket(pol)]
    assert edges(build_graph(inv), SYN_ROLE, BUCKET, "reads")


def test_principal_tags_are_known_not_unknown():
    """An ABAC condition on a tag the principal does not have is false, not CONDITIONAL."""
    inv = base_inventory()
    pol = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"}, "Action": "s3:GetObject",
               "Resource": f"{BUCKET}/*"})
    abac = doc(allow("s3:GetObject", f"{BUCKET}/*", Condition={"StringEquals": {"aws:PrincipalTag/team": "phi"}}))
    inv.principals = [role(PROD, "tagged", inline={"a": abac}, tags={"team": "phi"}),
                      role(PROD, "untagged", inline={"a": abac})]
    inv.resources = [bucket(pol)]
    G = build_graph(inv)
    (e,) = edges(G, f"arn:aws:iam::{PROD}:role/tagged", BUCKET, "reads")
    assert e[2]["decision"] == "allowed"
    assert edges(G, f"arn:aws:iam::{PROD}:role/untagged", BUCKET, "reads") == []


def test_non_arn_role_reference_is_kept_not_a_crash():
    """A workload whose role attribute is not an ARN (hand-edited / odd loader data) still builds."""
    inv = base_inventory()
    fn = Resource(arn=f"arn:aws:lambda:us-east-1:{SYN}:function:f", kind="lambda_function", account=SYN,
                  region="us-east-1", attributes={"role_arn": "x"})
    inv.resources = [fn]
    G = build_graph(inv)
    assert edges(G, fn.arn, "x", "runs_as") and G.nodes["x"]["account"] is None
