"""AWS Organizations: the organization, its OU tree, accounts, SCPs and RCPs with their targets.

Collected once, from the management (or delegated administrator) account.
"""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Account, Inventory, Organization, OrgPolicy, OrgUnit
from iamreach.loaders.aws._common import ABSENT, Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "POLICY_TYPES"]

GLOBAL = True
#: Organizations policy filter -> OrgPolicy.type
POLICY_TYPES = {"SERVICE_CONTROL_POLICY": "SCP", "RESOURCE_CONTROL_POLICY": "RCP"}
_SVC = "organizations"


def collect(ctx: Context) -> dict[str, Any]:
    """Raw Organizations responses (walks the OU tree breadth first)."""
    org = ctx.call(_SVC, "describe_organization", absent=("AWSOrganizationsNotInUseException",))
    if org is ABSENT:  # a standalone account: certainly no SCPs / RCPs, not a gap
        return {"organization": None, "standalone": True}
    if not org:
        return {"organization": None}
    raw: dict[str, Any] = {"organization": org.get("Organization"), "roots": ctx.paginate(_SVC, "list_roots", "Roots")}
    units: list[dict] = []
    children: dict[str, list] = {}
    queue = [r["Id"] for r in raw["roots"] or []]
    while queue:
        parent = queue.pop(0)
        ous = ctx.paginate(_SVC, "list_organizational_units_for_parent", "OrganizationalUnits",
                           resource=parent, ParentId=parent) or []
        for ou in ous:
            units.append({**ou, "ParentId": parent})
            queue.append(ou["Id"])
        children[parent] = ctx.paginate(_SVC, "list_accounts_for_parent", "Accounts", resource=parent,
                                        ParentId=parent)
    raw["units"] = units
    raw["accounts_by_parent"] = children
    accounts = ctx.paginate(_SVC, "list_accounts", "Accounts")
    raw["accounts"] = accounts
    raw["account_tags"] = {a["Id"]: ctx.paginate(_SVC, "list_tags_for_resource", "Tags", resource=a["Id"],
                                                 ResourceId=a["Id"]) for a in accounts or []}
    raw["policies"] = {}
    for flt in POLICY_TYPES:
        summaries = ctx.paginate(_SVC, "list_policies", "Policies", Filter=flt)
        if summaries is None:
            continue
        detailed = []
        for s in summaries:
            pol = ctx.call(_SVC, "describe_policy", resource=s["Arn"], PolicyId=s["Id"])
            targets = ctx.paginate(_SVC, "list_targets_for_policy", "Targets", resource=s["Arn"], PolicyId=s["Id"])
            detailed.append({"Summary": s, "Content": (pol or {}).get("Policy", {}).get("Content"),
                             "Targets": targets})
        raw["policies"][flt] = detailed
    return jsonable(raw)


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Organization, OU tree, member accounts (with OU paths) and org policies."""
    inv = Inventory()
    org = raw.get("organization")
    if raw.get("standalone"):
        inv.meta["notes"] = [f"organizations: account {account} is not in an organization (no SCPs or RCPs apply)"]
    if not org:
        return inv
    roots = raw.get("roots") or []
    units = [OrgUnit(id=r["Id"], name=r.get("Name")).to_dict() for r in roots]
    units += [OrgUnit(id=u["Id"], name=u.get("Name"), parent_id=u.get("ParentId")).to_dict()
              for u in raw.get("units") or []]
    inv.organization = Organization(id=org["Id"], management_account_id=org["MasterAccountId"],
                                    root_id=roots[0]["Id"] if roots else None,
                                    units=sorted(units, key=lambda u: u["id"]))
    parents = {u["id"]: u["parent_id"] for u in units}
    parent_of = {a["Id"]: parent for parent, accts in (raw.get("accounts_by_parent") or {}).items()
                 for a in accts or []}
    tags = raw.get("account_tags") or {}
    for a in raw.get("accounts") or []:
        inv.accounts.append(Account(
            id=a["Id"], name=a.get("Name"), org_id=org["Id"], ou_path=_path(parent_of.get(a["Id"]), parents),
            is_management=a["Id"] == org["MasterAccountId"], status=a.get("Status"),
            tags=tags_dict(tags.get(a["Id"]))))
    for flt, items in (raw.get("policies") or {}).items():
        for item in items:
            s = item["Summary"]
            content = item.get("Content")
            inv.org_policies.append(OrgPolicy(
                id=s["Id"], type=POLICY_TYPES.get(flt, flt), name=s.get("Name"), arn=s.get("Arn"),
                document=parse_document(content, where=f"organizations policy {s['Id']}") or {},
                targets=sorted({t["TargetId"] for t in item.get("Targets") or []}),
                aws_managed=bool(s.get("AwsManaged"))))
    return inv.sort()


def _path(parent: str | None, parents: dict[str, str | None]) -> list[str]:
    """OU ids from the root down to ``parent`` (empty when the parent is unknown)."""
    path: list[str] = []
    seen: set[str] = set()
    while parent and parent not in seen:
        seen.add(parent)
        path.append(parent)
        parent = parents.get(parent)
    return path[::-1]
