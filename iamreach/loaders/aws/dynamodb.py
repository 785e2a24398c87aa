"""DynamoDB tables: resource policy, KMS key, tags."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import ABSENT, Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw DynamoDB responses for one region."""
    names = ctx.paginate("dynamodb", "list_tables", "TableNames")
    out = []
    for name in names or []:
        table = (ctx.call("dynamodb", "describe_table", resource=name, TableName=name) or {}).get("Table")
        if not table:
            continue
        arn = table["TableArn"]
        table["Tags"] = ctx.paginate("dynamodb", "list_tags_of_resource", "Tags", resource=arn, ResourceArn=arn)
        pol = ctx.call("dynamodb", "get_resource_policy", resource=arn, ResourceArn=arn,
                       absent=("PolicyNotFoundException",))
        table["ResourcePolicy"] = None if pol is None or pol is ABSENT else pol.get("Policy")
        out.append(table)
    return jsonable({"tables": None if names is None else out})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Tables as ``dynamodb_table`` resources."""
    inv = Inventory()
    for t in raw.get("tables") or []:
        sse = t.get("SSEDescription") or {}
        inv.resources.append(Resource(
            arn=t["TableArn"], kind="dynamodb_table", account=account, region=region, id=t["TableName"],
            name=t["TableName"], tags=tags_dict(t.get("Tags")),
            policy=parse_document(t.get("ResourcePolicy"), where=f"table {t['TableName']} policy"),
            attributes={"kms_key_arn": sse.get("KMSMasterKeyArn")}))
    return inv.sort()
