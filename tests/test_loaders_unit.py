"""Loader plumbing: gap recording, combining partial inventories, collector options and CLI errors."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from iamreach.errors import InputError
from iamreach.inventory import Account, Inventory, Resource
from iamreach.loaders.aws import GLOBAL_SERVICES, SERVICES, service_module
from iamreach.loaders.aws._common import ABSENT, Context, parse_document, tags_dict
from iamreach.loaders.collector import CollectOptions, collect, is_read_only
from iamreach.loaders.combine import combine, merge_account

IAMREACH = [sys.executable, "-m", "iamreach"]


def _ctx(service: str) -> tuple[Context, Stubber]:
    session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    ctx = Context(session=session, account="111122223333", region="us-east-1",
                  config=Config(retries={"mode": "standard", "max_attempts": 1}))
    stub = Stubber(ctx.client(service))
    stub.activate()
    return ctx, stub


@pytest.mark.parametrize("code", ["AccessDenied", "OptInRequired", "ThrottlingException", "UnsupportedOperation"])
def test_failed_call_is_a_gap_never_an_empty_answer(code):
    ctx, stub = _ctx("kms")
    stub.add_client_error("list_keys", service_error_code=code, service_message="no", http_status_code=400)
    raw = service_module("kms").collect(ctx)
    assert raw["keys"] is None  # unknown, not []
    (gap,) = [g for g in ctx.gaps if g.api == "ListKeys"]
    assert (gap.service, gap.error_code, gap.account, gap.region, gap.message) == (
        "kms", code, "111122223333", "us-east-1", "no")


def test_expected_absence_is_not_a_gap():
    ctx, stub = _ctx("s3")
    stub.add_client_error("get_bucket_policy", service_error_code="NoSuchBucketPolicy", http_status_code=404)
    assert ctx.call("s3", "get_bucket_policy", absent=("NoSuchBucketPolicy",), Bucket="b") is ABSENT
    assert ctx.gaps == []


def test_global_service_gaps_carry_no_region():
    ctx, stub = _ctx("iam")
    ctx.global_service = True
    stub.add_client_error("get_account_authorization_details", service_error_code="AccessDenied")
    stub.add_response("list_instance_profiles", {"InstanceProfiles": [], "IsTruncated": False})
    raw = service_module("iam").collect(ctx)
    assert raw["authdetails"] is None and raw["instance_profiles"] == []
    assert [(g.api, g.region) for g in ctx.gaps] == [("GetAccountAuthorizationDetails", None)]
    assert service_module("iam").normalize(raw, "111122223333").principals == []


def test_every_service_module_has_collect_and_normalize():
    for name in SERVICES:
        module = service_module(name)
        assert callable(module.collect) and callable(module.normalize)
        assert module.GLOBAL is (name in GLOBAL_SERVICES)
        assert isinstance(module.normalize({}, "111122223333", "us-east-1"), Inventory)


def test_read_only_allow_list():
    assert all(is_read_only(op) for op in ("ListRoles", "GetKeyPolicy", "DescribeInstances", "AssumeRole",
                                           "GetCallerIdentity"))
    assert not any(is_read_only(op) for op in ("PutBucketPolicy", "CreateRole", "DeleteBucket", "StartLogging"))


def test_parse_document_and_tags():
    assert parse_document('{"Statement": []}') == {"Statement": []}
    assert parse_document(None) is None
    with pytest.raises(ValueError, match="expected a JSON object"):
        parse_document("[1]")
    assert tags_dict([{"key": "a", "value": "b"}, {"TagKey": "c", "TagValue": "d"}]) == {"a": "b", "c": "d"}


def test_merge_account_is_field_wise():
    org = Account(id="111122223333", name="prod", org_id="o-1", ou_path=["r-1"], status="ACTIVE")
    s3 = Account(id="111122223333", s3_public_access_block={"BlockPublicAcls": True}, regions=["us-east-1"])
    merged = merge_account(merge_account(None, org), s3)
    assert (merged.name, merged.ou_path, merged.s3_public_access_block) == ("prod", ["r-1"],
                                                                           {"BlockPublicAcls": True})
    assert merge_account(merged, Account(id="111122223333", regions=["eu-west-1"])).regions == ["eu-west-1",
                                                                                                 "us-east-1"]


def test_combine_later_part_wins_and_notes_unite():
    r1 = Resource(arn="arn:aws:s3:::b", kind="s3_bucket", account="1", name="old")
    r2 = Resource(arn="arn:aws:s3:::b", kind="s3_bucket", account="1", name="new")
    inv = combine([Inventory(resources=[r1], meta={"notes": ["x"]}), Inventory(resources=[r2], meta={"notes": ["y"]})],
                  meta={"source": "collect"})
    assert [r.name for r in inv.resources] == ["new"] and inv.meta["notes"] == ["x", "y"]


def test_accounts_without_org_is_refused(moto):
    with pytest.raises(InputError, match="--accounts needs --org"):
        collect(CollectOptions(accounts=["999999999999"], services=["iam"]))


def test_unknown_service_is_refused(moto):
    with pytest.raises(InputError, match="unknown service"):
        collect(CollectOptions(services=["iam", "ecs"]))


def test_org_mode_outside_an_organization_exits_2(moto, tmp_path):
    out = tmp_path / "s.json"
    proc = subprocess.run([*IAMREACH, "collect", "--org", "-o", str(out)], env=os.environ, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "--org" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_single_account_all_regions_without_organization(moto):
    """A standalone account: collected; "no organization" is a certain answer (a note), not a gap."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="solo")
    inv = collect(CollectOptions(regions=["all"], services=["organizations", "s3"]))
    assert [r.id for r in inv.resources if r.kind == "s3_bucket"] == ["solo"]
    assert len(inv.accounts[0].regions) > 10 and "eu-west-1" in inv.accounts[0].regions
    assert inv.gaps == [] and inv.organization is None and inv.org_policies == []
    assert any("is not in an organization" in note for note in inv.meta["notes"])


def test_named_regions_are_each_collected(moto):
    boto3.client("ec2", region_name="eu-west-1").create_vpc(CidrBlock="10.8.0.0/16")
    inv = collect(CollectOptions(regions=["eu-west-1", "us-east-1"], services=["ec2"]))
    assert inv.accounts[0].regions == ["eu-west-1", "us-east-1"]
    assert [r.region for r in inv.resources if r.kind == "vpc" and r.attributes["cidrs"] == ["10.8.0.0/16"]] == [
        "eu-west-1"]
    assert {r.region for r in inv.resources if r.kind == "vpc"} == {"eu-west-1", "us-east-1"}
    assert inv.gaps == []


#: every boto3 client the loaders call
_CLIENTS = ("organizations", "iam", "s3", "s3control", "kms", "ec2", "rds", "lambda", "glue", "sagemaker",
            "stepfunctions", "secretsmanager", "dynamodb", "cloudtrail", "lakeformation", "sts")


def test_gap_api_is_the_aws_operation_name_not_a_recased_method_name():
    from botocore.exceptions import ReadTimeoutError

    ctx, stub = _ctx("rds")
    stub.add_client_error("describe_db_clusters", service_error_code="AccessDenied", http_status_code=403)
    assert ctx.paginate("rds", "describe_db_clusters", "DBClusters") is None
    cli = ctx.client("rds")

    def timeout(**_):  # a BotoCoreError takes the other path through Context
        raise ReadTimeoutError(endpoint_url="https://rds.us-east-1.amazonaws.com")

    cli.describe_db_snapshot_attributes = timeout
    assert ctx.call("rds", "describe_db_snapshot_attributes", DBSnapshotIdentifier="s") is None
    assert [(g.api, g.error_code) for g in ctx.gaps] == [("DescribeDBClusters", "AccessDenied"),
                                                          ("DescribeDBSnapshotAttributes", "ReadTimeoutError")]
    model = cli.meta.service_model
    assert [model.operation_model(g.api).name for g in ctx.gaps] == [g.api for g in ctx.gaps]


def test_operation_name_is_botocores_for_every_operation_the_clients_have():
    from botocore import xform_name
    from botocore.session import get_session

    from iamreach.loaders.aws._common import operation_name

    recased = 0
    for service in _CLIENTS:
        for op in get_session().get_service_model(service).operation_names:
            assert operation_name(service, xform_name(op)) == op, (service, op)
            recased += "".join(p.capitalize() for p in xform_name(op).split("_")) != op
    assert recased > 50  # DescribeDBClusters, GetKeyPolicy... what re-casing the method name got wrong
    assert operation_name("rds", "describe_db_cluster_snapshot_attributes") == "DescribeDBClusterSnapshotAttributes"


def test_every_loader_call_that_fails_is_recorded_under_its_operation_name():
    """Every call of every service's ``collect`` denied: each gap names the operation botocore sent."""
    from botocore.awsrequest import AWSResponse

    sent: list[tuple[str, str]] = []

    def deny(model, **_):
        sent.append((model.service_model.service_name, model.name))
        return AWSResponse("https://example.invalid", 403, {}, None), {
            "Error": {"Code": "AccessDenied", "Message": "denied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    gaps = []
    for name in SERVICES:
        session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
        session.events.register("before-call", deny)
        ctx = Context(session=session, account="111122223333", region="us-east-1",
                      config=Config(retries={"mode": "standard", "max_attempts": 1}),
                      global_service=name in GLOBAL_SERVICES)
        service_module(name).collect(ctx)
        gaps.extend(ctx.gaps)
    assert len(sent) >= len(SERVICES) and len(gaps) == len(sent)
    assert sorted(g.api for g in gaps) == sorted(op for _, op in sent)
    assert {"DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots", "DescribeDBClusterSnapshots",
            "GetAccountAuthorizationDetails", "ListKeys", "DescribeOrganization"} <= {g.api for g in gaps}
