"""Glue: jobs (role, connections), connections (JDBC target, network placement), dev endpoints.

Connection credentials never leave ``collect``: only the JDBC URL (with any password stripped)
and the physical connection requirements are kept.
"""

from __future__ import annotations

import re
from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "strip_jdbc", "parse_jdbc"]

GLOBAL = False
_URL_KEYS = ("JDBC_CONNECTION_URL", "CONNECTION_URL")
_SECRET_PARAM = re.compile(r"([;?&])(password|pwd|secret|accesskey|secretkey)=[^;&]*", re.IGNORECASE)
_USERINFO = re.compile(r"//([^/@?;]*):([^/@?;]*)@")


def strip_jdbc(url: str | None) -> str | None:
    """Remove passwords from a JDBC URL (``password=`` parameters and ``user:pass@``).

    >>> strip_jdbc("jdbc:postgresql://u:pw@db.example:5432/x?ssl=true&password=pw")
    'jdbc:postgresql://u@db.example:5432/x?ssl=true'
    """
    if not url:
        return None
    url = _USERINFO.sub(r"//\1@", url)
    url = _SECRET_PARAM.sub("", url)
    return url.replace("?&", "?").rstrip("?")


def parse_jdbc(url: str | None) -> tuple[str | None, int | None]:
    """Host and port of a JDBC URL.

    >>> parse_jdbc("jdbc:mysql://db.example:3306/app")
    ('db.example', 3306)
    >>> parse_jdbc("jdbc:oracle:thin:@//ora.example:1521/ORCL")
    ('ora.example', 1521)
    """
    if not url:
        return None, None
    m = re.search(r"@?//(?:[^/@]*@)?([^/:;?]+)(?::(\d+))?", url) or re.search(r"@([^/:;?]+)(?::(\d+))?", url)
    if not m:
        return None, None
    return m.group(1), int(m.group(2)) if m.group(2) else None


def _scrub_connection(c: dict) -> dict:
    props = c.get("ConnectionProperties") or {}
    out = {k: v for k, v in c.items() if k not in ("ConnectionProperties", "AuthenticationConfiguration")}
    out["ConnectionProperties"] = {k: strip_jdbc(props[k]) for k in _URL_KEYS if props.get(k)}
    return out


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Glue responses for one region (connection secrets dropped)."""
    conns = ctx.paginate("glue", "get_connections", "ConnectionList", HidePassword=True)
    return jsonable({
        "jobs": ctx.paginate("glue", "get_jobs", "Jobs"),
        "connections": None if conns is None else [_scrub_connection(c) for c in conns],
        "dev_endpoints": ctx.paginate("glue", "get_dev_endpoints", "DevEndpoints"),
    })


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Jobs, connections and dev endpoints as resources."""
    inv = Inventory()
    base = f"arn:aws:glue:{region}:{account}"
    for j in raw.get("jobs") or []:
        inv.resources.append(Resource(
            arn=f"{base}:job/{j['Name']}", kind="glue_job", account=account, region=region, id=j["Name"],
            name=j["Name"], tags=tags_dict(j.get("Tags")), attributes={
                "role_arn": _role_arn(j.get("Role"), account),
                "connections": sorted((j.get("Connections") or {}).get("Connections") or [])}))
    for c in raw.get("connections") or []:
        c = _scrub_connection(c)
        url = c["ConnectionProperties"].get("JDBC_CONNECTION_URL") or c["ConnectionProperties"].get("CONNECTION_URL")
        host, port = parse_jdbc(url)
        phys = c.get("PhysicalConnectionRequirements") or {}
        inv.resources.append(Resource(
            arn=f"{base}:connection/{c['Name']}", kind="glue_connection", account=account, region=region,
            id=c["Name"], name=c["Name"], attributes={
                "connection_type": c.get("ConnectionType"), "jdbc_url": url, "host": host, "port": port,
                "subnet_id": phys.get("SubnetId"), "security_group_ids": sorted(phys.get("SecurityGroupIdList") or []),
                "vpc_id": None}))
    for d in raw.get("dev_endpoints") or []:
        inv.resources.append(Resource(
            arn=f"{base}:devEndpoint/{d['EndpointName']}", kind="glue_dev_endpoint", account=account,
            region=region, id=d["EndpointName"], name=d["EndpointName"], tags=tags_dict(d.get("Tags")),
            attributes={"role_arn": _role_arn(d.get("RoleArn"), account), "subnet_id": d.get("SubnetId"),
                        "security_group_ids": sorted(d.get("SecurityGroupIds") or []),
                        "vpc_id": d.get("VpcId")}))
    return inv.sort()


def _role_arn(role: str | None, account: str) -> str | None:
    """Glue accepts a role name or ARN; always return an ARN."""
    if not role or role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{account}:role/{role}"
