"""Each check (IAMR-002 ... IAMR-011, IAMR-013, IAMR-014): a failing and a passing small graph."""

from __future__ import annotations

import pytest
from test_checks_support import OTHER, PROD, SYN, Kit, ev, root, run

from iamreach.analyses.checks.cloudtrail import cloudtrail_gaps
from iamreach.analyses.checks.config_rules import config_rule_equivalents
from iamreach.analyses.checks.datastores import workload_role_database_access
from iamreach.analyses.checks.gaps import collection_gaps
from iamreach.analyses.checks.glue import glue_jdbc_to_production
from iamreach.analyses.checks.kms import kms_cross_environment
from iamreach.analyses.checks.network import synthetic_network_access
from iamreach.analyses.checks.s3 import bucket_policy_synthetic_read
from iamreach.analyses.checks.sagemaker import sagemaker_notebook_risks
from iamreach.analyses.checks.snapshots import snapshot_exposure
from iamreach.analyses.checks.stepfunctions import stepfunctions_observability
from iamreach.analyses.checks.trust import synthetic_trust
from iamreach.config import Config
from iamreach.errors import ConfigError


def two_envs() -> Kit:
    k = Kit()
    k.account(PROD, "production")
    k.account(SYN, "synthetic")
    return k


def policy(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


# ---------------------------------------------------------------- IAMR-002
def test_002_fails_when_bucket_policy_grants_get_to_synthetic_account():
    k = two_envs()
    b = k.bucket("claims", PROD, policy=policy(
        {"Sid": "ShareWithSynth", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SYN}:root"},
         "Action": "s3:Get*", "Resource": "arn:aws:s3:::claims/*"}))
    (f,) = run(bucket_policy_synthetic_read, k.G)
    assert f.check_id == "IAMR-002" and f.status == "fail" and f.resource == b
    assert b in f.message and "ShareWithSynth" in f.remediation
    assert f.evidence[0]["type"] == "resource_policy" and f.evidence[0]["sid"] == "ShareWithSynth"
    assert '"Sid": "ShareWithSynth"' in f.snippet


def test_002_passes_for_production_principals_and_bucket_only_actions():
    k = two_envs()
    k.bucket("claims", PROD, policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:role/etl"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::claims/*"},
        {"Effect": "Allow", "Principal": {"AWS": SYN}, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::claims"},
        {"Effect": "Allow", "Principal": {"AWS": SYN}, "Action": "s3:*", "Resource": "arn:aws:s3:::claims"}))
    k.bucket("synth-bucket", SYN, policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": SYN}, "Action": "s3:*", "Resource": "*"}))
    assert run(bucket_policy_synthetic_read, k.G) == []


def test_002_service_principal_acting_for_synthetic_account():
    k = two_envs()
    k.bucket("claims", PROD, policy=policy(
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::claims/*", "Condition": {"StringEquals": {"aws:SourceAccount": SYN}}}))
    (f,) = run(bucket_policy_synthetic_read, k.G)
    assert "glue.amazonaws.com" in f.message


# ---------------------------------------------------------------- IAMR-003
def _db_kit(edge_kind: str, actions: tuple[str, ...]) -> tuple[Kit, str]:
    k = two_envs()
    role = k.role("synth-etl", SYN)
    k.workload("glue_job", "synth-job", SYN, role)
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD, "phi")
    k.edge(role, db, edge_kind, actions=actions,
           evidence=(ev("identity_policy", f"arn:aws:iam::{SYN}:policy/etl", sid="Snap"),))
    return k, db


def test_003_fails_when_workload_role_can_snapshot_production_db():
    k, db = _db_kit("administers", ("rds:CreateDBSnapshot",))
    (f,) = run(workload_role_database_access, k.G)
    assert f.resource == db and "synth-job" in f.message and db in f.message
    assert 'Sid "Snap"' in f.remediation and f"arn:aws:iam::{SYN}:policy/etl" in f.remediation
    assert f.paths[0].hops[0].kind == "administers"


def test_003_passes_for_non_snapshot_admin_and_non_synthetic_workloads():
    k, _ = _db_kit("administers", ("rds:AddTagsToResource",))
    assert run(workload_role_database_access, k.G) == []
    k2 = two_envs()
    role = k2.role("prod-etl", PROD)
    k2.workload("glue_job", "prod-job", PROD, role)
    table = k2.resource(f"arn:aws:dynamodb:us-east-1:{PROD}:table/t", "dynamodb_table", PROD)
    k2.edge(role, table, "reads", actions=("dynamodb:Scan",))
    assert run(workload_role_database_access, k2.G) == []


# ---------------------------------------------------------------- IAMR-004
def _trust(principal, condition=None) -> dict:
    stmt = {"Sid": "X", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return policy(stmt)


def test_004_fails_on_root_trust_without_condition():
    k = two_envs()
    r = k.role("prod-reader", PROD, trust=_trust(f"arn:aws:iam::{SYN}:root"))
    (f,) = run(synthetic_trust, k.G)
    assert f.resource == r and "whole account" in f.message and r in f.message
    assert f.evidence[0]["type"] == "trust_policy"


def test_004_role_trust_with_condition_still_fails_but_without_root_note():
    k = two_envs()
    k.role("prod-reader", PROD, trust=_trust(f"arn:aws:iam::{SYN}:role/etl",
                                             {"StringEquals": {"sts:ExternalId": "x"}}))
    (f,) = run(synthetic_trust, k.G)
    assert "whole account" not in f.message


def test_004_passes_for_production_and_other_accounts():
    k = two_envs()
    k.role("prod-reader", PROD, trust=_trust([f"arn:aws:iam::{PROD}:role/etl", OTHER]))
    k.role("svc", PROD, trust=policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}))
    k.role("synth-role", SYN, trust=_trust(SYN))
    assert run(synthetic_trust, k.G) == []


# ---------------------------------------------------------------- IAMR-005
def test_005_fails_for_shared_public_and_unencrypted_phi_snapshots():
    k = two_envs()
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD, "phi")
    shared = k.resource(f"arn:aws:rds:us-east-1:{PROD}:snapshot:s1", "rds_snapshot", PROD,
                        source_arn=db, encrypted=True, shared_accounts=[SYN])
    public = k.resource(f"arn:aws:ec2:us-east-1:{PROD}:snapshot/snap-1", "ebs_snapshot", PROD,
                        source_arn=None, encrypted=True, shared_accounts=["all"])
    plain = k.resource(f"arn:aws:rds:us-east-1:{PROD}:snapshot:s2", "rds_snapshot", PROD,
                       source_arn=db, encrypted=False, shared_accounts=[])
    k.edge(db, plain, "snapshot_of")
    found = {(f.resource, kind) for f in run(snapshot_exposure, k.G) for kind in ("shared", "unencrypted")
             if kind in f.key}
    assert found == {(shared, "shared"), (public, "shared"), (plain, "unencrypted")}
    by_res = {f.resource: f for f in run(snapshot_exposure, k.G)}
    assert f"--values-to-remove {SYN}" in by_res[shared].remediation
    assert "--group-names all" in by_res[public].remediation


def test_005_restorable_by_synthetic_principal_edge():
    k = two_envs()
    snap = k.resource(f"arn:aws:rds:us-east-1:{PROD}:snapshot:s1", "rds_snapshot", PROD,
                      encrypted=True, shared_accounts=[])
    k.edge(f"account:{SYN}:principals", snap, "reads", actions=("rds:RestoreDBInstanceFromDBSnapshot",))
    (f,) = run(snapshot_exposure, k.G)
    assert set(f.key) == {"restorable", f"account:{SYN}:principals"}


def test_005_passes_for_private_encrypted_snapshots():
    k = two_envs()
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD, "phi")
    k.resource(f"arn:aws:rds:us-east-1:{PROD}:snapshot:s1", "rds_snapshot", PROD,
               source_arn=db, encrypted=True, shared_accounts=[OTHER])
    k.resource(f"arn:aws:rds:us-east-1:{SYN}:snapshot:s1", "rds_snapshot", SYN,
               source_arn=None, encrypted=False, shared_accounts=[PROD])
    assert run(snapshot_exposure, k.G) == []


# ---------------------------------------------------------------- IAMR-006
def test_006_fails_on_can_connect_to_production_db():
    k = two_envs()
    fn = k.workload("lambda_function", "synth-fn", SYN, None)
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD)
    k.edge(fn, db, "can_connect", ports=("tcp/5432",), evidence=(ev("sg_rule", "sgr-0abc", index=None,
                                                                    detail="sg-db allows sg-synth on 5432"),))
    (f,) = run(synthetic_network_access, k.G)
    assert "tcp/5432" in f.message and "Delete security group rule sgr-0abc" in f.remediation


def test_006_passes_for_production_workloads_and_synthetic_dbs():
    k = two_envs()
    fn = k.workload("lambda_function", "prod-fn", PROD, None)
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD)
    k.edge(fn, db, "can_connect", ports=("tcp/5432",))
    sfn = k.workload("lambda_function", "synth-fn", SYN, None)
    sdb = k.resource(f"arn:aws:rds:us-east-1:{SYN}:db:fake", "rds_instance", SYN)
    k.edge(sfn, sdb, "can_connect", ports=("tcp/5432",))
    assert run(synthetic_network_access, k.G) == []


# ---------------------------------------------------------------- IAMR-007
def _glue_kit(host: str) -> tuple[Kit, str]:
    k = two_envs()
    k.resource(f"arn:aws:rds:us-east-1:{PROD}:cluster:pat", "rds_cluster", PROD,
               endpoint="pat.cluster-abc.us-east-1.rds.amazonaws.com", port=5432)
    conn = k.resource(f"arn:aws:glue:us-east-1:{SYN}:connection/jdbc1", "glue_connection", SYN,
                      connection_type="JDBC", jdbc_url=f"jdbc:postgresql://{host}:5432/db", host=host, port=5432)
    k.workload("glue_job", "copy", SYN, None, connections=["jdbc1"])
    return k, conn


def test_007_fails_when_synthetic_connection_targets_production_reader_endpoint():
    k, conn = _glue_kit("PAT.cluster-ro-abc.us-east-1.rds.amazonaws.com")
    (f,) = run(glue_jdbc_to_production, k.G)
    assert f.resource == conn and "job/copy" in f.message and "delete-connection --connection-name jdbc1" in f.remediation


def test_007_passes_for_other_hosts():
    k, _ = _glue_kit("synth-db.cluster-xyz.us-east-1.rds.amazonaws.com")
    assert run(glue_jdbc_to_production, k.G) == []


# ---------------------------------------------------------------- IAMR-008
def test_008_fails_on_internet_production_read_and_unencrypted_write():
    k = two_envs()
    role = k.role("nb-role", SYN)
    nb = k.workload("sagemaker_notebook", "nb", SYN, role, direct_internet_access=True)
    prod_role = k.role("prod-reader", PROD)
    k.edge(role, prod_role, "can_assume", actions=("sts:AssumeRole",))
    data = k.bucket("claims", PROD)
    k.edge(prod_role, data, "reads", actions=("s3:GetObject",), evidence=(ev("identity_policy", "p"),))
    scratch = k.bucket("scratch", SYN, encryption=None)
    k.edge(role, scratch, "writes", actions=("s3:PutObject",))
    found = {frozenset(f.key): f for f in run(sagemaker_notebook_risks, k.G)}
    assert set(found) == {frozenset({"internet"}), frozenset({"reads", data}), frozenset({"unencrypted-write", scratch})}
    assert {f.resource for f in found.values()} == {nb}
    assert [h.kind for h in found[frozenset({"reads", data})].paths[0].hops] == ["runs_as", "can_assume", "reads"]


def test_008_passes_for_private_notebook_reading_synthetic_data():
    k = two_envs()
    role = k.role("nb-role", SYN)
    k.workload("sagemaker_notebook", "nb", SYN, role, direct_internet_access=False)
    k.edge(role, k.bucket("synth", SYN), "reads", actions=("s3:GetObject",))
    k.edge(role, k.bucket("synth-out", SYN), "writes", actions=("s3:PutObject",))
    assert run(sagemaker_notebook_risks, k.G) == []


# ---------------------------------------------------------------- IAMR-009
def test_009_fails_for_shared_key_decrypt_edge_and_grant():
    k = two_envs()
    key = k.resource(f"arn:aws:kms:us-east-1:{PROD}:key/k1", "kms_key", PROD, grants=[
        {"grant_id": "g1", "grantee_principal": f"arn:aws:iam::{SYN}:role/other", "operations": ["Decrypt"]}])
    k.bucket("claims", PROD, encryption={"algorithm": "aws:kms", "kms_key_arn": key})
    k.bucket("synth", SYN, encryption={"algorithm": "aws:kms", "kms_key_arn": key})
    synth_role = k.role("etl", SYN)
    k.edge(synth_role, key, "decrypts", actions=("kms:Decrypt",), evidence=(ev("key_policy", key, sid="Cross"),))
    found = {frozenset(f.key): f for f in run(kms_cross_environment, k.G)}
    assert set(found) == {frozenset({"shared"}), frozenset({"decrypt", synth_role}), frozenset({"grant", "g1"})}
    assert "revoke-grant --key-id k1 --grant-id g1" in found[frozenset({"grant", "g1"})].remediation
    assert 'Sid "Cross"' in found[frozenset({"decrypt", synth_role})].remediation


def test_009_passes_for_separate_keys():
    k = two_envs()
    pkey = k.resource(f"arn:aws:kms:us-east-1:{PROD}:key/k1", "kms_key", PROD, grants=[])
    skey = k.resource(f"arn:aws:kms:us-east-1:{SYN}:key/k2", "kms_key", SYN, grants=[])
    k.bucket("claims", PROD, encryption={"algorithm": "aws:kms", "kms_key_arn": pkey})
    k.bucket("synth", SYN, encryption={"algorithm": "aws:kms", "kms_key_arn": skey})
    k.edge(k.role("etl", PROD), pkey, "decrypts", actions=("kms:Decrypt",))
    assert run(kms_cross_environment, k.G) == []


# ---------------------------------------------------------------- IAMR-010
def _trail(k: Kit, acct: str, **attrs) -> str:
    base = {"home_region": "us-east-1", "multi_region": True, "organization_trail": False, "is_logging": True,
            "s3_bucket": "logs", "event_selectors": [], "advanced_event_selectors": []}
    base.update(attrs)
    return k.resource(f"arn:aws:cloudtrail:us-east-1:{acct}:trail/t", "cloudtrail_trail", acct, **base)


def test_010_fails_without_trail_and_without_data_events():
    k = two_envs()
    phi = k.bucket("claims", PROD, "phi")
    role = k.role("fn-role", SYN)
    fn = k.workload("lambda_function", "transform", SYN, role)
    _trail(k, PROD, event_selectors=[{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other/"]}]}])
    found = {(f.resource, f.key) for f in run(cloudtrail_gaps, k.G)}
    assert found == {(root(SYN), ("multi-region",)), (phi, ("s3-data-events",)), (fn, ("lambda-data-events",))}


def test_010_passes_with_org_trail_and_selectors():
    k = two_envs()
    k.bucket("claims", PROD, "phi")
    k.workload("lambda_function", "transform", SYN, k.role("fn-role", SYN))
    _trail(k, PROD, organization_trail=True,
           event_selectors=[{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::Lambda::Function",
                                                                        "Values": ["arn:aws:lambda"]}]}],
           advanced_event_selectors=[{"FieldSelectors": [
               {"Field": "eventCategory", "Equals": ["Data"]},
               {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
               {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::claims/"]}]}])
    assert run(cloudtrail_gaps, k.G) == []


def test_010_unknown_when_cloudtrail_could_not_be_read():
    k = two_envs()
    k.workload("lambda_function", "transform", SYN, None)
    k.gap("cloudtrail", "DescribeTrails", account=SYN)
    statuses = {f.key: f.status for f in run(cloudtrail_gaps, k.G)}
    assert statuses[("multi-region",)] == "unknown"


# ---------------------------------------------------------------- IAMR-011
def test_011_fails_for_phi_workflow_without_tracing_or_logging():
    k = two_envs()
    phi = k.resource(f"arn:aws:dynamodb:us-east-1:{PROD}:table/patients", "dynamodb_table", PROD, "phi")
    sm = k.workload("sfn_state_machine", "ingest", PROD, None, tracing_enabled=False, logging_level="OFF",
                    log_destinations=[], resource_arns=[phi])
    found = {f.key for f in run(stepfunctions_observability, k.G)}
    assert found == {("tracing",), ("logging",)}
    assert all(f.resource == sm for f in run(stepfunctions_observability, k.G))


def test_011_passes_for_traced_logged_or_non_phi_workflows():
    k = two_envs()
    phi = k.resource(f"arn:aws:dynamodb:us-east-1:{PROD}:table/patients", "dynamodb_table", PROD, "phi")
    role = k.role("fn", PROD)
    fn = k.workload("lambda_function", "reader", PROD, role)
    k.edge(role, phi, "reads", actions=("dynamodb:GetItem",))
    k.workload("sfn_state_machine", "ok", PROD, None, tracing_enabled=True, logging_level="ALL",
               log_destinations=["arn:aws:logs:us-east-1:1:log-group:x"], resource_arns=[fn])
    k.workload("sfn_state_machine", "nophi", PROD, None, tracing_enabled=False, logging_level="OFF",
               log_destinations=[], resource_arns=[])
    assert run(stepfunctions_observability, k.G) == []


# ---------------------------------------------------------------- IAMR-013
def _sg(k: Kit, acct: str, cidrs=(), ipv6=(), port=22) -> str:
    return k.resource(f"arn:aws:ec2:us-east-1:{acct}:security-group/sg-{acct[:4]}", "security_group", acct,
                      id=f"sg-{acct[:4]}", vpc_id="vpc-1", group_name="g", egress=[],
                      ingress=[{"rule_id": f"sgr-{acct[:4]}", "protocol": "tcp", "from_port": port, "to_port": port,
                                "cidrs": list(cidrs), "ipv6_cidrs": list(ipv6), "sg_refs": [], "prefix_lists": []}])


def test_013_fails_for_world_ssh_and_public_write_bucket():
    k = two_envs()
    sg = _sg(k, SYN, ipv6=["::/0"])
    b = k.bucket("drop", PROD, policy=policy({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                                              "Resource": "arn:aws:s3:::drop/*"}),
                 acl_grants=[{"grantee_type": "Group", "grantee": "http://acs.amazonaws.com/groups/global/AllUsers",
                              "permission": "WRITE"}])
    found = {(f.resource, tag) for f in run(config_rule_equivalents, k.G)
             for tag in ("restricted-ssh", "policy", "acl") if tag in f.key}
    assert found == {(sg, "restricted-ssh"), (b, "policy"), (b, "acl")}


def test_013_passes_for_narrow_ssh_and_blocked_public_access():
    k = two_envs()
    _sg(k, SYN, cidrs=["10.0.0.0/8"])
    _sg(k, PROD, cidrs=["0.0.0.0/0"], port=443)
    k.bucket("drop", PROD, policy=policy({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                                          "Resource": "arn:aws:s3:::drop/*"}),
             public_access_block={"RestrictPublicBuckets": True, "IgnorePublicAcls": True})
    assert run(config_rule_equivalents, k.G) == []


def test_013_scope_option_and_bad_scope():
    k = two_envs()
    _sg(k, SYN, cidrs=["0.0.0.0/0"])
    base = Config.default()
    prod_only = Config(labels=base.labels, forbid=base.forbid, check_options={"IAMR-013": {"scope": "production"}})
    assert run(config_rule_equivalents, k.G, prod_only) == []
    syn_only = Config(labels=base.labels, forbid=base.forbid, check_options={"IAMR-013": {"scope": "synthetic"}})
    assert len(run(config_rule_equivalents, k.G, syn_only)) == 1
    bad = Config(labels=base.labels, forbid=base.forbid, check_options={"IAMR-013": {"scope": "dev"}})
    with pytest.raises(ConfigError, match="scope"):
        run(config_rule_equivalents, k.G, bad)


# ---------------------------------------------------------------- IAMR-014
def test_014_fails_as_unknown_for_every_gap():
    k = two_envs()
    k.gap("kms", "GetKeyPolicy", account=PROD, resource=f"arn:aws:kms:us-east-1:{PROD}:key/k1")
    k.gap("iam", "GetAccountAuthorizationDetails", account=SYN)
    found = run(collection_gaps, k.G)
    assert {f.status for f in found} == {"unknown"} and len(found) == 2
    kms = next(f for f in found if "kms" in f.message)
    assert kms.resource == f"arn:aws:kms:us-east-1:{PROD}:key/k1" and "IAMR-009" in kms.message
    assert next(f for f in found if "iam:" in f.message).resource == root(SYN)


def test_014_passes_without_gaps():
    assert run(collection_gaps, two_envs().G) == []


def test_002_and_004_fail_for_org_wide_grants_that_include_synthetic_accounts():
    k = Kit()
    k.account(PROD, "production", ou_path=("r-1", "ou-prod"))
    k.account(SYN, "synthetic", ou_path=("r-1", "ou-syn"))
    org_cond = {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
    b = k.bucket("claims", PROD, policy=policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::claims/*", "Condition": org_cond}))
    r = k.role("org-reader", PROD, trust=policy({"Effect": "Allow", "Principal": {"AWS": "*"},
                                                 "Action": "sts:AssumeRole", "Condition": org_cond}))
    (f2,) = run(bucket_policy_synthetic_read, k.G)
    (f4,) = run(synthetic_trust, k.G)
    assert f2.resource == b and "aws:PrincipalOrgID" in f2.message and SYN in f2.message
    assert f4.resource == r and "in the organization" in f4.message
