"""SageMaker notebook instances: role, subnet, security groups, direct internet access, KMS key."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, tags_dict

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw SageMaker responses for one region."""
    listed = ctx.paginate("sagemaker", "list_notebook_instances", "NotebookInstances")
    out = []
    for nb in listed or []:
        arn = nb["NotebookInstanceArn"]
        desc = ctx.call("sagemaker", "describe_notebook_instance", resource=arn,
                        NotebookInstanceName=nb["NotebookInstanceName"])
        tags = ctx.paginate("sagemaker", "list_tags", "Tags", resource=arn, ResourceArn=arn)
        out.append({**nb, **(desc or {}), "Tags": tags})
    return jsonable({"notebooks": None if listed is None else out})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Notebook instances as ``sagemaker_notebook`` resources."""
    inv = Inventory()
    for nb in raw.get("notebooks") or []:
        name = nb["NotebookInstanceName"]
        direct = nb.get("DirectInternetAccess")
        inv.resources.append(Resource(
            arn=nb["NotebookInstanceArn"], kind="sagemaker_notebook", account=account, region=region, id=name,
            name=name, tags=tags_dict(nb.get("Tags")), attributes={
                "role_arn": nb.get("RoleArn"), "subnet_id": nb.get("SubnetId"),
                "security_group_ids": sorted(nb.get("SecurityGroups") or []), "vpc_id": None,
                # AWS default is Enabled; unknown (describe failed) stays None
                "direct_internet_access": None if "NotebookInstanceStatus" not in nb and direct is None
                else direct != "Disabled",
                "kms_key_id": nb.get("KmsKeyId")}))
    return inv.sort()
