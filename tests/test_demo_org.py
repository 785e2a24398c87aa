"""The demo organization builder: every planted object exists, with the planted attributes.

These tests check the builder against a moto server through boto3, from each account's own
session; they do not run iamreach's analyses.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from iamreach.demo import PLANTED, OrgBuilder, build_demo_org
from iamreach.demo.builder import FAKE_SECRET, account_trust, ingress, policy, statement
from iamreach.demo.org import PRODUCTION_CIDR, SYNTHETIC_CIDR, DemoOrg
from iamreach.errors import InputError

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("moto")]

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_STATE: dict[str, object] = {}


def _reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()


@pytest.fixture
def org(moto_server, monkeypatch) -> DemoOrg:
    """The demo organization, built once and rebuilt only when another test reset the server."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    for key, value in _ENV.items():
        monkeypatch.setenv(key, value)
    cached = _STATE.get("org")
    if isinstance(cached, DemoOrg) and _still_there(cached):
        return cached
    _reset(moto_server)
    start = time.monotonic()
    built = build_demo_org(region="us-east-1")
    _STATE["org"], _STATE["seconds"] = built, time.monotonic() - start
    return built


def _still_there(org: DemoOrg) -> bool:
    client = org.session(org.management).client("organizations")
    try:
        return client.describe_organization()["Organization"]["Id"] == org.org_id
    except client.exceptions.AWSOrganizationsNotInUseException:
        return False


def _client(org: DemoOrg, account: str, service: str):
    return org.builder.client(account, service)


def _doc(text_or_dict) -> dict:
    return json.loads(text_or_dict) if isinstance(text_or_dict, str) else text_or_dict


def _role_policy(org: DemoOrg, account: str, role: str, name: str) -> dict:
    return _doc(_client(org, account, "iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])


def _actions(document: dict) -> set[str]:
    out: set[str] = set()
    for stmt in document["Statement"]:
        action = stmt.get("Action", [])
        out.update([action] if isinstance(action, str) else action)
    return out


def _tags(items, key="Key", value="Value") -> dict[str, str]:
    return {t[key]: t[value] for t in items}


# -- the organization --------------------------------------------------------------------------

def test_build_is_fast(org):
    # the budget is 15 s on a quiet 2-core machine (typically 3-7 s); allow for a loaded CI worker
    assert _STATE["seconds"] < 30, f"building the demo org took {_STATE['seconds']:.1f}s"


def test_accounts_ous_and_tags(org):
    client = _client(org, org.management, "organizations")
    accounts = {a["Id"]: a for a in client.list_accounts()["Accounts"]}
    assert {org.management, org.production, org.synthetic} <= set(accounts)
    ous = {ou["Name"]: ou["Id"] for ou in client.list_organizational_units_for_parent(
        ParentId=client.list_roots()["Roots"][0]["Id"])["OrganizationalUnits"]}
    assert ous == dict(org.ous)
    assert client.list_parents(ChildId=org.production)["Parents"][0]["Id"] == ous["Production"]
    assert client.list_parents(ChildId=org.synthetic)["Parents"][0]["Id"] == ous["Synthetic"]
    assert _tags(client.list_tags_for_resource(ResourceId=org.production)["Tags"])["Environment"] == "production"
    assert _tags(client.list_tags_for_resource(ResourceId=org.synthetic)["Tags"])["Workload"] == "synthetic-data"


def test_sessions_act_in_their_account(org):
    for account in (org.management, org.production, org.synthetic):
        assert org.session(account).client("sts").get_caller_identity()["Account"] == account


# -- patterns 1 and 4: cross-account trust --------------------------------------------------------

def test_pattern_1_and_4_trusts(org):
    iam = _client(org, org.production, "iam")
    trust = _doc(iam.get_role(RoleName="phi-analytics-reader")["Role"]["AssumeRolePolicyDocument"])
    (stmt,) = trust["Statement"]
    assert stmt["Principal"] == {"AWS": f"arn:aws:iam::{org.synthetic}:root"} and "Condition" not in stmt
    reader = _role_policy(org, org.production, "phi-analytics-reader", "phi-read")
    assert {"s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"} <= _actions(reader)
    fixed = _doc(iam.get_role(RoleName="claims-reporting-reader")["Role"]["AssumeRolePolicyDocument"])
    principals = [s["Principal"]["AWS"] for s in fixed["Statement"]]
    assert principals == [[f"arn:aws:iam::{org.production}:role/claims-processor"]]

    extractor = _role_policy(org, org.synthetic, "synthetic-feature-extractor", "features")
    assume = [s for s in extractor["Statement"] if s.get("Sid") == "AssumeProdAnalytics"][0]
    assert assume["Resource"] == f"arn:aws:iam::{org.production}:role/phi-analytics-reader"
    syn_iam = _client(org, org.synthetic, "iam")
    profile = syn_iam.get_instance_profile(InstanceProfileName="synthetic-feature-extractor")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["synthetic-feature-extractor"]


def test_ec2_instance_profile_and_placeholder_user_data(org):
    ec2 = _client(org, org.synthetic, "ec2")
    instance_id = org.refs["feature_worker_id"]
    inst = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert inst["IamInstanceProfile"]["Arn"].endswith("instance-profile/synthetic-feature-extractor")
    assert _tags(inst["Tags"])["Workload"] == "synthetic-data"
    import base64

    raw = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    user_data = base64.b64decode(raw).decode()
    assert FAKE_SECRET in user_data


# -- pattern 2 and 9: bucket policies and keys ----------------------------------------------------

def test_pattern_2_bucket_policies_and_pattern_9_keys(org):
    s3 = _client(org, org.production, "s3")
    phi, claims = f"meridian-phi-records-{org.production}", f"meridian-phi-claims-{org.production}"
    phi_policy = _doc(s3.get_bucket_policy(Bucket=phi)["Policy"])
    assert [s["Principal"] for s in phi_policy["Statement"]] == [
        {"AWS": f"arn:aws:iam::{org.synthetic}:role/synthetic-data-generator"}]
    claims_policy = _doc(s3.get_bucket_policy(Bucket=claims)["Policy"])
    assert [s["Principal"] for s in claims_policy["Statement"]] == [
        {"AWS": f"arn:aws:iam::{org.production}:role/claims-processor"}]
    for bucket, key in ((phi, org.refs["phi_key_arn"]), (claims, org.refs["claims_key_arn"])):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
        assert _tags(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])["DataClassification"] == "PHI"

    kms = _client(org, org.production, "kms")
    leak = _doc(kms.get_key_policy(KeyId=org.refs["phi_key_id"], PolicyName="default")["Policy"])
    granted = {json.dumps(s["Principal"]): s["Action"] for s in leak["Statement"]}
    assert granted[json.dumps({"AWS": f"arn:aws:iam::{org.synthetic}:root"})] == ["kms:Decrypt", "kms:DescribeKey"]
    fixed = _doc(kms.get_key_policy(KeyId=org.refs["claims_key_id"], PolicyName="default")["Policy"])
    assert [s["Principal"] for s in fixed["Statement"]] == [{"AWS": f"arn:aws:iam::{org.production}:root"}]
    generator = _role_policy(org, org.synthetic, "synthetic-data-generator", "generator")
    assert {"s3:GetObject", "kms:Decrypt"} <= _actions(generator)


# -- pattern 3: synthetic role on production databases --------------------------------------------

def test_pattern_3_loader_role_and_table_policy(org):
    loader = _role_policy(org, org.synthetic, "synthetic-db-loader", "loader")
    assert {"rds:*", "rds-db:connect", "dynamodb:GetItem", "dynamodb:Scan"} <= _actions(loader)
    resources = {s["Sid"]: s["Resource"] for s in loader["Statement"]}
    assert org.production in resources["ProdRdsAll"] and org.production in resources["ProdDbConnect"]
    ddb = _client(org, org.production, "dynamodb")
    table_arn = f"arn:aws:dynamodb:us-east-1:{org.production}:table/patient-encounters"
    table_policy = _doc(ddb.get_resource_policy(ResourceArn=table_arn)["Policy"])
    assert table_policy["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{org.synthetic}:role/synthetic-db-loader"}
    assert _tags(ddb.list_tags_of_resource(ResourceArn=table_arn)["Tags"])["DataClassification"] == "PHI"
    ec2 = _client(org, org.synthetic, "ec2")
    inst = ec2.describe_instances(InstanceIds=[org.refs["db_loader_id"]])["Reservations"][0]["Instances"][0]
    assert inst["IamInstanceProfile"]["Arn"].endswith("instance-profile/synthetic-db-loader")


# -- pattern 5: shared snapshots -------------------------------------------------------------------

def test_pattern_5_snapshots(org):
    rds = _client(org, org.production, "rds")

    def restore(name: str) -> list[str]:
        attrs = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=name)[
            "DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
        return [v for a in attrs if a["AttributeName"] == "restore" for v in a["AttributeValues"]]

    assert restore("phi-patient-db-pre-migration") == [org.synthetic]
    assert restore("claims-db-nightly-manual") == []
    ec2 = _client(org, org.production, "ec2")

    def shared(snapshot_id: str) -> list[str]:
        perms = ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
        return [p["UserId"] for p in perms["CreateVolumePermissions"]]

    leak = ec2.describe_snapshots(SnapshotIds=[org.refs["phi_ebs_snapshot_id"]])["Snapshots"][0]
    assert leak["Encrypted"] is False and _tags(leak["Tags"])["DataClassification"] == "PHI"
    assert shared(org.refs["phi_ebs_snapshot_id"]) == [org.synthetic]
    fixed = ec2.describe_snapshots(SnapshotIds=[org.refs["claims_ebs_snapshot_id"]])["Snapshots"][0]
    assert fixed["Encrypted"] is True and shared(org.refs["claims_ebs_snapshot_id"]) == []


# -- pattern 6: peering, routes and database security groups --------------------------------------

def test_pattern_6_network_path(org):
    ec2p, ec2s = _client(org, org.production, "ec2"), _client(org, org.synthetic, "ec2")
    pcx = ec2p.describe_vpc_peering_connections(VpcPeeringConnectionIds=[org.refs["peering_id"]])[
        "VpcPeeringConnections"][0]
    assert pcx["Status"]["Code"] == "active"
    assert (pcx["RequesterVpcInfo"]["OwnerId"], pcx["RequesterVpcInfo"]["CidrBlock"]) == (org.synthetic, SYNTHETIC_CIDR)
    assert (pcx["AccepterVpcInfo"]["OwnerId"], pcx["AccepterVpcInfo"]["CidrBlock"]) == (org.production, PRODUCTION_CIDR)
    for ec2, vpc, other in ((ec2p, org.refs["production_vpc_id"], SYNTHETIC_CIDR),
                            (ec2s, org.refs["synthetic_vpc_id"], PRODUCTION_CIDR)):
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        routes = {(r.get("DestinationCidrBlock"), r.get("VpcPeeringConnectionId"))
                  for t in tables for r in t["Routes"]}
        assert (other, org.refs["peering_id"]) in routes

    rules = {g["GroupId"]: g["IpPermissions"] for g in ec2p.describe_security_groups(
        GroupIds=[org.refs["phi_db_sg"], org.refs["claims_db_sg"]])["SecurityGroups"]}
    phi_cidrs = {r["CidrIp"] for p in rules[org.refs["phi_db_sg"]] if p["FromPort"] == 5432 for r in p["IpRanges"]}
    assert SYNTHETIC_CIDR in phi_cidrs
    (claims_rule,) = rules[org.refs["claims_db_sg"]]
    assert claims_rule["IpRanges"] == [] and claims_rule["FromPort"] == 5432
    assert [p["GroupId"] for p in claims_rule["UserIdGroupPairs"]] == [org.refs["prod_app_sg"]]

    rds = _client(org, org.production, "rds")
    clusters = {c["DBClusterIdentifier"]: c for c in rds.describe_db_clusters()["DBClusters"]}
    phi = clusters["phi-patient-db"]
    assert (phi["Engine"], phi["Port"], phi["StorageEncrypted"]) == ("aurora-postgresql", 5432, True)
    assert [g["VpcSecurityGroupId"] for g in phi["VpcSecurityGroups"]] == [org.refs["phi_db_sg"]]
    assert [g["VpcSecurityGroupId"] for g in clusters["claims-db"]["VpcSecurityGroups"]] == [org.refs["claims_db_sg"]]
    assert _tags(phi["TagList"])["DataClassification"] == "PHI"


# -- pattern 7: Glue JDBC connection to production ---------------------------------------------------

def test_pattern_7_glue_connection(org):
    glue = _client(org, org.synthetic, "glue")
    conn = glue.get_connection(Name="prod-phi-aurora", HidePassword=False)["Connection"]
    props = conn["ConnectionProperties"]
    assert props["JDBC_CONNECTION_URL"] == f"jdbc:postgresql://{org.refs['phi_cluster_endpoint']}:5432/phi"
    assert props.get("PASSWORD", FAKE_SECRET) == FAKE_SECRET
    assert conn["PhysicalConnectionRequirements"]["SecurityGroupIdList"] == [org.refs["workers_sg"]]
    job = glue.get_job(JobName="synthetic-phi-extract")["Job"]
    assert job["Connections"]["Connections"] == ["prod-phi-aurora"]
    assert job["Role"] == f"arn:aws:iam::{org.synthetic}:role/synthetic-glue-etl"


# -- pattern 8: SageMaker notebooks ------------------------------------------------------------------

def test_pattern_8_notebooks(org):
    sm = _client(org, org.synthetic, "sagemaker")
    leak = sm.describe_notebook_instance(NotebookInstanceName="synthetic-research-notebook")
    assert leak["DirectInternetAccess"] == "Enabled"
    assert leak["RoleArn"] == f"arn:aws:iam::{org.synthetic}:role/synthetic-notebook-exec"
    assert "sts:AssumeRole" in _actions(_role_policy(org, org.synthetic, "synthetic-notebook-exec", "nb"))
    fixed = sm.describe_notebook_instance(NotebookInstanceName="synthetic-sandbox-notebook")
    assert fixed["DirectInternetAccess"] == "Disabled"
    assert "sts:AssumeRole" not in _actions(_role_policy(org, org.synthetic, "synthetic-sandbox-exec", "sandbox"))


# -- pattern 10: CloudTrail ----------------------------------------------------------------------------

def test_pattern_10_trails(org):
    prod = _client(org, org.production, "cloudtrail")
    (trail,) = prod.describe_trails()["trailList"]
    assert trail["Name"] == "prod-management-events" and trail["IsMultiRegionTrail"] is False
    selectors = prod.get_event_selectors(TrailName="prod-management-events")["EventSelectors"]
    assert all(not s.get("DataResources") for s in selectors)
    assert _client(org, org.synthetic, "cloudtrail").describe_trails()["trailList"] == []
    mgmt = _client(org, org.management, "cloudtrail")
    audit = mgmt.get_trail(Name="org-audit")["Trail"]
    assert audit["IsMultiRegionTrail"] is True and mgmt.get_trail_status(Name="org-audit")["IsLogging"] is True
    data = mgmt.get_event_selectors(TrailName="org-audit")["EventSelectors"][0]["DataResources"]
    assert data[0]["Type"] == "AWS::S3::Object"


# -- pattern 11: Step Functions ------------------------------------------------------------------------

def test_pattern_11_state_machines(org):
    sfn = _client(org, org.synthetic, "stepfunctions")
    base = f"arn:aws:states:us-east-1:{org.synthetic}:stateMachine:"
    leak = sfn.describe_state_machine(stateMachineArn=base + "synthetic-phi-pipeline")
    assert leak["tracingConfiguration"] == {"enabled": False} and leak["loggingConfiguration"]["level"] == "OFF"
    assert f"meridian-phi-records-{org.production}" in leak["definition"]
    tags = _tags(sfn.list_tags_for_resource(resourceArn=base + "synthetic-phi-pipeline")["tags"], "key", "value")
    assert tags["DataClassification"] == "PHI"
    fixed = sfn.describe_state_machine(stateMachineArn=base + "synthetic-phi-audit-pipeline")
    assert fixed["tracingConfiguration"] == {"enabled": True} and fixed["loggingConfiguration"]["level"] == "ALL"


# -- pattern 12: SCP and RCP ---------------------------------------------------------------------------

def test_pattern_12_org_policies(org):
    client = _client(org, org.management, "organizations")
    scps = client.list_policies_for_target(TargetId=org.ous["Synthetic"], Filter="SERVICE_CONTROL_POLICY")
    (scp,) = [p for p in scps["Policies"] if p["Name"] == "synthetic-guardrails"]
    content = _doc(client.describe_policy(PolicyId=scp["Id"])["Policy"]["Content"])
    text = json.dumps(content)
    assert all(s["Effect"] == "Deny" for s in content["Statement"])
    assert org.production not in text and "sts:AssumeRole" not in text and "s3:" not in text
    rcps = client.list_policies_for_target(TargetId=org.ous["Production"], Filter="RESOURCE_CONTROL_POLICY")
    (rcp,) = [p for p in rcps["Policies"] if p["Name"] == "org-data-perimeter"]
    rcp_doc = _doc(client.describe_policy(PolicyId=rcp["Id"])["Policy"]["Content"])
    assert rcp_doc["Statement"][0]["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == org.org_id


# -- pattern 13: open SSH and public write --------------------------------------------------------------

def test_pattern_13_ssh_and_public_write(org):
    ec2 = _client(org, org.synthetic, "ec2")
    groups = {g["GroupId"]: g["IpPermissions"] for g in ec2.describe_security_groups(
        GroupIds=[org.refs["ssh_open_sg"], org.refs["ssh_internal_sg"]])["SecurityGroups"]}
    open_rule = groups[org.refs["ssh_open_sg"]][0]
    assert (open_rule["FromPort"], [r["CidrIp"] for r in open_rule["IpRanges"]]) == (22, ["0.0.0.0/0"])
    internal = groups[org.refs["ssh_internal_sg"]][0]
    assert [r["CidrIp"] for r in internal["IpRanges"]] == [SYNTHETIC_CIDR]
    s3 = _client(org, org.synthetic, "s3")
    inbox = _doc(s3.get_bucket_policy(Bucket=f"meridian-synthetic-inbox-{org.synthetic}")["Policy"])
    assert (inbox["Statement"][0]["Principal"], inbox["Statement"][0]["Action"]) == ("*", ["s3:PutObject"])
    datasets = _doc(s3.get_bucket_policy(Bucket=f"meridian-synthetic-datasets-{org.synthetic}")["Policy"])
    assert datasets["Statement"][0]["Principal"] != "*"
    for name in ("inbox", "datasets"):
        rule = s3.get_bucket_encryption(Bucket=f"meridian-synthetic-{name}-{org.synthetic}")[
            "ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


# -- the supporting cast: secret, Lambda, table ----------------------------------------------------------

def test_secret_lambda_never_hold_real_secrets(org):
    sm = _client(org, org.production, "secretsmanager")
    secret = sm.describe_secret(SecretId=org.refs["phi_secret_arn"])
    cluster_arn = f"arn:aws:rds:us-east-1:{org.production}:cluster:phi-patient-db"
    assert _tags(secret["Tags"])["iamreach:unlocks"] == cluster_arn
    assert json.loads(sm.get_secret_value(SecretId=org.refs["phi_secret_arn"])["SecretString"])["password"] == \
        FAKE_SECRET
    lam = _client(org, org.synthetic, "lambda")
    conf = lam.get_function_configuration(FunctionName="synthetic-data-generator")
    assert conf["Environment"]["Variables"]["API_TOKEN"] == FAKE_SECRET
    subnets = _client(org, org.synthetic, "ec2").describe_subnets(SubnetIds=conf["VpcConfig"]["SubnetIds"])["Subnets"]
    assert {s["VpcId"] for s in subnets} == {org.refs["synthetic_vpc_id"]}
    assert conf["Role"] == f"arn:aws:iam::{org.synthetic}:role/synthetic-data-generator"


def test_placeholder_guards_reject_real_looking_secrets(org):
    with pytest.raises(InputError, match="placeholder"):
        org.builder.secret(org.production, "prod/leak", {"password": "hunter2"})
    with pytest.raises(InputError, match="placeholder"):
        org.builder.lambda_function(org.synthetic, "leaky", "arn:aws:iam::1:role/x",
                                    environment={"DB_PASSWORD": "hunter2"})


def test_builder_refuses_an_emulator_that_already_has_an_org(org):
    with pytest.raises(InputError, match="already holds an organization"):
        OrgBuilder("us-east-1").create_org()


# -- PLANTED --------------------------------------------------------------------------------------------

def test_planted_catalogue_shape():
    ids = [p.id for p in PLANTED]
    assert len(ids) == len(set(ids))
    assert sorted({p.pattern for p in PLANTED}) == list(range(1, 14))
    twins = {p.pattern for p in PLANTED if p.fixed}
    assert len(twins) >= 6
    for p in PLANTED:
        assert p.resources and p.description and p.expect
        if p.hops:
            assert p.source and p.target and not p.fixed


def test_every_planted_resource_exists(org):
    described = json.loads(json.dumps(org.to_dict()))
    assert described["synthetic"] == org.synthetic and len(described["planted"]) == len(PLANTED)
    planted = org.planted()
    assert len(planted) == len(PLANTED)
    assert org.planted(6, fixed=True)[0].id == "claims-aurora-sg-app-only"
    for entry in planted:
        for ref in (*entry.resources, entry.source, entry.target):
            if ref is not None:
                assert "{" not in ref, (entry.id, ref)
                assert _exists(org, ref), f"{entry.id}: {ref} does not exist"


def _exists(org: DemoOrg, ref: str) -> bool:
    if ref == "internet" or ref.startswith("account:"):
        return ref == "internet" or ref.split(":")[1] in (org.production, org.synthetic, org.management)
    if ref.startswith(("ou-", "pcx-")):
        return ref in (*org.ous.values(), org.refs["peering_id"])
    parts = ref.split(":", 5)
    service, account, rest = parts[2], parts[4] or org.production, parts[5]
    if service == "s3":  # bucket names end with their owner's account id
        _client(org, rest.rsplit("-", 1)[1], "s3").head_bucket(Bucket=rest)
        return True
    if service == "iam":
        if rest == "root":
            return account in (org.production, org.synthetic, org.management)
        return bool(_client(org, account, "iam").get_role(RoleName=rest.split("/", 1)[1]))
    if service == "organizations":
        policy_id = rest.rsplit("/", 1)[1]
        return bool(_client(org, org.management, "organizations").describe_policy(PolicyId=policy_id))
    return _exists_regional(org, service, account, rest)


def _exists_regional(org: DemoOrg, service: str, account: str, rest: str) -> bool:
    c = _client(org, account, {"states": "stepfunctions", "ec2": "ec2"}.get(service, service))
    kind, _, name = rest.replace(":", "/", 1).partition("/")
    checks = {
        ("rds", "cluster"): lambda: c.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"],
        ("rds", "cluster-snapshot"): lambda: c.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"],
        ("ec2", "instance"): lambda: c.describe_instances(InstanceIds=[name])["Reservations"],
        ("ec2", "security-group"): lambda: c.describe_security_groups(GroupIds=[name])["SecurityGroups"],
        ("ec2", "snapshot"): lambda: c.describe_snapshots(SnapshotIds=[name])["Snapshots"],
        ("lambda", "function"): lambda: c.get_function(FunctionName=name),
        ("glue", "job"): lambda: c.get_job(JobName=name),
        ("glue", "connection"): lambda: c.get_connection(Name=name),
        ("sagemaker", "notebook-instance"): lambda: c.describe_notebook_instance(NotebookInstanceName=name),
        ("states", "stateMachine"): lambda: c.describe_state_machine(
            stateMachineArn=f"arn:aws:states:us-east-1:{account}:stateMachine:{name}"),
        ("kms", "key"): lambda: c.describe_key(KeyId=name),
        ("dynamodb", "table"): lambda: c.describe_table(TableName=name),
        ("secretsmanager", "secret"): lambda: c.describe_secret(
            SecretId=f"arn:aws:secretsmanager:us-east-1:{account}:{rest}"),
        ("cloudtrail", "trail"): lambda: c.get_trail(Name=name),
    }
    return bool(checks[(service, kind)]())


# -- OrgBuilder for scenario tests ------------------------------------------------------------------------

def test_builder_minimal_scenario_and_negative_twin(moto):
    b = OrgBuilder("us-east-1").create_org()
    assert b.management and b.production and b.synthetic and b.org_id
    reader = b.role(b.production, "reader", account_trust(b.synthetic),
                    {"read": policy(statement("s3:GetObject", "arn:aws:s3:::phi/*"))}, {"Environment": "production"})
    bucket_policy = policy(
        statement("s3:GetObject", "arn:aws:s3:::phi/*", principal={"AWS": reader}, sid="Reader"),
        statement("s3:GetObject", "arn:aws:s3:::phi/*", principal={"AWS": f"arn:aws:iam::{b.synthetic}:root"},
                  sid="Synthetic"))
    b.bucket(b.production, "phi", bucket_policy, {"DataClassification": "PHI"})
    s3 = b.client(b.production, "s3")
    assert len(_doc(s3.get_bucket_policy(Bucket="phi")["Policy"])["Statement"]) == 2
    # the negative twin: drop the one statement that leaks
    twin = policy(*[s for s in bucket_policy["Statement"] if s["Sid"] != "Synthetic"])
    s3.put_bucket_policy(Bucket="phi", Policy=json.dumps(twin))
    assert [s["Sid"] for s in _doc(s3.get_bucket_policy(Bucket="phi")["Policy"])["Statement"]] == ["Reader"]

    prod_vpc, syn_vpc = b.vpc(b.production, "10.10.0.0/16"), b.vpc(b.synthetic, "10.20.0.0/16", subnets=1)
    assert len(prod_vpc.subnet_ids) == 2 and len(syn_vpc.subnet_ids) == 1
    db_sg = b.sg(b.production, prod_vpc.vpc_id, "db", [ingress(5432, cidrs=[syn_vpc.cidr])])
    pcx = b.peering(syn_vpc, prod_vpc)
    cluster = b.aurora(b.production, "db", prod_vpc, [db_sg], tags={"DataClassification": "PHI"})
    assert cluster.port == 5432 and cluster.endpoint and cluster.arn.endswith(":cluster:db")
    routes = b.client(b.synthetic, "ec2").describe_route_tables(RouteTableIds=[syn_vpc.route_table_id])[
        "RouteTables"][0]["Routes"]
    assert any(r.get("VpcPeeringConnectionId") == pcx for r in routes)
    assert b.session(b.synthetic).client("sts").get_caller_identity()["Account"] == b.synthetic

    # network negative twins: no egress at all, and a NACL that denies the database port
    quiet = b.sg(b.synthetic, syn_vpc.vpc_id, "quiet", egress=[])
    ec2s = b.client(b.synthetic, "ec2")
    assert ec2s.describe_security_groups(GroupIds=[quiet])["SecurityGroups"][0]["IpPermissionsEgress"] == []
    acl = b.nacl(syn_vpc, [{"rule": 100, "action": "deny", "cidr": prod_vpc.cidr, "egress": True,
                            "protocol": "6", "ports": (5432, 5432)},
                           {"rule": 200, "action": "allow", "cidr": "0.0.0.0/0", "egress": True}])
    (found,) = ec2s.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"]
    assert [a["SubnetId"] for a in found["Associations"]] == list(syn_vpc.subnet_ids)
    deny = [e for e in found["Entries"] if e["RuleNumber"] == 100][0]
    assert (deny["RuleAction"], deny["PortRange"]) == ("deny", {"From": 5432, "To": 5432})

    group = b.group(b.synthetic, "analysts", {"assume": policy(statement("sts:AssumeRole", reader))})
    user = b.user(b.synthetic, "dana", groups=["analysts"], tags={"Workload": "synthetic-data"})
    iam = b.client(b.synthetic, "iam")
    assert [g["Arn"] for g in iam.list_groups_for_user(UserName="dana")["Groups"]] == [group]
    assert user.endswith(":user/dana") and iam.list_access_keys(UserName="dana")["AccessKeyMetadata"] == []


def test_builder_needs_create_org_before_member_accounts(moto):
    with pytest.raises(InputError, match="create_org"):
        _ = OrgBuilder("us-east-1").production


def test_builder_refuses_real_aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(InputError, match="AWS_ENDPOINT_URL"):
        OrgBuilder("us-east-1")


def test_emulator_serves_and_restores_the_environment(tmp_path):
    """Run in a child process: moto's backends are process-global, shared with the test server."""
    import os
    import subprocess
    import sys

    code = """
import os, boto3
from iamreach.demo.server import emulator
before = os.environ.get("AWS_ENDPOINT_URL")
with emulator() as endpoint:
    assert os.environ["AWS_ENDPOINT_URL"] == endpoint and "AWS_PROFILE" not in os.environ
    print(boto3.client("sts").get_caller_identity()["Account"])
assert os.environ.get("AWS_ENDPOINT_URL") == before and os.environ.get("AWS_PROFILE") == "someone"
print("restored")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_PROFILE"] = "someone"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["123456789012", "restored"]
