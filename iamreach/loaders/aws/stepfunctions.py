"""Step Functions state machines: role, tracing, logging and the ARNs the definition references.

The definition itself is not kept: only the ARNs found in it.
"""

from __future__ import annotations

import json
from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "definition_arns"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Step Functions responses for one region."""
    listed = ctx.paginate("stepfunctions", "list_state_machines", "stateMachines")
    out = []
    for sm in listed or []:
        arn = sm["stateMachineArn"]
        desc = ctx.call("stepfunctions", "describe_state_machine", resource=arn, stateMachineArn=arn)
        tags = (ctx.call("stepfunctions", "list_tags_for_resource", resource=arn, resourceArn=arn) or {}).get("tags")
        out.append({**sm, **(desc or {}), "tags": tags})
    return jsonable({"state_machines": None if listed is None else out})


def definition_arns(definition: Any) -> list[str]:
    """Every string starting with ``arn:`` anywhere in a state machine definition.

    >>> definition_arns('{"States": {"A": {"Resource": "arn:aws:states:::lambda:invoke",'
    ...                 ' "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:f"}}}}')
    ['arn:aws:lambda:us-east-1:1:function:f', 'arn:aws:states:::lambda:invoke']
    """
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError:
            return []
    found: set[str] = set()
    stack = [definition]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item.startswith("arn:"):
            found.add(item)
    return sorted(found)


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """State machines as ``sfn_state_machine`` resources."""
    inv = Inventory()
    for sm in raw.get("state_machines") or []:
        logging = sm.get("loggingConfiguration") or {}
        dests = [(d.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") for d in logging.get("destinations") or []]
        inv.resources.append(Resource(
            arn=sm["stateMachineArn"], kind="sfn_state_machine", account=account, region=region, id=sm["name"],
            name=sm["name"], tags=tags_dict(sm.get("tags")), attributes={
                "role_arn": sm.get("roleArn"),
                "tracing_enabled": bool((sm.get("tracingConfiguration") or {}).get("enabled")),
                "logging_level": logging.get("level"),
                "log_destinations": sorted({d for d in dests if d}),
                "resource_arns": definition_arns(sm.get("definition"))}))
    return inv.sort()
