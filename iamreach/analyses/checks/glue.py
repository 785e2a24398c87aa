"""IAMR-007: a synthetic Glue connection (and the jobs using it) targets a production database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    attributes,
    environments,
    node_attrs,
    nodes,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding

__all__ = ["glue_jdbc_to_production", "normalize_host"]


def normalize_host(host: str | None) -> str:
    """Lower-case, no trailing dot; Aurora reader endpoints map to the cluster endpoint.

    >>> normalize_host("DB.cluster-ro-abc.us-east-1.rds.amazonaws.com.")
    'db.cluster-abc.us-east-1.rds.amazonaws.com'
    """
    h = (host or "").strip().lower().rstrip(".")
    return h.replace(".cluster-ro-", ".cluster-")


def _endpoints(G: Any, env: Environments) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for db in nodes(G, ("rds_instance", "rds_cluster")):
        if not env.is_production(db):
            continue
        attrs = attributes(G, db)
        for host in (attrs.get("endpoint"), attrs.get("reader_endpoint")):
            if host:
                out[normalize_host(host)].append(db)
    return out


@check(
    id="IAMR-007",
    title="Synthetic Glue connection targets a production database",
    severity="high",
    categories=("glue", "rds", "cross-environment"),
    kinds=("glue_connection", "glue_job", "rds_instance", "rds_cluster"),
    rationale="""A Glue connection in the synthetic environment whose JDBC URL names a production
    RDS or Aurora endpoint is a ready-made pipeline from production tables into synthetic
    jobs; the jobs that use the connection run it on schedule.""",
    remediation="""Point the connection's JDBC URL at the synthetic database (or delete the
    connection) and remove it from the jobs that use it.""",
)
def glue_jdbc_to_production(G: Any, config: Any) -> Iterator[Finding]:
    meta = glue_jdbc_to_production.meta
    env = environments(G)
    endpoints = _endpoints(G, env)
    if not endpoints:
        return
    jobs_by_conn: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for job in nodes(G, "glue_job"):
        acct = node_attrs(G, job).get("account")
        for name in attributes(G, job).get("connections") or ():
            jobs_by_conn[(acct, str(name))].append(job)
    for conn in nodes(G, "glue_connection"):
        if not env.is_synthetic(conn):
            continue
        attrs = attributes(G, conn)
        dbs = endpoints.get(normalize_host(attrs.get("host")))
        if not dbs:
            continue
        acct = node_attrs(G, conn).get("account")
        name = str(node_attrs(G, conn).get("name") or conn.rsplit("/", 1)[-1])
        jobs = sorted(jobs_by_conn.get((acct, name), ()))
        for db in sorted(set(dbs)):
            db_port = attributes(G, db).get("port")
            port = attrs.get("port")
            port_note = "" if port is None or db_port is None or int(port) == int(db_port) \
                else f" (URL port {port}, database port {db_port})"
            yield meta.finding(
                resource=conn,
                account=acct,
                message=(f"Glue connection {conn} in the synthetic environment targets production database "
                         f"{db} at {attrs.get('host')}:{port}{port_note}"
                         + (f"; used by job(s) {', '.join(jobs)}" if jobs else "")),
                remediation=(f"Change the JDBC URL of Glue connection {name} to a synthetic database "
                             f"(or delete it: aws glue delete-connection --connection-name {name})"
                             + (f" and remove it from job(s) {', '.join(jobs)}" if jobs else "")),
                evidence=[{"type": "attribute", "ref": conn, "sid": None, "index": None,
                           "detail": f"jdbc_url = {attrs.get('jdbc_url')}"},
                          {"type": "attribute", "ref": db, "sid": None, "index": None,
                           "detail": f"endpoint = {attributes(G, db).get('endpoint')}:{db_port}"}],
                key=(db,),
            )
