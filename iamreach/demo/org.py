"""The healthcare demo organization: "Meridian Health" with PHI in production and a
synthetic-data account that must never reach it — and, on purpose, does.

:func:`build_demo_org` creates the organization in an AWS API emulator (moto) through boto3
and plants the failure patterns listed in :data:`PLANTED`, several with a *fixed twin*: the
same shape with the one statement or rule that makes the leak removed or scoped, so a demo
run shows both a finding and a pass. ``docs/demo.md`` describes the organization and the hops
iamreach should report for each pattern.

Every ARN in :data:`PLANTED` is a template: ``{production}``, ``{synthetic}``,
``{management}``, ``{region}``, ``{org_id}`` and the generated ids recorded in
:attr:`DemoOrg.refs` (instance ids, key ids, security group ids ...).
:meth:`DemoOrg.planted` returns them resolved.

Examples
--------
>>> sorted({p.pattern for p in PLANTED}) == list(range(1, 14))
True
>>> [p.id for p in PLANTED if p.pattern == 9]
['kms-key-decrypt-to-synthetic', 'kms-key-production-only']
>>> PLANTED[0].resolve({"region": "us-east-1", "production": "1", "synthetic": "2",
...                     "feature_worker_id": "i-0"}).target
'arn:aws:s3:::meridian-phi-records-1'
>>> PLANTED[0].to_dict()["hops"]
['runs_as', 'runs_as', 'can_assume', 'reads']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamreach.demo.builder import (
    FAKE_SECRET,
    ORG_ACCESS_ROLE,
    OrgBuilder,
    VpcInfo,
    account_trust,
    ingress,
    policy,
    principal_trust,
    service_trust,
    statement,
)

if TYPE_CHECKING:
    import boto3

__all__ = [
    "build_demo_org",
    "DemoOrg",
    "Planted",
    "PLANTED",
    "OrgBuilder",
    "PRODUCTION_CIDR",
    "SYNTHETIC_CIDR",
]

PRODUCTION_CIDR = "10.10.0.0/16"
SYNTHETIC_CIDR = "10.20.0.0/16"

_PROD = {"Environment": "production", "Owner": "platform-team"}
_PHI = {**_PROD, "DataClassification": "PHI"}
_SYN = {"Environment": "synthetic", "Workload": "synthetic-data", "Owner": "data-science"}

# -- ARN templates ---------------------------------------------------------------------------
_PHI_BUCKET = "arn:aws:s3:::meridian-phi-records-{production}"
_CLAIMS_BUCKET = "arn:aws:s3:::meridian-phi-claims-{production}"
_INBOX_BUCKET = "arn:aws:s3:::meridian-synthetic-inbox-{synthetic}"
_DATASETS_BUCKET = "arn:aws:s3:::meridian-synthetic-datasets-{synthetic}"
_PHI_CLUSTER = "arn:aws:rds:{region}:{production}:cluster:phi-patient-db"
_CLAIMS_CLUSTER = "arn:aws:rds:{region}:{production}:cluster:claims-db"
_PHI_TABLE = "arn:aws:dynamodb:{region}:{production}:table/patient-encounters"
_PHI_KEY = "arn:aws:kms:{region}:{production}:key/{phi_key_id}"
_CLAIMS_KEY = "arn:aws:kms:{region}:{production}:key/{claims_key_id}"
_READER_ROLE = "arn:aws:iam::{production}:role/phi-analytics-reader"
_CLAIMS_READER_ROLE = "arn:aws:iam::{production}:role/claims-reporting-reader"
_SYN_ROLE = "arn:aws:iam::{synthetic}:role/{name}"
_FEATURE_WORKER = "arn:aws:ec2:{region}:{synthetic}:instance/{feature_worker_id}"
_LOADER_WORKER = "arn:aws:ec2:{region}:{synthetic}:instance/{db_loader_id}"
_GENERATOR = "arn:aws:lambda:{region}:{synthetic}:function:synthetic-data-generator"
_GLUE_JOB = "arn:aws:glue:{region}:{synthetic}:job/synthetic-phi-extract"
_GLUE_CONN = "arn:aws:glue:{region}:{synthetic}:connection/prod-phi-aurora"
_NOTEBOOK = "arn:aws:sagemaker:{region}:{synthetic}:notebook-instance/synthetic-research-notebook"
_SANDBOX = "arn:aws:sagemaker:{region}:{synthetic}:notebook-instance/synthetic-sandbox-notebook"
_SYN_PRINCIPALS = "account:{synthetic}:principals"
_SYN_ROOT = "arn:aws:iam::{synthetic}:root"
_SYN_ADMIN = "arn:aws:iam::{synthetic}:role/OrganizationAccountAccessRole"
_SG = "arn:aws:ec2:{region}:{account}:security-group/{sg}"


def _syn_role(name: str) -> str:
    return _SYN_ROLE.replace("{name}", name)


def _sg(account: str, ref: str) -> str:
    return _SG.replace("{account}", "{" + account + "}").replace("{sg}", "{" + ref + "}")


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted failure pattern (or its fixed twin) of the demo organization.

    Attributes
    ----------
    pattern : int
        The pattern number, 1-13 (see ``docs/demo.md``).
    id : str
        A short, unique, stable id.
    description : str
        One line: what is planted and why it leaks (or, for a twin, why it does not).
    resources : tuple of str
        ARN (or node id) templates of the objects involved, the main one first.
    fixed : bool
        True for a fixed twin: iamreach must NOT report it.
    source : str or None
        For reachability patterns, the synthetic node a path starts from.
    target : str or None
        For reachability patterns, the production PHI node it must (or, fixed, must not) reach;
        for configuration checks, the resource the check inspects.
    hops : tuple of str
        The edge kinds (:class:`iamreach.model.EdgeKind` values) of the expected path, in order;
        empty for configuration checks.
    expect : str
        What iamreach should report, in words.
    """

    pattern: int
    id: str
    description: str
    resources: tuple[str, ...]
    fixed: bool = False
    source: str | None = None
    target: str | None = None
    hops: tuple[str, ...] = ()
    expect: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (tuples become lists)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}

    def resolve(self, values: Mapping[str, str]) -> Planted:
        """Return a copy with every template filled from ``values``.

        Raises
        ------
        KeyError
            When a template names a placeholder ``values`` lacks.
        """

        def fill(text: str | None) -> str | None:
            return None if text is None else text.format_map(values)

        return dataclasses.replace(
            self, resources=tuple(fill(r) for r in self.resources),
            source=fill(self.source), target=fill(self.target),
            description=fill(self.description), expect=fill(self.expect))


PLANTED: tuple[Planted, ...] = (
    Planted(1, "synthetic-ec2-assumes-prod-phi-reader",
            "EC2 instance profile role in synthetic may sts:AssumeRole production role phi-analytics-reader, "
            "whose trust names the synthetic account root with no condition; the role reads the PHI bucket",
            (_syn_role("synthetic-feature-extractor"), _READER_ROLE, _PHI_BUCKET, _FEATURE_WORKER),
            source=_FEATURE_WORKER, target=_PHI_BUCKET,
            hops=("runs_as", "runs_as", "can_assume", "reads"),
            expect="path: instance -> instance profile -> synthetic-feature-extractor -> phi-analytics-reader "
                   "-> meridian-phi-records bucket"),
    Planted(1, "synthetic-ec2-reads-phi-db-secret",
            "the same assumed production role may read the Aurora master secret, which unlocks the PHI cluster",
            (_READER_ROLE, "{phi_secret_arn}", _PHI_CLUSTER),
            source=_syn_role("synthetic-feature-extractor"), target=_PHI_CLUSTER,
            hops=("can_assume", "reads", "unlocks"),
            expect="path: synthetic-feature-extractor -> phi-analytics-reader -> secret prod/phi-patient-db/master "
                   "-> phi-patient-db cluster (from the EC2 instance itself the shortest path is pattern 6's "
                   "can_connect)"),
    Planted(2, "prod-bucket-policy-grants-synthetic-role",
            "PHI bucket policy grants s3:GetObject to the synthetic Lambda role synthetic-data-generator, "
            "whose identity policy allows the read",
            (_PHI_BUCKET, _syn_role("synthetic-data-generator"), _GENERATOR),
            source=_GENERATOR, target=_PHI_BUCKET, hops=("runs_as", "reads"),
            expect="path: Lambda synthetic-data-generator -> its role -> meridian-phi-records bucket "
                   "(evidence: bucket policy Sid SeedSyntheticGenerator)"),
    Planted(2, "claims-bucket-policy-production-only",
            "fixed twin: PHI claims bucket policy grants s3:GetObject only to production role claims-processor",
            (_CLAIMS_BUCKET, "arn:aws:iam::{production}:role/claims-processor"),
            fixed=True, source=_SYN_ADMIN, target=_CLAIMS_BUCKET,
            expect="no path from any synthetic node (not even the synthetic account's administrator role) "
                   "to meridian-phi-claims"),
    Planted(3, "synthetic-loader-reads-prod-table",
            "EC2 instance profile role synthetic-db-loader has rds:*, rds-db:connect and dynamodb:GetItem/Scan/"
            "Query on production resources; the PHI table's resource policy also grants it",
            (_syn_role("synthetic-db-loader"), _PHI_TABLE, _PHI_CLUSTER, _LOADER_WORKER),
            source=_LOADER_WORKER, target=_PHI_TABLE, hops=("runs_as", "runs_as", "reads"),
            expect="path: instance -> profile -> synthetic-db-loader -> patient-encounters table; the rds:* and "
                   "rds-db:connect statements name production ARNs (cross-account, no resource policy: "
                   "IAM alone does not grant them, the network path of pattern 6 does reach the cluster)"),
    Planted(4, "cross-account-trust-no-condition",
            "production role phi-analytics-reader trusts arn:aws:iam::{synthetic}:root with no sts:ExternalId "
            "or aws:PrincipalOrgID/PrincipalArn condition",
            (_READER_ROLE,), source=_SYN_ADMIN, target=_READER_ROLE, hops=("can_assume",),
            expect="can_assume edges to phi-analytics-reader from every synthetic principal whose identity policy "
                   "allows sts:AssumeRole on it (OrganizationAccountAccessRole, synthetic-feature-extractor, "
                   "synthetic-notebook-exec); not from the synthetic root user, which the SCP denies"),
    Planted(4, "claims-trust-production-principal-only",
            "fixed twin: production role claims-reporting-reader trusts only the production role claims-processor",
            (_CLAIMS_READER_ROLE, "arn:aws:iam::{production}:role/claims-processor"),
            fixed=True, source=_SYN_ADMIN, target=_CLAIMS_READER_ROLE,
            expect="no can_assume edge from any synthetic principal (even the administrator role) to "
                   "claims-reporting-reader"),
    Planted(5, "aurora-snapshot-shared-to-synthetic",
            "manual snapshot of the PHI Aurora cluster with the synthetic account in its restore attribute",
            ("arn:aws:rds:{region}:{production}:cluster-snapshot:phi-patient-db-pre-migration", _PHI_CLUSTER),
            source="arn:aws:rds:{region}:{production}:cluster-snapshot:phi-patient-db-pre-migration",
            target=_SYN_PRINCIPALS, hops=("shared_with",),
            expect="edge: cluster snapshot -shared_with-> synthetic account principals (restorable there)"),
    Planted(5, "aurora-snapshot-not-shared",
            "fixed twin: manual snapshot of the claims cluster, not shared",
            ("arn:aws:rds:{region}:{production}:cluster-snapshot:claims-db-nightly-manual", _CLAIMS_CLUSTER),
            fixed=True, source="arn:aws:rds:{region}:{production}:cluster-snapshot:claims-db-nightly-manual",
            target=_SYN_PRINCIPALS, expect="no shared_with edge"),
    Planted(5, "ebs-snapshot-unencrypted-shared",
            "unencrypted snapshot of a PHI imaging volume with createVolumePermission for the synthetic account",
            ("arn:aws:ec2:{region}::snapshot/{phi_ebs_snapshot_id}",),
            source="arn:aws:ec2:{region}::snapshot/{phi_ebs_snapshot_id}", target=_SYN_PRINCIPALS,
            hops=("shared_with",),
            expect="edge: unencrypted EBS snapshot -shared_with-> synthetic account principals"),
    Planted(5, "ebs-snapshot-encrypted-private",
            "fixed twin: PHI volume snapshot encrypted with the production-only key and not shared",
            ("arn:aws:ec2:{region}::snapshot/{claims_ebs_snapshot_id}",),
            fixed=True, source="arn:aws:ec2:{region}::snapshot/{claims_ebs_snapshot_id}", target=_SYN_PRINCIPALS,
            expect="no shared_with edge"),
    Planted(6, "peering-aurora-open-to-synthetic-cidr",
            "synthetic VPC 10.20.0.0/16 peered with production VPC 10.10.0.0/16, routes both ways; the PHI Aurora "
            "cluster's security group allows tcp/5432 from 10.20.0.0/16",
            (_PHI_CLUSTER, _sg("production", "phi_db_sg"), "{peering_id}"),
            source=_GENERATOR, target=_PHI_CLUSTER, hops=("can_connect",),
            expect="can_connect tcp/5432 from synthetic workloads in 10.20.0.0/16 (Lambda, Glue connection, "
                   "EC2, notebook) to phi-patient-db over the peering"),
    Planted(6, "claims-aurora-sg-app-only",
            "fixed twin: the claims Aurora cluster's security group allows tcp/5432 only from the production app SG",
            (_CLAIMS_CLUSTER, _sg("production", "claims_db_sg")),
            fixed=True, source=_GENERATOR, target=_CLAIMS_CLUSTER,
            expect="no can_connect edge from any synthetic workload to claims-db"),
    Planted(7, "glue-jdbc-to-prod-aurora",
            "Glue job synthetic-phi-extract uses JDBC connection prod-phi-aurora whose URL is "
            "jdbc:postgresql://<phi-patient-db endpoint>:5432/phi (password is a placeholder)",
            (_GLUE_JOB, _GLUE_CONN, _PHI_CLUSTER),
            source=_GLUE_JOB, target=_PHI_CLUSTER, hops=("can_connect",),
            expect="path: Glue job -> connection in the synthetic subnet -> tcp/5432 over the peering -> "
                   "phi-patient-db"),
    Planted(8, "sagemaker-internet-notebook-reads-prod",
            "SageMaker notebook with DirectInternetAccess Enabled whose role may assume phi-analytics-reader",
            (_NOTEBOOK, _syn_role("synthetic-notebook-exec"), _READER_ROLE, _PHI_BUCKET),
            source=_NOTEBOOK, target=_PHI_BUCKET, hops=("runs_as", "can_assume", "reads"),
            expect="path: notebook -> synthetic-notebook-exec -> phi-analytics-reader -> meridian-phi-records; "
                   "plus the notebook direct-internet check"),
    Planted(8, "sagemaker-sandbox-notebook",
            "fixed twin: notebook in the synthetic subnet, DirectInternetAccess Disabled, role reads only "
            "synthetic datasets",
            (_SANDBOX, _syn_role("synthetic-sandbox-exec")),
            fixed=True, source=_SANDBOX, target=_PHI_BUCKET,
            expect="no path to meridian-phi-records and no direct-internet finding (it still sits in the "
                   "synthetic subnet, so pattern 6's network path to phi-patient-db applies to it as well)"),
    Planted(9, "kms-key-decrypt-to-synthetic",
            "production key alias/phi-records (encrypts the PHI bucket, cluster and secret) lets the synthetic "
            "account root kms:Decrypt",
            (_PHI_KEY, _PHI_BUCKET), source=_GENERATOR, target=_PHI_KEY, hops=("runs_as", "decrypts"),
            expect="decrypts edge from synthetic-data-generator (identity kms:Decrypt on production keys) "
                   "to alias/phi-records, and a key-policy finding naming the synthetic account"),
    Planted(9, "kms-key-production-only",
            "fixed twin: production key alias/claims-prod, key policy names only the production root",
            (_CLAIMS_KEY, _CLAIMS_BUCKET), fixed=True, source=_GENERATOR, target=_CLAIMS_KEY,
            expect="no decrypts edge from any synthetic principal"),
    Planted(10, "prod-trail-single-region-no-data-events",
            "production trail prod-management-events is single-region and logs no S3 data events",
            ("arn:aws:cloudtrail:{region}:{production}:trail/prod-management-events", "arn:aws:iam::{production}:root",
             _PHI_BUCKET, _CLAIMS_BUCKET),
            target="arn:aws:iam::{production}:root",
            expect="CloudTrail check: the production account has no multi-region trail, and no trail records "
                   "S3 data events for its PHI buckets (both PHI buckets are named)"),
    Planted(10, "synthetic-account-no-trail",
            "the synthetic-data account has no CloudTrail trail at all",
            ("arn:aws:iam::{synthetic}:root",), target="arn:aws:iam::{synthetic}:root",
            expect="CloudTrail check: account {synthetic} has no trail"),
    Planted(10, "management-trail-complete",
            "fixed twin: management trail org-audit is multi-region, logging, with S3 data events",
            ("arn:aws:cloudtrail:{region}:{management}:trail/org-audit",), fixed=True,
            target="arn:aws:cloudtrail:{region}:{management}:trail/org-audit",
            expect="no CloudTrail finding for org-audit"),
    Planted(11, "sfn-phi-no-tracing-no-logging",
            "state machine synthetic-phi-pipeline (tag DataClassification=PHI, reads the PHI bucket) has "
            "X-Ray tracing disabled and logging OFF",
            ("arn:aws:states:{region}:{synthetic}:stateMachine:synthetic-phi-pipeline",),
            target="arn:aws:states:{region}:{synthetic}:stateMachine:synthetic-phi-pipeline",
            expect="Step Functions check: PHI state machine without tracing or logging"),
    Planted(11, "sfn-phi-traced-logged",
            "fixed twin: state machine synthetic-phi-audit-pipeline (PHI) with tracing and ALL-level logging",
            ("arn:aws:states:{region}:{synthetic}:stateMachine:synthetic-phi-audit-pipeline",), fixed=True,
            target="arn:aws:states:{region}:{synthetic}:stateMachine:synthetic-phi-audit-pipeline",
            expect="no Step Functions finding"),
    Planted(12, "synthetic-scp-no-production-guardrail",
            "SCP synthetic-guardrails on the Synthetic OU denies leaving the org, trail tampering, IAM users "
            "and the root user, but nothing about production resources",
            ("{scp_arn}", "{synthetic_ou}", _SYN_ROOT), target=_SYN_ROOT,
            expect="guardrail check: no SCP denies synthetic principals access to production accounts"),
    Planted(12, "production-rcp-org-perimeter-only",
            "RCP org-data-perimeter on the Production OU denies S3/STS/KMS/Secrets Manager to principals "
            "outside the organization only; synthetic is inside, so it does not stop patterns 1, 2, 8, 9",
            ("{rcp_arn}", "{production_ou}"), target="{production_ou}",
            expect="the RCP is evaluated and does not cut any synthetic path (aws:PrincipalOrgID matches)"),
    Planted(13, "synthetic-ssh-open-to-world",
            "security group synthetic-bastion-ssh allows tcp/22 from 0.0.0.0/0",
            (_sg("synthetic", "ssh_open_sg"),), target=_sg("synthetic", "ssh_open_sg"),
            expect="network check: SSH open to the internet"),
    Planted(13, "synthetic-ssh-internal-only",
            "fixed twin: security group synthetic-admin-ssh allows tcp/22 only from 10.20.0.0/16",
            (_sg("synthetic", "ssh_internal_sg"),), fixed=True, target=_sg("synthetic", "ssh_internal_sg"),
            expect="no network finding"),
    Planted(13, "synthetic-inbox-public-write",
            "bucket meridian-synthetic-inbox policy lets Principal \"*\" s3:PutObject",
            (_INBOX_BUCKET,), source="internet", target=_INBOX_BUCKET, hops=("exposes",),
            expect="edge: internet -exposes-> meridian-synthetic-inbox (s3:PutObject), a public-write finding"),
    Planted(13, "synthetic-datasets-private-write",
            "fixed twin: bucket meridian-synthetic-datasets policy grants s3:PutObject only to the generator role",
            (_DATASETS_BUCKET,), fixed=True, source="internet", target=_DATASETS_BUCKET,
            expect="no exposes edge and no public-write finding"),
)


@dataclass(frozen=True)
class DemoOrg:
    """The built demo organization: account ids, OU ids, generated ids, and sessions.

    Attributes
    ----------
    region : str
    org_id : str
    management, production, synthetic : str
        Account ids.
    ous : mapping
        OU name -> OU id (``Production``, ``Synthetic``).
    refs : mapping
        Generated ids the planted templates refer to (``feature_worker_id``, ``phi_key_id`` ...).
    """

    region: str
    org_id: str
    management: str
    production: str
    synthetic: str
    ous: Mapping[str, str]
    refs: Mapping[str, str]
    builder: OrgBuilder = field(repr=False, compare=False)

    def session(self, account: str) -> boto3.Session:
        """Return a :class:`boto3.Session` acting in ``account`` (assumes OrganizationAccountAccessRole)."""
        return self.builder.session(account)

    def placeholders(self) -> dict[str, str]:
        """Every template placeholder and its value."""
        return {"region": self.region, "org_id": self.org_id, "management": self.management,
                "production": self.production, "synthetic": self.synthetic,
                "production_ou": self.ous["Production"], "synthetic_ou": self.ous["Synthetic"], **self.refs}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: accounts, OUs, generated ids and the resolved planted list."""
        return {"region": self.region, "org_id": self.org_id, "management": self.management,
                "production": self.production, "synthetic": self.synthetic, "ous": dict(self.ous),
                "refs": dict(self.refs), "planted": [p.to_dict() for p in self.planted()]}

    def planted(self, pattern: int | None = None, *, fixed: bool | None = None) -> list[Planted]:
        """Return :data:`PLANTED` resolved for this organization, optionally filtered.

        Parameters
        ----------
        pattern : int, optional
            Only entries of this pattern number.
        fixed : bool, optional
            Only fixed twins (True) or only leaks (False).
        """
        values = self.placeholders()
        return [p.resolve(values) for p in PLANTED
                if (pattern is None or p.pattern == pattern) and (fixed is None or p.fixed == fixed)]


# -- building ---------------------------------------------------------------------------------

def build_demo_org(region: str = "us-east-1", *, endpoint_url: str | None = None,
                   session: boto3.Session | None = None) -> DemoOrg:
    """Build the Meridian Health demo organization in a moto server and plant :data:`PLANTED`.

    Parameters
    ----------
    region : str
        Region for every regional resource.
    endpoint_url : str, optional
        Emulator endpoint; defaults to ``AWS_ENDPOINT_URL`` (one is required).
    session : boto3.Session, optional
        Management-account credentials (default: the ambient credential chain).

    Returns
    -------
    DemoOrg

    Raises
    ------
    iamreach.errors.InputError
        When no emulator endpoint is configured.
    """
    b = OrgBuilder(region, endpoint_url=endpoint_url, session=session).create_org(
        production_name="meridian-production", synthetic_name="meridian-synthetic-data",
        production_tags={"Environment": "production", "CostCenter": "clinical-platform"},
        synthetic_tags={"Environment": "synthetic", "Workload": "synthetic-data"})
    refs: dict[str, str] = {}
    for account in (b.production, b.synthetic):
        b.put_role_policy(account, ORG_ACCESS_ROLE, "AdministratorAccess", policy(statement("*", "*")))
    prod_vpc, syn_vpc = _networks(b, refs)
    _production_iam(b, refs)
    _production_stores(b, refs, prod_vpc)
    _synthetic(b, refs, syn_vpc)
    _management(b, refs)
    return DemoOrg(region, b.org_id or "", b.management, b.production, b.synthetic, dict(b.ous), refs, b)


def _networks(b: OrgBuilder, refs: dict[str, str]) -> tuple[VpcInfo, VpcInfo]:
    """Both VPCs, the peering with routes both ways, and every security group."""
    prod = b.vpc(b.production, PRODUCTION_CIDR, "prod-core", tags=_PROD)
    syn = b.vpc(b.synthetic, SYNTHETIC_CIDR, "synthetic-data", tags=_SYN)
    refs["production_vpc_id"], refs["synthetic_vpc_id"] = prod.vpc_id, syn.vpc_id
    refs["peering_id"] = b.peering(syn, prod, name="synthetic-to-prod-core")
    app = b.sg(b.production, prod.vpc_id, "prod-app", [ingress(443, cidrs=[PRODUCTION_CIDR])], tags=_PROD)
    refs["prod_app_sg"] = app
    refs["phi_db_sg"] = b.sg(b.production, prod.vpc_id, "phi-patient-db-sg", [
        ingress(5432, groups=[app], description="app tier"),
        ingress(5432, cidrs=[SYNTHETIC_CIDR], description="synthetic-data ETL (temporary)")], tags=_PHI)
    refs["claims_db_sg"] = b.sg(b.production, prod.vpc_id, "claims-db-sg", [
        ingress(5432, groups=[app], description="app tier")], tags=_PHI)
    refs["workers_sg"] = b.sg(b.synthetic, syn.vpc_id, "synthetic-workers", tags=_SYN)
    refs["ssh_open_sg"] = b.sg(b.synthetic, syn.vpc_id, "synthetic-bastion-ssh",
                               [ingress(22, cidrs=["0.0.0.0/0"], description="ssh")], tags=_SYN)
    refs["ssh_internal_sg"] = b.sg(b.synthetic, syn.vpc_id, "synthetic-admin-ssh",
                                   [ingress(22, cidrs=[SYNTHETIC_CIDR], description="ssh from VPC")], tags=_SYN)
    return prod, syn


def _production_iam(b: OrgBuilder, refs: dict[str, str]) -> None:
    """Keys and roles of the production account."""
    prod, syn = b.production, b.synthetic
    root = statement("kms:*", "*", principal={"AWS": f"arn:aws:iam::{prod}:root"}, sid="EnableRootPermissions")
    phi_key = b.kms_key(prod, "phi-records", policy(root, statement(
        ["kms:Decrypt", "kms:DescribeKey"], "*", principal={"AWS": f"arn:aws:iam::{syn}:root"},
        sid="AllowSyntheticAnalyticsDecrypt")), _PHI, description="PHI records at rest")
    claims_key = b.kms_key(prod, "claims-prod", policy(root), _PHI, description="claims data at rest")
    refs["phi_key_arn"], refs["phi_key_id"] = phi_key, phi_key.rsplit("/", 1)[1]
    refs["claims_key_arn"], refs["claims_key_id"] = claims_key, claims_key.rsplit("/", 1)[1]
    phi_bucket, claims_bucket = _fmt(_PHI_BUCKET, b), _fmt(_CLAIMS_BUCKET, b)
    b.role(prod, "phi-analytics-reader", account_trust(syn), {"phi-read": policy(
        statement(["s3:GetObject", "s3:ListBucket"], [phi_bucket, f"{phi_bucket}/*"], sid="ReadPhiRecords"),
        statement("kms:Decrypt", phi_key, sid="DecryptPhiRecords"),
        statement("secretsmanager:GetSecretValue",
                  f"arn:aws:secretsmanager:{b.region}:{prod}:secret:prod/phi-patient-db/*", sid="ReadDbSecret"))},
           {**_PROD, "Team": "analytics"})
    processor = b.role(prod, "claims-processor", service_trust("ec2.amazonaws.com"), {"claims": policy(
        statement(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [claims_bucket, f"{claims_bucket}/*"]),
        statement(["kms:Decrypt", "kms:GenerateDataKey"], claims_key))}, _PROD, instance_profile=True)
    b.role(prod, "claims-reporting-reader", principal_trust(processor), {"claims-read": policy(
        statement(["s3:GetObject", "s3:ListBucket"], [claims_bucket, f"{claims_bucket}/*"]),
        statement("kms:Decrypt", claims_key))}, _PROD)


def _production_stores(b: OrgBuilder, refs: dict[str, str], vpc: VpcInfo) -> None:
    """Buckets, Aurora clusters, snapshots, table, secret, trail and an app server in production."""
    prod, syn = b.production, b.synthetic
    phi_bucket, claims_bucket = _fmt(_PHI_BUCKET, b), _fmt(_CLAIMS_BUCKET, b)
    b.bucket(prod, phi_bucket.rsplit(":", 1)[1], policy(statement(
        "s3:GetObject", f"{phi_bucket}/*", principal={"AWS": f"arn:aws:iam::{syn}:role/synthetic-data-generator"},
        sid="SeedSyntheticGenerator")), _PHI, refs["phi_key_arn"])
    b.bucket(prod, claims_bucket.rsplit(":", 1)[1], policy(statement(
        "s3:GetObject", f"{claims_bucket}/*", principal={"AWS": f"arn:aws:iam::{prod}:role/claims-processor"},
        sid="ClaimsProcessorRead")), _PHI, refs["claims_key_arn"])
    phi = b.aurora(prod, "phi-patient-db", vpc, [refs["phi_db_sg"]], kms_key=refs["phi_key_arn"], tags=_PHI,
                   database="phi")
    refs["phi_cluster_endpoint"], refs["phi_cluster_resource_id"] = phi.endpoint, phi.resource_id
    b.aurora(prod, "claims-db", vpc, [refs["claims_db_sg"]], kms_key=refs["claims_key_arn"], tags=_PHI,
             database="claims")
    b.cluster_snapshot(prod, "phi-patient-db", "phi-patient-db-pre-migration", share_with=[syn], tags=_PHI)
    b.cluster_snapshot(prod, "claims-db", "claims-db-nightly-manual", tags=_PHI)
    refs["phi_ebs_volume_id"], refs["phi_ebs_snapshot_id"] = b.ebs_snapshot(
        prod, share_with=[syn], tags={**_PHI, "Name": "phi-imaging-scratch"})
    refs["claims_ebs_volume_id"], refs["claims_ebs_snapshot_id"] = b.ebs_snapshot(
        prod, kms_key=refs["claims_key_arn"], tags={**_PHI, "Name": "claims-archive"})
    loader = f"arn:aws:iam::{syn}:role/synthetic-db-loader"
    b.table(prod, "patient-encounters", _PHI, resource_policy=policy(statement(
        ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"], _fmt(_PHI_TABLE, b), principal={"AWS": loader},
        sid="SyntheticLoaderSeedRead")))
    refs["phi_secret_arn"] = b.secret(prod, "prod/phi-patient-db/master",
                                      {"username": "dbadmin", "password": FAKE_SECRET, "engine": "postgres",
                                       "host": phi.endpoint, "port": "5432", "dbname": "phi"},
                                      {**_PHI, "iamreach:unlocks": phi.arn}, kms_key=refs["phi_key_arn"])
    trail_bucket = f"meridian-prod-cloudtrail-{prod}"
    b.bucket(prod, trail_bucket, _trail_bucket_policy(trail_bucket, prod), _PROD)
    b.trail(prod, "prod-management-events", trail_bucket, multi_region=False, s3_data_events=False)
    profile = f"arn:aws:iam::{prod}:instance-profile/claims-processor"
    refs["claims_app_id"] = b.instance(prod, "claims-app-01", vpc.subnet_ids[0], [refs["prod_app_sg"]],
                                       instance_profile_arn=profile, tags=_PROD).rsplit("/", 1)[1]


def _synthetic(b: OrgBuilder, refs: dict[str, str], vpc: VpcInfo) -> None:
    """Roles, workloads and buckets of the synthetic-data account."""
    syn, prod, region = b.synthetic, b.production, b.region
    phi_bucket, datasets = _fmt(_PHI_BUCKET, b), _fmt(_DATASETS_BUCKET, b)
    reader = _fmt(_READER_ROLE, b)
    own_data = statement(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [datasets, f"{datasets}/*"],
                         sid="SyntheticDatasets")
    ec2_trust = service_trust("ec2.amazonaws.com")
    b.role(syn, "synthetic-feature-extractor", ec2_trust, {"features": policy(
        own_data, statement("sts:AssumeRole", reader, sid="AssumeProdAnalytics"))}, _SYN, instance_profile=True)
    b.role(syn, "synthetic-db-loader", ec2_trust, {"loader": policy(
        own_data,
        statement("rds:*", f"arn:aws:rds:{region}:{prod}:*", sid="ProdRdsAll"),
        statement("rds-db:connect", f"arn:aws:rds-db:{region}:{prod}:dbuser:{refs['phi_cluster_resource_id']}/*",
                  sid="ProdDbConnect"),
        statement(["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query"], _fmt(_PHI_TABLE, b),
                  sid="ProdTableRead"))}, _SYN, instance_profile=True)
    generator = b.role(syn, "synthetic-data-generator", service_trust("lambda.amazonaws.com"), {"generator": policy(
        own_data,
        statement("s3:GetObject", "arn:aws:s3:::meridian-phi-records-*/*", sid="SeedFromRecords"),
        statement("kms:Decrypt", f"arn:aws:kms:{region}:{prod}:key/*", sid="DecryptSeed"))}, _SYN)
    glue_role = b.role(syn, "synthetic-glue-etl", service_trust("glue.amazonaws.com"), {"glue": policy(
        own_data, statement(["glue:Get*", "glue:BatchGet*"], "*", sid="GlueCatalog"))}, _SYN)
    notebook_role = b.role(syn, "synthetic-notebook-exec", service_trust("sagemaker.amazonaws.com"), {"nb": policy(
        own_data, statement("sts:AssumeRole", reader, sid="AssumeProdAnalytics"))}, _SYN)
    sandbox_role = b.role(syn, "synthetic-sandbox-exec", service_trust("sagemaker.amazonaws.com"),
                          {"sandbox": policy(own_data)}, _SYN)
    sfn_role = b.role(syn, "synthetic-pipeline-exec", service_trust("states.amazonaws.com"), {"pipeline": policy(
        statement("lambda:InvokeFunction", _fmt(_GENERATOR, b), sid="InvokeGenerator"),
        statement("s3:GetObject", f"{phi_bucket}/*", sid="ReadRecords"))}, _SYN)

    b.bucket(syn, datasets.rsplit(":", 1)[1], policy(statement(
        "s3:PutObject", f"{datasets}/*", principal={"AWS": generator}, sid="GeneratorWrites")), _SYN, sse_s3=True)
    inbox = _fmt(_INBOX_BUCKET, b)
    b.bucket(syn, inbox.rsplit(":", 1)[1], policy(statement(
        "s3:PutObject", f"{inbox}/*", principal="*", sid="PartnerUploads")), _SYN, sse_s3=True)

    workers = [refs["workers_sg"]]
    subnet, az = vpc.subnet_ids[0], vpc.availability_zones[0]
    user_data = f"#!/bin/bash\nexport FEATURE_STORE_TOKEN={FAKE_SECRET}\n/opt/meridian/extract-features.sh\n"
    refs["feature_worker_id"] = b.instance(
        syn, "synthetic-feature-worker-01", subnet, workers, user_data=user_data, tags=_SYN,
        instance_profile_arn=f"arn:aws:iam::{syn}:instance-profile/synthetic-feature-extractor").rsplit("/", 1)[1]
    refs["db_loader_id"] = b.instance(
        syn, "synthetic-db-loader-01", vpc.subnet_ids[1], workers, tags=_SYN,
        instance_profile_arn=f"arn:aws:iam::{syn}:instance-profile/synthetic-db-loader").rsplit("/", 1)[1]
    refs["bastion_id"] = b.instance(syn, "synthetic-bastion-01", subnet, [refs["ssh_open_sg"]],
                                    tags=_SYN).rsplit("/", 1)[1]
    b.lambda_function(syn, "synthetic-data-generator", generator, tags=_SYN,
                      environment={"OUTPUT_BUCKET": datasets.rsplit(":", 1)[1], "API_TOKEN": FAKE_SECRET},
                      subnet_ids=list(vpc.subnet_ids), security_group_ids=workers)
    jdbc = f"jdbc:postgresql://{refs['phi_cluster_endpoint']}:5432/phi"
    b.glue_connection(syn, "prod-phi-aurora", jdbc, subnet_id=subnet, security_group_ids=workers,
                      availability_zone=az, tags=_SYN)
    b.glue_job(syn, "synthetic-phi-extract", glue_role, connections=["prod-phi-aurora"], tags=_SYN)
    b.notebook(syn, "synthetic-research-notebook", notebook_role, direct_internet_access=True,
               subnet_id=subnet, security_group_ids=workers, tags=_SYN)
    b.notebook(syn, "synthetic-sandbox-notebook", sandbox_role, direct_internet_access=False,
               subnet_id=subnet, security_group_ids=workers, tags=_SYN)
    definition = _pipeline_definition(phi_bucket.rsplit(":", 1)[1], _fmt(_GENERATOR, b))
    phi_tags = {**_SYN, "DataClassification": "PHI"}
    b.state_machine(syn, "synthetic-phi-pipeline", sfn_role, definition, tags=phi_tags)
    log_group = b.log_group(syn, "/aws/vendedlogs/states/synthetic-phi-audit-pipeline")
    b.state_machine(syn, "synthetic-phi-audit-pipeline", sfn_role, definition, tracing=True,
                    log_group_arn=log_group, tags=phi_tags)


def _management(b: OrgBuilder, refs: dict[str, str]) -> None:
    """The organization trail bucket and trail, the Synthetic OU SCP and the Production OU RCP."""
    mgmt = b.management
    bucket = f"meridian-org-audit-{mgmt}"
    b.bucket(mgmt, bucket, _trail_bucket_policy(bucket, mgmt), {"Environment": "management"})
    b.trail(mgmt, "org-audit", bucket, multi_region=True, s3_data_events=True)
    refs["scp_arn"] = b.org_policy("synthetic-guardrails", policy(
        statement("organizations:LeaveOrganization", "*", effect="Deny", sid="DenyLeaveOrg"),
        statement(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"], "*",
                  effect="Deny", sid="ProtectTrails"),
        statement(["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "*", effect="Deny",
                  sid="NoLongLivedCredentials"),
        statement("*", "*", effect="Deny", sid="DenyRootUser",
                  condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}),
    ), [b.ou("Synthetic")], description="baseline guardrails for the synthetic-data OU")
    refs["rcp_arn"] = b.org_policy("org-data-perimeter", policy(statement(
        ["s3:*", "sts:*", "kms:*", "secretsmanager:*"], "*", effect="Deny", principal="*", sid="OrgPerimeter",
        condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": b.org_id},
                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})),
        [b.ou("Production")], policy_type="RESOURCE_CONTROL_POLICY",
        description="deny access from outside the organization")


def _trail_bucket_policy(bucket: str, account: str) -> dict[str, Any]:
    return policy(
        statement("s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", principal={"Service": "cloudtrail.amazonaws.com"},
                  sid="CloudTrailAclCheck"),
        statement("s3:PutObject", f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                  principal={"Service": "cloudtrail.amazonaws.com"}, sid="CloudTrailWrite",
                  condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}))


def _pipeline_definition(phi_bucket: str, function_arn: str) -> dict[str, Any]:
    return {
        "Comment": "De-identify PHI records and generate a synthetic cohort",
        "StartAt": "ReadRecords",
        "States": {
            "ReadRecords": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                            "Parameters": {"Bucket": phi_bucket, "Key": "exports/latest.parquet"},
                            "Next": "Generate"},
            "Generate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                         "Parameters": {"FunctionName": function_arn, "Payload.$": "$"}, "End": True},
        },
    }


def _fmt(template: str, b: OrgBuilder) -> str:
    return template.format(region=b.region, production=b.production, synthetic=b.synthetic,
                           management=b.management)
