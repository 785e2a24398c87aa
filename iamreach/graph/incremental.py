"""Update a built graph for a change to identity policies, instead of building it again.

Most changes a CI pipeline diffs are edits of IAM policies: a statement added to a role's inline
policy, a managed policy widened, a boundary attached. Such a change moves only the edges the
changed principals' own policies decide (what they can assume, read, write, administer, decrypt,
escalate to); every other edge of the graph depends on resources, trust policies, the
organization and the network, which did not change. :func:`identity_changes` tells whether two
inventories differ only that way (and which principals the difference reaches);
:func:`update_graph` then turns the graph of the first into the graph of the second in place
(:meth:`iamreach.graph.builder._Builder.update`).

>>> from iamreach.inventory import Inventory, Principal
>>> a = Inventory(principals=[Principal(arn="arn:aws:iam::1:user/u", kind="user", account="1", name="u")])
>>> b = Inventory(principals=[Principal(arn="arn:aws:iam::1:user/u", kind="user", account="1", name="u",
...                                     inline_policies={"p": {"Statement": []}})])
>>> sorted(identity_changes(a, b))
['arn:aws:iam::1:user/u']
>>> b.principals[0].tags = {"team": "x"}  # tags feed conditions of other principals' decisions
>>> identity_changes(a, b) is None
True
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from iamreach.config import Config
from iamreach.gcpause import paused_gc
from iamreach.inventory import Inventory
from iamreach.model import SUMMARY_MIN

__all__ = ["can_update", "identity_changes", "update_graph"]

#: principal fields a change of which only moves the principal's own decided edges
_IDENTITY_FIELDS = frozenset({"inline_policies", "managed_policy_arns", "permissions_boundary_arn"})


def identity_changes(before: Inventory, after: Inventory, *,
                     dicts: tuple[dict, dict] | None = None) -> frozenset[str] | None:
    """The users and roles whose identity policies differ between ``before`` and ``after``, when
    that is the whole difference for the graph; ``None`` when anything else differs (then only a
    full build is exact).

    Identity policies are a principal's inline policies, managed-policy attachments and
    permissions boundary, its groups' inline policies and attachments, and the documents of the
    managed policies they attach. Everything else must be equal: accounts, organization, SCPs and
    RCPs, resources, instance profiles, collection gaps, every other field of every principal (tags,
    trust policies, group memberships), the set of managed policies, and the tag keys policies
    mention (they decide which condition keys are known, for every principal). ``dicts``: the two
    inventories' ``to_dict()``, when the caller has them already.
    """
    from iamreach.graph.builder import _referenced_tag_keys

    b, a = dicts if dicts is not None else (before.to_dict(), after.to_dict())
    for key in a.keys() | b.keys():
        if key not in ("principals", "policies", "meta") and a.get(key) != b.get(key):
            return None
    pols_b = {p["arn"]: p for p in b["policies"]}
    pols_a = {p["arn"]: p for p in a["policies"]}
    if pols_b.keys() != pols_a.keys():
        return None
    changed_policies = {arn for arn, p in pols_a.items() if p != pols_b[arn]}
    if [p["arn"] for p in a["principals"]] != [p["arn"] for p in b["principals"]]:
        return None
    changed: set[str] = set()
    changed_groups: set[str] = set()
    for pa, pb in zip(a["principals"], b["principals"], strict=True):
        if pa == pb:
            continue
        if any(pa[k] != pb[k] for k in pa.keys() | pb.keys() if k not in _IDENTITY_FIELDS):
            return None
        (changed_groups if pa["kind"] == "group" else changed).add(pa["arn"])
    groups = {p["arn"]: p for p in a["principals"] if p["kind"] == "group"}
    for arn, g in groups.items():
        if changed_policies.intersection(g["managed_policy_arns"]):
            changed_groups.add(arn)
    for p in a["principals"]:
        if p["kind"] not in ("user", "role"):
            continue
        if (changed_policies.intersection(p["managed_policy_arns"])
                or p["permissions_boundary_arn"] in changed_policies
                or changed_groups.intersection(p["groups"])):
            changed.add(p["arn"])
    if (changed or changed_policies) and _referenced_tag_keys(before) != _referenced_tag_keys(after):
        return None
    return frozenset(changed)


def can_update(G: nx.MultiDiGraph) -> bool:
    """Whether :func:`update_graph` may start from ``G``: its build recorded no gap of its own
    (a document it could not parse), so the documents it shares with the new inventory parse."""
    inv = G.graph.get("inventory")
    return inv is not None and len(G.graph.get("gaps", ())) == len(inv.gaps)


def update_graph(G: nx.MultiDiGraph, after: Inventory, changed: Any, config: Config | None = None, *,
                 summary_min: int = SUMMARY_MIN) -> nx.MultiDiGraph:
    """Turn ``G`` (built by :func:`iamreach.graph.builder.build_graph` with the same ``config`` and
    ``summary_min`` from an inventory whose difference from ``after`` is :func:`identity_changes`'
    ``changed``, and for which :func:`can_update` holds) into ``after``'s graph, in place; return it."""
    from iamreach.graph.builder import _Builder

    if not can_update(G):
        raise ValueError("the graph's build recorded gaps of its own: build the new inventory instead")
    with paused_gc(unfreeze=False):  # G is in use: no full collection walking it first
        return _Builder(after, config or Config.default(), summary_min=summary_min).update(G, changed)
