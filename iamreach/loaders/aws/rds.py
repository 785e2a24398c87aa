"""RDS: DB instances, Aurora / Multi-AZ clusters, DB and cluster snapshots with their ``restore`` sharing."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, tags_dict

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw RDS responses for one region."""
    raw: dict[str, Any] = {
        "instances": ctx.paginate("rds", "describe_db_instances", "DBInstances"),
        "clusters": ctx.paginate("rds", "describe_db_clusters", "DBClusters"),
        "subnet_groups": ctx.paginate("rds", "describe_db_subnet_groups", "DBSubnetGroups"),
    }
    snaps = ctx.paginate("rds", "describe_db_snapshots", "DBSnapshots")
    for s in snaps or []:
        s["Attributes"] = _attributes(ctx, "describe_db_snapshot_attributes", "DBSnapshotAttributesResult",
                                      s["DBSnapshotArn"], DBSnapshotIdentifier=s["DBSnapshotIdentifier"])
    raw["snapshots"] = snaps
    csnaps = ctx.paginate("rds", "describe_db_cluster_snapshots", "DBClusterSnapshots")
    for s in csnaps or []:
        s["Attributes"] = _attributes(ctx, "describe_db_cluster_snapshot_attributes",
                                      "DBClusterSnapshotAttributesResult", s["DBClusterSnapshotArn"],
                                      DBClusterSnapshotIdentifier=s["DBClusterSnapshotIdentifier"])
    raw["cluster_snapshots"] = csnaps
    return jsonable(raw)


def _attributes(ctx: Context, api: str, key: str, arn: str, **kwargs: Any) -> list | None:
    if kwargs.get("DBSnapshotIdentifier", kwargs.get("DBClusterSnapshotIdentifier", "")).startswith("rds:"):
        return []  # automated snapshots cannot be shared
    resp = ctx.call("rds", api, resource=arn, **kwargs)
    if resp is None:
        return None
    return (resp.get(key) or {}).get("DBSnapshotAttributes") or (resp.get(key) or {}).get(
        "DBClusterSnapshotAttributes") or []


def _shared(attrs: list | None) -> list[str] | None:
    if attrs is None:
        return None
    return sorted({v for a in attrs if a.get("AttributeName") == "restore" for v in a.get("AttributeValues") or []})


def _arn(region: str | None, account: str, kind: str, ident: str) -> str:
    return f"arn:aws:rds:{region}:{account}:{kind}:{ident}"


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Instances, clusters and snapshots as resources."""
    inv = Inventory()
    groups = {g["DBSubnetGroupName"]: g for g in raw.get("subnet_groups") or []}
    public_by_cluster: dict[str, bool] = {}
    for d in raw.get("instances") or []:
        sg = d.get("DBSubnetGroup") or {}
        endpoint = d.get("Endpoint") or {}
        cluster = d.get("DBClusterIdentifier")
        if cluster:
            public_by_cluster[cluster] = public_by_cluster.get(cluster, False) or bool(d.get("PubliclyAccessible"))
        inv.resources.append(Resource(
            arn=d.get("DBInstanceArn") or _arn(region, account, "db", d["DBInstanceIdentifier"]),
            kind="rds_instance", account=account, region=region, id=d["DBInstanceIdentifier"],
            name=d["DBInstanceIdentifier"], tags=tags_dict(d.get("TagList")), attributes={
                "engine": d.get("Engine"), "port": endpoint.get("Port") or d.get("DbInstancePort"),
                "endpoint": endpoint.get("Address"), "vpc_id": sg.get("VpcId"),
                "subnet_ids": sorted({s["SubnetIdentifier"] for s in sg.get("Subnets") or []}),
                "security_group_ids": sorted({g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups") or []}),
                "publicly_accessible": bool(d.get("PubliclyAccessible")),
                "iam_auth": bool(d.get("IAMDatabaseAuthenticationEnabled")),
                "storage_encrypted": bool(d.get("StorageEncrypted")), "kms_key_arn": d.get("KmsKeyId"),
                "cluster_arn": _arn(region, account, "cluster", cluster) if cluster else None,
                "resource_id": d.get("DbiResourceId")}))
    for c in raw.get("clusters") or []:
        ident = c["DBClusterIdentifier"]
        sg = groups.get(c.get("DBSubnetGroup") or "") or {}
        public = c.get("PubliclyAccessible")
        inv.resources.append(Resource(
            arn=c.get("DBClusterArn") or _arn(region, account, "cluster", ident), kind="rds_cluster",
            account=account, region=region, id=ident, name=ident, tags=tags_dict(c.get("TagList")), attributes={
                "engine": c.get("Engine"), "port": c.get("Port"), "endpoint": c.get("Endpoint"),
                "vpc_id": sg.get("VpcId"),
                "subnet_ids": sorted({s["SubnetIdentifier"] for s in sg.get("Subnets") or []}),
                "security_group_ids": sorted({g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups") or []}),
                "publicly_accessible": bool(public) if public is not None else public_by_cluster.get(ident, False),
                "iam_auth": bool(c.get("IAMDatabaseAuthenticationEnabled")),
                "storage_encrypted": bool(c.get("StorageEncrypted")), "kms_key_arn": c.get("KmsKeyId"),
                "members": sorted(_arn(region, account, "db", m["DBInstanceIdentifier"])
                                  for m in c.get("DBClusterMembers") or []),
                "resource_id": c.get("DbClusterResourceId")}))
    for s in raw.get("snapshots") or []:
        inv.resources.append(_snapshot(s, "rds_snapshot", s["DBSnapshotArn"], s["DBSnapshotIdentifier"],
                                       _arn(region, account, "db", s.get("DBInstanceIdentifier") or "?"),
                                       account, region))
    for s in raw.get("cluster_snapshots") or []:
        inv.resources.append(_snapshot(s, "rds_cluster_snapshot", s["DBClusterSnapshotArn"],
                                       s["DBClusterSnapshotIdentifier"],
                                       _arn(region, account, "cluster", s.get("DBClusterIdentifier") or "?"),
                                       account, region))
    return inv.sort()


def _snapshot(s: dict, kind: str, arn: str, ident: str, source: str, account: str, region: str | None) -> Resource:
    return Resource(arn=arn, kind=kind, account=account, region=region, id=ident, name=ident,
                    tags=tags_dict(s.get("TagList")), attributes={
                        "source_arn": source, "encrypted": bool(s.get("Encrypted", s.get("StorageEncrypted"))),
                        "kms_key_arn": s.get("KmsKeyId"), "snapshot_type": s.get("SnapshotType"),
                        "shared_accounts": _shared(s.get("Attributes"))})
