"""Join partial inventories into one: used by the collector (per service partials) and ``iamreach merge``.

Records with the same key (ARN, account id, gap key ...) are deduplicated; the *later* input
wins, except for :class:`~iamreach.inventory.Account` records, which are merged field by field
(organization facts from one source, S3 account settings and collected regions from another).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from iamreach.inventory import Account, Inventory

__all__ = ["combine", "merge_account", "resolve_vpcs"]

_LIST_FIELDS = tuple(f.name for f in dataclasses.fields(Inventory)
                     if f.name not in ("organization", "meta", "accounts"))
_ACCOUNT_DEFAULTS = Account(id="-").to_dict()


def merge_account(old: Account | None, new: Account) -> Account:
    """Field-wise merge: ``new``'s non-default values win; ``regions`` are united."""
    if old is None:
        return dataclasses.replace(new, regions=sorted(set(new.regions)))
    values = old.to_dict()
    for key, value in new.to_dict().items():
        if key == "regions":
            values[key] = sorted({*old.regions, *new.regions})
        elif value != _ACCOUNT_DEFAULTS[key]:
            values[key] = value
    return Account(**values)


def combine(parts: Sequence[Inventory], *, meta: dict | None = None) -> Inventory:
    """One sorted inventory holding every record of ``parts`` (later parts win on equal keys).

    ``meta`` becomes the result's meta; the parts' ``meta["notes"]`` and ``meta["sources"]``
    are united into it.
    """
    out = Inventory()
    accounts: dict[str, Account] = {}
    notes: set[str] = set()
    sources: set[str] = set()
    for part in parts:
        if part.organization is not None:
            out.organization = part.organization
        for acct in part.accounts:
            accounts[acct.id] = merge_account(accounts.get(acct.id), acct)
        notes.update(part.meta.get("notes") or [])
        sources.update(part.meta.get("sources") or ([part.meta["source"]] if part.meta.get("source") else []))
    for name in _LIST_FIELDS:
        # Inventory.sort keeps the first of equal keys: feed the parts in reverse so later ones win
        getattr(out, name).extend(r for part in reversed(parts) for r in getattr(part, name))
    out.accounts = list(accounts.values())
    out.meta = dict(meta or {})
    if notes:
        out.meta["notes"] = sorted(notes | set(out.meta.get("notes") or []))
    if sources:
        out.meta["sources"] = sorted(sources | set(out.meta.get("sources") or []))
    return out.sort()


#: attribute holding a single subnet id / a list of subnet ids, per kind whose vpc_id comes from its subnet
_SUBNET_ATTR = {"lambda_function": "subnet_ids", "glue_connection": "subnet_id", "glue_dev_endpoint": "subnet_id",
                "sagemaker_notebook": "subnet_id"}


def resolve_vpcs(inv: Inventory, kinds: Iterable[str] = tuple(_SUBNET_ATTR)) -> Inventory:
    """Set ``vpc_id`` of subnet-placed workloads from their subnet's VPC, in place; return ``inv``.

    The subnet's VPC is authoritative (Lambda's reported ``VpcId`` is not trusted when the
    subnet is known); when the subnet is unknown the loader's value is kept.
    """
    subnets = {(r.account, r.region, r.id): r.attributes.get("vpc_id") for r in inv.resources if r.kind == "subnet"}
    wanted = set(kinds)
    for r in inv.resources:
        if r.kind not in wanted:
            continue
        sub = r.attributes.get(_SUBNET_ATTR[r.kind])
        first = sub[0] if isinstance(sub, list) and sub else sub if isinstance(sub, str) else None
        vpc = subnets.get((r.account, r.region, first)) if first else None
        if vpc:
            r.attributes["vpc_id"] = vpc
    return inv
