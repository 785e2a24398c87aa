"""IAMR-011: Step Functions workflows that process PHI without X-Ray tracing or execution logging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    attributes,
    has_label,
    node_attrs,
    nodes,
    out_edges,
    roles_of,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding

__all__ = ["stepfunctions_observability", "phi_touched"]


def phi_touched(G: Any, sm: str) -> list[str]:
    """PHI nodes the state machine touches: named in its definition, or read by its role or by the
    roles of the tasks (functions, jobs) its definition names."""
    found: set[str] = set()
    candidates = [sm, *(str(a) for a in attributes(G, sm).get("resource_arns") or ())]
    for c in candidates:
        if c != sm and has_label(G, c, "phi"):
            found.add(c)
        for role in roles_of(G, c):
            for _, v, _, _ in out_edges(G, role, ("reads", "writes")):
                if has_label(G, v, "phi"):
                    found.add(v)
    if has_label(G, sm, "phi"):
        found.add(sm)
    return sorted(found)


@check(
    id="IAMR-011",
    title="Step Functions workflow processes PHI without tracing or execution logging",
    severity="medium",
    categories=("stepfunctions", "logging", "detection"),
    kinds=("sfn_state_machine",),
    rationale="""A workflow that moves PHI (its definition names PHI stores, or its role or its
    tasks' roles read them) must leave a trail of each execution: execution logging (level ALL
    or ERROR with a log group) and X-Ray tracing show what ran on which data.""",
    remediation="""Update the state machine with --logging-configuration (level ALL, a CloudWatch
    log group) and --tracing-configuration enabled=true.""",
)
def stepfunctions_observability(G: Any, config: Any) -> Iterator[Finding]:
    meta = stepfunctions_observability.meta
    for sm in nodes(G, "sfn_state_machine"):
        phi = phi_touched(G, sm)
        if not phi:
            continue
        attrs = attributes(G, sm)
        account = node_attrs(G, sm).get("account")
        others = [n for n in phi if n != sm]
        touched = (", ".join(others[:3]) + (" ..." if len(others) > 3 else "")) or "it is labelled phi"
        if attrs.get("tracing_enabled") is not True:
            yield meta.finding(
                resource=sm, account=account,
                message=f"State machine {sm} processes PHI ({touched}) without X-Ray tracing",
                remediation=f"aws stepfunctions update-state-machine --state-machine-arn {sm} "
                            "--tracing-configuration enabled=true",
                evidence=[{"type": "attribute", "ref": sm, "sid": None, "index": None,
                           "detail": f"tracing_enabled = {attrs.get('tracing_enabled')}"}],
                key=("tracing",),
            )
        level = attrs.get("logging_level")
        if level in (None, "OFF") or not attrs.get("log_destinations"):
            yield meta.finding(
                resource=sm, account=account,
                message=f"State machine {sm} processes PHI ({touched}) without execution logging (level {level})",
                remediation=(f"aws stepfunctions update-state-machine --state-machine-arn {sm} "
                             "--logging-configuration 'level=ALL,includeExecutionData=false,"
                             "destinations=[{cloudWatchLogsLogGroup={logGroupArn=LOG_GROUP_ARN}}]'"),
                evidence=[{"type": "attribute", "ref": sm, "sid": None, "index": None,
                           "detail": f"logging_level = {level}, log_destinations = {attrs.get('log_destinations')}"}],
                key=("logging",),
            )
