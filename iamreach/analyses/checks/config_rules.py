"""IAMR-013: equivalents of AWS Config's ``restricted-ssh`` and ``s3-bucket-public-write-prohibited``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    as_list,
    attributes,
    aws_principals,
    environments,
    node_attrs,
    nodes,
    record,
    sid_ref,
    snippet,
    statement_evidence,
    statement_grants,
    statements,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.errors import ConfigError

__all__ = ["config_rule_equivalents", "SCOPES", "WRITE_ACTIONS"]

SCOPES = ("all", "synthetic", "production")
WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:PutBucketPolicy",
                 "s3:PutBucketAcl", "s3:DeleteBucket")
_WRITE_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")
_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "AllUsers", "AuthenticatedUsers")


def _scope(config: Any) -> str:
    options = (getattr(config, "check_options", None) or {}).get("IAMR-013") or {}
    scope = options.get("scope", "all")
    if scope not in SCOPES:
        raise ConfigError(f"expected one of {list(SCOPES)}, got {scope!r}", file=getattr(config, "source", None),
                          field="checks.IAMR-013.scope")
    return scope


def _in_scope(n: str, scope: str, env: Environments) -> bool:
    return scope == "all" or env.holds(n, scope)


def _covers_port(rule: dict, port: int) -> bool:
    proto = str(rule.get("protocol"))
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = rule.get("from_port"), rule.get("to_port")
    if lo is None or hi is None:
        return True
    return int(lo) <= port <= int(hi)


def _ssh(G: Any, meta: Any, scope: str, env: Environments) -> Iterator[Finding]:
    for sg in nodes(G, "security_group"):
        if not _in_scope(sg, scope, env):
            continue
        attrs = attributes(G, sg)
        for rule in attrs.get("ingress") or ():
            if not _covers_port(rule, 22):
                continue
            opens = [c for c in as_list(rule.get("cidrs")) if c == "0.0.0.0/0"]
            opens += [c for c in as_list(rule.get("ipv6_cidrs")) if c == "::/0"]
            if not opens:
                continue
            rid = str(rule.get("rule_id") or "")
            gid = str(getattr(record(G, sg), "id", None) or sg.rsplit("/", 1)[-1])
            port = f"{rule.get('protocol')}/{rule.get('from_port')}-{rule.get('to_port')}"
            yield meta.finding(
                resource=sg, account=node_attrs(G, sg).get("account"),
                message=f"Security group {sg} allows SSH (port 22) from {', '.join(opens)} (rule {rid or port})",
                remediation=(f"Delete the ingress rule: aws ec2 revoke-security-group-ingress --group-id {gid} "
                             + (f"--security-group-rule-ids {rid}" if rid else f"--protocol tcp --port 22 --cidr {opens[0]}")
                             + "; use Session Manager or a narrow CIDR instead"),
                evidence=[{"type": "sg_rule", "ref": rid or sg, "sid": None, "index": None,
                           "detail": f"ingress {port} from {', '.join(opens)}"}],
                key=("restricted-ssh", rid or port, *opens),
            )


def _bpa(G: Any, bucket: str) -> dict:
    flags = dict(attributes(G, bucket).get("public_access_block") or {})
    acct = node_attrs(G, bucket).get("account")
    acct_rec = record(G, f"arn:aws:iam::{acct}:root") if acct else None
    for k, v in (getattr(acct_rec, "s3_public_access_block", None) or {}).items():
        flags[k] = bool(flags.get(k)) or bool(v)
    return flags


def _public_write(G: Any, meta: Any, scope: str, env: Environments) -> Iterator[Finding]:
    for bucket in nodes(G, "s3_bucket"):
        if not _in_scope(bucket, scope, env):
            continue
        account = node_attrs(G, bucket).get("account")
        bpa = _bpa(G, bucket)
        if not bpa.get("RestrictPublicBuckets"):
            for index, stmt in statements(getattr(record(G, bucket), "policy", None)):
                if "*" not in aws_principals(stmt) or stmt.get("Condition"):
                    continue
                granted = [a for a in WRITE_ACTIONS if statement_grants(stmt, a)]
                if not granted:
                    continue
                where = sid_ref(stmt, index)
                yield meta.finding(
                    resource=bucket, account=account,
                    message=f"Bucket policy of {bucket} ({where}) lets anyone {', '.join(granted)}",
                    remediation=(f"Delete {where} (shown in the snippet) from the bucket policy of {bucket}, and turn "
                                 "on S3 Block Public Access (BlockPublicPolicy, RestrictPublicBuckets)"),
                    snippet=snippet(stmt),
                    evidence=[statement_evidence("resource_policy", bucket, stmt, index)],
                    key=("public-write", "policy", str(stmt.get("Sid") or index)),
                )
        if bpa.get("IgnorePublicAcls"):
            continue
        for grant in attributes(G, bucket).get("acl_grants") or ():
            grantee = str(grant.get("grantee") or "")
            perm = str(grant.get("permission") or "")
            if grantee not in _PUBLIC_GRANTEES or perm not in _WRITE_PERMISSIONS:
                continue
            yield meta.finding(
                resource=bucket, account=account,
                message=f"ACL of bucket {bucket} grants {perm} to {grantee}",
                remediation=(f"Remove the ACL grant (aws s3api put-bucket-acl --bucket "
                             f"{node_attrs(G, bucket).get('name') or bucket.rsplit(':', 1)[-1]} --acl private) "
                             "and set Object Ownership to BucketOwnerEnforced"),
                evidence=[{"type": "acl", "ref": bucket, "sid": None, "index": None,
                           "detail": f"{perm} to {grantee}"}],
                key=("public-write", "acl", grantee, perm),
            )


@check(
    id="IAMR-013",
    title="SSH open to the world, or bucket writable by anyone (AWS Config restricted-ssh, s3-bucket-public-write-prohibited)",
    severity="high",
    categories=("network", "s3", "aws-config", "public"),
    kinds=("security_group", "s3_bucket"),
    rationale="""Two baseline controls every account should pass: no security group admits
    0.0.0.0/0 or ::/0 to port 22, and no bucket policy or ACL lets anyone write. They run over
    every account by default.""",
    remediation="""Revoke the SSH ingress rule (use Session Manager or a narrow CIDR); delete
    the public write statement or ACL grant and turn on S3 Block Public Access.""",
    options=(("scope", 'which accounts to check: "all" (default), "synthetic" or "production"'),),
)
def config_rule_equivalents(G: Any, config: Any) -> Iterator[Finding]:
    meta = config_rule_equivalents.meta
    scope = _scope(config)
    env = environments(G)
    yield from _ssh(G, meta, scope, env)
    yield from _public_write(G, meta, scope, env)
