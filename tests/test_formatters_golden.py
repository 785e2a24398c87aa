"""Golden files: a fixed snapshot (tests/golden/snapshot.json) through the real ``iamreach check``
CLI in every format, compared byte for byte with tests/golden/expected.*.

After an intended change, regenerate (and review the diff)::

    IAMREACH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_formatters_golden.py

The snapshot itself is written from :func:`golden_inventory` only when regenerating, so the test
normally reads the committed file exactly as a user's run would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach.inventory import Account, Inventory, Organization, OrgPolicy, Principal, Resource
from iamreach.model import RESOURCE_ATTRIBUTES

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("IAMREACH_UPDATE_GOLDEN") == "1"
FORMATS = {"text": "expected.txt", "json": "expected.json", "sarif": "expected.sarif", "markdown": "expected.md"}
MGMT, PROD, SYN = "100000000001", "100000000002", "100000000003"
REGION = "us-east-1"


def _res(kind: str, arn: str, account: str, *, tags=None, policy=None, id=None, **attrs) -> Resource:
    full = dict.fromkeys(RESOURCE_ATTRIBUTES.get(kind, {}))
    full.update(attrs)
    return Resource(arn=arn, kind=kind, account=account, region=None if kind == "s3_bucket" else REGION, id=id,
                    name=arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1], tags=dict(tags or {}), policy=policy,
                    attributes=full)


def _doc(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def golden_inventory() -> Inventory:
    """A three-account organization with a synthetic -> PHI path and a few configuration findings."""
    syn_role = f"arn:aws:iam::{SYN}:role/synthetic-generator"
    prod_role = f"arn:aws:iam::{PROD}:role/phi-reader"
    bucket = "arn:aws:s3:::golden-phi-records"
    inv = Inventory(meta={"source": "golden"})
    inv.organization = Organization(id="o-golden", management_account_id=MGMT, root_id="r-gold", units=[
        {"id": "ou-gold-prod", "name": "Production", "parent_id": "r-gold"},
        {"id": "ou-gold-syn", "name": "Synthetic", "parent_id": "r-gold"}])
    inv.accounts = [
        Account(id=MGMT, name="management", org_id="o-golden", ou_path=["r-gold"], is_management=True),
        Account(id=PROD, name="production", org_id="o-golden", ou_path=["r-gold", "ou-gold-prod"],
                tags={"Environment": "production"}, regions=[REGION]),
        Account(id=SYN, name="synthetic", org_id="o-golden", ou_path=["r-gold", "ou-gold-syn"],
                tags={"Workload": "synthetic-data"}, regions=[REGION]),
    ]
    inv.org_policies = [OrgPolicy(id="p-FullAWSAccess", type="SCP", name="FullAWSAccess", aws_managed=True,
                                  arn="arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                                  document=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                                  targets=["r-gold", "ou-gold-prod", "ou-gold-syn", MGMT, PROD, SYN])]
    inv.principals = [
        Principal(arn=syn_role, kind="role", account=SYN, name="synthetic-generator",
                  trust_policy=_doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}),
                  inline_policies={"assume-prod": _doc({"Sid": "AssumeProd", "Effect": "Allow",
                                                        "Action": "sts:AssumeRole", "Resource": prod_role})}),
        Principal(arn=prod_role, kind="role", account=PROD, name="phi-reader",
                  trust_policy=_doc({"Sid": "SyntheticRoot", "Effect": "Allow",
                                     "Principal": {"AWS": f"arn:aws:iam::{SYN}:root"}, "Action": "sts:AssumeRole"}),
                  inline_policies={"read-phi": _doc({"Sid": "ReadPhi", "Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": f"{bucket}/*"})}),
    ]
    inv.resources = [
        _res("s3_bucket", bucket, PROD, id="golden-phi-records", tags={"DataClassification": "PHI"},
             public_access_block={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                                  "RestrictPublicBuckets": True},
             ownership="BucketOwnerEnforced", acl_grants=[], encryption={"algorithm": "AES256", "kms_key_arn": None}),
        _res("lambda_function", f"arn:aws:lambda:{REGION}:{SYN}:function:generate", SYN, id="generate",
             role_arn=syn_role, subnet_ids=[], security_group_ids=[], environment_variable_names=[],
             runtime="python3.12"),
        _res("rds_snapshot", f"arn:aws:rds:{REGION}:{PROD}:snapshot:patients-copy", PROD, id="patients-copy",
             source_arn=f"arn:aws:rds:{REGION}:{PROD}:db:patients", encrypted=False, kms_key_arn=None,
             snapshot_type="manual", shared_accounts=[SYN]),
        _res("security_group", f"arn:aws:ec2:{REGION}:{SYN}:security-group/sg-0golden", SYN, id="sg-0golden",
             vpc_id="vpc-0golden", group_name="bastion", egress=[],
             ingress=[{"rule_id": "sgr-0golden22", "protocol": "tcp", "from_port": 22, "to_port": 22,
                       "cidrs": ["0.0.0.0/0"], "ipv6_cidrs": [], "sg_refs": [], "prefix_lists": []}]),
    ]
    return inv.sort()


def _check(fmt: str, snapshot: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iamreach", "check", snapshot.name, "--format", fmt],
                          cwd=snapshot.parent, capture_output=True, text=True, env=os.environ, timeout=300)


@pytest.fixture(scope="module")
def snapshot() -> Path:
    path = GOLDEN / "snapshot.json"
    if UPDATE:
        from iamreach.snapshot import save

        save(golden_inventory(), path, collected_at="2026-01-01T00:00:00Z")
        os.chmod(path, 0o644)
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with IAMREACH_UPDATE_GOLDEN=1")
    return path


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden_output(fmt: str, snapshot: Path):
    proc = _check(fmt, snapshot)
    assert proc.returncode == 1, proc.stderr  # the golden snapshot has findings
    expected = GOLDEN / FORMATS[fmt]
    if UPDATE:
        expected.write_text(proc.stdout, encoding="utf-8")
    assert expected.exists(), f"{expected} is missing; create it with IAMREACH_UPDATE_GOLDEN=1"
    assert proc.stdout == expected.read_text(encoding="utf-8"), (
        f"{fmt} output differs from {expected.name}; if intended, regenerate with IAMREACH_UPDATE_GOLDEN=1")


def test_golden_snapshot_is_the_committed_inventory(snapshot: Path):
    """The committed snapshot still matches golden_inventory() (so both stay reviewable)."""
    from iamreach.snapshot import load

    assert load(snapshot).to_dict() == golden_inventory().to_dict()
