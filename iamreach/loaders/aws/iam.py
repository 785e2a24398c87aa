"""IAM: users, groups, roles, managed policies and instance profiles.

``collect`` reads every page of ``GetAccountAuthorizationDetails`` plus ``ListInstanceProfiles``;
``normalize`` also serves the offline ``iamreach import authdetails`` path (the AWS CLI's JSON
has the same shape). Policy documents may arrive as objects or URL-encoded strings.
"""

from __future__ import annotations

from typing import Any

from iamreach.errors import InputError
from iamreach.inventory import Gap, InstanceProfile, Inventory, ManagedPolicy, Principal
from iamreach.loaders.aws._common import Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "AUTHDETAILS_KEYS"]

GLOBAL = True
AUTHDETAILS_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
NOTE_NAME_FROM_ARN = ("iam: GetAccountAuthorizationDetails returned managed policies without PolicyName;"
                      " the name was taken from the ARN (ManagedPolicy.name_source='arn')")


def collect(ctx: Context) -> dict[str, Any]:
    """Raw IAM responses for one account."""
    pages = ctx.pages("iam", "get_account_authorization_details")
    details = None
    if pages is not None:
        details = {key: [item for page in pages for item in page.get(key) or []] for key in AUTHDETAILS_KEYS}
    profiles = ctx.paginate("iam", "list_instance_profiles", "InstanceProfiles")
    return jsonable({"authdetails": details, "instance_profiles": profiles})


def _doc(value: Any, where: str) -> dict | None:
    try:
        return parse_document(value, where=where)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _inline(items: list | None, where: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i, item in enumerate(items or []):
        doc = _doc(item.get("PolicyDocument"), f"{where}[{i}].PolicyDocument")
        out[item["PolicyName"]] = doc or {}
    return out


def _attached(items: list | None) -> list[str]:
    return sorted({a["PolicyArn"] for a in items or []})


def _boundary(item: dict) -> str | None:
    return (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Turn raw IAM responses into principals, managed policies and instance profiles."""
    inv = Inventory()
    details = raw.get("authdetails")
    if details is not None:
        _principals(inv, details, account)
        _policies(inv, details)
        _missing_policies(inv, account)
    for ip in raw.get("instance_profiles") or []:
        inv.instance_profiles.append(_profile(ip))
    return inv.sort()


def _principals(inv: Inventory, details: dict, account: str) -> None:
    groups = {g["GroupName"]: g["Arn"] for g in details.get("GroupDetailList") or []}
    for i, u in enumerate(details.get("UserDetailList") or []):
        where = f"UserDetailList[{i}]"
        inv.principals.append(Principal(
            arn=u["Arn"], kind="user", account=_account_of(u["Arn"]), name=u["UserName"], id=u.get("UserId"),
            path=u.get("Path") or "/", inline_policies=_inline(u.get("UserPolicyList"), f"{where}.UserPolicyList"),
            managed_policy_arns=_attached(u.get("AttachedManagedPolicies")),
            permissions_boundary_arn=_boundary(u), tags=tags_dict(u.get("Tags")),
            groups=sorted(groups.get(g) or f"arn:aws:iam::{_account_of(u['Arn'])}:group/{g}"
                          for g in u.get("GroupList") or []),
            created=_str(u.get("CreateDate"))))
    for i, g in enumerate(details.get("GroupDetailList") or []):
        inv.principals.append(Principal(
            arn=g["Arn"], kind="group", account=_account_of(g["Arn"]), name=g["GroupName"], id=g.get("GroupId"),
            path=g.get("Path") or "/",
            inline_policies=_inline(g.get("GroupPolicyList"), f"GroupDetailList[{i}].GroupPolicyList"),
            managed_policy_arns=_attached(g.get("AttachedManagedPolicies")), created=_str(g.get("CreateDate"))))
    for i, r in enumerate(details.get("RoleDetailList") or []):
        where = f"RoleDetailList[{i}]"
        path = r.get("Path") or "/"
        profiles = r.get("InstanceProfileList") or []
        inv.principals.append(Principal(
            arn=r["Arn"], kind="role", account=_account_of(r["Arn"]), name=r["RoleName"], id=r.get("RoleId"),
            path=path, inline_policies=_inline(r.get("RolePolicyList"), f"{where}.RolePolicyList"),
            managed_policy_arns=_attached(r.get("AttachedManagedPolicies")),
            permissions_boundary_arn=_boundary(r), tags=tags_dict(r.get("Tags")),
            trust_policy=_doc(r.get("AssumeRolePolicyDocument"), f"{where}.AssumeRolePolicyDocument"),
            instance_profile_arns=sorted({p["Arn"] for p in profiles}),
            is_service_linked=path.startswith("/aws-service-role/"),
            last_used=_str((r.get("RoleLastUsed") or {}).get("LastUsedDate")), created=_str(r.get("CreateDate"))))
        for p in profiles:
            inv.instance_profiles.append(_profile(p))


def _profile(p: dict) -> InstanceProfile:
    return InstanceProfile(arn=p["Arn"], account=_account_of(p["Arn"]), name=p["InstanceProfileName"],
                           role_arns=sorted({r["Arn"] for r in p.get("Roles") or []}))


def _policies(inv: Inventory, details: dict) -> None:
    for i, p in enumerate(details.get("Policies") or []):
        arn = p["Arn"]
        name, source = p.get("PolicyName"), None
        if not name:
            name, source = arn.rsplit("/", 1)[-1], "arn"
            _note(inv, NOTE_NAME_FROM_ARN)
        versions = p.get("PolicyVersionList") or []
        default = next((v for v in versions if v.get("IsDefaultVersion")), None) or next(
            (v for v in versions if v.get("VersionId") == p.get("DefaultVersionId")), None)
        doc = _doc(default.get("Document"), f"Policies[{i}].PolicyVersionList") if default else None
        acct = _account_of(arn)
        inv.policies.append(ManagedPolicy(
            arn=arn, name=name, document=doc or {}, account=None if acct == "aws" else acct,
            version_id=(default or {}).get("VersionId") or p.get("DefaultVersionId"), name_source=source))


def _missing_policies(inv: Inventory, account: str) -> None:
    """An attached managed policy whose document was not returned is a gap, not an empty policy."""
    known = {p.arn for p in inv.policies}
    for arn in sorted({a for pr in inv.principals for a in pr.managed_policy_arns} - known):
        inv.gaps.append(Gap(service="iam", api="GetAccountAuthorizationDetails", error_code="PolicyNotReturned",
                            account=account, message="attached managed policy's document was not in the response",
                            resource=arn))


def _note(inv: Inventory, note: str) -> None:
    notes = inv.meta.setdefault("notes", [])
    if note not in notes:
        notes.append(note)
