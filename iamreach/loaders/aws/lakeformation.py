"""Lake Formation permissions (``ListPermissions``), where the API answers.

Stored as :class:`iamreach.inventory.LakeFormationPermission` records on
``Inventory.lakeformation_permissions`` (not as resources: they are grants, not things).
"""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, LakeFormationPermission
from iamreach.loaders.aws._common import Context, jsonable

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Lake Formation permissions for one region."""
    return jsonable({"permissions": ctx.paginate("lakeformation", "list_permissions",
                                                 "PrincipalResourcePermissions")})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Grants as ``LakeFormationPermission`` records."""
    inv = Inventory()
    for p in raw.get("permissions") or []:
        principal = (p.get("Principal") or {}).get("DataLakePrincipalIdentifier")
        if not principal:
            continue
        inv.lakeformation_permissions.append(LakeFormationPermission(
            account=account, region=region, principal=principal, resource=p.get("Resource") or {},
            permissions=sorted(p.get("Permissions") or []),
            permissions_with_grant_option=sorted(p.get("PermissionsWithGrantOption") or [])))
    return inv.sort()
