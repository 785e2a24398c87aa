"""IAMR-014: collection gaps that could hide any other finding are UNKNOWN findings, never passes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import account_root, graph_gaps
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding

__all__ = ["collection_gaps", "HIDES"]

#: Which checks a failed call of each service could hide (service = the boto3 client name).
HIDES: dict[str, tuple[str, ...]] = {
    "iam": ("IAMR-001", "IAMR-003", "IAMR-004", "IAMR-008", "IAMR-009"),
    "sts": ("IAMR-001", "IAMR-004"),
    "organizations": ("IAMR-001", "IAMR-012"),
    "s3": ("IAMR-001", "IAMR-002", "IAMR-010", "IAMR-013"),
    "s3control": ("IAMR-002", "IAMR-013"),
    "rds": ("IAMR-001", "IAMR-003", "IAMR-005", "IAMR-006", "IAMR-007"),
    "dynamodb": ("IAMR-001", "IAMR-003"),
    "ec2": ("IAMR-001", "IAMR-005", "IAMR-006", "IAMR-013"),
    "kms": ("IAMR-001", "IAMR-009"),
    "secretsmanager": ("IAMR-001",),
    "lambda": ("IAMR-001", "IAMR-003", "IAMR-006", "IAMR-010"),
    "glue": ("IAMR-001", "IAMR-003", "IAMR-007"),
    "sagemaker": ("IAMR-001", "IAMR-003", "IAMR-008"),
    "stepfunctions": ("IAMR-001", "IAMR-003", "IAMR-011"),
    "states": ("IAMR-001", "IAMR-003", "IAMR-011"),
    "cloudtrail": ("IAMR-010",),
}


@check(
    id="IAMR-014",
    title="Collection gap could hide a finding",
    severity="medium",
    categories=("collection", "unknown"),
    kinds=("account",),
    rationale="""A List/Get/Describe call that failed (access denied, throttled, region
    disabled) leaves part of the account unseen. Reading it as "nothing there" would turn a
    blind spot into a pass, so every gap is reported as UNKNOWN with the checks it could hide.""",
    remediation="""Grant the collector role the missing read permission (for example the AWS
    managed SecurityAudit and ViewOnlyAccess policies), allow it in the SCPs, and collect again.""",
)
def collection_gaps(G: Any, config: Any) -> Iterator[Finding]:
    meta = collection_gaps.meta
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for g in graph_gaps(G):
        key = tuple(str(g.get(k) or "") for k in ("account", "region", "service", "api", "error_code"))
        groups[key].append(g)
    for (account, region, service, api, code), gaps in sorted(groups.items()):
        resources = sorted({str(g["resource"]) for g in gaps if g.get("resource")})
        resource = resources[0] if len(resources) == 1 else account_root(account or None)
        hides = HIDES.get(service, ("IAMR-001",))
        where = f"account {account or '?'}" + (f" region {region}" if region else "")
        about = f" for {', '.join(resources[:3])}{' ...' if len(resources) > 3 else ''}" if resources else ""
        yield meta.finding(
            status="unknown", resource=resource, account=account or None,
            message=(f"{service}:{api} failed with {code} in {where}{about}; "
                     f"results of {', '.join(hides)} there are UNKNOWN"),
            remediation=(f"Allow {service}:{api} for the collector role in account {account or '?'} "
                         "(identity policy and SCPs), then run iamreach collect again"),
            gaps=gaps,
            key=(account, region, service, api, code),
        )
