"""Terraform resource types -> inventory records: one small converter per supported type.

A converter has an ``add(ctx, res)`` that asserts a resource's values into the inventory being
edited and a ``remove(ctx, res)`` that retracts them. *Primary* converters own a record
(a role, a bucket, a security group ...); *attachment* converters edit a record another
resource owns (an inline role policy, a bucket policy, a security group rule ...). The
:data:`CONVERTERS` table lists them; :mod:`iamreach.loaders.terraform` runs them in order.

Unknown-until-apply values never vanish: a policy document becomes the conditional wildcard of
:func:`~iamreach.loaders.terraform_plan.unknown_document` (or its data source's statements with
unknown parts as ``*``), an unknown ARN or id becomes a provisional one derived from the
resource it references or from the address, and each is noted in ``unknown_values``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iamreach.errors import PlanError
from iamreach.inventory import InstanceProfile, Inventory, ManagedPolicy, OrgPolicy, Principal, Resource
from iamreach.loaders.terraform_plan import (
    Plan,
    TfResource,
    document_from_statements,
    module_key,
    unknown_document,
)

__all__ = ["Ctx", "Notes", "Converter", "CONVERTERS", "PRIMARY", "DEPENDENT", "ATTACHMENT", "PHASES", "identity"]

#: owns a record other resources refer to (role, bucket, security group ...)
PRIMARY = "primary"
#: owns a record but refers to primaries (instance profile -> role, instance -> subnet ...)
DEPENDENT = "dependent"
#: edits a record another resource owns (inline policy, bucket policy, SG rule ...)
ATTACHMENT = "attachment"
PHASES = (PRIMARY, DEPENDENT, ATTACHMENT)


@dataclass
class Notes:
    """What the import could not know or model; shared by the before and after passes."""

    unknown_values: dict[tuple[str, str], dict]
    unsupported: dict[str, dict]
    provisional: dict[str, dict]
    unresolved: dict[tuple[str, str], dict]
    locations: dict[str, dict]
    contributors: dict[str, set[str]]
    #: terraform address -> {terraform_address, module, file, line} of every converted resource
    addresses: dict[str, dict]
    #: "OWNER-ARN inline policy NAME" / "OWNER-ARN managed policy ARN" -> terraform address
    policy_sources: dict[str, str]

    @classmethod
    def new(cls) -> Notes:
        return cls({}, {}, {}, {}, {}, {}, {}, {})

    def unknown(self, res: TfResource, attribute: str, treated_as: str) -> None:
        self.unknown_values.setdefault((res.address, attribute), {
            "address": res.address, "attribute": attribute, "treated_as": treated_as})

    def unresolved_ref(self, res: TfResource, attribute: str, detail: str) -> None:
        self.unresolved.setdefault((res.address, attribute), {
            "address": res.address, "attribute": attribute, "detail": detail})


class Ctx:
    """An inventory being edited, indexed by ARN, name and service id."""

    def __init__(self, inv: Inventory, plan: Plan, account: str, region: str, notes: Notes,
                 places: dict[tuple[str | None, str], tuple[str, int]]):
        self.plan = plan
        self.account = account
        self.region = region
        self.notes = notes
        self.places = places
        self.organization = inv.organization
        self.accounts = {a.id: a for a in inv.accounts}
        self.gaps = list(inv.gaps)
        self.meta = dict(inv.meta)
        self.principals = {p.arn: p for p in inv.principals}
        self.policies = {p.arn: p for p in inv.policies}
        self.profiles = {p.arn: p for p in inv.instance_profiles}
        self.resources = {r.arn: r for r in inv.resources}
        self.org_policies = {p.id: p for p in inv.org_policies}
        self._names: dict[tuple[str, str], str] = {}
        for p in self.principals.values():
            self._names[(p.kind, p.name)] = p.arn
        for ip in self.profiles.values():
            self._names[("instance_profile", ip.name)] = ip.arn
        self._ids: dict[tuple[str, str], str] = {}
        for r in self.resources.values():
            if r.id:
                self._ids[(r.kind, r.id)] = r.arn
        #: address -> provisional ARN of records an earlier import of a plan created: a later plan
        #: that knows the real ARN replaces them
        earlier = (inv.meta.get("terraform") or {}).get("provisional") or []
        self._provisional = {p["address"]: p["arn"] for p in earlier if isinstance(p, dict) and "address" in p}

    def adopt(self, res: TfResource, arn: str) -> None:
        """Drop the provisional record an earlier import made for ``res`` if its ARN is now another."""
        old = self._provisional.get(res.address)
        if old is None or old == arn:
            return
        self.forget(old)

    def forget(self, arn: str) -> None:
        """Remove the record with ``arn`` (or org policy id) from every table and index."""
        p = self.principals.pop(arn, None)
        if p is not None:
            self._names.pop((p.kind, p.name), None)
        ip = self.profiles.pop(arn, None)
        if ip is not None:
            self._names.pop(("instance_profile", ip.name), None)
        r = self.resources.pop(arn, None)
        if r is not None and r.id:
            self._ids.pop((r.kind, r.id), None)
        self.policies.pop(arn, None)
        self.org_policies.pop(arn, None)

    def inventory(self) -> Inventory:
        inv = Inventory(organization=self.organization, accounts=list(self.accounts.values()),
                        org_policies=list(self.org_policies.values()), policies=list(self.policies.values()),
                        principals=list(self.principals.values()),
                        instance_profiles=list(self.profiles.values()),
                        resources=list(self.resources.values()), gaps=list(self.gaps), meta=dict(self.meta))
        return inv.sort()

    # -- lookups -------------------------------------------------------------------------
    def by_name(self, kind: str, name: str | None) -> str | None:
        if not name:
            return None
        if name.startswith("arn:"):
            return name
        return self._names.get((kind, name))

    def by_id(self, kind: str, ident: str | None) -> str | None:
        if not ident:
            return None
        if ident.startswith("arn:") and ident in self.resources:
            return ident
        return self._ids.get((kind, ident))

    def iam_arn(self, kind: str, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{self.account}:{kind}{path or '/'}{name}"

    def location(self, res: TfResource) -> dict:
        file, line = self.places.get((module_key(res.module), res.config_address), (None, None))
        loc = {"terraform_address": res.address, "module": res.module, "file": file, "line": line}
        self.notes.addresses[res.address] = loc
        return loc

    # -- values that may be unknown ------------------------------------------------------
    def document(self, res: TfResource, key: str, *, principal: bool = False) -> dict | None:
        """A policy document attribute as a dict; None when empty or computed-and-unknown."""
        if res.is_unknown(key):
            if not self.plan.is_configured(res, key) and res.values.get(key) is None:
                conf = self.plan.config_of(res)
                if conf is not None:  # a computed attribute the configuration does not set
                    return None
            for target, _attr in self.plan.referenced(res, key):
                if target.type == "aws_iam_policy_document" and target.mode == "data":
                    if not target.is_unknown("json") and target.values.get("json"):
                        return _parse_doc(target.values["json"], res, key)
                    doc = document_from_statements(target.values, target.unknown)
                    if doc is not None:
                        self.notes.unknown(res, key, f"rendered from {target.address} statements; unknown "
                                                     "parts as '*' under condition iamreach:UnknownUntilApply")
                        return doc
            self.notes.unknown(res, key, "Allow * on * under condition iamreach:UnknownUntilApply")
            return unknown_document(principal=principal)
        raw = res.values.get(key)
        if raw in (None, ""):
            return None
        return _parse_doc(raw, res, key)

    def computed(self, res: TfResource, key: str) -> bool:
        """Is ``key`` unknown only because the provider computes it (the configuration does not set it)?"""
        return self.plan.config_of(res) is not None and not self.plan.is_configured(res, key)

    def ref(self, res: TfResource, key: str, want: str = "id") -> str | None:
        """A string attribute naming another resource; provisional when unknown until apply."""
        if not res.is_unknown(key):
            value = res.values.get(key)
            return str(value) if value not in (None, "") else None
        if self.computed(res, key):
            return None
        for target, attr in self.plan.referenced(res, key):
            ident = identity(self, target)
            value = ident.get(attr or want) or ident.get(want)
            if value:
                self.notes.unknown(res, key, f"provisional {value} from {target.address}")
                return value
        value = f"{res.address}.{key}"
        self.notes.unknown(res, key, f"provisional {value} (unresolvable reference)")
        return value

    def ref_list(self, res: TfResource, key: str, want: str = "id") -> list[str]:
        """A list of ids (security groups, subnets ...), unknown elements resolved provisionally."""
        unknown = res.unknown.get(key) if isinstance(res.unknown, dict) else None
        values = res.values.get(key)
        targets = [identity(self, t).get(a or want) for t, a in self.plan.referenced(res, key)]
        targets = [t for t in targets if t]
        if unknown is True:
            if self.computed(res, key):
                return []
            if targets:
                self.notes.unknown(res, key, f"provisional {sorted(set(targets))} from references")
                return sorted(set(targets))
            self.notes.unknown(res, key, "unknown list treated as empty: no reference to resolve")
            return []
        out = []
        unk = unknown if isinstance(unknown, list) else []
        for i, v in enumerate(values or []):
            if (i < len(unk) and unk[i] is True) or v is None:
                out.extend(targets)
                self.notes.unknown(res, key, f"provisional {sorted(set(targets))} from references")
            else:
                out.append(str(v))
        return sorted(set(out))

    def provisional(self, res: TfResource, arn: str) -> None:
        self.notes.provisional.setdefault(res.address, {"address": res.address, "arn": arn})

    # -- record edits --------------------------------------------------------------------
    def put_principal(self, p: Principal, res: TfResource) -> None:
        self.adopt(res, p.arn)
        old = self.principals.get(p.arn)
        if old is not None:
            p.inline_policies = p.inline_policies or old.inline_policies
            p.id = p.id or old.id
            p.last_used = old.last_used
            p.created = p.created or old.created
            p.groups = p.groups or old.groups
            p.instance_profile_arns = sorted(set(p.instance_profile_arns) | set(old.instance_profile_arns))
        self.principals[p.arn] = p
        self._names[(p.kind, p.name)] = p.arn
        self._locate(p.arn, res)

    def put_resource(self, r: Resource, res: TfResource) -> None:
        self.adopt(res, r.arn)
        old = self.resources.get(r.arn)
        if old is not None:
            for key, value in old.attributes.items():
                if r.attributes.get(key) is None and value is not None:
                    r.attributes[key] = value
            r.policy = r.policy if r.policy is not None else old.policy
        if r.kind == "security_group":
            for direction in ("ingress", "egress"):
                r.attributes[direction] = r.attributes.get(direction) or []
        r.attributes["_terraform"] = self.location(res)
        self.resources[r.arn] = r
        if r.id:
            self._ids[(r.kind, r.id)] = r.arn
        self._locate(r.arn, res)

    def drop(self, table: dict, arn: str | None) -> None:
        if arn:
            table.pop(arn, None)

    def contribute(self, arn: str, res: TfResource) -> None:
        self.location(res)
        self.notes.contributors.setdefault(arn, set()).add(res.address)

    def _locate(self, arn: str, res: TfResource) -> None:
        self.notes.locations[arn] = self.location(res)

    def resource_base(self, res: TfResource, kind: str, arn: str, ident: str | None, name: str | None,
                      attributes: dict[str, Any]) -> Resource:
        account = _arn_account(arn) or self.account
        region = res.get("region") or _arn_region(arn)
        if region is None and kind not in ("s3_bucket",):
            region = self.region
        tags = res.get("tags_all") or res.get("tags") or {}
        return Resource(arn=arn, kind=kind, account=account, region=region, id=ident, name=name,
                        tags={str(k): str(v) for k, v in tags.items()}, attributes=attributes)


def _parse_doc(raw: Any, res: TfResource, key: str) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        doc = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{res.address}: expected a JSON policy document ({exc})", field=key) from exc
    if not isinstance(doc, dict):
        raise PlanError(f"{res.address}: expected a JSON policy document object", field=key)
    return doc


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 5 else None


def _name(res: TfResource, key: str = "name") -> str:
    """A resource's name; its address when the name is unknown until apply."""
    value = res.get(key)
    if value:
        return str(value)
    prefix = res.get(f"{key}_prefix") or res.get("name_prefix")
    return f"{prefix}{res.address}" if prefix else res.address


# -- identity: provisional arn / id / name of any supported resource -------------------------
def _ident_iam(kind: str) -> Callable[[Ctx, TfResource], dict]:
    def ident(ctx: Ctx, res: TfResource) -> dict:
        name = _name(res)
        path = res.get("path") or "/"
        arn = res.get("arn") or ctx.iam_arn(kind, name, path if kind != "policy" else path)
        return {"arn": arn, "id": res.get("id") or name, "name": name, "unique_id": res.get("unique_id")}
    return ident


def _ident_bucket(ctx: Ctx, res: TfResource) -> dict:
    name = _name(res, "bucket")
    return {"arn": res.get("arn") or f"arn:aws:s3:::{name}", "id": name, "bucket": name, "name": name}


def _ident_ec2(prefix: str, kind: str) -> Callable[[Ctx, TfResource], dict]:
    def ident(ctx: Ctx, res: TfResource) -> dict:
        ident_ = res.get("id") or f"{prefix}-tf-{res.address}"
        arn = res.get("arn") or f"arn:aws:ec2:{ctx.region}:{ctx.account}:{kind}/{ident_}"
        return {"arn": arn, "id": ident_, "name": res.get("name") or ident_}
    return ident


def _ident_kms(ctx: Ctx, res: TfResource) -> dict:
    key_id = res.get("key_id") or res.get("id") or res.address
    arn = res.get("arn") or f"arn:aws:kms:{ctx.region}:{ctx.account}:key/{key_id}"
    return {"arn": arn, "id": key_id, "key_id": key_id, "name": key_id}


def _ident_rds(kind: str, key: str) -> Callable[[Ctx, TfResource], dict]:
    def ident(ctx: Ctx, res: TfResource) -> dict:
        name = res.get(key) or res.get("id") or res.address
        arn = res.get("arn") or res.get("db_snapshot_arn") or f"arn:aws:rds:{ctx.region}:{ctx.account}:{kind}:{name}"
        return {"arn": arn, "id": name, key: name, "name": name}
    return ident


def _ident_lambda(ctx: Ctx, res: TfResource) -> dict:
    name = _name(res, "function_name")
    arn = res.get("arn") or f"arn:aws:lambda:{ctx.region}:{ctx.account}:function:{name}"
    return {"arn": arn, "id": name, "function_name": name, "name": name}


def _ident_org_policy(ctx: Ctx, res: TfResource) -> dict:
    ident_ = res.get("id") or f"p-tf-{res.address}"
    return {"arn": res.get("arn") or ident_, "id": ident_, "name": res.get("name") or ident_}


def identity(ctx: Ctx, res: TfResource) -> dict:
    """Provisional ``{"arn", "id", "name", ...}`` of a resource (real values where known)."""
    fn = _IDENT.get(res.type)
    if fn is None:
        return {"id": res.get("id") or res.address, "arn": res.get("arn"), "name": res.get("name")}
    return fn(ctx, res)


# -- IAM -----------------------------------------------------------------------------------
def _inline_blocks(ctx: Ctx, res: TfResource) -> dict[str, dict]:
    """A role's ``inline_policy`` blocks; unknown documents of configured blocks become wildcards."""
    out: dict[str, dict] = {}
    configured = ctx.plan.is_configured(res, "inline_policy")
    unknown = res.unknown.get("inline_policy") if isinstance(res.unknown, dict) else None
    if unknown is True:
        if configured:
            ctx.notes.unknown(res, "inline_policy", "Allow * on * under condition iamreach:UnknownUntilApply")
            out["iamreach-unknown-until-apply"] = unknown_document()
        return out
    unk = unknown if isinstance(unknown, list) else []
    for i, blk in enumerate(res.values.get("inline_policy") or []):
        if not isinstance(blk, dict):
            continue
        u = unk[i] if i < len(unk) and isinstance(unk[i], dict) else {}
        name = blk.get("name") if u.get("name") is not True else None
        name = str(name or f"iamreach-unknown-{i}")
        if u.get("policy") is True:
            ctx.notes.unknown(res, f"inline_policy[{i}].policy", "Allow * on * under condition iamreach:UnknownUntilApply")
            out[name] = unknown_document()
        elif blk.get("policy"):
            out[name] = _parse_doc(blk["policy"], res, f"inline_policy[{i}].policy")
    return out


def _add_principal(kind: str) -> Callable[[Ctx, TfResource], None]:
    def add(ctx: Ctx, res: TfResource) -> None:
        ident = identity(ctx, res)
        if not res.get("arn"):
            ctx.provisional(res, ident["arn"])
        tags = res.get("tags_all") or res.get("tags") or {}
        p = Principal(arn=ident["arn"], kind=kind, account=_arn_account(ident["arn"]) or ctx.account,
                      name=ident["name"], id=ident.get("unique_id"), path=res.get("path") or "/",
                      inline_policies=_inline_blocks(ctx, res) if kind == "role" else {},
                      permissions_boundary_arn=res.get("permissions_boundary") or None,
                      tags={str(k): str(v) for k, v in tags.items()})
        if kind == "role":
            p.trust_policy = ctx.document(res, "assume_role_policy", principal=True)
            if not res.has_unknown("managed_policy_arns"):
                p.managed_policy_arns = sorted(res.get("managed_policy_arns") or [])
            elif ctx.plan.is_configured(res, "managed_policy_arns"):
                p.managed_policy_arns = ctx.ref_list(res, "managed_policy_arns", want="arn")
        old = ctx.principals.get(p.arn)
        if old is not None and not p.managed_policy_arns:
            p.managed_policy_arns = list(old.managed_policy_arns)
        ctx.put_principal(p, res)
    return add


def _remove_principal(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    p = ctx.principals.pop(ident["arn"], None)
    if p is not None:
        ctx._names.pop((p.kind, p.name), None)


def _add_policy(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    doc = ctx.document(res, "policy") or {"Version": "2012-10-17", "Statement": []}
    ctx.adopt(res, ident["arn"])
    ctx.policies[ident["arn"]] = ManagedPolicy(arn=ident["arn"], name=ident["name"], document=doc,
                                               account=_arn_account(ident["arn"]) or ctx.account)
    ctx._locate(ident["arn"], res)


def _remove_policy(ctx: Ctx, res: TfResource) -> None:
    ctx.drop(ctx.policies, identity(ctx, res)["arn"])


def _owner(ctx: Ctx, res: TfResource, kind: str, key: str) -> Principal:
    """The user / group / role an attachment edits (a stub when neither plan nor baseline has it)."""
    name = ctx.ref(res, key, want="name") or res.address
    arn = ctx.by_name(kind, name.split(":")[0])
    if arn is None or arn not in ctx.principals:
        arn = arn or ctx.iam_arn(kind, name)
        ctx.notes.unresolved_ref(res, key, f"{kind} {name!r} is in neither the plan nor the baseline: "
                                           "a stub record was made")
        stub = Principal(arn=arn, kind=kind, account=ctx.account, name=name.split("/")[-1])
        ctx.principals[arn] = stub
        ctx._names[(kind, stub.name)] = arn
    ctx.contribute(arn, res)
    return ctx.principals[arn]


def _inline(kind: str, key: str) -> tuple[Callable, Callable]:
    def add(ctx: Ctx, res: TfResource) -> None:
        owner = _owner(ctx, res, kind, key)
        doc = ctx.document(res, "policy")
        name = res.get("name") or res.address
        if doc is not None:
            owner.inline_policies = {**owner.inline_policies, str(name): doc}
            ctx.notes.policy_sources[f"{owner.arn} inline policy {name}"] = res.address

    def remove(ctx: Ctx, res: TfResource) -> None:
        arn = ctx.by_name(kind, str(res.get(key) or "").split(":")[0])
        p = ctx.principals.get(arn or "")
        if p is not None:
            p.inline_policies = {k: v for k, v in p.inline_policies.items() if k != res.get("name")}
    return add, remove


def _attachment(kind: str, key: str) -> tuple[Callable, Callable]:
    def add(ctx: Ctx, res: TfResource) -> None:
        owner = _owner(ctx, res, kind, key)
        policy_arn = ctx.ref(res, "policy_arn", want="arn")
        if policy_arn:
            owner.managed_policy_arns = sorted({*owner.managed_policy_arns, policy_arn})
            ctx.notes.policy_sources[f"{owner.arn} managed policy {policy_arn}"] = res.address

    def remove(ctx: Ctx, res: TfResource) -> None:
        p = ctx.principals.get(ctx.by_name(kind, res.get(key)) or "")
        if p is not None:
            p.managed_policy_arns = [a for a in p.managed_policy_arns if a != res.get("policy_arn")]
    return add, remove


def _policy_attachment_add(ctx: Ctx, res: TfResource) -> None:
    policy_arn = ctx.ref(res, "policy_arn", want="arn")
    for kind, key in (("role", "roles"), ("user", "users"), ("group", "groups")):
        for name in ctx.ref_list(res, key, want="name"):
            arn = ctx.by_name(kind, name)
            p = ctx.principals.get(arn or "")
            if p is None:
                ctx.notes.unresolved_ref(res, key, f"{kind} {name!r} not found")
                continue
            ctx.contribute(p.arn, res)
            p.managed_policy_arns = sorted({*p.managed_policy_arns, policy_arn or ""} - {""})


def _policy_attachment_remove(ctx: Ctx, res: TfResource) -> None:
    for kind, key in (("role", "roles"), ("user", "users"), ("group", "groups")):
        for name in res.get(key) or []:
            p = ctx.principals.get(ctx.by_name(kind, name) or "")
            if p is not None:
                p.managed_policy_arns = [a for a in p.managed_policy_arns if a != res.get("policy_arn")]


def _user_groups_add(ctx: Ctx, res: TfResource) -> None:
    user = _owner(ctx, res, "user", "user")
    groups = [ctx.by_name("group", g) or ctx.iam_arn("group", g) for g in ctx.ref_list(res, "groups", "name")]
    user.groups = sorted({*user.groups, *groups})


def _user_groups_remove(ctx: Ctx, res: TfResource) -> None:
    user = ctx.principals.get(ctx.by_name("user", res.get("user")) or "")
    if user is not None:
        drop = {ctx.by_name("group", g) or ctx.iam_arn("group", g) for g in res.get("groups") or []}
        user.groups = [g for g in user.groups if g not in drop]


def _group_members_add(ctx: Ctx, res: TfResource) -> None:
    group = _owner(ctx, res, "group", "group")
    for name in ctx.ref_list(res, "users", "name"):
        user = ctx.principals.get(ctx.by_name("user", name) or "")
        if user is None:
            ctx.notes.unresolved_ref(res, "users", f"user {name!r} not found")
            continue
        ctx.contribute(user.arn, res)
        user.groups = sorted({*user.groups, group.arn})


def _group_members_remove(ctx: Ctx, res: TfResource) -> None:
    group_arn = ctx.by_name("group", res.get("group"))
    for name in res.get("users") or []:
        user = ctx.principals.get(ctx.by_name("user", name) or "")
        if user is not None:
            user.groups = [g for g in user.groups if g != group_arn]


def _profile_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    role_name = ctx.ref(res, "role", want="name")
    roles = []
    if role_name:
        role_arn = ctx.by_name("role", role_name) or ctx.iam_arn("role", role_name)
        roles.append(role_arn)
        role = ctx.principals.get(role_arn)
        if role is not None:
            role.instance_profile_arns = sorted({*role.instance_profile_arns, ident["arn"]})
    ctx.adopt(res, ident["arn"])
    ctx.profiles[ident["arn"]] = InstanceProfile(arn=ident["arn"], account=_arn_account(ident["arn"]) or ctx.account,
                                                 name=ident["name"], role_arns=roles)
    ctx._names[("instance_profile", ident["name"])] = ident["arn"]
    ctx._locate(ident["arn"], res)


def _profile_remove(ctx: Ctx, res: TfResource) -> None:
    arn = identity(ctx, res)["arn"]
    ip = ctx.profiles.pop(arn, None)
    if ip is None:
        return
    ctx._names.pop(("instance_profile", ip.name), None)
    for role_arn in ip.role_arns:
        role = ctx.principals.get(role_arn)
        if role is not None:
            role.instance_profile_arns = [a for a in role.instance_profile_arns if a != arn]


# -- S3 / KMS --------------------------------------------------------------------------------
def _bucket_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    enc = None
    sse = res.block("server_side_encryption_configuration")
    rule = (sse.get("rule") or [{}])[0] if isinstance(sse.get("rule"), list) else {}
    default = (rule.get("apply_server_side_encryption_by_default") or [{}])[0] if rule else {}
    if default:
        enc = {"algorithm": default.get("sse_algorithm"), "kms_key_arn": default.get("kms_master_key_id") or None}
    r = ctx.resource_base(res, "s3_bucket", ident["arn"], ident["id"], ident["name"], {
        "public_access_block": None, "ownership": None, "acl_grants": [], "encryption": enc})
    r.region = res.get("region") or ctx.region
    if ctx.plan.is_configured(res, "policy") or res.get("policy"):
        r.policy = ctx.document(res, "policy", principal=True)
    ctx.put_resource(r, res)


def _bucket_of(ctx: Ctx, res: TfResource, key: str = "bucket") -> Resource | None:
    name = ctx.ref(res, key, want="bucket")
    arn = ctx.by_id("s3_bucket", name) or (f"arn:aws:s3:::{name}" if name else None)
    bucket = ctx.resources.get(arn or "")
    if bucket is None:
        ctx.notes.unresolved_ref(res, key, f"bucket {name!r} is in neither the plan nor the baseline")
        return None
    ctx.contribute(bucket.arn, res)
    return bucket


def _bucket_policy_add(ctx: Ctx, res: TfResource) -> None:
    bucket = _bucket_of(ctx, res)
    if bucket is not None:
        bucket.policy = ctx.document(res, "policy", principal=True)


def _bucket_policy_remove(ctx: Ctx, res: TfResource) -> None:
    bucket = ctx.resources.get(ctx.by_id("s3_bucket", res.get("bucket")) or "")
    if bucket is not None:
        bucket.policy = None


_BPA = {"block_public_acls": "BlockPublicAcls", "ignore_public_acls": "IgnorePublicAcls",
        "block_public_policy": "BlockPublicPolicy", "restrict_public_buckets": "RestrictPublicBuckets"}


def _bpa_add(ctx: Ctx, res: TfResource) -> None:
    bucket = _bucket_of(ctx, res)
    if bucket is None:
        return
    flags = {}
    for tf_key, api_key in _BPA.items():
        if res.is_unknown(tf_key):
            ctx.notes.unknown(res, tf_key, "false (not blocking)")
        flags[api_key] = bool(res.get(tf_key, False))
    bucket.attributes["public_access_block"] = flags


def _bpa_remove(ctx: Ctx, res: TfResource) -> None:
    bucket = ctx.resources.get(ctx.by_id("s3_bucket", res.get("bucket")) or "")
    if bucket is not None:
        bucket.attributes["public_access_block"] = None


def _default_key_policy(account: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]}


def _kms_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    r = ctx.resource_base(res, "kms_key", ident["arn"], ident["id"], ident["id"], {
        "key_manager": "CUSTOMER", "key_state": "Disabled" if res.get("is_enabled") is False else "Enabled",
        "aliases": [], "grants": []})
    policy = ctx.document(res, "policy", principal=True)
    r.policy = policy or _default_key_policy(r.account)
    ctx.put_resource(r, res)


def _key_policy_add(ctx: Ctx, res: TfResource) -> None:
    key_id = ctx.ref(res, "key_id", want="key_id")
    key = ctx.resources.get(ctx.by_id("kms_key", key_id) or "")
    if key is None:
        ctx.notes.unresolved_ref(res, "key_id", f"KMS key {key_id!r} is in neither the plan nor the baseline")
        return
    ctx.contribute(key.arn, res)
    key.policy = ctx.document(res, "policy", principal=True)


def _key_policy_remove(ctx: Ctx, res: TfResource) -> None:
    key = ctx.resources.get(ctx.by_id("kms_key", res.get("key_id")) or "")
    if key is not None:
        key.policy = _default_key_policy(key.account)


# -- network ---------------------------------------------------------------------------------
_PROTO = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1", "-1": "-1", "58": "icmpv6"}


def _rule(rule_id: str, protocol: Any, from_port: Any, to_port: Any, cidrs: list, ipv6: list,
          sg_refs: list[str], prefix_lists: list, account: str) -> dict:
    proto = _PROTO.get(str(protocol).lower(), str(protocol).lower())
    every = proto == "-1"
    return {"rule_id": rule_id, "protocol": proto,
            "from_port": None if every else (int(from_port) if from_port is not None else None),
            "to_port": None if every else (int(to_port) if to_port is not None else None),
            "cidrs": sorted(str(c) for c in cidrs or []), "ipv6_cidrs": sorted(str(c) for c in ipv6 or []),
            "sg_refs": [{"group_id": g, "account": account} for g in sorted(set(sg_refs))],
            "prefix_lists": sorted(str(p) for p in prefix_lists or [])}


def _sg_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    account = _arn_account(ident["arn"]) or ctx.account
    rules: dict[str, list] = {"ingress": [], "egress": []}
    for direction in rules:
        if res.has_unknown(direction) and not ctx.plan.is_configured(res, direction):
            rules[direction] = None  # type: ignore[assignment]  # computed: keep what the baseline had
            continue
        for i, blk in enumerate(res.get(direction) or []):
            refs = list(blk.get("security_groups") or [])
            if blk.get("self"):
                refs.append(ident["id"])
            rules[direction].append(_rule(f"tf:{res.address}:{direction}[{i}]", blk.get("protocol"),
                                          blk.get("from_port"), blk.get("to_port"), blk.get("cidr_blocks"),
                                          blk.get("ipv6_cidr_blocks"), refs, blk.get("prefix_list_ids"), account))
    vpc_id = ctx.ref(res, "vpc_id") if ctx.plan.is_configured(res, "vpc_id") or res.get("vpc_id") else None
    r = ctx.resource_base(res, "security_group", ident["arn"], ident["id"], res.get("name") or ident["id"], {
        "vpc_id": vpc_id, "group_name": res.get("name") or ident["id"], **rules})
    ctx.put_resource(r, res)


def _sg_of(ctx: Ctx, res: TfResource) -> Resource | None:
    sg_id = ctx.ref(res, "security_group_id")
    sg = ctx.resources.get(ctx.by_id("security_group", sg_id) or "")
    if sg is None:
        ctx.notes.unresolved_ref(res, "security_group_id", f"security group {sg_id!r} is in neither the plan "
                                                            "nor the baseline")
        return None
    ctx.contribute(sg.arn, res)
    return sg


def _sg_rule_add(ctx: Ctx, res: TfResource) -> None:
    sg = _sg_of(ctx, res)
    if sg is None:
        return
    refs = []
    if res.get("source_security_group_id") or res.is_unknown("source_security_group_id"):
        refs.append(ctx.ref(res, "source_security_group_id"))
    if res.get("self"):
        refs.append(sg.id)
    direction = "egress" if res.get("type") == "egress" else "ingress"
    rule = _rule(_rule_id(ctx, res), res.get("protocol"), res.get("from_port"), res.get("to_port"),
                 res.get("cidr_blocks"), res.get("ipv6_cidr_blocks"), [r for r in refs if r],
                 res.get("prefix_list_ids"), sg.account)
    _put_rule(sg, direction, rule)


def _put_rule(sg: Resource, direction: str, rule: dict) -> None:
    """Add (or replace, by rule id) one rule: adding the same rule twice changes nothing."""
    rules = [r for r in sg.attributes.get(direction) or [] if r.get("rule_id") != rule["rule_id"]]
    sg.attributes[direction] = [*rules, rule]


def _vpc_rule(direction: str) -> tuple[Callable, Callable]:
    def add(ctx: Ctx, res: TfResource) -> None:
        sg = _sg_of(ctx, res)
        if sg is None:
            return
        refs = []
        if res.get("referenced_security_group_id") or res.is_unknown("referenced_security_group_id"):
            refs.append(ctx.ref(res, "referenced_security_group_id"))
        cidr4 = [res.get("cidr_ipv4")] if res.get("cidr_ipv4") else []
        if res.is_unknown("cidr_ipv4"):
            ctx.notes.unknown(res, "cidr_ipv4", "0.0.0.0/0 (any source)")
            cidr4 = ["0.0.0.0/0"]
        rule = _rule(_rule_id(ctx, res), res.get("ip_protocol"), res.get("from_port"), res.get("to_port"),
                     cidr4, [res.get("cidr_ipv6")] if res.get("cidr_ipv6") else [], [r for r in refs if r],
                     [res.get("prefix_list_id")] if res.get("prefix_list_id") else [], sg.account)
        _put_rule(sg, direction, rule)
    return add, _rule_remove(direction)


def _rule_id(ctx: Ctx, res: TfResource) -> str:
    """The rule's AWS id (``sgr-...``, matching a collected baseline) when known, else ``tf:<address>``."""
    rule_id = res.get("security_group_rule_id") or f"tf:{res.address}"
    ctx.notes.policy_sources[f"rule {rule_id}"] = res.address
    return str(rule_id)


def _rule_remove(direction: str | None) -> Callable:
    def remove(ctx: Ctx, res: TfResource) -> None:
        sg = ctx.resources.get(ctx.by_id("security_group", res.get("security_group_id")) or "")
        if sg is None:
            return
        ids = {f"tf:{res.address}", res.get("security_group_rule_id")} - {None}
        for d in ([direction] if direction else ["ingress", "egress"]):
            sg.attributes[d] = [r for r in sg.attributes.get(d) or [] if r.get("rule_id") not in ids]
    return remove


def _vpc_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    r = ctx.resource_base(res, "vpc", ident["arn"], ident["id"], ident["id"], {
        "cidrs": [res.get("cidr_block")] if res.get("cidr_block") else [],
        "ipv6_cidrs": [res.get("ipv6_cidr_block")] if res.get("ipv6_cidr_block") else [], "is_default": False})
    ctx.put_resource(r, res)


def _subnet_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    r = ctx.resource_base(res, "subnet", ident["arn"], ident["id"], ident["id"], {
        "vpc_id": ctx.ref(res, "vpc_id"), "cidr": res.get("cidr_block"),
        "ipv6_cidrs": [res.get("ipv6_cidr_block")] if res.get("ipv6_cidr_block") else [],
        "availability_zone": res.get("availability_zone"), "map_public_ip": bool(res.get("map_public_ip_on_launch"))})
    ctx.put_resource(r, res)


def _vpc_of_subnet(ctx: Ctx, subnet_id: str | None) -> str | None:
    subnet = ctx.resources.get(ctx.by_id("subnet", subnet_id) or "")
    return subnet.attributes.get("vpc_id") if subnet is not None else None


def _vpc_of_sgs(ctx: Ctx, sg_ids: list[str]) -> str | None:
    for sg_id in sg_ids:
        sg = ctx.resources.get(ctx.by_id("security_group", sg_id) or "")
        if sg is not None and sg.attributes.get("vpc_id"):
            return sg.attributes["vpc_id"]
    return None


# -- compute ----------------------------------------------------------------------------------
def _instance_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    profile = ctx.ref(res, "iam_instance_profile", want="name") if (
        res.get("iam_instance_profile") or res.is_unknown("iam_instance_profile")) else None
    profile_arn = None
    if profile:
        profile_arn = ctx.by_name("instance_profile", profile) or f"arn:aws:iam::{ctx.account}:instance-profile/{profile}"
    subnet_id = ctx.ref(res, "subnet_id") if (res.get("subnet_id") or res.is_unknown("subnet_id")) else None
    sgs = sorted({*ctx.ref_list(res, "vpc_security_group_ids"), *ctx.ref_list(res, "security_groups")})
    private = res.get("private_ip")
    r = ctx.resource_base(res, "ec2_instance", ident["arn"], ident["id"], (res.get("tags") or {}).get("Name") or ident["id"], {
        "instance_profile_arn": profile_arn, "vpc_id": _vpc_of_subnet(ctx, subnet_id) or _vpc_of_sgs(ctx, sgs),
        "subnet_id": subnet_id, "security_group_ids": sgs, "private_ips": [private] if private else [],
        "public_ip": res.get("public_ip") or None, "state": res.get("instance_state") or "running"})
    ctx.put_resource(r, res)


def _lambda_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    vpc = res.block("vpc_config")
    env = res.block("environment")
    variables = env.get("variables") if isinstance(env.get("variables"), dict) else {}
    sub = TfResource(res.address, res.type, res.name, res.mode, res.module, res.index, vpc,
                     (res.unknown.get("vpc_config") or [{}])[0] if isinstance(res.unknown.get("vpc_config"), list)
                     and res.unknown.get("vpc_config") else {})
    subnets = [str(s) for s in vpc.get("subnet_ids") or []] if not sub.has_unknown("subnet_ids") else []
    sgs = [str(s) for s in vpc.get("security_group_ids") or []] if not sub.has_unknown("security_group_ids") else []
    if sub.has_unknown("subnet_ids") or sub.has_unknown("security_group_ids"):
        refs = [identity(ctx, t)["id"] for t, _a in ctx.plan.referenced(res, "vpc_config")]
        subnets = sorted({*subnets, *(r for r in refs if r and r.startswith("subnet-"))})
        sgs = sorted({*sgs, *(r for r in refs if r and r.startswith("sg-"))})
        ctx.notes.unknown(res, "vpc_config", "subnets / security groups from configuration references")
    r = ctx.resource_base(res, "lambda_function", ident["arn"], ident["name"], ident["name"], {
        "role_arn": ctx.ref(res, "role", want="arn"),
        "vpc_id": (_vpc_of_subnet(ctx, subnets[0]) if subnets else None) or vpc.get("vpc_id") or None,
        "subnet_ids": sorted(subnets), "security_group_ids": sorted(sgs),
        "environment_variable_names": sorted(str(k) for k in variables),  # names only, never values
        "runtime": res.get("runtime")})
    ctx.put_resource(r, res)


def _workload_ident(service: str, kind: str, sep: str = "/", key: str = "name") -> Callable[[Ctx, TfResource], dict]:
    def ident(ctx: Ctx, res: TfResource) -> dict:
        name = _name(res, key)
        arn = res.get("arn") or f"arn:aws:{service}:{ctx.region}:{ctx.account}:{kind}{sep}{name}"
        return {"arn": arn, "id": name, "name": name}
    return ident


def _glue_job_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    r = ctx.resource_base(res, "glue_job", ident["arn"], ident["id"], ident["name"], {
        "role_arn": ctx.ref(res, "role_arn", want="arn"),
        "connections": ctx.ref_list(res, "connections", want="name")})
    ctx.put_resource(r, res)


def _sfn_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    logging = res.block("logging_configuration")
    tracing = res.block("tracing_configuration")
    refs: list[str] = []
    definition = res.get("definition")
    if isinstance(definition, str):
        try:
            refs = sorted({v for v in _strings(json.loads(definition)) if v.startswith("arn:")})
        except ValueError:
            refs = []
    dest = logging.get("log_destination")
    r = ctx.resource_base(res, "sfn_state_machine", ident["arn"], ident["id"], ident["name"], {
        "role_arn": ctx.ref(res, "role_arn", want="arn"), "tracing_enabled": bool(tracing.get("enabled")),
        "logging_level": logging.get("level") or "OFF", "log_destinations": [dest] if dest else [],
        "resource_arns": refs})  # the definition itself is not kept
    ctx.put_resource(r, res)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _notebook_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    subnet = ctx.ref(res, "subnet_id") if (res.get("subnet_id") or res.is_unknown("subnet_id")) else None
    r = ctx.resource_base(res, "sagemaker_notebook", ident["arn"], ident["id"], ident["name"], {
        "role_arn": ctx.ref(res, "role_arn", want="arn"), "subnet_id": subnet,
        "security_group_ids": ctx.ref_list(res, "security_groups"), "vpc_id": _vpc_of_subnet(ctx, subnet),
        "direct_internet_access": str(res.get("direct_internet_access") or "Enabled") == "Enabled",
        "kms_key_id": ctx.ref(res, "kms_key_id", want="arn")})
    ctx.put_resource(r, res)


def _secret_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    r = ctx.resource_base(res, "secret", ident["arn"], ident["name"], ident["name"], {
        "kms_key_arn": ctx.ref(res, "kms_key_id", want="arn"), "unlocks": []})
    if ctx.plan.is_configured(res, "policy") or res.get("policy"):
        r.policy = ctx.document(res, "policy", principal=True)
    ctx.put_resource(r, res)


def _secret_policy_add(ctx: Ctx, res: TfResource) -> None:
    arn = ctx.ref(res, "secret_arn", want="arn")
    secret = ctx.resources.get(arn or "")
    if secret is None:
        ctx.notes.unresolved_ref(res, "secret_arn", f"secret {arn!r} is in neither the plan nor the baseline")
        return
    ctx.contribute(secret.arn, res)
    secret.policy = ctx.document(res, "policy", principal=True)


def _secret_policy_remove(ctx: Ctx, res: TfResource) -> None:
    secret = ctx.resources.get(str(res.get("secret_arn")))
    if secret is not None:
        secret.policy = None


def _table_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    sse = res.block("server_side_encryption")
    r = ctx.resource_base(res, "dynamodb_table", ident["arn"], ident["name"], ident["name"], {
        "kms_key_arn": sse.get("kms_key_arn") or None if sse.get("enabled") else None})
    ctx.put_resource(r, res)


# -- RDS ----------------------------------------------------------------------------------------
_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "aurora-mysql": 3306, "aurora": 3306,
          "mariadb": 3306, "oracle": 1521, "sqlserver": 1433}


def _subnet_group(ctx: Ctx, res: TfResource, vpc_id: str | None) -> list[str]:
    """Subnets of a database: its ``aws_db_subnet_group`` in the plan, else every known subnet of its VPC.

    The fallback is conservative (the database could be in any of them) and noted as unknown.
    """
    name = ctx.ref(res, "db_subnet_group_name", want="name")
    if name:
        for change in ctx.plan.changes:
            grp = change.after
            if change.type == "aws_db_subnet_group" and grp is not None and (grp.get("name") or grp.get("id")) == name:
                subnets = ctx.ref_list(grp, "subnet_ids")
                if subnets:
                    return subnets
    if not vpc_id:
        return []
    subnets = sorted(r.id for r in ctx.resources.values()
                     if r.kind == "subnet" and r.id and r.attributes.get("vpc_id") == vpc_id)
    if subnets:
        ctx.notes.unknown(res, "db_subnet_group_name", f"subnet group not in the plan: any subnet of {vpc_id}")
    return subnets


def _db_common(ctx: Ctx, res: TfResource) -> dict:
    engine = str(res.get("engine") or "")
    sgs = ctx.ref_list(res, "vpc_security_group_ids")
    port = res.get("port") or next((p for k, p in _PORTS.items() if engine.startswith(k)), None)
    kms = ctx.ref(res, "kms_key_id", want="arn")
    return {"engine": engine or None, "port": int(port) if port else None,
            "endpoint": res.get("address") or res.get("endpoint") or None,
            "vpc_id": _vpc_of_sgs(ctx, sgs), "subnet_ids": _subnet_group(ctx, res, _vpc_of_sgs(ctx, sgs)),
            "security_group_ids": sgs,
            "publicly_accessible": bool(res.get("publicly_accessible", False)),
            "iam_auth": bool(res.get("iam_database_authentication_enabled", False)),
            "storage_encrypted": bool(res.get("storage_encrypted", False)), "kms_key_arn": kms,
            "resource_id": res.get("resource_id") or res.get("cluster_resource_id")}


def _db_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    attrs = _db_common(ctx, res)
    cluster = res.get("cluster_identifier")
    attrs["cluster_arn"] = f"arn:aws:rds:{ctx.region}:{ctx.account}:cluster:{cluster}" if cluster else None
    ctx.put_resource(ctx.resource_base(res, "rds_instance", ident["arn"], ident["id"], ident["id"], attrs), res)


def _cluster_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("arn"):
        ctx.provisional(res, ident["arn"])
    attrs = _db_common(ctx, res)
    attrs["members"] = sorted(f"arn:aws:rds:{ctx.region}:{ctx.account}:db:{m}" for m in res.get("cluster_members") or [])
    ctx.put_resource(ctx.resource_base(res, "rds_cluster", ident["arn"], ident["id"], ident["id"], attrs), res)


def _snapshot_add(ctx: Ctx, res: TfResource) -> None:
    ident = identity(ctx, res)
    if not res.get("db_snapshot_arn"):
        ctx.provisional(res, ident["arn"])
    source = ctx.ref(res, "db_instance_identifier", want="identifier")
    source_arn = ctx.by_id("rds_instance", source) or (
        f"arn:aws:rds:{ctx.region}:{ctx.account}:db:{source}" if source else None)
    shared = res.get("shared_accounts")
    if res.has_unknown("shared_accounts"):
        ctx.notes.unknown(res, "shared_accounts", "['all'] (public)")
        shared = ["all"]
    kms = res.get("kms_key_id") or None
    if kms is None and source_arn in ctx.resources:
        kms = ctx.resources[source_arn].attributes.get("kms_key_arn")
    encrypted = res.get("encrypted")
    if encrypted is None and source_arn in ctx.resources:
        encrypted = ctx.resources[source_arn].attributes.get("storage_encrypted")
    r = ctx.resource_base(res, "rds_snapshot", ident["arn"], ident["id"], ident["id"], {
        "source_arn": source_arn, "encrypted": bool(encrypted), "kms_key_arn": kms, "snapshot_type": "manual",
        "shared_accounts": sorted(str(a) for a in shared or [])})
    if source_arn in ctx.resources and not r.tags:
        r.tags = dict(ctx.resources[source_arn].tags)
    ctx.put_resource(r, res)


# -- Organizations ---------------------------------------------------------------------------
_ORG_TYPES = {"SERVICE_CONTROL_POLICY": "SCP", "RESOURCE_CONTROL_POLICY": "RCP"}


def _org_policy_add(ctx: Ctx, res: TfResource) -> None:
    kind = _ORG_TYPES.get(str(res.get("type") or "SERVICE_CONTROL_POLICY"))
    if kind is None:
        return  # tag / backup / AI opt-out policies grant and deny nothing
    ident = identity(ctx, res)
    if not res.get("id"):
        ctx.provisional(res, ident["id"])
    ctx.adopt(res, ident["id"])
    old = ctx.org_policies.get(ident["id"])
    doc = ctx.document(res, "content") or {"Version": "2012-10-17", "Statement": []}
    ctx.org_policies[ident["id"]] = OrgPolicy(id=ident["id"], type=kind, name=res.get("name"), arn=res.get("arn"),
                                              document=doc, targets=list(old.targets) if old else [])
    ctx._locate(ident["id"], res)


def _org_policy_remove(ctx: Ctx, res: TfResource) -> None:
    ctx.org_policies.pop(identity(ctx, res)["id"], None)


def _org_attach_add(ctx: Ctx, res: TfResource) -> None:
    policy_id = ctx.ref(res, "policy_id")
    target = ctx.ref(res, "target_id")
    policy = ctx.org_policies.get(policy_id or "")
    if policy is None or not target:
        ctx.notes.unresolved_ref(res, "policy_id", f"organizations policy {policy_id!r} is in neither the plan "
                                                   "nor the baseline")
        return
    ctx.contribute(policy.id, res)
    policy.targets = sorted({*policy.targets, target})


def _org_attach_remove(ctx: Ctx, res: TfResource) -> None:
    policy = ctx.org_policies.get(str(res.get("policy_id")))
    if policy is not None:
        policy.targets = [t for t in policy.targets if t != res.get("target_id")]


# -- the table ---------------------------------------------------------------------------------
def _noop(ctx: Ctx, res: TfResource) -> None:
    """Types read by other converters (a DB subnet group) make no record of their own."""
def _remove_resource(ctx: Ctx, res: TfResource) -> None:
    arn = identity(ctx, res)["arn"]
    r = ctx.resources.pop(arn, None)
    if r is not None and r.id:
        ctx._ids.pop((r.kind, r.id), None)


@dataclass(frozen=True)
class Converter:
    """How one Terraform resource type edits the inventory."""

    phase: str
    add: Callable[[Ctx, TfResource], None]
    remove: Callable[[Ctx, TfResource], None]


_IDENT: dict[str, Callable[[Ctx, TfResource], dict]] = {
    "aws_iam_role": _ident_iam("role"),
    "aws_iam_user": _ident_iam("user"),
    "aws_iam_group": _ident_iam("group"),
    "aws_iam_policy": _ident_iam("policy"),
    "aws_iam_instance_profile": _ident_iam("instance-profile"),
    "aws_s3_bucket": _ident_bucket,
    "aws_kms_key": _ident_kms,
    "aws_security_group": _ident_ec2("sg", "security-group"),
    "aws_vpc": _ident_ec2("vpc", "vpc"),
    "aws_subnet": _ident_ec2("subnet", "subnet"),
    "aws_instance": _ident_ec2("i", "instance"),
    "aws_db_instance": _ident_rds("db", "identifier"),
    "aws_rds_cluster": _ident_rds("cluster", "cluster_identifier"),
    "aws_db_snapshot": _ident_rds("snapshot", "db_snapshot_identifier"),
    "aws_lambda_function": _ident_lambda,
    "aws_organizations_policy": _ident_org_policy,
    "aws_glue_job": _workload_ident("glue", "job"),
    "aws_sfn_state_machine": _workload_ident("states", "stateMachine", ":"),
    "aws_sagemaker_notebook_instance": _workload_ident("sagemaker", "notebook-instance"),
    "aws_secretsmanager_secret": _workload_ident("secretsmanager", "secret", ":"),
    "aws_dynamodb_table": _workload_ident("dynamodb", "table"),
}

_role_inline = _inline("role", "role")
_user_inline = _inline("user", "user")
_group_inline = _inline("group", "group")
_role_attach = _attachment("role", "role")
_user_attach = _attachment("user", "user")
_group_attach = _attachment("group", "group")
_ingress = _vpc_rule("ingress")
_egress = _vpc_rule("egress")

#: Supported Terraform resource types, in no particular order (phases set the order).
CONVERTERS: dict[str, Converter] = {
    "aws_iam_role": Converter(PRIMARY, _add_principal("role"), _remove_principal),
    "aws_iam_user": Converter(PRIMARY, _add_principal("user"), _remove_principal),
    "aws_iam_group": Converter(PRIMARY, _add_principal("group"), _remove_principal),
    "aws_iam_policy": Converter(PRIMARY, _add_policy, _remove_policy),
    "aws_iam_instance_profile": Converter(DEPENDENT, _profile_add, _profile_remove),
    "aws_iam_role_policy": Converter(ATTACHMENT, *_role_inline),
    "aws_iam_user_policy": Converter(ATTACHMENT, *_user_inline),
    "aws_iam_group_policy": Converter(ATTACHMENT, *_group_inline),
    "aws_iam_role_policy_attachment": Converter(ATTACHMENT, *_role_attach),
    "aws_iam_user_policy_attachment": Converter(ATTACHMENT, *_user_attach),
    "aws_iam_group_policy_attachment": Converter(ATTACHMENT, *_group_attach),
    "aws_iam_policy_attachment": Converter(ATTACHMENT, _policy_attachment_add, _policy_attachment_remove),
    "aws_iam_user_group_membership": Converter(ATTACHMENT, _user_groups_add, _user_groups_remove),
    "aws_iam_group_membership": Converter(ATTACHMENT, _group_members_add, _group_members_remove),
    "aws_s3_bucket": Converter(PRIMARY, _bucket_add, _remove_resource),
    "aws_s3_bucket_policy": Converter(ATTACHMENT, _bucket_policy_add, _bucket_policy_remove),
    "aws_s3_bucket_public_access_block": Converter(ATTACHMENT, _bpa_add, _bpa_remove),
    "aws_kms_key": Converter(PRIMARY, _kms_add, _remove_resource),
    "aws_kms_key_policy": Converter(ATTACHMENT, _key_policy_add, _key_policy_remove),
    "aws_vpc": Converter(PRIMARY, _vpc_add, _remove_resource),
    "aws_subnet": Converter(PRIMARY, _subnet_add, _remove_resource),
    "aws_security_group": Converter(PRIMARY, _sg_add, _remove_resource),
    "aws_security_group_rule": Converter(ATTACHMENT, _sg_rule_add, _rule_remove(None)),
    "aws_vpc_security_group_ingress_rule": Converter(ATTACHMENT, *_ingress),
    "aws_vpc_security_group_egress_rule": Converter(ATTACHMENT, *_egress),
    "aws_instance": Converter(DEPENDENT, _instance_add, _remove_resource),
    "aws_lambda_function": Converter(DEPENDENT, _lambda_add, _remove_resource),
    "aws_db_instance": Converter(DEPENDENT, _db_add, _remove_resource),
    "aws_rds_cluster": Converter(DEPENDENT, _cluster_add, _remove_resource),
    "aws_db_subnet_group": Converter(PRIMARY, _noop, _noop),  # read by the databases that use it
    "aws_db_snapshot": Converter(DEPENDENT, _snapshot_add, _remove_resource),
    "aws_organizations_policy": Converter(PRIMARY, _org_policy_add, _org_policy_remove),
    "aws_glue_job": Converter(DEPENDENT, _glue_job_add, _remove_resource),
    "aws_sfn_state_machine": Converter(DEPENDENT, _sfn_add, _remove_resource),
    "aws_sagemaker_notebook_instance": Converter(DEPENDENT, _notebook_add, _remove_resource),
    "aws_secretsmanager_secret": Converter(DEPENDENT, _secret_add, _remove_resource),
    "aws_secretsmanager_secret_policy": Converter(ATTACHMENT, _secret_policy_add, _secret_policy_remove),
    "aws_dynamodb_table": Converter(DEPENDENT, _table_add, _remove_resource),
    "aws_organizations_policy_attachment": Converter(ATTACHMENT, _org_attach_add, _org_attach_remove),
}
