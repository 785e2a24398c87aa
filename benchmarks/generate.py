"""Deterministic generator of realistic AWS organizations, written straight to snapshots.

The generated organization has a management account, security / log-archive / shared-services
accounts and workload accounts (production, synthetic-data, development, staging) in OUs with
SCPs. Each account holds users, groups and roles with a realistic mix of AWS-managed,
customer-managed and inline policies (wildcards, ``NotAction``, conditions, permissions
boundaries, cross-account trusts), data stores (S3, RDS / Aurora, DynamoDB, Secrets Manager,
KMS, EBS / RDS snapshots), VPCs with security groups, NACLs and routes, and workloads (EC2 with
instance profiles, Lambda, Glue, SageMaker, Step Functions) with their roles.

Labels come from tags, the way a real organization carries them: ``Environment=production`` /
``Environment=synthetic`` on accounts, ``Workload=synthetic-data`` on synthetic workloads,
``DataClassification=PHI`` on PHI stores. A small, seeded fraction of the organization holds
the mistakes iamreach exists to find (a PHI bucket policy trusting a synthetic account, a PHI
snapshot shared with one, a synthetic role allowed to assume a production export role, a VPC
peering with an open database port), so forbidden paths exist at every size.

Sizes (``--size``): S = 1 account, 500 principals, 500 resources; M = 20 accounts, 10,000
principals, 10,000 resources; L = 200 accounts, 100,000 principals, 50,000 resources and over
1,000,000 policy statements. Output is byte-identical for the same size and seed.

Usage::

    python benchmarks/generate.py --size L --seed 1 -o /tmp/L.json.gz
    python benchmarks/generate.py --size L --seed 1 --mutate-percent 1 --base /tmp/L.json.gz -o /tmp/L2.json.gz

Examples
--------
>>> inv = generate(SIZES["S"], seed=1)
>>> len(inv.accounts), len(inv.principals), len(inv.resources)
(1, 500, 500)
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamreach import snapshot
from iamreach.errors import IamreachError, InputError
from iamreach.inventory import (
    Account,
    InstanceProfile,
    Inventory,
    ManagedPolicy,
    Organization,
    OrgPolicy,
    Principal,
    Resource,
)
from iamreach.model import RESOURCE_ATTRIBUTES

__all__ = [
    "SizeSpec",
    "SIZES",
    "COLLECTED_AT",
    "generate",
    "mutate",
    "count_statements",
    "main",
]

#: Fixed collection time, so the snapshot bytes depend only on size and seed.
COLLECTED_AT = "2026-01-01T00:00:00Z"
V = "2012-10-17"


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """How big an organization to generate.

    Parameters
    ----------
    name : str
        Label of the size (``S``, ``M``, ``L`` or ``custom``).
    accounts : int
        Number of accounts in the snapshot (for 1, a member account of an uncollected org).
    principals : int
        Users + groups + roles, spread evenly over the accounts.
    resources : int
        Inventory resources (compute, stores, keys, snapshots, network, trails), spread evenly.
    """

    name: str
    accounts: int
    principals: int
    resources: int


SIZES: dict[str, SizeSpec] = {
    "S": SizeSpec("S", 1, 500, 500),
    "M": SizeSpec("M", 20, 10_000, 10_000),
    "L": SizeSpec("L", 200, 100_000, 50_000),
}

_REGIONS = ("us-east-1", "us-west-2")
_KIND_CORE = ("management", "security", "log-archive", "shared-services")
# workload account kinds and their share of the non-core accounts
_KIND_SHARES = (("production", 0.40), ("synthetic", 0.20), ("development", 0.25), ("staging", 0.15))
_ENV_TAG = {"production": "production", "synthetic": "synthetic", "development": "development",
            "staging": "staging", "management": "shared", "security": "shared",
            "log-archive": "shared", "shared-services": "shared", "mixed": None}
_OU_OF = {"management": "ou-root", "security": "Security", "log-archive": "Security",
          "shared-services": "Infrastructure", "production": "Production", "synthetic": "SyntheticData",
          "development": "Development", "staging": "Staging", "mixed": "Workloads"}
_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# ---------------------------------------------------------------------------------------------
# AWS-managed policies (abbreviated documents; the facts of what they grant, not their text)
# ---------------------------------------------------------------------------------------------
def _aws_managed() -> list[ManagedPolicy]:
    def mp(name: str, statements: list[dict], path: str = "") -> ManagedPolicy:
        return ManagedPolicy(arn=f"arn:aws:iam::aws:policy/{path}{name}", name=name,
                             document={"Version": V, "Statement": statements}, account=None,
                             version_id="v1")

    read_only = ["a4b:Get*", "acm:Describe*", "acm:List*", "apigateway:GET", "athena:Get*",
                 "autoscaling:Describe*", "cloudformation:Describe*", "cloudformation:List*",
                 "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:LookupEvents",
                 "cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*", "dynamodb:BatchGetItem",
                 "dynamodb:Describe*", "dynamodb:GetItem", "dynamodb:List*", "dynamodb:Query",
                 "dynamodb:Scan", "ec2:Describe*", "ec2:Get*", "glue:Get*", "glue:List*",
                 "iam:Generate*", "iam:Get*", "iam:List*", "kms:Describe*", "kms:Get*", "kms:List*",
                 "lambda:Get*", "lambda:List*", "logs:Describe*", "logs:Get*", "rds:Describe*",
                 "rds:List*", "s3:Get*", "s3:List*", "sagemaker:Describe*", "sagemaker:List*",
                 "secretsmanager:Describe*", "secretsmanager:List*", "states:Describe*",
                 "states:List*", "sts:GetCallerIdentity"]
    return [
        mp("AdministratorAccess", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        mp("ReadOnlyAccess", [{"Effect": "Allow", "Action": read_only, "Resource": "*"}]),
        mp("ViewOnlyAccess", [{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:ListAllMyBuckets",
                                                             "rds:Describe*", "iam:List*"], "Resource": "*"}],
           "job-function/"),
        mp("PowerUserAccess", [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole",
                                           "iam:ListRoles", "organizations:DescribeOrganization",
                                           "account:ListRegions"], "Resource": "*"}]),
        mp("SecurityAudit", [{"Effect": "Allow", "Action": ["iam:GenerateCredentialReport", "iam:Get*",
                                                             "iam:List*", "s3:GetBucketPolicy",
                                                             "s3:GetBucketAcl", "kms:GetKeyPolicy",
                                                             "ec2:Describe*", "cloudtrail:Describe*"],
                              "Resource": "*"}]),
        mp("AmazonS3ReadOnlyAccess", [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*",
                                                                      "s3-object-lambda:Get*",
                                                                      "s3-object-lambda:List*"],
                                       "Resource": "*"}]),
        mp("AmazonS3FullAccess", [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"],
                                   "Resource": "*"}]),
        mp("AmazonDynamoDBFullAccess", [{"Effect": "Allow", "Action": ["dynamodb:*", "dax:*",
                                                                        "cloudwatch:GetMetricData"],
                                         "Resource": "*"}]),
        mp("AWSLambdaBasicExecutionRole", [{"Effect": "Allow", "Action": ["logs:CreateLogGroup",
                                                                           "logs:CreateLogStream",
                                                                           "logs:PutLogEvents"],
                                            "Resource": "*"}], "service-role/"),
        mp("AWSLambdaVPCAccessExecutionRole", [{"Effect": "Allow", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"],
            "Resource": "*"}], "service-role/"),
        mp("AmazonSSMManagedInstanceCore", [{"Effect": "Allow", "Action": [
            "ssm:DescribeAssociation", "ssm:GetDocument", "ssm:UpdateInstanceInformation",
            "ssmmessages:*", "ec2messages:*"], "Resource": "*"}]),
        mp("AWSGlueServiceRole", [
            {"Effect": "Allow", "Action": ["glue:*", "s3:GetBucketLocation", "s3:ListBucket",
                                           "s3:ListAllMyBuckets", "iam:ListRolePolicies",
                                           "ec2:Describe*", "cloudwatch:PutMetricData"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": ["arn:aws:s3:::aws-glue-*/*", "arn:aws:s3:::*/*aws-glue-*/*"]}],
           "service-role/"),
        mp("AmazonSageMakerFullAccess", [
            {"Effect": "Allow", "Action": ["sagemaker:*", "ecr:GetAuthorizationToken", "logs:*"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*",
             "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::*SageMaker*", "arn:aws:s3:::*Sagemaker*",
                          "arn:aws:s3:::*sagemaker*"]}]),
        mp("AWSStepFunctionsFullAccess", [
            {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/StepFunctions*"}]),
    ]


# ---------------------------------------------------------------------------------------------
# Small deterministic id helpers
# ---------------------------------------------------------------------------------------------
class _Ids:
    """Deterministic unique ids (hex and IAM-style) from one counter."""

    def __init__(self, seed: int) -> None:
        self.n = seed * 1_000_003 + 17

    def hex(self, width: int) -> str:
        self.n += 1
        return format((self.n * 0x9E3779B97F4A7C15) % (1 << (4 * width)), f"0{width}x")

    def iam(self, prefix: str) -> str:
        self.n += 1
        x = (self.n * 0x9E3779B97F4A7C15) % (1 << 85)
        chars = []
        for _ in range(17):
            chars.append(_ALPHA[x & 31])
            x >>= 5
        return prefix + "".join(chars)

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _attrs(kind: str, **values: Any) -> dict[str, Any]:
    """Resource attributes with exactly the keys RESOURCE_ATTRIBUTES lists for ``kind``."""
    keys = RESOURCE_ATTRIBUTES[kind]
    extra = set(values) - set(keys)
    if extra:  # a generator bug, not bad input
        raise AssertionError(f"{kind}: attributes {sorted(extra)} are not in RESOURCE_ATTRIBUTES")
    return {k: values.get(k) for k in keys}


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# ---------------------------------------------------------------------------------------------
# The organization skeleton
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Acct:
    """Generation state of one account."""

    id: str
    kind: str
    index: int
    region: str
    n_principals: int
    n_resources: int
    record: Account | None = None
    # filled while generating, read by other accounts' generators
    buckets: list[str] = field(default_factory=list)
    phi_buckets: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    dbs: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    vpc_cidr: str = ""
    vpcs: list[str] = field(default_factory=list)


def _account_kinds(n: int) -> list[str]:
    if n == 1:
        return ["mixed"]
    core = list(_KIND_CORE[: min(n, len(_KIND_CORE))])
    rest = n - len(core)
    kinds: list[str] = []
    counts = [int(rest * share) for _, share in _KIND_SHARES]
    counts[0] += rest - sum(counts)
    if rest >= 2 and counts[1] == 0:  # always at least one synthetic account when there is room
        counts[1], counts[0] = 1, counts[0] - 1
    for (kind, _), count in zip(_KIND_SHARES, counts, strict=True):
        kinds.extend([kind] * count)
    return core + kinds


def _organization(spec: SizeSpec, ids: _Ids, accts: list[_Acct]) -> tuple[Organization, dict[str, str]]:
    root = "r-" + ids.hex(4)
    org_id = "o-" + ids.hex(10)
    mgmt = accts[0].id if spec.accounts > 1 else "999999999999"
    ou_ids: dict[str, str] = {}
    units = [{"id": root, "name": "Root", "parent_id": None}]
    for name in ("Security", "Infrastructure", "Workloads", "Production", "SyntheticData",
                 "Development", "Staging"):
        parent = root if name in ("Security", "Infrastructure", "Workloads") else ou_ids["Workloads"]
        ou_ids[name] = f"ou-{root[2:]}-{ids.hex(8)}"
        units.append({"id": ou_ids[name], "name": name, "parent_id": parent})
    ou_ids["Root"] = root
    return Organization(id=org_id, management_account_id=mgmt, root_id=root, units=units), ou_ids


def _ou_path(kind: str, ou_ids: dict[str, str]) -> list[str]:
    ou = _OU_OF[kind]
    if ou == "ou-root":
        return [ou_ids["Root"]]
    if ou in ("Security", "Infrastructure", "Workloads"):
        return [ou_ids["Root"], ou_ids[ou]]
    return [ou_ids["Root"], ou_ids["Workloads"], ou_ids[ou]]


def _scps(ou_ids: dict[str, str], accts: list[_Acct], ids: _Ids) -> list[OrgPolicy]:
    def scp(name: str, statements: list[dict], targets: list[str], aws_managed: bool = False) -> OrgPolicy:
        pid = "p-FullAWSAccess" if aws_managed else "p-" + ids.hex(8)
        return OrgPolicy(id=pid, type="SCP", name=name, arn=f"arn:aws:organizations::aws:policy/service_control_policy/{pid}",
                         document={"Version": V, "Statement": statements}, targets=targets,
                         aws_managed=aws_managed)

    synthetic_ids = [a.id for a in accts if a.kind == "synthetic"]
    out = [
        # AWS attaches FullAWSAccess to the root, every OU and every account; an SCP allows only
        # what every level from the root to the account allows, so it has to be at each level.
        scp("FullAWSAccess", [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            [ou_ids["Root"], *(v for k, v in ou_ids.items() if k != "Root"), *(a.id for a in accts)], True),
        scp("DenyLeaveOrgAndTrailTampering", [
            {"Sid": "DenyLeave", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
            {"Sid": "ProtectTrail", "Effect": "Deny",
             "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"],
             "Resource": "*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgSecurityAdmin"}}}],
            [ou_ids["Root"]]),
        scp("RegionGuard", [
            {"Sid": "DenyOutsideRegions", "Effect": "Deny",
             "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*",
                           "budgets:*", "waf:*", "health:*"],
             "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(_REGIONS)}}}],
            [ou_ids["Workloads"]]),
        scp("ProductionGuardrails", [
            {"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}},
            {"Sid": "NoPublicRds", "Effect": "Deny", "Action": ["rds:ModifyDBInstance", "rds:CreateDBInstance"],
             "Resource": "*", "Condition": {"Bool": {"rds:PubliclyAccessible": "true"}}},
            {"Sid": "NoIamUsers", "Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey"],
             "Resource": "*"}],
            [ou_ids["Production"]]),
        scp("SyntheticNoPhi", [
            {"Sid": "DenyPhiTaggedData", "Effect": "Deny",
             "Action": ["s3:GetObject", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
             "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/DataClassification": "PHI"}}}],
            [ou_ids["SyntheticData"]]),
    ]
    if synthetic_ids:  # one synthetic account got a looser, account-level exception
        out.append(scp("SandboxExceptions", [
            {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}], synthetic_ids[:1]))
    return out


# ---------------------------------------------------------------------------------------------
# Statement factories (what engineers actually write)
# ---------------------------------------------------------------------------------------------
class _Stmts:
    """Builds IAM statements for one account from its (and its neighbours') resources."""

    def __init__(self, rng: random.Random, acct: _Acct, peers: list[_Acct]) -> None:
        self.rng = rng
        self.a = acct
        self.peers = peers or [acct]
        self.makers: list[tuple[Callable[[], dict], int]] = [
            (self.s3_read, 14), (self.s3_write, 6), (self.s3_prefix, 5), (self.dynamo, 9), (self.kms, 6),
            (self.secret, 4), (self.logs, 9), (self.describe, 10), (self.lambda_invoke, 4),
            (self.assume, 3), (self.pass_role, 3), (self.rds_connect, 2), (self.deny_mfa, 2),
            (self.not_action, 1), (self.sqs_sns, 5), (self.tag_condition, 3), (self.ssm, 4),
            (self.cross_s3, 2), (self.privesc, 1), (self.glue, 3), (self.states, 2),
        ]
        self.funcs = [m for m, _ in self.makers]
        self.weights = [w for _, w in self.makers]
        self.cum = list(_cumulate(self.weights))

    def pick(self, pool: list[str], fallback: str) -> str:
        return self.rng.choice(pool) if pool else fallback

    def any(self) -> dict:
        return self.rng.choices(self.funcs, cum_weights=self.cum)[0]()

    def many(self, n: int) -> list[dict]:
        fs = self.rng.choices(self.funcs, cum_weights=self.cum, k=n)
        return [f() for f in fs]

    # -- individual shapes --
    def s3_read(self) -> dict:
        b = self.pick(self.a.buckets, f"arn:aws:s3:::data-{self.a.id}")
        return {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
                "Resource": [b, b + "/*"]}

    def s3_write(self) -> dict:
        b = self.pick(self.a.buckets, f"arn:aws:s3:::data-{self.a.id}")
        return {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": b + "/*"}

    def s3_prefix(self) -> dict:
        b = self.pick(self.a.buckets, f"arn:aws:s3:::data-{self.a.id}")
        prefix = self.rng.choice(("incoming", "exports", "reports", "tmp", "models"))
        return {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": b,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*", f"{prefix}/"]}}}

    def cross_s3(self) -> dict:
        peer = self.rng.choice(self.peers)
        b = self.pick(peer.buckets, f"arn:aws:s3:::shared-{peer.id}")
        return {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": [b, b + "/*"]}

    def dynamo(self) -> dict:
        t = self.pick(self.a.tables, f"arn:aws:dynamodb:{self.a.region}:{self.a.id}:table/default")
        acts = self.rng.choice((["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"],
                                ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                                ["dynamodb:*"]))
        return {"Effect": "Allow", "Action": acts, "Resource": [t, t + "/index/*"]}

    def kms(self) -> dict:
        k = self.pick(self.a.keys, f"arn:aws:kms:{self.a.region}:{self.a.id}:key/*")
        svc = self.rng.choice(("s3", "dynamodb", "secretsmanager", "rds"))
        return {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": k,
                "Condition": {"StringEquals": {"kms:ViaService": f"{svc}.{self.a.region}.amazonaws.com"}}}

    def secret(self) -> dict:
        s = self.pick(self.a.secrets, f"arn:aws:secretsmanager:{self.a.region}:{self.a.id}:secret:app-*")
        return {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": s}

    def logs(self) -> dict:
        return {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{self.a.region}:{self.a.id}:log-group:/aws/{self.rng.choice(('lambda', 'glue', 'app', 'ecs'))}/*"}

    def describe(self) -> dict:
        acts = self.rng.sample(("ec2:Describe*", "rds:Describe*", "s3:ListAllMyBuckets", "cloudwatch:Get*",
                                "cloudwatch:List*", "lambda:List*", "glue:Get*", "states:List*",
                                "kms:ListAliases", "tag:GetResources"), k=self.rng.randint(1, 4))
        return {"Effect": "Allow", "Action": acts, "Resource": "*"}

    def lambda_invoke(self) -> dict:
        f = self.pick(self.a.functions, f"arn:aws:lambda:{self.a.region}:{self.a.id}:function:*")
        return {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [f, f + ":*"]}

    def assume(self) -> dict:
        peer = self.rng.choice(self.peers)
        r = self.pick(peer.roles, f"arn:aws:iam::{peer.id}:role/ReadOnly")
        return {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": r}

    def pass_role(self) -> dict:
        r = self.pick(self.a.roles, f"arn:aws:iam::{self.a.id}:role/*")
        svc = self.rng.choice(("lambda", "glue", "states", "sagemaker", "ec2"))
        return {"Effect": "Allow", "Action": "iam:PassRole", "Resource": r,
                "Condition": {"StringEquals": {"iam:PassedToService": f"{svc}.amazonaws.com"}}}

    def rds_connect(self) -> dict:
        return {"Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{self.a.region}:{self.a.id}:dbuser:db-{self.rng.randrange(1 << 20):05X}/app_*"}

    def deny_mfa(self) -> dict:
        return {"Effect": "Deny", "NotAction": ["iam:ChangePassword", "iam:GetUser", "iam:*MFADevice",
                                                "sts:GetSessionToken"], "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}

    def not_action(self) -> dict:
        return {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*", "kms:ScheduleKeyDeletion"],
                "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}}}

    def sqs_sns(self) -> dict:
        svc = self.rng.choice(("sqs", "sns"))
        if svc == "sqs":
            return {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
                    "Resource": f"arn:aws:sqs:{self.a.region}:{self.a.id}:q-{self.rng.randrange(500)}"}
        return {"Effect": "Allow", "Action": "sns:Publish",
                "Resource": f"arn:aws:sns:{self.a.region}:{self.a.id}:topic-{self.rng.randrange(200)}"}

    def tag_condition(self) -> dict:
        team = self.rng.choice(("ml", "data", "platform", "clinical", "web"))
        return {"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
                "Resource": f"arn:aws:ec2:*:{self.a.id}:instance/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/Team": team, "aws:PrincipalTag/Team": team}}}

    def ssm(self) -> dict:
        return {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                "Resource": f"arn:aws:ssm:{self.a.region}:{self.a.id}:parameter/{self.rng.choice(('app', 'etl', 'ml'))}/*"}

    def privesc(self) -> dict:
        acts = self.rng.choice((["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
                                ["iam:AttachRolePolicy"], ["iam:PutUserPolicy"], ["iam:UpdateAssumeRolePolicy"],
                                ["lambda:UpdateFunctionCode"], ["iam:CreateAccessKey"], ["glue:UpdateDevEndpoint"]))
        res = "*" if self.rng.random() < 0.5 else f"arn:aws:iam::{self.a.id}:{self.rng.choice(('role', 'user'))}/*"
        if acts[0].startswith(("lambda:", "glue:")):
            res = "*"
        return {"Effect": "Allow", "Action": acts, "Resource": res}

    def glue(self) -> dict:
        return {"Effect": "Allow", "Action": ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJob"],
                "Resource": f"arn:aws:glue:{self.a.region}:{self.a.id}:job/*"}

    def states(self) -> dict:
        return {"Effect": "Allow", "Action": ["states:StartExecution", "states:DescribeExecution"],
                "Resource": f"arn:aws:states:{self.a.region}:{self.a.id}:stateMachine:*"}


def _cumulate(weights: list[int]) -> Iterator[int]:
    total = 0
    for w in weights:
        total += w
        yield total


def _doc(statements: list[dict], rng: random.Random, sids: bool) -> dict:
    if sids:
        for i, s in enumerate(statements):
            if rng.random() < 0.6:
                s["Sid"] = f"S{i}"
    return {"Version": V, "Statement": statements}


def _stmt_count(rng: random.Random, mean: float) -> int:
    """A skewed statement count (most policies small, a few large), at least 1."""
    return max(1, min(60, round(rng.expovariate(1 / mean))))


# ---------------------------------------------------------------------------------------------
# One account
# ---------------------------------------------------------------------------------------------
_COMPUTE_SHARES = (("ec2_instance", 0.10), ("lambda_function", 0.13), ("glue_job", 0.03),
                   ("glue_connection", 0.01), ("glue_dev_endpoint", 0.004), ("sagemaker_notebook", 0.02),
                   ("sfn_state_machine", 0.02))
_STORE_SHARES = (("s3_bucket", 0.13), ("rds_cluster", 0.01), ("rds_instance", 0.025), ("dynamodb_table", 0.07),
                 ("secret", 0.05), ("kms_key", 0.035), ("ebs_snapshot", 0.03), ("rds_snapshot", 0.02),
                 ("rds_cluster_snapshot", 0.008))
_SERVICE_OF = {"ec2_instance": "ec2", "lambda_function": "lambda", "glue_job": "glue",
               "glue_dev_endpoint": "glue", "sagemaker_notebook": "sagemaker", "sfn_state_machine": "states"}


class _AccountGen:
    """Generates the principals, policies and resources of one account."""

    def __init__(self, a: _Acct, inv: Inventory, rng: random.Random, ids: _Ids,
                 org: Organization, accts: list[_Acct], by_kind: dict[str, list[_Acct]]) -> None:
        self.a, self.inv, self.rng, self.ids, self.org = a, inv, rng, ids, org
        self.accts, self.by_kind = accts, by_kind
        self.region = a.region
        self.res_budget = a.n_resources
        self.sg_ids: list[str] = []
        self.subnets: dict[str, list[str]] = {}
        self.vpc_of_sg: dict[str, str] = {}
        self.phi = a.kind in ("production", "mixed")
        self.synthetic = a.kind in ("synthetic", "mixed")
        self.policies: list[str] = []
        self.boundary: str | None = None
        self.workload_roles: dict[str, list[str]] = {}
        self.db_records: list[Resource] = []
        self.cluster_records: list[Resource] = []

    # -- resources --------------------------------------------------------------------------
    def add(self, kind: str, arn: str, rid: str | None, name: str | None, tags: dict[str, str],
            attributes: dict[str, Any], policy: dict | None = None, region: str | None = "") -> Resource:
        r = Resource(arn=arn, kind=kind, account=self.a.id, region=self.region if region == "" else region,
                     id=rid, name=name, tags=tags, policy=policy, attributes=attributes)
        self.inv.resources.append(r)
        self.res_budget -= 1
        return r

    def counts(self) -> dict[str, int]:
        """How many resources of each data / compute kind to create with the budget left.

        The shares of ``_STORE_SHARES`` / ``_COMPUTE_SHARES`` are applied to what is left after
        the network (keeping 2 for the TGW attachment and a peering); Lambda takes the rounding.
        """
        shares = (*_STORE_SHARES, *_COMPUTE_SHARES)
        # clusters come with 2 member instances each
        weight = sum(share * (3 if kind == "rds_cluster" else 1) for kind, share in shares)
        left = self.res_budget - 2
        out = {kind: int(left * share / weight) for kind, share in shares}
        if out["glue_dev_endpoint"] == 0 and self.rng.random() < left * 0.01:
            out["glue_dev_endpoint"] = 1
        for kind in ("s3_bucket", "kms_key"):
            out[kind] = max(out[kind], 1)
        out["lambda_function"] += left - (sum(out.values()) + out["rds_cluster"] * 2)
        if out["lambda_function"] < 0:  # tiny accounts: trim from the largest kinds
            deficit = -out["lambda_function"]
            out["lambda_function"] = 0
            for kind in sorted(out, key=lambda k: -out[k]):
                take = min(deficit, out[kind] - (1 if kind in ("s3_bucket", "kms_key") else 0))
                if take > 0:
                    out[kind] -= take
                    deficit -= take
                if deficit == 0:
                    break
        return out

    def tags_for(self, store: bool, phi: bool = False, name: str = "") -> dict[str, str]:
        t: dict[str, str] = {"Team": self.rng.choice(("ml", "data", "platform", "clinical", "web")),
                             "CostCenter": f"cc-{self.rng.randrange(100, 999)}"}
        if store:
            t["DataClassification"] = "PHI" if phi else self.rng.choice(("Internal", "Confidential", "Public"))
            if phi:
                t["Environment"] = "production"
        elif self.synthetic and (self.a.kind == "synthetic" or self.rng.random() < 0.3):
            t["Workload"] = "synthetic-data"
        if name:
            t["Name"] = name
        return t

    def network(self) -> None:
        a = self.a
        n_vpcs = 1 if a.n_resources < 400 else 2
        second = (a.index * 7) % 200
        for v in range(n_vpcs):
            vpc = "vpc-" + self.ids.hex(17)
            cidr = f"10.{second}.{v * 64}.0/18"
            if v == 0:
                a.vpc_cidr = cidr
            a.vpcs.append(vpc)
            self.add("vpc", f"arn:aws:ec2:{self.region}:{a.id}:vpc/{vpc}", vpc, f"{a.kind}-vpc{v}",
                     {"Name": f"{a.kind}-vpc{v}"}, _attrs("vpc", cidrs=[cidr], ipv6_cidrs=[], is_default=False))
            subnets = []
            for s in range(3):
                sid = "subnet-" + self.ids.hex(17)
                subnets.append(sid)
                self.add("subnet", f"arn:aws:ec2:{self.region}:{a.id}:subnet/{sid}", sid, None,
                         {"Tier": "public" if s == 0 else "private"},
                         _attrs("subnet", vpc_id=vpc, cidr=f"10.{second}.{v * 64 + s * 16}.0/20", ipv6_cidrs=[],
                                availability_zone=f"{self.region}{'abc'[s]}", map_public_ip=s == 0))
            self.subnets[vpc] = subnets
            self.nacl(vpc, subnets)
            igw = "igw-" + self.ids.hex(17)
            self.add("internet_gateway", f"arn:aws:ec2:{self.region}:{a.id}:internet-gateway/{igw}", igw, None,
                     {}, _attrs("internet_gateway", vpc_ids=[vpc]))
            nat = "nat-" + self.ids.hex(17)
            self.add("nat_gateway", f"arn:aws:ec2:{self.region}:{a.id}:natgateway/{nat}", nat, None, {},
                     _attrs("nat_gateway", vpc_id=vpc, subnet_id=subnets[0],
                            public_ip=f"198.51.{a.index % 250}.{v + 10}"))
            rt_public = "rtb-" + self.ids.hex(17)
            rt_private = "rtb-" + self.ids.hex(17)
            local = {"destination": cidr, "target_type": "local", "target_id": "local", "state": "active"}
            self.add("route_table", f"arn:aws:ec2:{self.region}:{a.id}:route-table/{rt_public}", rt_public, None,
                     {}, _attrs("route_table", vpc_id=vpc, subnet_ids=subnets[:1], main=False,
                                routes=[local, {"destination": "0.0.0.0/0", "target_type": "internet_gateway",
                                                "target_id": igw, "state": "active"}]))
            self.add("route_table", f"arn:aws:ec2:{self.region}:{a.id}:route-table/{rt_private}", rt_private,
                     None, {}, _attrs("route_table", vpc_id=vpc, subnet_ids=subnets[1:], main=True,
                                      routes=[local, {"destination": "0.0.0.0/0", "target_type": "nat_gateway",
                                                      "target_id": nat, "state": "active"}]))
            vpce = "vpce-" + self.ids.hex(17)
            self.add("vpc_endpoint", f"arn:aws:ec2:{self.region}:{a.id}:vpc-endpoint/{vpce}", vpce, None, {},
                     _attrs("vpc_endpoint", vpc_id=vpc, service_name=f"com.amazonaws.{self.region}.s3",
                            endpoint_type="Gateway", route_table_ids=[rt_private], subnet_ids=[],
                            security_group_ids=[]),
                     policy={"Version": V, "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                          "Resource": "*"}]})
        n_sgs = max(3, int(a.n_resources * 0.05))
        for _ in range(n_sgs):
            self.security_group(self.rng.choice(a.vpcs))

    def nacl(self, vpc: str, subnets: list[str]) -> None:
        acl = "acl-" + self.ids.hex(17)
        entries = [
            {"rule_number": 100, "egress": False, "protocol": "-1", "action": "allow", "cidr": "0.0.0.0/0",
             "ipv6_cidr": None, "from_port": None, "to_port": None},
            {"rule_number": 32767, "egress": False, "protocol": "-1", "action": "deny", "cidr": "0.0.0.0/0",
             "ipv6_cidr": None, "from_port": None, "to_port": None},
            {"rule_number": 100, "egress": True, "protocol": "-1", "action": "allow", "cidr": "0.0.0.0/0",
             "ipv6_cidr": None, "from_port": None, "to_port": None},
            {"rule_number": 32767, "egress": True, "protocol": "-1", "action": "deny", "cidr": "0.0.0.0/0",
             "ipv6_cidr": None, "from_port": None, "to_port": None},
        ]
        if self.rng.random() < 0.3:  # a hardened NACL blocking database ports from outside the VPC
            entries.insert(0, {"rule_number": 90, "egress": False, "protocol": "6", "action": "deny",
                               "cidr": "0.0.0.0/0", "ipv6_cidr": None, "from_port": 5432, "to_port": 5432})
        self.add("nacl", f"arn:aws:ec2:{self.region}:{self.a.id}:network-acl/{acl}", acl, None, {},
                 _attrs("nacl", vpc_id=vpc, subnet_ids=subnets, is_default=True, entries=entries))

    def security_group(self, vpc: str) -> str:
        sg = "sg-" + self.ids.hex(17)
        rng = self.rng
        ingress = []
        for _ in range(rng.randint(1, 4)):
            port = rng.choice((443, 5432, 3306, 22, 8080, 6379, 80))
            rule: dict[str, Any] = {"rule_id": "sgr-" + self.ids.hex(17), "protocol": "tcp", "from_port": port,
                                    "to_port": port, "cidrs": [], "ipv6_cidrs": [], "sg_refs": [],
                                    "prefix_lists": []}
            roll = rng.random()
            if roll < 0.5 and self.sg_ids:
                rule["sg_refs"] = [{"group_id": rng.choice(self.sg_ids), "account": self.a.id}]
            elif roll < 0.85:
                rule["cidrs"] = [self.a.vpc_cidr or "10.0.0.0/8"]
            elif roll < 0.97:
                rule["cidrs"] = ["10.0.0.0/8"]
            else:
                rule["cidrs"] = ["0.0.0.0/0"]
            ingress.append(rule)
        egress = [{"rule_id": "sgr-" + self.ids.hex(17), "protocol": "-1", "from_port": None, "to_port": None,
                   "cidrs": ["0.0.0.0/0"], "ipv6_cidrs": [], "sg_refs": [], "prefix_lists": []}]
        self.add("security_group", f"arn:aws:ec2:{self.region}:{self.a.id}:security-group/{sg}", sg, None, {},
                 _attrs("security_group", vpc_id=vpc, group_name=f"sg-{len(self.sg_ids)}", ingress=ingress,
                        egress=egress))
        self.sg_ids.append(sg)
        self.vpc_of_sg[sg] = vpc
        return sg

    def placement(self) -> tuple[str, list[str], list[str]]:
        sg = self.rng.choice(self.sg_ids)
        vpc = self.vpc_of_sg[sg]
        subnets = self.subnets[vpc][1:]
        return vpc, subnets, [sg]

    def stores(self, counts: dict[str, int]) -> None:
        a, rng, region = self.a, self.rng, self.region
        for i in range(counts["kms_key"]):
            kid = self.ids.uuid()
            arn = f"arn:aws:kms:{region}:{a.id}:key/{kid}"
            a.keys.append(arn)
            grants = []
            if rng.random() < 0.3:
                grants.append({"grant_id": self.ids.hex(64), "grantee_principal": f"arn:aws:iam::{a.id}:role/svc-{i}",
                               "operations": ["Decrypt", "GenerateDataKey"], "retiring_principal": None,
                               "constraints": None})
            policy = {"Version": V, "Statement": [
                {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{a.id}:root"}, "Action": "kms:*", "Resource": "*"}]}
            if rng.random() < 0.2:
                policy["Statement"].append({"Sid": "AllowUseViaS3", "Effect": "Allow", "Principal": {"AWS": "*"},
                                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                                            "Condition": {"StringEquals": {"kms:CallerAccount": a.id,
                                                                           "kms:ViaService": f"s3.{region}.amazonaws.com"}}})
            self.add("kms_key", arn, kid, None, self.tags_for(False),
                     _attrs("kms_key", key_manager="CUSTOMER", key_state="Enabled", aliases=[f"alias/{a.kind}-{i}"],
                            grants=grants), policy=policy)
        for i in range(counts["s3_bucket"]):
            self.bucket(i)
        for i in range(counts["dynamodb_table"]):
            phi = self.phi and rng.random() < 0.25
            name = f"{'patients' if phi else 'app'}-{a.index}-{i}"
            arn = f"arn:aws:dynamodb:{region}:{a.id}:table/{name}"
            a.tables.append(arn)
            self.add("dynamodb_table", arn, name, name, self.tags_for(True, phi),
                     _attrs("dynamodb_table", kms_key_arn=rng.choice(a.keys) if a.keys and rng.random() < 0.5 else None))
        for i in range(counts["rds_cluster"]):
            self.database(f"aurora-{a.index}-{i}", cluster=True)
        for i in range(counts["rds_instance"]):
            self.database(f"db-{a.index}-{i}", cluster=False)
        for i in range(counts["secret"]):
            name = f"app/{a.kind}/secret-{i}"
            arn = f"arn:aws:secretsmanager:{region}:{a.id}:secret:{name}-{self.ids.hex(6)}"
            a.secrets.append(arn)
            unlocks = [rng.choice(a.dbs)] if a.dbs and rng.random() < 0.5 else []
            policy = None
            if rng.random() < 0.1 and self.by_kind.get("shared-services"):
                ci = self.by_kind["shared-services"][0].id
                policy = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ci}:role/ci-deployer"},
                                                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
            self.add("secret", arn, name, name, self.tags_for(True, bool(unlocks) and self.phi and rng.random() < 0.5),
                     _attrs("secret", kms_key_arn=rng.choice(a.keys) if a.keys else None, unlocks=unlocks),
                     policy=policy)
        self.snapshots(counts)

    def bucket(self, i: int) -> None:
        a, rng = self.a, self.rng
        phi = self.phi and rng.random() < 0.2
        name = f"{'phi-' if phi else ''}{a.kind}-{a.id}-{i}"
        arn = f"arn:aws:s3:::{name}"
        a.buckets.append(arn)
        if phi:
            a.phi_buckets.append(arn)
        statements: list[dict] = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                                   "Action": "s3:*", "Resource": [arn, arn + "/*"],
                                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        roll = rng.random()
        # Organization-wide read (aws:PrincipalOrgID) is for shared artifacts and logs: common in
        # the core accounts, rare in workload ones. Every principal of the org allowed s3:GetObject
        # on "*" can read such a bucket, so this rate sets an O(principals x shared buckets) term.
        p_org = 0.3 if a.kind in _KIND_CORE else 0.1 if a.kind == "mixed" else 0.004
        if roll < p_org:
            statements.append({"Sid": "OrgRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                               "Resource": [arn, arn + "/*"],
                               "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.org.id}}})
        elif roll < p_org + 0.05:
            peer = rng.choice(self.accts)
            statements.append({"Sid": "CrossAccountRead", "Effect": "Allow",
                               "Principal": {"AWS": f"arn:aws:iam::{peer.id}:root"},
                               "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [arn, arn + "/*"]})
        elif roll < p_org + 0.06 and not phi:
            statements.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": arn + "/*"})
        if phi and rng.random() < 0.04 and self.by_kind.get("synthetic"):  # the classic mistake
            syn = rng.choice(self.by_kind["synthetic"])
            statements.append({"Sid": "ShareForTestData", "Effect": "Allow",
                               "Principal": {"AWS": f"arn:aws:iam::{syn.id}:root"},
                               "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [arn, arn + "/*"]})
        policy = {"Version": V, "Statement": statements} if rng.random() < 0.85 else None
        bpa = None if roll >= p_org + 0.05 and rng.random() < 0.3 else {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        enc = {"algorithm": "aws:kms", "kms_key_arn": rng.choice(a.keys)} if a.keys and rng.random() < 0.6 else \
            {"algorithm": "AES256", "kms_key_arn": None}
        self.add("s3_bucket", arn, name, name, self.tags_for(True, phi),
                 _attrs("s3_bucket", public_access_block=bpa, ownership="BucketOwnerEnforced",
                        acl_grants=[{"grantee_type": "CanonicalUser", "grantee": self.ids.hex(64),
                                     "permission": "FULL_CONTROL"}], encryption=enc),
                 policy=policy, region=self.region)

    def database(self, name: str, cluster: bool) -> None:
        a, rng = self.a, self.rng
        phi = self.phi and rng.random() < 0.35
        engine = rng.choice(("postgres", "mysql")) if not cluster else rng.choice(("aurora-postgresql", "aurora-mysql"))
        port = 5432 if "postgres" in engine else 3306
        vpc, subnets, sgs = self.placement()
        common = dict(engine=engine, port=port, vpc_id=vpc, subnet_ids=subnets, security_group_ids=sgs,
                      publicly_accessible=rng.random() < 0.02, iam_auth=rng.random() < 0.3,
                      storage_encrypted=rng.random() < 0.9, kms_key_arn=rng.choice(a.keys) if a.keys else None)
        tags = self.tags_for(True, phi)
        if cluster:
            arn = f"arn:aws:rds:{self.region}:{a.id}:cluster:{name}"
            members = [f"arn:aws:rds:{self.region}:{a.id}:db:{name}-{m}" for m in range(2)]
            rec = self.add("rds_cluster", arn, name, name, tags,
                           _attrs("rds_cluster", endpoint=f"{name}.cluster-x.{self.region}.rds.amazonaws.com",
                                  members=members, resource_id="cluster-" + self.ids.iam(""), **common))
            self.cluster_records.append(rec)
            for m, marn in enumerate(members):
                self.add("rds_instance", marn, f"{name}-{m}", f"{name}-{m}", dict(tags),
                         _attrs("rds_instance", endpoint=f"{name}-{m}.x.{self.region}.rds.amazonaws.com",
                                cluster_arn=arn, resource_id="db-" + self.ids.iam(""), **common))
        else:
            arn = f"arn:aws:rds:{self.region}:{a.id}:db:{name}"
            rec = self.add("rds_instance", arn, name, name, tags,
                           _attrs("rds_instance", endpoint=f"{name}.x.{self.region}.rds.amazonaws.com",
                                  cluster_arn=None, resource_id="db-" + self.ids.iam(""), **common))
            self.db_records.append(rec)
        a.dbs.append(arn)

    def snapshots(self, counts: dict[str, int]) -> None:
        a, rng = self.a, self.rng
        syn = [s.id for s in self.by_kind.get("synthetic", []) if s.id != a.id]

        def shared(is_phi: bool) -> list[str]:
            roll = rng.random()
            if is_phi and syn and roll < 0.06:
                return [rng.choice(syn)]
            if roll < 0.15:
                return [rng.choice(self.accts).id]
            if roll < 0.16 and not is_phi:
                return ["all"]
            return []

        for i in range(counts["ebs_snapshot"]):
            sid = "snap-" + self.ids.hex(17)
            self.add("ebs_snapshot", f"arn:aws:ec2:{self.region}::snapshot/{sid}", sid, None, self.tags_for(True),
                     _attrs("ebs_snapshot", volume_id="vol-" + self.ids.hex(17), source_arn=None,
                            encrypted=rng.random() < 0.8, kms_key_arn=rng.choice(a.keys) if a.keys else None,
                            shared_accounts=shared(False)))
            del i
        for kind, pool in (("rds_snapshot", self.db_records), ("rds_cluster_snapshot", self.cluster_records)):
            for i in range(counts[kind]):
                src = rng.choice(pool) if pool else None
                is_phi = bool(src and src.tags.get("DataClassification") == "PHI")
                name = f"{'manual' if i % 3 else 'rds:auto'}-{a.index}-{i}"
                seg = "snapshot" if kind == "rds_snapshot" else "cluster-snapshot"
                self.add(kind, f"arn:aws:rds:{self.region}:{a.id}:{seg}:{name}", name, name,
                         self.tags_for(True, is_phi),
                         _attrs(kind, source_arn=src.arn if src else None, encrypted=rng.random() < 0.85,
                                kms_key_arn=rng.choice(a.keys) if a.keys else None,
                                snapshot_type="automated" if name.startswith("rds:") else "manual",
                                shared_accounts=shared(is_phi) if not name.startswith("rds:") else []))

    def compute(self, counts: dict[str, int]) -> None:
        a, rng, region = self.a, self.rng, self.region
        conns: list[str] = []
        for i in range(counts["glue_connection"]):
            vpc, subnets, sgs = self.placement()
            db = rng.choice(self.db_records) if self.db_records else None
            host = db.attributes["endpoint"] if db else f"db.{a.id}.internal"
            port = db.attributes["port"] if db else 5432
            name = f"conn-{i}"
            conns.append(name)
            self.add("glue_connection", f"arn:aws:glue:{region}:{a.id}:connection/{name}", name, name, {},
                     _attrs("glue_connection", connection_type="JDBC",
                            jdbc_url=f"jdbc:postgresql://{host}:{port}/app", host=host, port=port,
                            subnet_id=subnets[0], security_group_ids=sgs, vpc_id=vpc))
        for kind, _ in _COMPUTE_SHARES:
            if kind == "glue_connection":
                continue
            for i in range(counts[kind]):
                self.workload(kind, i, conns)

    def workload_role(self, kind: str) -> str:
        """A role for a new workload: usually its own, sometimes shared with siblings."""
        pool = self.workload_roles.setdefault(kind, [])
        if pool and self.rng.random() < 0.3:
            return self.rng.choice(pool)
        name = f"{kind.replace('_', '-')}-{self.a.kind}-role-{len(pool)}"
        arn = f"arn:aws:iam::{self.a.id}:role/service-role/{name}" if kind == "sfn_state_machine" else \
            f"arn:aws:iam::{self.a.id}:role/{name}"
        pool.append(arn)
        return arn

    def workload(self, kind: str, i: int, conns: list[str]) -> None:
        a, rng, region = self.a, self.rng, self.region
        role = self.workload_role(kind)
        tags = self.tags_for(False)
        if kind == "ec2_instance":
            iid = "i-" + self.ids.hex(17)
            vpc, subnets, sgs = self.placement()
            profile = role.replace(":role/", ":instance-profile/")
            public = rng.random() < 0.08
            self.add(kind, f"arn:aws:ec2:{region}:{a.id}:instance/{iid}", iid, f"host-{i}", tags,
                     _attrs(kind, instance_profile_arn=profile, vpc_id=vpc, subnet_id=subnets[0],
                            security_group_ids=sgs, private_ips=[f"10.{a.index % 200}.{i % 250}.{(i // 250) + 10}"],
                            public_ip=f"203.0.113.{i % 250}" if public else None,
                            state="running" if rng.random() < 0.9 else "stopped"))
        elif kind == "lambda_function":
            name = f"{a.kind}-fn-{i}"
            arn = f"arn:aws:lambda:{region}:{a.id}:function:{name}"
            a.functions.append(arn)
            in_vpc = rng.random() < 0.4
            vpc, subnets, sgs = self.placement() if in_vpc else (None, [], [])
            policy = None
            if rng.random() < 0.2:
                policy = {"Version": V, "Statement": [{"Sid": "s3invoke", "Effect": "Allow",
                                                       "Principal": {"Service": "s3.amazonaws.com"},
                                                       "Action": "lambda:InvokeFunction", "Resource": arn,
                                                       "Condition": {"StringEquals": {"AWS:SourceAccount": a.id}}}]}
            self.add(kind, arn, name, name, tags,
                     _attrs(kind, role_arn=role, vpc_id=vpc, subnet_ids=subnets, security_group_ids=sgs,
                            environment_variable_names=rng.sample(("DB_HOST", "BUCKET", "TABLE", "LOG_LEVEL",
                                                                   "SECRET_ARN", "STAGE"), k=rng.randint(0, 4)),
                            runtime=rng.choice(("python3.12", "python3.11", "nodejs20.x", "java21"))),
                     policy=policy)
        elif kind == "glue_job":
            name = f"etl-{a.kind}-{i}"
            self.add(kind, f"arn:aws:glue:{region}:{a.id}:job/{name}", name, name, tags,
                     _attrs(kind, role_arn=role, connections=rng.sample(conns, k=min(len(conns), 1))))
        elif kind == "glue_dev_endpoint":
            name = f"dev-endpoint-{i}"
            vpc, subnets, sgs = self.placement()
            self.add(kind, f"arn:aws:glue:{region}:{a.id}:devEndpoint/{name}", name, name, tags,
                     _attrs(kind, role_arn=role, subnet_id=subnets[0], security_group_ids=sgs, vpc_id=vpc))
        elif kind == "sagemaker_notebook":
            name = f"nb-{a.kind}-{i}"
            vpc, subnets, sgs = self.placement()
            self.add(kind, f"arn:aws:sagemaker:{region}:{a.id}:notebook-instance/{name}", name, name, tags,
                     _attrs(kind, role_arn=role, subnet_id=subnets[0], security_group_ids=sgs, vpc_id=vpc,
                            direct_internet_access=rng.random() < 0.3,
                            kms_key_id=rng.choice(a.keys) if a.keys else None))
        elif kind == "sfn_state_machine":
            name = f"pipeline-{a.kind}-{i}"
            refs = rng.sample(a.functions, k=min(len(a.functions), 3))
            self.add(kind, f"arn:aws:states:{region}:{a.id}:stateMachine:{name}", name, name, tags,
                     _attrs(kind, role_arn=role, tracing_enabled=rng.random() < 0.5,
                            logging_level=rng.choice(("ALL", "ERROR", "OFF")),
                            log_destinations=[f"arn:aws:logs:{region}:{a.id}:log-group:/sfn/{name}:*"],
                            resource_arns=refs))

    def trail(self) -> None:
        name = "org-trail" if self.a.kind == "management" else "account-trail"
        self.add("cloudtrail_trail", f"arn:aws:cloudtrail:{self.region}:{self.a.id}:trail/{name}", name, name, {},
                 _attrs("cloudtrail_trail", home_region=self.region, multi_region=True,
                        organization_trail=self.a.kind == "management", is_logging=self.rng.random() < 0.95,
                        s3_bucket=f"cloudtrail-{self.a.id}",
                        event_selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                          "DataResources": []}], advanced_event_selectors=[]))

    def peering(self) -> None:
        """Cross-account network links: peering to shared services, TGW attachments, one risky peering."""
        a, rng = self.a, self.rng
        hub = self.by_kind.get("shared-services")
        if self.res_budget > 0 and a.vpcs:
            tgw = "tgw-" + format(int(self.org.id[2:], 16) % (1 << 60), "017x")
            att = "tgw-attach-" + self.ids.hex(17)
            self.add("transit_gateway_attachment", f"arn:aws:ec2:{self.region}:{a.id}:transit-gateway-attachment/{att}",
                     att, None, {}, _attrs("transit_gateway_attachment", transit_gateway_id=tgw, vpc_id=a.vpcs[0],
                                           subnet_ids=self.subnets[a.vpcs[0]][1:]))
        peer: _Acct | None = None
        if a.kind == "synthetic" and self.by_kind.get("production") and rng.random() < 0.15:
            peer = rng.choice(self.by_kind["production"])
        elif hub and hub[0].id != a.id and rng.random() < 0.3:
            peer = hub[0]
        if peer is None or self.res_budget <= 0 or not a.vpcs or not peer.vpcs:
            return
        pcx = "pcx-" + self.ids.hex(17)
        self.add("vpc_peering", f"arn:aws:ec2:{self.region}:{a.id}:vpc-peering-connection/{pcx}", pcx, None, {},
                 _attrs("vpc_peering",
                        requester={"vpc_id": a.vpcs[0], "account": a.id, "region": self.region, "cidrs": [a.vpc_cidr]},
                        accepter={"vpc_id": peer.vpcs[0], "account": peer.id, "region": peer.region,
                                  "cidrs": [peer.vpc_cidr]},
                        status="active"))

    # -- identities ---------------------------------------------------------------------------
    def managed_policies(self, n: int, stmts: _Stmts) -> None:
        a = self.a
        bname = "DeveloperBoundary"
        self.boundary = f"arn:aws:iam::{a.id}:policy/{bname}"
        self.inv.policies.append(ManagedPolicy(arn=self.boundary, name=bname, account=a.id, version_id="v3", document={
            "Version": V, "Statement": [
                {"Sid": "AllowMostServices", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"],
                 "Resource": "*"},
                {"Sid": "AllowSelfService", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "iam:PassRole"],
                 "Resource": "*"},
                {"Sid": "DenyBoundaryRemoval", "Effect": "Deny",
                 "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
                 "Resource": "*"}]}))
        for i in range(n - 1):
            name = f"{a.kind}-{self.rng.choice(('app', 'data', 'ops', 'ml', 'etl'))}-policy-{i}"
            arn = f"arn:aws:iam::{a.id}:policy/{name}"
            doc = _doc(stmts.many(_stmt_count(self.rng, 15)), self.rng, sids=True)
            self.inv.policies.append(ManagedPolicy(arn=arn, name=name, document=doc, account=a.id,
                                                   version_id=f"v{self.rng.randint(1, 5)}"))
            self.policies.append(arn)

    def attach(self, aws: list[str], k_aws: tuple[int, int], k_cust: tuple[int, int]) -> list[str]:
        rng = self.rng
        out = rng.sample(aws, k=rng.randint(*k_aws))
        if self.policies:
            out += rng.sample(self.policies, k=min(len(self.policies), rng.randint(*k_cust)))
        return out

    def identities(self, stmts: _Stmts, aws_arns: list[str]) -> None:
        a, rng, ids = self.a, self.rng, self.ids
        n = a.n_principals
        n_groups = max(2, n // 20)
        n_users = n * 3 // 10 if a.kind not in ("production",) else n * 3 // 20
        workload = [r for pool in self.workload_roles.values() for r in pool]
        n_users = min(n_users, n - n_groups - len(workload))
        n_other_roles = n - n_groups - n_users - len(workload)
        if n_other_roles < 0:  # more workloads than principals: share roles harder
            workload = workload[: n - n_groups - n_users]
            n_other_roles = 0
        groups = []
        for i in range(n_groups):
            name = f"{rng.choice(('Developers', 'DataEngineers', 'Analysts', 'Ops', 'Admins', 'Auditors'))}-{i}"
            arn = f"arn:aws:iam::{a.id}:group/{name}"
            groups.append(arn)
            inline = {}
            if rng.random() < 0.4:
                inline["team-access"] = _doc(stmts.many(_stmt_count(rng, 6)), rng, sids=False)
            self.inv.principals.append(Principal(
                arn=arn, kind="group", account=a.id, name=name, id=ids.iam("AGPA"), inline_policies=inline,
                managed_policy_arns=self.attach(aws_arns, (0, 2), (1, 3)), created="2023-05-01T00:00:00Z"))
        for i in range(n_users):
            name = f"user{i}.{a.kind}"
            path = rng.choice(("/", "/", "/humans/", "/ci/"))
            inline = {}
            for j in range(rng.choice((0, 0, 1, 1, 2))):
                inline[f"inline-{j}"] = _doc(stmts.many(_stmt_count(rng, 7)), rng, sids=rng.random() < 0.3)
            self.inv.principals.append(Principal(
                arn=f"arn:aws:iam::{a.id}:user{path}{name}", kind="user", account=a.id, name=name, path=path,
                id=ids.iam("AIDA"), inline_policies=inline,
                managed_policy_arns=self.attach(aws_arns, (0, 1), (0, 2)) if rng.random() < 0.5 else [],
                permissions_boundary_arn=self.boundary if rng.random() < 0.25 else None,
                tags={"Team": rng.choice(("ml", "data", "platform", "clinical", "web"))},
                groups=rng.sample(groups, k=min(len(groups), rng.randint(1, 3))),
                last_used="2026-10-01T00:00:00Z" if rng.random() < 0.7 else None, created="2024-01-01T00:00:00Z"))
        kind_of_role = {r: k for k, pool in self.workload_roles.items() for r in pool}
        for arn in workload:
            self.role_from_arn(arn, _SERVICE_OF[kind_of_role[arn]], stmts, aws_arns)
        for i in range(n_other_roles):
            self.other_role(i, stmts, aws_arns)

    def role_from_arn(self, arn: str, service: str, stmts: _Stmts, aws_arns: list[str]) -> None:
        a, rng = self.a, self.rng
        path_name = arn.split(":role", 1)[1]
        name = path_name.rsplit("/", 1)[1]
        path = path_name[: -len(name)]
        trust: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"},
                                 "Action": "sts:AssumeRole"}
        if rng.random() < 0.3:
            trust["Condition"] = {"StringEquals": {"aws:SourceAccount": a.id}}
        inline = {"permissions": _doc(stmts.many(_stmt_count(rng, 12)), rng, sids=rng.random() < 0.5)}
        if self.synthetic and rng.random() < 0.03:
            self.risky_grant(inline["permissions"]["Statement"])
        profiles = []
        if service == "ec2":
            profile = arn.replace(":role/", ":instance-profile/")
            profiles.append(profile)
            self.inv.instance_profiles.append(InstanceProfile(arn=profile, account=a.id, name=name, role_arns=[arn]))
        tags = {"Workload": "synthetic-data"} if self.synthetic and a.kind == "synthetic" else {}
        self.inv.principals.append(Principal(
            arn=arn, kind="role", account=a.id, name=name, path=path, id=self.ids.iam("AROA"),
            inline_policies=inline, managed_policy_arns=self.attach(aws_arns, (0, 1), (0, 2)),
            permissions_boundary_arn=self.boundary if rng.random() < 0.15 else None, tags=tags,
            trust_policy={"Version": V, "Statement": [trust]}, instance_profile_arns=profiles,
            last_used="2026-11-01T00:00:00Z", created="2024-06-01T00:00:00Z"))
        a.roles.append(arn)

    def risky_grant(self, statements: list[dict]) -> None:
        """A synthetic workload role that can reach production: assume an export role or read PHI."""
        prod = self.by_kind.get("production") or ([self.a] if self.a.kind == "mixed" else [])
        if not prod:
            return
        p = self.rng.choice(prod)
        if self.rng.random() < 0.5:
            statements.append({"Sid": "AssumeProdExport", "Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": f"arn:aws:iam::{p.id}:role/data-export"})
        elif p.phi_buckets:
            b = self.rng.choice(p.phi_buckets)
            statements.append({"Sid": "ReadSeedData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                               "Resource": [b, b + "/*"]})

    def other_role(self, i: int, stmts: _Stmts, aws_arns: list[str]) -> None:
        a, rng = self.a, self.rng
        roll = rng.random()
        path = "/"
        managed: list[str]
        linked = False
        security = self.by_kind.get("security", [a])[0].id
        hub = self.by_kind.get("shared-services", [a])[0].id
        if i == 0 and a.kind in ("production", "mixed"):
            name, kind = "data-export", "export"
        elif i == 0 and a.kind == "shared-services":
            name, kind = "ci-deployer", "ci"
        elif i == 1:
            name, kind = "ReadOnly", "readonly"
        elif roll < 0.25:
            perm = rng.choice(("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "DataScientist",
                               "ViewOnlyAccess"))
            name, kind, path = f"AWSReservedSSO_{perm}_{self.ids.hex(16)}", "sso", "/aws-reserved/sso.amazonaws.com/"
        elif roll < 0.40:
            name, kind = f"audit-{i}", "audit"
        elif roll < 0.55:
            name, kind = f"ci-deploy-{i}", "deploy"
        elif roll < 0.70:
            svc = rng.choice(("rds", "elasticloadbalancing", "autoscaling", "ecs", "organizations"))
            name, kind, path, linked = f"AWSServiceRoleFor{svc.capitalize()}-{i}", "linked", f"/aws-service-role/{svc}.amazonaws.com/", True
        else:
            name, kind = f"app-role-{i}", "app"
        arn = f"arn:aws:iam::{a.id}:role{path}{name}"
        cond: dict[str, Any] | None = None
        if kind == "sso":
            principal: dict[str, Any] = {"Federated": f"arn:aws:iam::{a.id}:saml-provider/AWSSSO_{self.ids.hex(16)}_DO_NOT_DELETE"}
            action = ["sts:AssumeRoleWithSAML", "sts:TagSession"]
            cond = {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
            managed = [rng.choice(aws_arns)]
        elif kind == "audit":
            principal, action = {"AWS": f"arn:aws:iam::{security}:root"}, "sts:AssumeRole"
            cond = {"StringEquals": {"sts:ExternalId": f"audit-{self.ids.hex(8)}"}} if rng.random() < 0.5 else \
                {"StringEquals": {"aws:PrincipalOrgID": self.org.id}}
            managed = ["arn:aws:iam::aws:policy/SecurityAudit", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
        elif kind == "deploy":
            principal, action = {"AWS": f"arn:aws:iam::{hub}:role/ci-deployer"}, "sts:AssumeRole"
            managed = self.attach(aws_arns, (0, 1), (1, 2))
        elif kind == "linked":
            principal, action = {"Service": f"{path.split('/')[2]}"}, "sts:AssumeRole"
            managed = []
        elif kind == "ci":
            principal, action = {"Service": "codebuild.amazonaws.com"}, "sts:AssumeRole"
            managed = ["arn:aws:iam::aws:policy/PowerUserAccess"]
        elif kind == "readonly":
            principal, action = {"AWS": [f"arn:aws:iam::{security}:root", f"arn:aws:iam::{a.id}:root"]}, "sts:AssumeRole"
            managed = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        elif kind == "export":
            syn = self.by_kind.get("synthetic") or [a]
            principal = {"AWS": [f"arn:aws:iam::{a.id}:root"]}
            if rng.random() < 0.5:  # the export role trusts a synthetic account too
                principal["AWS"].append(f"arn:aws:iam::{rng.choice(syn).id}:root")
            action = "sts:AssumeRole"
            managed = []
        else:
            principal, action = {"AWS": f"arn:aws:iam::{a.id}:root"}, "sts:AssumeRole"
            managed = self.attach(aws_arns, (0, 1), (0, 3))
        trust: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
        if cond:
            trust["Condition"] = cond
        inline: dict[str, dict] = {}
        if kind == "export":
            targets = a.phi_buckets[:3] or a.buckets[:1]
            inline["export"] = {"Version": V, "Statement": [
                {"Sid": "ReadPhiExtracts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": [x for b in targets for x in (b, b + "/*")]}]}
        elif kind != "linked" and rng.random() < 0.85:
            inline["inline"] = _doc(stmts.many(_stmt_count(rng, 11)), rng, sids=rng.random() < 0.5)
            if rng.random() < 0.5:
                inline["extra"] = _doc(stmts.many(_stmt_count(rng, 4)), rng, sids=False)
        elif kind == "linked":
            inline["service"] = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [f"{path.split('/')[2].split('.')[0]}:*"],
                                                              "Resource": "*"}]}
        if arn not in a.roles:
            a.roles.append(arn)
        self.inv.principals.append(Principal(
            arn=arn, kind="role", account=a.id, name=name, path=path, id=self.ids.iam("AROA"),
            inline_policies=inline, managed_policy_arns=managed,
            permissions_boundary_arn=self.boundary if kind == "app" and rng.random() < 0.3 else None,
            tags={}, trust_policy={"Version": V, "Statement": [trust]}, is_service_linked=linked,
            last_used=None if rng.random() < 0.2 else "2026-11-01T00:00:00Z", created="2023-01-01T00:00:00Z"))


def _pre_role_names(a: _Acct) -> None:
    """Role ARNs other accounts reference before this account's identities are generated."""
    a.roles.append(f"arn:aws:iam::{a.id}:role/ReadOnly")
    if a.kind == "shared-services":
        a.roles.append(f"arn:aws:iam::{a.id}:role/ci-deployer")


def generate(spec: SizeSpec, seed: int = 1) -> Inventory:
    """Generate an organization of the given size; the same (spec, seed) gives the same inventory.

    Parameters
    ----------
    spec : SizeSpec
        Accounts, principals and resources to create (exact counts).
    seed : int
        Seed of the pseudo-random choices.

    Returns
    -------
    Inventory
        Sorted, ready for :func:`iamreach.snapshot.save`.
    """
    if spec.accounts < 1 or spec.principals < 10 * spec.accounts or spec.resources < 40 * spec.accounts:
        raise InputError("need at least 1 account, 10 principals and 40 resources per account",
                         field="size")
    rng = random.Random(seed)
    ids = _Ids(seed)
    kinds = _account_kinds(spec.accounts)
    p_split = _split(spec.principals, spec.accounts)
    r_split = _split(spec.resources, spec.accounts)
    base = 100_000_000_000 + (seed % 1000) * 1_000_000
    accts = [_Acct(id=f"{base + (i * 7919) % 1_000_000:012d}", kind=kind, index=i, region=_REGIONS[i % 2],
                   n_principals=p_split[i], n_resources=r_split[i]) for i, kind in enumerate(kinds)]
    by_kind: dict[str, list[_Acct]] = {}
    for a in accts:
        by_kind.setdefault(a.kind, []).append(a)
        _pre_role_names(a)
    if spec.accounts == 1:  # one mixed account plays every part
        by_kind.update({k: accts for k in ("production", "synthetic")})
    org, ou_ids = _organization(spec, ids, accts)
    inv = Inventory(organization=org)
    inv.org_policies = _scps(ou_ids, accts, ids)
    aws = _aws_managed()
    inv.policies.extend(aws)
    aws_arns = [p.arn for p in aws]
    # Resources first (all accounts), so identities can name real ARNs across accounts.
    gens: list[tuple[_AccountGen, dict[str, int]]] = []
    for a in accts:
        env = _ENV_TAG[a.kind]
        a.record = Account(id=a.id, name=f"{a.kind}-{a.index:03d}", org_id=org.id, ou_path=_ou_path(a.kind, ou_ids),
                           is_management=a.id == org.management_account_id, status="ACTIVE",
                           tags={"Environment": env} if env else {"Owner": "platform"},
                           s3_public_access_block={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                   "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
                           if a.kind == "production" else None,
                           regions=[a.region])
        inv.accounts.append(a.record)
        g = _AccountGen(a, inv, random.Random(rng.getrandbits(64)), ids, org, accts, by_kind)
        g.trail()
        g.network()
        counts = g.counts()
        g.stores(counts)
        gens.append((g, counts))
    for g, counts in gens:
        g.compute(counts)
        g.peering()
        while g.res_budget > 0:  # top up with security groups (every VPC has spares)
            g.security_group(g.rng.choice(g.a.vpcs))
        if g.res_budget < 0:
            raise AssertionError(f"account {g.a.id}: resource budget overrun by {-g.res_budget}")
    for g, _ in gens:
        peers = _peers(g.a, by_kind, g.rng)
        stmts = _Stmts(g.rng, g.a, peers)
        g.managed_policies(max(4, g.a.n_principals * 8 // 100), stmts)
        g.identities(stmts, aws_arns)
    inv.meta = {"source": "generate", "generator": {"size": spec.name, "accounts": spec.accounts,
                                                    "principals": spec.principals, "resources": spec.resources,
                                                    "seed": seed},
                "notes": ["synthetic organization from benchmarks/generate.py; not real account data"]}
    return inv.sort()


def _peers(a: _Acct, by_kind: dict[str, list[_Acct]], rng: random.Random) -> list[_Acct]:
    """Accounts this account's policies may reference: a few of its neighbours, not all."""
    pool = [x for k in ("shared-services", "security", "log-archive") for x in by_kind.get(k, [])]
    same = by_kind.get(a.kind, [])
    if same:
        pool.extend(rng.sample(same, k=min(3, len(same))))
    return pool or [a]


# ---------------------------------------------------------------------------------------------
# Mutation (diff benchmarks) and statistics
# ---------------------------------------------------------------------------------------------
def _policy_slots(inv: Inventory) -> list[tuple[Any, str | None]]:
    """Every customer-managed policy and every inline policy, in canonical order."""
    slots: list[tuple[Any, str | None]] = [(p, None) for p in inv.policies if p.account is not None]
    for pr in inv.principals:
        slots.extend((pr, name) for name in sorted(pr.inline_policies))
    return slots


def mutate(inv: Inventory, percent: float, seed: int = 1) -> int:
    """Change ``percent`` % of the customer-managed and inline policies in place.

    Each chosen policy gets one realistic edit: a statement added (read of a bucket, often a
    PHI one), a statement removed, a resource widened to ``*``, an action widened to a service
    wildcard, or a deny added. Returns how many policies were changed.
    """
    if not 0 <= percent <= 100:
        raise InputError(f"expected a percentage between 0 and 100, got {percent}", field="--mutate-percent")
    rng = random.Random(f"mutate-{seed}-{percent}")
    slots = _policy_slots(inv)
    k = round(len(slots) * percent / 100)
    buckets = [r.arn for r in inv.resources if r.kind == "s3_bucket"]
    phi = [r.arn for r in inv.resources if r.kind == "s3_bucket" and r.tags.get("DataClassification") == "PHI"]
    for index in sorted(rng.sample(range(len(slots)), k=k)):
        owner, name = slots[index]
        old = owner.document if name is None else owner.inline_policies[name]
        doc = copy.deepcopy(old)
        _edit(doc, rng, buckets, phi)
        if doc == old:  # the edit happened to be a no-op (already "*"): add a deny instead
            doc["Statement"].append({"Sid": "AddedDeny", "Effect": "Deny", "Action": "s3:DeleteObject",
                                     "Resource": "*"})
        if name is None:
            owner.document = doc
            owner.version_id = f"v{int((owner.version_id or 'v1')[1:] or 1) + 1}"
        else:
            owner.inline_policies[name] = doc
    inv.meta = {**inv.meta, "mutated": {"percent": percent, "seed": seed, "policies": k}}
    return k


def _edit(doc: dict, rng: random.Random, buckets: list[str], phi: list[str]) -> None:
    stmts = doc.get("Statement")
    if isinstance(stmts, dict):
        stmts = [stmts]
    stmts = list(stmts or [])
    roll = rng.random()
    if roll < 0.35 and buckets:
        b = rng.choice(phi) if phi and rng.random() < 0.3 else rng.choice(buckets)
        stmts.append({"Sid": "AddedRead", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                      "Resource": [b, b + "/*"]})
    elif roll < 0.55 and len(stmts) > 1:
        stmts.pop(rng.randrange(len(stmts)))
    elif roll < 0.75 and stmts:
        i = rng.randrange(len(stmts))
        s = dict(stmts[i])
        s["Resource"] = "*"
        s.pop("NotResource", None)
        stmts[i] = s
    elif roll < 0.9 and stmts:
        i = rng.randrange(len(stmts))
        s = dict(stmts[i])
        act = s.get("Action") or s.get("NotAction") or "s3:GetObject"
        first = act if isinstance(act, str) else (act[0] if act else "s3:GetObject")
        s["Action" if "Action" in s else "NotAction"] = first.split(":", 1)[0] + ":*"
        stmts[i] = s
    else:
        stmts.append({"Sid": "AddedDeny", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})
    doc["Statement"] = stmts


def _statements(doc: Any) -> int:
    if not isinstance(doc, dict):
        return 0
    s = doc.get("Statement")
    if isinstance(s, list):
        return len(s)
    return 1 if isinstance(s, dict) else 0


def count_statements(inv: Inventory) -> dict[str, int]:
    """Policy statements in the inventory, by where they live, plus ``total``."""
    out = {
        "managed": sum(_statements(p.document) for p in inv.policies),
        "inline": sum(_statements(d) for pr in inv.principals for d in pr.inline_policies.values()),
        "trust": sum(_statements(pr.trust_policy) for pr in inv.principals),
        "resource": sum(_statements(r.policy) for r in inv.resources),
        "org": sum(_statements(p.document) for p in inv.org_policies),
    }
    out["total"] = sum(out.values())
    return out


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Generate a deterministic synthetic AWS organization snapshot.")
    p.add_argument("--size", choices=sorted(SIZES), default="S", help="preset size (default S)")
    p.add_argument("--accounts", type=int, help="override the preset's account count")
    p.add_argument("--principals", type=int, help="override the preset's principal count")
    p.add_argument("--resources", type=int, help="override the preset's resource count")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--mutate-percent", type=float, default=None,
                   help="change this %% of policies (a diff variant); of --base when given")
    p.add_argument("--base", help="snapshot to mutate instead of generating one from --size/--seed")
    p.add_argument("--stats", action="store_true", help="print statement counts")
    p.add_argument("-o", "--output", required=True, help="snapshot to write (.json or .json.gz)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        if args.base and args.mutate_percent is None:
            raise InputError("--base needs --mutate-percent", field="--base")
        if args.base:
            inv = snapshot.load(args.base)
        else:
            preset = SIZES[args.size]
            custom = any(v is not None for v in (args.accounts, args.principals, args.resources))
            spec = SizeSpec("custom" if custom else preset.name, args.accounts or preset.accounts,
                            args.principals or preset.principals, args.resources or preset.resources)
            inv = generate(spec, args.seed)
        changed = mutate(inv, args.mutate_percent, args.seed) if args.mutate_percent is not None else 0
        built = time.perf_counter()
        snapshot.save(inv, args.output, collected_at=COLLECTED_AT)
    except IamreachError as exc:
        print(f"generate: error: {exc}", file=sys.stderr)
        return 2
    end = time.perf_counter()
    size = Path(args.output).stat().st_size
    line = (f"{args.output}: {len(inv.accounts)} accounts, {len(inv.principals)} principals, "
            f"{len(inv.resources)} resources; generated in {built - start:.1f}s, written in "
            f"{end - built:.1f}s ({size / 1e6:.1f} MB)")
    if changed:
        line += f"; {changed} policies mutated"
    print(line)
    if args.stats:
        print(count_statements(inv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
