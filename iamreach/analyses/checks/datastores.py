"""IAMR-003: a synthetic workload's role can read or snapshot production RDS/Aurora/DynamoDB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    action_covers,
    edge_fix,
    environments,
    node_attrs,
    nodes,
    out_edges,
    roles_of,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Hop, Path
from iamreach.model import COMPUTE_KINDS

__all__ = ["workload_role_database_access", "DATABASE_KINDS", "SNAPSHOT_ACTIONS"]

DATABASE_KINDS = frozenset({"rds_instance", "rds_cluster", "dynamodb_table", "rds_snapshot",
                            "rds_cluster_snapshot"})
#: Actions that copy a database's data out through a snapshot, backup or export.
SNAPSHOT_ACTIONS = (
    "rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:CopyDBSnapshot",
    "rds:CopyDBClusterSnapshot", "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute",
    "rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot",
    "rds:StartExportTask", "dynamodb:CreateBackup", "dynamodb:ExportTableToPointInTime",
    "dynamodb:RestoreTableFromBackup",
)


def _is_data_edge(data: dict) -> bool:
    kind = str(data.get("kind"))
    if kind == "reads":
        return True
    actions = tuple(data.get("actions") or ())
    return kind == "administers" and any(action_covers([a], s) or action_covers([s], a)
                                         for a in actions for s in SNAPSHOT_ACTIONS)


@check(
    id="IAMR-003",
    title="Synthetic workload role can read or snapshot a production database",
    severity="high",
    categories=("iam", "rds", "dynamodb", "cross-environment"),
    kinds=("ec2_instance", "lambda_function", "glue_job", "sagemaker_notebook", "sfn_state_machine",
           "role", "rds_instance", "rds_cluster", "dynamodb_table"),
    rationale="""The role a synthetic workload runs as (through an instance profile, or as a
    Lambda, Glue, SageMaker or Step Functions role) should have no read, backup, export or
    snapshot rights on production databases: each such right is a direct copy channel for
    production rows.""",
    remediation="""Remove or scope the identity policy statement that grants the read or
    snapshot actions on the production database, table or cluster.""",
)
def workload_role_database_access(G: Any, config: Any) -> Iterator[Finding]:
    meta = workload_role_database_access.meta
    env = environments(G)
    role_workloads: dict[str, list[str]] = defaultdict(list)
    for w in nodes(G, {k.value for k in COMPUTE_KINDS}):
        if env.is_synthetic(w):
            for role in roles_of(G, w):
                role_workloads[role].append(w)
    for role, workloads in sorted(role_workloads.items()):
        for u, v, _, data in out_edges(G, role, ("reads", "administers")):
            target_kind = str(node_attrs(G, v).get("kind"))
            if target_kind not in DATABASE_KINDS or not env.is_production(v):
                continue
            if not _is_data_edge(data):
                continue
            actions = tuple(data.get("actions") or ())
            shown = ", ".join(actions[:6]) + (" ..." if len(actions) > 6 else "")
            yield meta.finding(
                resource=v,
                account=node_attrs(G, v).get("account"),
                message=(f"Role {role} of synthetic workload(s) {', '.join(sorted(workloads))} "
                         f"{data.get('kind')} production {target_kind} {v}"
                         + (f" via {shown}" if shown else "")
                         + (" (under conditions)" if data.get("decision") == "conditional" else "")),
                remediation=edge_fix(u, v, data),
                evidence=tuple(data.get("evidence") or ()),
                paths=[Path((Hop.from_edge(u, v, data),))],
                key=(role, str(data.get("kind"))),
            )
