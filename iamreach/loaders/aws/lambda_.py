"""Lambda: functions with execution role, VPC config, tags, resource policy and env var NAMES.

Environment variable values are dropped inside ``collect``, before anything else sees them.
The VPC id is resolved from the subnet by the collector (:func:`iamreach.loaders.link.resolve_vpcs`);
the API's ``VpcConfig.VpcId`` is only the fallback when the subnet is unknown.
"""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "scrub_function"]

GLOBAL = False


def scrub_function(fn: dict) -> dict:
    """Copy of a function configuration with environment variable values removed."""
    out = dict(fn)
    env = out.pop("Environment", None) or {}
    out["EnvironmentVariableNames"] = sorted((env.get("Variables") or {}).keys())
    return out


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Lambda responses for one region (env values scrubbed)."""
    fns = ctx.paginate("lambda", "list_functions", "Functions")
    out = []
    for fn in fns or []:
        fn = scrub_function(fn)
        arn = fn["FunctionArn"]
        fn["Tags"] = (ctx.call("lambda", "list_tags", resource=arn, Resource=arn) or {}).get("Tags")
        policy = ctx.call("lambda", "get_policy", resource=arn, FunctionName=arn,
                          absent=("ResourceNotFoundException",))
        fn["Policy"] = (policy or {}).get("Policy")
        out.append(fn)
    return jsonable({"functions": None if fns is None else out})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Functions as ``lambda_function`` resources."""
    inv = Inventory()
    for fn in raw.get("functions") or []:
        if "Environment" in fn:  # a recorded raw response: scrub it here too
            fn = scrub_function(fn)
        vpc = fn.get("VpcConfig") or {}
        inv.resources.append(Resource(
            arn=fn["FunctionArn"], kind="lambda_function", account=account, region=region,
            id=fn["FunctionName"], name=fn["FunctionName"], tags=tags_dict(fn.get("Tags")),
            policy=parse_document(fn.get("Policy"), where=f"lambda {fn['FunctionName']} policy"),
            attributes={
                "role_arn": fn.get("Role"),
                "vpc_id": vpc.get("VpcId") or None,
                "subnet_ids": sorted(vpc.get("SubnetIds") or []),
                "security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
                "environment_variable_names": fn.get("EnvironmentVariableNames") or [],
                "runtime": fn.get("Runtime")}))
    return inv.sort()
