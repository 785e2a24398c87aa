"""Secrets Manager: secrets with resource policy, KMS key, tags and the databases they unlock.

Secret values are never read (no ``GetSecretValue``). ``unlocks`` is a heuristic, documented in
``docs/loaders.md``: the database ARNs named by

1. the tag ``iamreach:unlocks`` (ARNs separated by commas or spaces),
2. the tags ``DBInstance`` / ``DBCluster`` (an identifier or an ARN),
3. the tags RDS puts on secrets it manages (``aws:rds:primaryDBInstanceArn``,
   ``aws:rds:primaryDBClusterArn``),
4. any RDS instance / cluster ARN written in the secret's description (rotation templates
   and RDS-managed secrets describe their database this way).
"""

from __future__ import annotations

import re
from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import ABSENT, Context, jsonable, parse_document, tags_dict
from iamreach.loaders.aws.s3 import kms_arn

__all__ = ["collect", "normalize", "GLOBAL", "unlocks"]

GLOBAL = False
_RDS_ARN = re.compile(r"arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(?:db|cluster):[A-Za-z0-9-]+")


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Secrets Manager metadata for one region (never secret values)."""
    secrets = ctx.paginate("secretsmanager", "list_secrets", "SecretList")
    out = []
    for s in secrets or []:
        s = {k: v for k, v in s.items() if k not in ("SecretString", "SecretBinary")}
        pol = ctx.call("secretsmanager", "get_resource_policy", resource=s["ARN"], SecretId=s["ARN"],
                       absent=("ResourceNotFoundException",))
        s["ResourcePolicy"] = None if pol is None or pol is ABSENT else pol.get("ResourcePolicy")
        out.append(s)
    return jsonable({"secrets": None if secrets is None else out})


def unlocks(secret: dict, account: str, region: str | None) -> list[str]:
    """Database ARNs a secret holds credentials for (see the module docstring)."""
    tags = tags_dict(secret.get("Tags"))
    found: set[str] = set()
    for arn in re.split(r"[,\s]+", tags.get("iamreach:unlocks", "")):
        if arn:
            found.add(arn)
    for tag, kind in (("DBInstance", "db"), ("DBCluster", "cluster")):
        value = tags.get(tag)
        if value:
            found.add(value if value.startswith("arn:") else f"arn:aws:rds:{region}:{account}:{kind}:{value}")
    for tag in ("aws:rds:primaryDBInstanceArn", "aws:rds:primaryDBClusterArn"):
        if tags.get(tag):
            found.add(tags[tag])
    found.update(_RDS_ARN.findall(secret.get("Description") or ""))
    return sorted(found)


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Secrets as ``secret`` resources."""
    inv = Inventory()
    for s in raw.get("secrets") or []:
        inv.resources.append(Resource(
            arn=s["ARN"], kind="secret", account=account, region=region, id=s["Name"], name=s["Name"],
            tags=tags_dict(s.get("Tags")),
            policy=parse_document(s.get("ResourcePolicy"), where=f"secret {s['Name']} policy"),
            attributes={"kms_key_arn": kms_arn(s.get("KmsKeyId"), account, region),
                        "unlocks": unlocks(s, account, region)}))
    return inv.sort()
