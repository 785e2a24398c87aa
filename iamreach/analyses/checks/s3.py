"""IAMR-002: a production bucket's policy lets a synthetic principal, account or service read objects."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    arn_account,
    as_list,
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
from iamreach.graph.policy.wildcard import match_wildcard

__all__ = ["bucket_policy_synthetic_read", "condition_accounts", "synthetic_grantees", "org_wide"]


def condition_accounts(stmt: dict) -> set[str]:
    """12-digit account ids (or ARNs' accounts) named anywhere in a statement's Condition."""
    out: set[str] = set()
    cond = stmt.get("Condition")
    if not isinstance(cond, dict):
        return out
    for block in cond.values():
        if not isinstance(block, dict):
            continue
        for values in block.values():
            for value in as_list(values):
                acct = arn_account(str(value))
                if acct:
                    out.add(acct)
    return out


def org_wide(stmt: dict) -> bool:
    """A ``*`` principal narrowed only by ``aws:PrincipalOrgID``: every account of the organization."""
    cond = stmt.get("Condition")
    if not isinstance(cond, dict) or not cond:
        return False
    keys = {str(k).lower() for block in cond.values() if isinstance(block, dict) for k in block}
    return bool(keys) and keys <= {"aws:principalorgid"}


def synthetic_grantees(env: Environments, stmt: dict) -> list[str]:
    """Who in the synthetic environment a statement's Principal (and Condition) names."""
    synthetic = env.synthetic
    found = []
    cond_accts = condition_accounts(stmt)
    in_org = env.synthetic_in_org()
    for value in aws_principals(stmt):
        if value == "*":
            if not stmt.get("Condition"):
                found.append("* (anyone, including every synthetic principal)")
            elif org_wide(stmt) and in_org:
                found.append(f"* in the organization (aws:PrincipalOrgID), including synthetic account(s) "
                             f"{', '.join(in_org)}")
            elif cond_accts & synthetic:
                found.append(f"* restricted to synthetic account(s) {', '.join(sorted(cond_accts & synthetic))}")
            continue
        if env.names_synthetic(value):
            found.append(value)
    principal = stmt.get("Principal")
    if isinstance(principal, dict) and principal.get("Service") and cond_accts & synthetic:
        for svc in as_list(principal["Service"]):
            found.append(f"{svc} acting for synthetic account(s) {', '.join(sorted(cond_accts & synthetic))}")
    return sorted(set(found))


def _covers_objects(stmt: dict, bucket_arn: str) -> bool:
    probe = f"{bucket_arn}/any-object"
    if "NotResource" in stmt:
        return not any(match_wildcard(str(p), probe) for p in as_list(stmt["NotResource"]))
    return any(match_wildcard(str(p), probe) for p in as_list(stmt.get("Resource", "*")))


@check(
    id="IAMR-002",
    title="Production bucket policy grants object reads to a synthetic principal",
    severity="high",
    categories=("s3", "resource-policy", "cross-environment"),
    kinds=("s3_bucket",),
    rationale="""A bucket policy statement that allows s3:GetObject (or a wildcard that covers it)
    on a production bucket to a synthetic account, role, user or service acting for a synthetic
    account lets synthetic workloads copy production objects, whatever their identity policies
    later say in their own account.""",
    remediation="""Remove the synthetic principal from the statement's Principal, or scope the
    statement to production principals with an aws:PrincipalAccount / aws:PrincipalOrgPaths
    condition.""",
)
def bucket_policy_synthetic_read(G: Any, config: Any) -> Iterator[Finding]:
    meta = bucket_policy_synthetic_read.meta
    env = environments(G)
    for bucket in nodes(G, "s3_bucket"):
        if not env.is_production(bucket):
            continue
        policy = getattr(record(G, bucket), "policy", None)
        for index, stmt in statements(policy):
            if not statement_grants(stmt, "s3:GetObject") or not _covers_objects(stmt, bucket):
                continue
            who = synthetic_grantees(env, stmt)
            if not who:
                continue
            where = sid_ref(stmt, index)
            removed = copy.deepcopy(stmt)
            yield meta.finding(
                resource=bucket,
                account=node_attrs(G, bucket).get("account"),
                message=(f"Bucket policy of production bucket {bucket} ({where}) allows "
                         f"{', '.join(sorted({str(a) for a in as_list(stmt.get('Action') or stmt.get('NotAction'))}))} "
                         f"to {'; '.join(who)}"),
                remediation=(f"Remove {', '.join(who)} from the Principal of {where} in the bucket policy "
                             f"of {bucket}, or delete the statement shown in the snippet"),
                snippet=snippet(removed),
                evidence=[statement_evidence("resource_policy", bucket, stmt, index)],
                key=(str(stmt.get("Sid") or index), *who),
            )
