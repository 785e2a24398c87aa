"""KMS: keys (customer- and AWS-managed) with key policy, grants, aliases and tags."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw KMS responses for one region."""
    keys = ctx.paginate("kms", "list_keys", "Keys")
    aliases = ctx.paginate("kms", "list_aliases", "Aliases")
    out = []
    for k in keys or []:
        arn = k.get("KeyArn") or k["KeyId"]
        meta = (ctx.call("kms", "describe_key", resource=arn, KeyId=k["KeyId"]) or {}).get("KeyMetadata")
        policy = ctx.call("kms", "get_key_policy", resource=arn, KeyId=k["KeyId"], PolicyName="default")
        grants = ctx.paginate("kms", "list_grants", "Grants", resource=arn, KeyId=k["KeyId"])
        tags = None
        if meta and meta.get("KeyManager") == "CUSTOMER":
            tags = ctx.paginate("kms", "list_resource_tags", "Tags", resource=arn, KeyId=k["KeyId"])
        out.append({"Key": k, "KeyMetadata": meta, "Policy": (policy or {}).get("Policy"), "Grants": grants,
                    "Tags": tags})
    return jsonable({"keys": out if keys is not None else None, "aliases": aliases})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Keys as ``kms_key`` resources; the key policy is the resource policy."""
    inv = Inventory()
    by_key: dict[str, list[str]] = {}
    for a in raw.get("aliases") or []:
        if a.get("TargetKeyId"):
            by_key.setdefault(a["TargetKeyId"], []).append(a["AliasName"])
    for item in raw.get("keys") or []:
        key = item["Key"]
        meta = item.get("KeyMetadata") or {}
        key_id = key["KeyId"]
        arn = meta.get("Arn") or key.get("KeyArn") or f"arn:aws:kms:{region}:{account}:key/{key_id}"
        grants = item.get("Grants")
        inv.resources.append(Resource(
            arn=arn, kind="kms_key", account=account, region=region, id=key_id,
            name=(sorted(by_key.get(key_id, [])) or [None])[0],
            tags=tags_dict(item.get("Tags")),
            policy=parse_document(item.get("Policy"), where=f"kms key {key_id} policy"),
            attributes={
                "key_manager": meta.get("KeyManager"),
                "key_state": meta.get("KeyState"),
                "aliases": sorted(by_key.get(key_id, [])) if raw.get("aliases") is not None else [],
                "grants": None if grants is None else sorted(
                    ({"grant_id": g.get("GrantId"), "grantee_principal": g.get("GranteePrincipal"),
                      "operations": sorted(g.get("Operations") or []),
                      "retiring_principal": g.get("RetiringPrincipal"), "constraints": g.get("Constraints")}
                     for g in grants), key=lambda g: str(g["grant_id"])),
            }))
    return inv.sort()
