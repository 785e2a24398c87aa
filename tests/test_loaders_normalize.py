"""Unit tests of every loader's ``normalize`` on recorded raw responses (tests/data/loaders/raw).

``<service>.json`` were recorded from moto by ``tests/data/loaders/record.py``; ``extra.json`` is
hand-written AWS-shaped JSON for what moto does not produce (URL-encoded documents, env values,
JDBC passwords, public snapshots, peering, endpoints ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iamreach.inventory import Inventory
from iamreach.loaders.aws import SERVICES, service_module
from iamreach.loaders.combine import combine, resolve_vpcs
from iamreach.model import RESOURCE_ATTRIBUTES

RAW = Path(__file__).parent / "data" / "loaders" / "raw"
REGION = "us-east-1"
ACCOUNT = "111122223333"


def _recorded(service: str) -> dict:
    return json.loads((RAW / f"{service}.json").read_text())


def _extra(service: str) -> dict:
    return json.loads((RAW / "extra.json").read_text())[service]


def _normalize(service: str, role: str) -> Inventory:
    rec = _recorded(service)[role]
    region = None if service in ("iam", "s3", "organizations") else REGION
    return service_module(service).normalize(rec["raw"], rec["account"], region)


def _by_kind(inv: Inventory, kind: str) -> list:
    return [r for r in inv.resources if r.kind == kind]


def _ids() -> dict:
    return json.loads((RAW / "ids.json").read_text())


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_resource_has_exactly_the_model_attributes(service):
    fixture = _recorded(service)
    parts = [_normalize(service, role) for role in fixture]
    if service in json.loads((RAW / "extra.json").read_text()):
        raw = _extra(service)
        parts.append(service_module(service).normalize(raw if service != "iam" else {"authdetails": raw}, ACCOUNT,
                                                       REGION))
    for part in parts:
        for r in part.resources:
            assert set(r.attributes) == set(RESOURCE_ATTRIBUTES[r.kind]), (r.kind, r.arn)
        Inventory.from_dict(part.to_dict())  # every record survives the snapshot round trip
    for role, rec in fixture.items():
        assert rec["gaps"] == [], f"moto answered every {service} call for {role}"


def test_iam_recorded():
    inv = _normalize("iam", "production")
    ids = _ids()
    roles = {p.name: p for p in inv.principals if p.kind == "role"}
    reader = roles["phi-reader"]
    assert reader.trust_policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ids['synthetic']}:role/synthetic-worker"}
    assert reader.managed_policy_arns == [f"arn:aws:iam::{ids['production']}:policy/phi-read"]
    assert reader.inline_policies["kms"]["Statement"][0]["Action"] == "kms:Decrypt"
    assert reader.tags == {"team": "phi"}
    # moto quirk: managed policies come back without PolicyName -> name from the ARN, and a note
    (policy,) = inv.policies
    assert (policy.name, policy.name_source) == ("phi-read", "arn")
    assert any("name was taken from the ARN" in n for n in inv.meta["notes"])
    synth = _normalize("iam", "synthetic")
    by_name = {p.name: p for p in synth.principals}
    assert by_name["AWSServiceRoleForSupport"].is_service_linked
    assert not by_name["synthetic-worker"].is_service_linked
    assert [ip.role_arns for ip in synth.instance_profiles] == [[by_name["synthetic-worker"].arn]]


def test_iam_extra_url_encoded_documents_and_missing_policy_gap():
    inv = service_module("iam").normalize({"authdetails": _extra("iam")}, ACCOUNT)
    by = {p.name: p for p in inv.principals}
    alice = by["alice"]
    assert alice.inline_policies["inline"]["Statement"][0]["Action"] == "s3:ListBucket"
    assert alice.groups == ["arn:aws:iam::111122223333:group/eng/devs"]  # group path resolved from the list
    assert alice.permissions_boundary_arn == "arn:aws:iam::111122223333:policy/boundary"
    slr = by["AWSServiceRoleForRDS"]
    assert slr.is_service_linked and slr.trust_policy["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    assert slr.last_used == "2024-05-01T10:00:00Z"
    (boundary,) = inv.policies
    assert boundary.version_id == "v2" and boundary.document["Statement"][0]["Action"] == "s3:*"
    assert boundary.name_source is None
    (gap,) = inv.gaps  # ReadOnlyAccess attached but its document was not in the response
    assert (gap.error_code, gap.resource) == ("PolicyNotReturned", "arn:aws:iam::aws:policy/ReadOnlyAccess")


def test_organizations_recorded():
    inv = _normalize("organizations", "management")
    ids = _ids()
    org = inv.organization
    assert org.management_account_id == ids["management"] and org.root_id == ids["root"]
    accounts = {a.id: a for a in inv.accounts}
    assert accounts[ids["management"]].is_management
    assert accounts[ids["synthetic"]].ou_path == [ids["root"], ids["ou_syn"], ids["ou_gen"]]
    assert accounts[ids["production"]].ou_path == [ids["root"], ids["ou_prod"]]
    assert accounts[ids["production"]].tags == {"env": "production"}
    pols = {p.id: p for p in inv.org_policies}
    assert pols[ids["scp"]].targets == sorted([ids["ou_syn"], ids["production"]])
    assert pols[ids["scp"]].document["Statement"][0]["Effect"] == "Deny"
    assert {p.type for p in inv.org_policies} == {"SCP", "RCP"}


def test_s3_recorded_and_extra():
    inv = _normalize("s3", "production")
    ids = _ids()
    (phi,) = [r for r in inv.resources if r.id == "prod-phi"]
    assert phi.policy["Statement"][0]["Principal"] == {"AWS": ids["prod"]["role"]}
    assert phi.attributes["encryption"] == {"algorithm": "aws:kms", "kms_key_arn": ids["prod"]["key"]}
    assert phi.attributes["public_access_block"] == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    assert phi.tags == {"data": "phi"} and phi.region == "us-east-1"
    extra = service_module("s3").normalize(_extra("s3"), ACCOUNT)
    (bucket,) = extra.resources
    assert bucket.region == "eu-west-1" and bucket.attributes["ownership"] == "BucketOwnerEnforced"
    assert bucket.attributes["acl_grants"] == [{"grantee_type": "Group", "permission": "READ",
                                                "grantee": "http://acs.amazonaws.com/groups/global/AllUsers"}]
    assert bucket.attributes["encryption"]["kms_key_arn"] == "arn:aws:kms:eu-west-1:111122223333:alias/data"
    assert bucket.policy is None and bucket.attributes["public_access_block"] is None
    assert extra.accounts[0].s3_public_access_block["BlockPublicAcls"] is True


def test_kms_recorded():
    inv = _normalize("kms", "production")
    ids = _ids()
    (key,) = inv.resources
    assert key.arn == ids["prod"]["key"]
    assert key.attributes["aliases"] == ["alias/phi"] and key.attributes["key_manager"] == "CUSTOMER"
    assert key.attributes["grants"][0]["grantee_principal"] == ids["prod"]["role"]
    assert {s["Sid"] for s in key.policy["Statement"]} == {"Root", "Reader"}
    assert key.tags == {"data": "phi"}


def test_ec2_recorded():
    ids = _ids()
    inv = _normalize("ec2", "production")
    sgs = {r.id: r for r in _by_kind(inv, "security_group")}
    db = sgs[ids["prod"]["db_sg"]]
    refs = [rule for rule in db.attributes["ingress"] if rule["sg_refs"]]
    assert refs[0]["sg_refs"] == [{"group_id": ids["prod"]["app_sg"], "account": ids["production"]}]
    assert all(rule["rule_id"].startswith("sgr-") for rule in db.attributes["ingress"])
    assert any(rule["cidrs"] == ["10.2.0.0/16"] and rule["from_port"] == 5432 for rule in db.attributes["ingress"])
    synth = _normalize("ec2", "synthetic")
    (inst,) = _by_kind(synth, "ec2_instance")
    assert inst.attributes["instance_profile_arn"].endswith("instance-profile/synthetic-worker")
    assert inst.attributes["subnet_id"] == ids["synth"]["subnet_a"] and inst.name == "synth-gen"
    (snap,) = _by_kind(synth, "ebs_snapshot")  # only the owned one, not moto's AMI snapshots
    assert snap.arn == f"arn:aws:ec2:us-east-1::snapshot/{ids['synth']['snapshot']}"
    assert snap.account == ids["synthetic"] and snap.attributes["shared_accounts"] == [ids["production"]]
    rts = [r for r in _by_kind(synth, "route_table") if r.attributes["subnet_ids"] == [ids["synth"]["subnet_a"]]]
    assert {"destination": "0.0.0.0/0", "target_type": "internet_gateway"}.items() <= rts[0].attributes["routes"][0].items()


def test_ec2_extra():
    inv = service_module("ec2").normalize(_extra("ec2"), ACCOUNT, REGION)
    (sg,) = _by_kind(inv, "security_group")
    (rule,) = sg.attributes["ingress"]
    assert rule == {"rule_id": None, "protocol": "tcp", "from_port": 443, "to_port": 443, "cidrs": ["0.0.0.0/0"],
                    "ipv6_cidrs": ["::/0"], "sg_refs": [{"group_id": "sg-9", "account": "444455556666"}],
                    "prefix_lists": ["pl-1"]}
    (rt,) = _by_kind(inv, "route_table")
    kinds = {r["destination"]: r["target_type"] for r in rt.attributes["routes"]}
    assert kinds == {"10.0.0.0/16": "local", "0.0.0.0/0": "nat_gateway", "10.9.0.0/16": "vpc_peering",
                     "pl-1": "vpc_endpoint"}
    assert rt.attributes["main"] is True
    (peer,) = _by_kind(inv, "vpc_peering")
    assert peer.attributes["accepter"] == {"vpc_id": "vpc-9", "account": "444455556666", "region": "us-east-1",
                                           "cidrs": ["10.9.0.0/16"]}
    (vpce,) = _by_kind(inv, "vpc_endpoint")
    assert vpce.policy["Statement"][0]["Principal"] == "*" and vpce.attributes["route_table_ids"] == ["rtb-1"]
    (nat,) = _by_kind(inv, "nat_gateway")
    assert nat.attributes["public_ip"] == "203.0.113.5"
    (tgw,) = _by_kind(inv, "transit_gateway_attachment")
    assert tgw.attributes["transit_gateway_id"] == "tgw-1"
    snaps = {r.id: r for r in _by_kind(inv, "ebs_snapshot")}
    assert snaps["snap-1"].attributes["shared_accounts"] == ["all"]
    assert snaps["snap-2"].attributes["shared_accounts"] is None  # attribute call failed: unknown, not "unshared"


def test_rds_recorded_and_extra():
    ids = _ids()
    inv = _normalize("rds", "production")
    (cluster,) = _by_kind(inv, "rds_cluster")
    assert cluster.arn == ids["prod"]["cluster"]
    a = cluster.attributes
    assert a["vpc_id"] == ids["prod"]["vpc"] and len(a["subnet_ids"]) == 2
    assert a["security_group_ids"] == [ids["prod"]["db_sg"]] and a["port"] == 5432
    assert a["iam_auth"] and a["storage_encrypted"] and a["kms_key_arn"] == ids["prod"]["key"]
    assert a["members"] == [f"arn:aws:rds:us-east-1:{ids['production']}:db:phi-1"]
    (inst,) = _by_kind(inv, "rds_instance")
    assert inst.attributes["cluster_arn"] == ids["prod"]["cluster"] and inst.attributes["resource_id"]
    extra = service_module("rds").normalize(_extra("rds"), ACCOUNT, REGION)
    (snap,) = extra.resources
    assert snap.attributes["shared_accounts"] == ["all"] and snap.attributes["snapshot_type"] == "manual"
    assert snap.attributes["source_arn"] == "arn:aws:rds:us-east-1:111122223333:db:db1"


def test_lambda_env_names_only():
    inv = _normalize("lambda", "synthetic")
    (fn,) = inv.resources
    assert fn.attributes["environment_variable_names"] == ["DB_TOKEN"] and fn.tags == {"purpose": "synthetic"}
    extra = service_module("lambda").normalize(_extra("lambda"), ACCOUNT, REGION)
    (fn,) = extra.resources
    assert fn.attributes["environment_variable_names"] == ["API_KEY"]
    assert "value-that-must-not-be-kept" not in json.dumps(extra.to_dict())
    assert fn.attributes["vpc_id"] is None


def test_resolve_vpcs_takes_the_subnets_vpc():
    ids = _ids()
    parts = [_normalize("ec2", "synthetic"), _normalize("lambda", "synthetic"), _normalize("glue", "synthetic"),
             _normalize("sagemaker", "synthetic")]
    inv = resolve_vpcs(combine(parts))
    for kind in ("lambda_function", "glue_connection", "sagemaker_notebook"):
        (r,) = _by_kind(inv, kind)
        assert r.attributes["vpc_id"] == ids["synth"]["vpc"], kind


def test_glue_strips_passwords():
    inv = service_module("glue").normalize(_extra("glue"), ACCOUNT, REGION)
    (conn,) = _by_kind(inv, "glue_connection")
    assert conn.attributes["jdbc_url"] == "jdbc:sqlserver://db.example:1433;databaseName=x"
    assert (conn.attributes["host"], conn.attributes["port"]) == ("db.example", 1433)
    assert conn.attributes["security_group_ids"] == ["sg-1", "sg-2"]
    assert "hunter2" not in json.dumps(inv.to_dict())
    (job,) = _by_kind(inv, "glue_job")
    assert job.attributes["role_arn"] == "arn:aws:iam::111122223333:role/etl-role"
    rec = _normalize("glue", "synthetic")
    (conn,) = _by_kind(rec, "glue_connection")
    assert conn.attributes["host"] == "phi-cluster.example" and conn.attributes["port"] == 5432


def test_sagemaker_and_stepfunctions_recorded():
    ids = _ids()
    (nb,) = _normalize("sagemaker", "synthetic").resources
    assert nb.attributes["direct_internet_access"] is False and nb.attributes["subnet_id"] == ids["synth"]["subnet_b"]
    assert nb.attributes["role_arn"] == ids["synth"]["role"]
    (sm,) = _normalize("stepfunctions", "synthetic").resources
    assert sm.attributes["resource_arns"] == [ids["synth"]["function"]]
    assert sm.attributes["role_arn"] == ids["synth"]["role"]


def test_secrets_unlocks_heuristic():
    ids = _ids()
    (secret,) = _normalize("secretsmanager", "production").resources
    assert secret.attributes["unlocks"] == [ids["prod"]["cluster"]]  # from the DBCluster tag
    assert secret.policy["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"
    (extra,) = service_module("secretsmanager").normalize(_extra("secretsmanager"), ACCOUNT, REGION).resources
    assert extra.attributes["unlocks"] == [
        "arn:aws:dynamodb:us-east-1:111122223333:table/t",
        "arn:aws:rds:us-east-1:111122223333:cluster:c1",
        "arn:aws:rds:us-east-1:111122223333:cluster:c2",
        "arn:aws:rds:us-east-1:111122223333:db:db2",
        "arn:aws:rds:us-east-1:111122223333:db:orders",
    ]
    assert extra.attributes["kms_key_arn"] == "arn:aws:kms:us-east-1:111122223333:alias/aws/secretsmanager"


def test_dynamodb_cloudtrail_lakeformation():
    ids = _ids()
    (table,) = _normalize("dynamodb", "production").resources
    assert table.arn == ids["prod"]["table"] and table.attributes["kms_key_arn"] == ids["prod"]["key"]
    (trail,) = _normalize("cloudtrail", "production").resources
    assert trail.attributes["is_logging"] is True and trail.attributes["multi_region"] is True
    (t,) = service_module("cloudtrail").normalize(_extra("cloudtrail"), ACCOUNT, REGION).resources
    assert t.attributes["is_logging"] is None and t.attributes["organization_trail"] is True
    assert t.attributes["advanced_event_selectors"][0]["Name"] == "data"
    lf = service_module("lakeformation").normalize(_extra("lakeformation"), ACCOUNT, REGION)
    (perm,) = lf.lakeformation_permissions
    assert perm.permissions == ["DESCRIBE", "SELECT"] and perm.resource["Table"]["Name"] == "patients"
