"""IAMR-004: a production role trusts a synthetic account (worst: its whole root, unconditioned)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    arn_account,
    aws_principals,
    environments,
    has_label,
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
from iamreach.analyses.checks.s3 import condition_accounts, org_wide
from iamreach.analyses.report import Finding

__all__ = ["synthetic_trust", "NARROWING_KEYS", "is_account_root"]

#: Condition keys that narrow a trust to the whole account root down to known callers.
NARROWING_KEYS = frozenset({"sts:externalid", "aws:principalorgid", "aws:principalarn",
                            "aws:principalorgpaths"})


def is_account_root(value: str) -> bool:
    """``"111122223333"`` or ``arn:aws:iam::111122223333:root``.

    >>> is_account_root("arn:aws:iam::111122223333:root"), is_account_root("arn:aws:iam::1:role/r")
    (True, False)
    """
    return (value.isdigit() and len(value) == 12) or (value.startswith("arn:") and value.endswith(":root"))


def _condition_keys(stmt: dict) -> set[str]:
    cond = stmt.get("Condition")
    if not isinstance(cond, dict):
        return set()
    return {str(k).lower() for block in cond.values() if isinstance(block, dict) for k in block}


def _grantees(env: Environments, stmt: dict, role_account: str | None) -> list[tuple[str, bool]]:
    """(principal, is-whole-account) pairs of the synthetic environment a trust statement names."""
    out = []
    in_org = env.synthetic_in_org()
    for value in aws_principals(stmt):
        if value == "*":
            accts = condition_accounts(stmt) & env.synthetic
            if not stmt.get("Condition") or accts:
                out.append((f"* ({', '.join(sorted(accts)) or 'any account'})", True))
            elif org_wide(stmt) and in_org:
                out.append((f"* in the organization (including {', '.join(in_org)})", True))
            continue
        if arn_account(value) == role_account and not has_label(env.G, value, "synthetic"):
            continue
        if env.names_synthetic(value):
            out.append((value, is_account_root(value)))
    return sorted(set(out))


@check(
    id="IAMR-004",
    title="Production role trusts a synthetic account",
    severity="high",
    categories=("iam", "trust", "cross-account"),
    kinds=("role",),
    rationale="""A production role whose trust policy names a synthetic account, role or user
    lets synthetic workloads assume it. Trusting an account's root without an sts:ExternalId,
    aws:PrincipalOrgID or aws:PrincipalArn condition delegates the decision to every
    administrator of the synthetic account.""",
    remediation="""Remove the synthetic principal from the trust policy statement; if a
    cross-account trust is really needed, name the exact role ARN and add an aws:PrincipalArn
    condition.""",
)
def synthetic_trust(G: Any, config: Any) -> Iterator[Finding]:
    meta = synthetic_trust.meta
    env = environments(G)
    for role in nodes(G, "role"):
        if not env.is_production(role):
            continue
        account = node_attrs(G, role).get("account")
        trust = getattr(record(G, role), "trust_policy", None)
        for index, stmt in statements(trust):
            if not any(statement_grants(stmt, a) for a in ("sts:AssumeRole", "sts:TagSession")):
                continue
            grantees = _grantees(env, stmt, account)
            if not grantees:
                continue
            narrowed = bool(_condition_keys(stmt) & NARROWING_KEYS)
            where = sid_ref(stmt, index)
            whole = [p for p, root in grantees if root]
            names = ", ".join(p for p, _ in grantees)
            message = f"Production role {role} trusts synthetic {names} ({where} of its trust policy)"
            if whole and not narrowed:
                message += ("; the trust covers the whole account without an ExternalId, "
                            "PrincipalOrgID or PrincipalArn condition")
            yield meta.finding(
                resource=role,
                account=account,
                message=message,
                remediation=(f"Remove {names} from the Principal of {where} in the trust policy of {role}"
                             + ("; if the trust must stay, name the exact role ARN and add a "
                                "Condition on aws:PrincipalArn" if whole else "")),
                snippet=snippet(stmt),
                evidence=[statement_evidence("trust_policy", role, stmt, index)],
                key=(str(stmt.get("Sid") or index), *(p for p, _ in grantees)),
            )
