"""A plan applied onto a snapshot *collected* from AWS (moto), then diffed: the CI gate with a real baseline.

The baseline is made through boto3 the way the Terraform baseline configuration would make it
(same names, same account as the plan's moto state) and collected by the real ``iamreach collect``;
the committed change plan is then imported onto it and diffed, all through the CLI.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "terraform"
IAMREACH = [sys.executable, "-m", "iamreach"]
PHI_TAGS = [{"Key": "DataClassification", "Value": "PHI"}, {"Key": "Environment", "Value": "production"}]

pytestmark = pytest.mark.e2e


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return buf.getvalue()


def _baseline(region: str = "us-east-1") -> str:
    import boto3

    iam = boto3.client("iam", region_name=region)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam.create_role(RoleName="synthetic-etl", AssumeRolePolicyDocument=json.dumps(trust),
                           Tags=[{"Key": "Workload", "Value": "synthetic-data"}])["Role"]
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket="prod-phi-records")
    s3.put_bucket_tagging(Bucket="prod-phi-records", Tagging={"TagSet": PHI_TAGS})
    boto3.client("lambda", region_name=region).create_function(
        FunctionName="synthetic-etl", Runtime="python3.12", Role=role["Arn"], Handler="index.handler",
        Code={"ZipFile": _zip()}, Tags={"Workload": "synthetic-data"})
    return role["Arn"]


def test_plan_onto_a_collected_baseline_opens_synthetic_to_phi(moto, tmp_path):
    role_arn = _baseline()
    base, after = tmp_path / "base.json.gz", tmp_path / "after.json.gz"

    def run(*args, timeout=300):
        return subprocess.run([*IAMREACH, *args], capture_output=True, text=True, env=os.environ, timeout=timeout)

    collected = run("collect", "-o", str(base), "--regions", "us-east-1", "--quiet")
    assert collected.returncode == 0, collected.stderr
    imported = run("import", "terraform", str(DATA / "change.plan.json"), "--base", str(base), "-o", str(after),
                   "--tf-dir", str(DATA / "change"))
    assert imported.returncode == 0, imported.stderr
    assert "account 123456789012 from baseline" in imported.stderr

    from iamreach import snapshot

    inv = snapshot.load(after)
    (role,) = [p for p in inv.principals if p.arn == role_arn]
    assert "read-phi" in role.inline_policies  # the plan's inline policy landed on the collected role
    assert role.id and role.id.startswith("AROA")  # collected fields are kept
    diff = run("diff", str(base), str(after), "--format", "json", "--no-checks")
    assert diff.returncode == 1, diff.stderr
    doc = json.loads(diff.stdout)
    opened = {(c["source"], c["target"]) for r in doc["rules"] for c in r["opened"]}
    assert ("arn:aws:lambda:us-east-1:123456789012:function:synthetic-etl", "arn:aws:s3:::prod-phi-records") in opened
    for secret in ("planted-db-password-3f9c", "planted-env-secret-value"):
        assert secret not in diff.stdout and secret not in imported.stderr
