"""IAMR-006: security groups let synthetic workloads connect to production database ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    edge_fix,
    environments,
    node_attrs,
    nodes,
    out_edges,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Hop, Path
from iamreach.model import COMPUTE_KINDS, DATA_STORE_KINDS

__all__ = ["synthetic_network_access"]

_SOURCE_KINDS = {k.value for k in COMPUTE_KINDS} | {"glue_connection"}


@check(
    id="IAMR-006",
    title="Synthetic workload can connect to a production database port",
    severity="high",
    categories=("network", "vpc", "security-group", "cross-environment"),
    kinds=("ec2_instance", "lambda_function", "glue_connection", "sagemaker_notebook", "security_group",
           "rds_instance", "rds_cluster"),
    rationale="""When synthetic and production resources share a VPC (or peered / transit-routed
    VPCs) and the database's security group admits the synthetic workload's group or CIDR on
    the database port, only a password stands between synthetic code and production rows.""",
    remediation="""Delete the security group rule that admits the synthetic workload (its
    security group reference or CIDR) to the production database port; keep synthetic and
    production networks unrouted.""",
)
def synthetic_network_access(G: Any, config: Any) -> Iterator[Finding]:
    meta = synthetic_network_access.meta
    env = environments(G)
    stores = {k.value for k in DATA_STORE_KINDS}
    for w in nodes(G, _SOURCE_KINDS):
        if not env.is_synthetic(w):
            continue
        for u, v, _, data in out_edges(G, w, ("can_connect",)):
            if str(node_attrs(G, v).get("kind")) not in stores or not env.is_production(v):
                continue
            ports = ", ".join(data.get("ports") or ()) or "some port"
            yield meta.finding(
                resource=v,
                account=node_attrs(G, v).get("account"),
                message=(f"Synthetic {node_attrs(G, u).get('kind')} {u} can connect to production "
                         f"{node_attrs(G, v).get('kind')} {v} on {ports}"
                         + (f": {data['reason']}" if data.get("reason") else "")),
                remediation=edge_fix(u, v, data),
                evidence=tuple(data.get("evidence") or ()),
                paths=[Path((Hop.from_edge(u, v, data),))],
                key=(u, *sorted(data.get("ports") or ())),
            )
