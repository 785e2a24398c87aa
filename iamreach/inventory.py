"""The normalized inventory every loader produces and the graph builder consumes.

Records are small dataclasses of JSON-native values (str, int, bool, None, list, dict), so the
inventory serializes to a snapshot (:mod:`iamreach.snapshot`) without conversion. Required
keys fail loudly when a snapshot is read: the error names the record and the field.

A *gap* is data: every failed collection call is a :class:`Gap`, and analyses answer UNKNOWN
where a gap could hide an edge.

Examples
--------
>>> inv = Inventory()
>>> inv.accounts.append(Account(id="111122223333", name="prod"))
>>> Inventory.from_dict(inv.to_dict()).accounts[0].name
'prod'
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from iamreach.errors import SnapshotError

__all__ = [
    "SCHEMA_VERSION",
    "Account",
    "OrgUnit",
    "Organization",
    "OrgPolicy",
    "ManagedPolicy",
    "Principal",
    "InstanceProfile",
    "Resource",
    "Gap",
    "LakeFormationPermission",
    "Inventory",
]

SCHEMA_VERSION = 1


class _Record:
    """Mixin: dict round trip with field validation."""

    REQUIRED: ClassVar[tuple[str, ...]] = ()
    _TYPES: ClassVar[dict[str, tuple[type, ...]]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in _field_names(type(self))}

    @classmethod
    def from_dict(cls, data: Any, where: str = ""):
        if not isinstance(data, dict):
            raise SnapshotError("expected a JSON object", field=where or cls.__name__)
        fields = _field_names(cls)
        unknown = data.keys() - fields
        name = where or cls.__name__
        if unknown:
            raise SnapshotError(f"unknown field(s) {sorted(unknown)}; expected only {sorted(fields)}", field=name)
        for req in cls.REQUIRED:
            if data.get(req) in (None, ""):
                raise SnapshotError("required field is missing or empty", field=f"{name}.{req}")
        for key, value in data.items():
            types = cls._TYPES.get(key)
            if types is not None and value is not None and not isinstance(value, types):
                expected = " or ".join(t.__name__ for t in types)
                raise SnapshotError(f"expected {expected}, got {type(value).__name__}", field=f"{name}.{key}")
        return cls(**data)


@functools.cache
def _field_names(cls) -> frozenset[str] | tuple[str, ...]:
    """The dataclass field names of a record class (ClassVars excluded), computed once."""
    return tuple(f.name for f in dataclasses.fields(cls))


_S = (str,)
_L = (list,)
_D = (dict,)
_B = (bool,)


@dataclass(slots=True)
class Account(_Record):
    """An AWS account."""

    id: str
    name: str | None = None
    org_id: str | None = None
    #: OU ids from the root down to the account's parent: ["r-abcd", "ou-abcd-1", ...]
    ou_path: list[str] = field(default_factory=list)
    is_management: bool = False
    status: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: account-level S3 Block Public Access flags, or None when not set / not collected
    s3_public_access_block: dict[str, bool] | None = None
    #: regions collected for this account
    regions: list[str] = field(default_factory=list)

    REQUIRED: ClassVar = ("id",)
    _TYPES: ClassVar = {"id": _S, "ou_path": _L, "tags": _D, "is_management": _B, "regions": _L}


@dataclass(slots=True)
class OrgUnit(_Record):
    """An organizational unit (or the root, whose id starts with ``r-``)."""

    id: str
    name: str | None = None
    parent_id: str | None = None

    REQUIRED: ClassVar = ("id",)


@dataclass(slots=True)
class Organization(_Record):
    id: str
    management_account_id: str
    root_id: str | None = None
    units: list[dict] = field(default_factory=list)  # OrgUnit dicts

    REQUIRED: ClassVar = ("id", "management_account_id")
    _TYPES: ClassVar = {"units": _L}


@dataclass(slots=True)
class OrgPolicy(_Record):
    """A service control policy (SCP) or resource control policy (RCP)."""

    id: str
    type: str  # "SCP" | "RCP"
    name: str | None = None
    arn: str | None = None
    document: dict = field(default_factory=dict)
    #: ids of the root (r-...), OUs (ou-...) and accounts (12 digits) it is attached to
    targets: list[str] = field(default_factory=list)
    aws_managed: bool = False

    REQUIRED: ClassVar = ("id", "type")
    _TYPES: ClassVar = {"document": _D, "targets": _L}


@dataclass(slots=True)
class ManagedPolicy(_Record):
    """A managed IAM policy with its default version's document."""

    arn: str
    name: str
    document: dict
    account: str | None = None  # None for AWS-managed policies
    version_id: str | None = None
    #: where the name came from when the API did not send it ("arn" = parsed from the ARN)
    name_source: str | None = None

    REQUIRED: ClassVar = ("arn", "name")
    _TYPES: ClassVar = {"document": _D}


@dataclass(slots=True)
class Principal(_Record):
    """An IAM user, group or role."""

    arn: str
    kind: str  # "user" | "group" | "role"
    account: str
    name: str
    id: str | None = None  # unique id (AIDA..., AROA..., AGPA...)
    path: str = "/"
    #: inline policies: name -> document
    inline_policies: dict[str, dict] = field(default_factory=dict)
    managed_policy_arns: list[str] = field(default_factory=list)
    permissions_boundary_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trust_policy: dict | None = None  # roles only
    groups: list[str] = field(default_factory=list)  # users only: group ARNs
    instance_profile_arns: list[str] = field(default_factory=list)  # roles only
    is_service_linked: bool = False
    last_used: str | None = None
    created: str | None = None

    REQUIRED: ClassVar = ("arn", "kind", "account", "name")
    _TYPES: ClassVar = {"inline_policies": _D, "managed_policy_arns": _L, "tags": _D, "groups": _L,
                        "trust_policy": _D, "instance_profile_arns": _L}


@dataclass(slots=True)
class InstanceProfile(_Record):
    arn: str
    account: str
    name: str
    role_arns: list[str] = field(default_factory=list)

    REQUIRED: ClassVar = ("arn", "account", "name")
    _TYPES: ClassVar = {"role_arns": _L}


@dataclass(slots=True)
class Resource(_Record):
    """Any other AWS resource: compute, data store, key, snapshot, network object, trail.

    ``kind`` is a :class:`iamreach.model.NodeKind` value; ``attributes`` holds the keys that
    :data:`iamreach.model.RESOURCE_ATTRIBUTES` lists for that kind. ``id`` is the service's
    own id (vpc-..., sg-..., i-..., bucket name) used by network references.
    """

    arn: str
    kind: str
    account: str
    region: str | None = None
    id: str | None = None
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    policy: dict | None = None  # resource-based policy (bucket, key, secret, table, endpoint ...)
    attributes: dict[str, Any] = field(default_factory=dict)

    REQUIRED: ClassVar = ("arn", "kind", "account")
    _TYPES: ClassVar = {"tags": _D, "policy": _D, "attributes": _D}


@dataclass(slots=True)
class Gap(_Record):
    """A collection call that failed: what could not be seen."""

    service: str
    api: str
    error_code: str
    account: str | None = None
    region: str | None = None
    message: str | None = None
    #: resource ARN the call was about, when the call was per-resource
    resource: str | None = None

    REQUIRED: ClassVar = ("service", "api", "error_code")

    def key(self) -> tuple:
        return (self.account or "", self.region or "", self.service, self.api, self.resource or "", self.error_code)


@dataclass(slots=True)
class LakeFormationPermission(_Record):
    """One Lake Formation grant (``ListPermissions``): a principal's permissions on a data catalog resource."""

    account: str
    principal: str  # DataLakePrincipalIdentifier: an IAM ARN, account id, SAML/QuickSight id or IAM_ALLOWED_PRINCIPALS
    resource: dict = field(default_factory=dict)  # the API's Resource object (Database / Table / DataLocation ...)
    permissions: list[str] = field(default_factory=list)
    permissions_with_grant_option: list[str] = field(default_factory=list)
    region: str | None = None

    REQUIRED: ClassVar = ("account", "principal")
    _TYPES: ClassVar = {"resource": _D, "permissions": _L, "permissions_with_grant_option": _L}

    def key(self) -> tuple:
        return (self.account, self.region or "", self.principal, json.dumps(self.resource, sort_keys=True))


_LISTS: dict[str, type[_Record]] = {
    "accounts": Account,
    "org_policies": OrgPolicy,
    "policies": ManagedPolicy,
    "principals": Principal,
    "instance_profiles": InstanceProfile,
    "resources": Resource,
    "gaps": Gap,
    "lakeformation_permissions": LakeFormationPermission,
}
_SORT_KEYS = {
    "accounts": lambda r: r.id,
    "org_policies": lambda r: r.id,
    "policies": lambda r: r.arn,
    "principals": lambda r: r.arn,
    "instance_profiles": lambda r: r.arn,
    "resources": lambda r: (r.kind, r.arn),
    "gaps": lambda r: r.key(),
    "lakeformation_permissions": lambda r: r.key(),
}


@dataclass(slots=True)
class Inventory:
    """Everything collected. Build it from any loader; serialize it with :mod:`iamreach.snapshot`."""

    organization: Organization | None = None
    accounts: list[Account] = field(default_factory=list)
    org_policies: list[OrgPolicy] = field(default_factory=list)
    policies: list[ManagedPolicy] = field(default_factory=list)
    principals: list[Principal] = field(default_factory=list)
    instance_profiles: list[InstanceProfile] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    #: Lake Formation grants (data catalog permissions beyond IAM), where the API answered
    lakeformation_permissions: list[LakeFormationPermission] = field(default_factory=list)
    #: free-form provenance: {"source": "collect"|"authdetails"|"terraform"|..., "notes": [...]}
    meta: dict[str, Any] = field(default_factory=dict)

    def sort(self) -> Inventory:
        """Sort every list into its canonical order, drop exact duplicates, in place; return self."""
        for name, key in _SORT_KEYS.items():
            items = getattr(self, name)
            seen: dict = {}
            for item in sorted(items, key=key):
                seen.setdefault(key(item), item)
            setattr(self, name, list(seen.values()))
        return self

    def to_dict(self) -> dict[str, Any]:
        self.sort()
        out: dict[str, Any] = {
            "organization": self.organization.to_dict() if self.organization else None,
            "meta": self.meta,
        }
        for name in _LISTS:
            out[name] = [r.to_dict() for r in getattr(self, name)]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Inventory:
        if not isinstance(data, dict):
            raise SnapshotError("expected a JSON object", field="inventory")
        expected = {"organization", "meta", *_LISTS}
        unknown = set(data) - expected
        if unknown:
            raise SnapshotError(f"unknown field(s) {sorted(unknown)}", field="inventory")
        inv = cls()
        org = data.get("organization")
        inv.organization = Organization.from_dict(org, "organization") if org is not None else None
        meta = data.get("meta") or {}
        if not isinstance(meta, dict):
            raise SnapshotError("expected a JSON object", field="meta")
        inv.meta = meta
        for name, rec in _LISTS.items():
            items = data.get(name, [])
            if not isinstance(items, list):
                raise SnapshotError("expected a JSON array", field=name)
            setattr(inv, name, [rec.from_dict(item, f"{name}[{i}]") for i, item in enumerate(items)])
        return inv

    # -- convenience lookups (built on demand; the inventory itself stays plain data) --------
    def account(self, account_id: str) -> Account | None:
        for a in self.accounts:
            if a.id == account_id:
                return a
        return None

    def merge(self, other: Inventory) -> Inventory:
        """Return a new inventory with the records of both (``other`` wins on equal keys)."""
        merged = Inventory()
        merged.organization = other.organization or self.organization
        for name, key in _SORT_KEYS.items():
            by_key = {key(r): r for r in getattr(self, name)}
            by_key.update({key(r): r for r in getattr(other, name)})
            setattr(merged, name, list(by_key.values()))
        merged.meta = {**self.meta, **other.meta}
        sources = sorted({*self.meta.get("sources", [self.meta.get("source")]),
                          *other.meta.get("sources", [other.meta.get("source")])} - {None})
        if sources:
            merged.meta["sources"] = sources
        return merged.sort()


def replace(record, **changes):
    """``dataclasses.replace`` for inventory records."""
    return dataclasses.replace(record, **changes)
