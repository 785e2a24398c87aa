"""Inventory -> typed ``networkx.MultiDiGraph``; the policy engine decides every permission edge.

The build never loops over all principal x resource pairs. For each acting principal it asks the
engine only about candidates (:mod:`iamreach.graph.candidates`): resources an Allow statement's
pattern can reach in the principal's own account, and resources whose resource-based policy
names the principal, its account or ``*``. Edges carry their kind, decision, conditions, actions,
a one-line reason and structured evidence (see :data:`iamreach.model.EDGE_ATTRIBUTES`).

Examples
--------
>>> from iamreach.inventory import Inventory, Account, Principal
>>> inv = Inventory(accounts=[Account(id="111122223333")])
>>> trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
...          "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"}]}
>>> inv.principals += [Principal(arn="arn:aws:iam::111122223333:user/alice", kind="user", account="111122223333", name="alice"),
...                    Principal(arn="arn:aws:iam::111122223333:role/r", kind="role", account="111122223333", name="r", trust_policy=trust)]
>>> G = build_graph(inv)
>>> [d["kind"] for _, _, d in G.edges("arn:aws:iam::111122223333:user/alice", data=True)]
['can_assume']
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from iamreach.config import Config
from iamreach.gcpause import paused_gc
from iamreach.graph import fanout, network
from iamreach.graph.candidates import (
    ANY_RESOURCE,
    AllowPatterns,
    Grantees,
    ResourcePolicyIndex,
    ResourceSensitivity,
    match_signature,
    principal_keys_of_policy,
    project_tags,
    resource_tag_keys,
)
from iamreach.graph.policy import (
    ConditionTerm,
    Decision,
    LowerKeys,
    PolicyError,
    Request,
    evaluate,
    match_wildcard,
    parse_policy,
)
from iamreach.graph.tables import ACCESS, ESCALATION_METHODS, KMS_GATED_KINDS
from iamreach.inventory import Inventory, Principal, Resource
from iamreach.model import (
    ANONYMOUS,
    COMPUTE_KINDS,
    INTERNET,
    SUMMARY_MIN,
    EdgeKind,
    NodeKind,
    account_node,
    account_principals_node,
    is_summary,
    service_node,
    summary_node,
)

__all__ = ["build_graph", "Actor"]

log = logging.getLogger(__name__)

_ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Sid": "AccountAdministrator", "Effect": "Allow",
                                                      "Action": "*", "Resource": "*"}]}
_SELF = b"\x00SELF\x00"  # a resource's own ARN in a policy template
_OWN = object()  # "the resource's own policy, looked up when first needed"
#: edges an actor's own policies decide: what :meth:`_Builder.update` decides again for a changed actor
_DECIDED_KINDS = frozenset({EdgeKind.CAN_ASSUME.value, EdgeKind.ESCALATES_TO.value,
                            *(ek for edges in ACCESS.values() for ek in edges)})
_NO_GATE = object()  # "the KMS gate was not worked out in advance"
class _SurelyDenied:
    """What the engine would answer where :meth:`_Builder._surely_denied` holds (only the
    decision is ever read of a denied answer)."""

    __slots__ = ()
    decision = Decision.DENIED


_SURELY_DENIED = _SurelyDenied()
_ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
_DB_KINDS = ("rds_instance", "rds_cluster")
_SNAPSHOT_KINDS = ("rds_snapshot", "rds_cluster_snapshot", "ebs_snapshot")


@dataclass(slots=True)
class Actor:
    """A principal that can act: a user, a role (session), or an account's administrator."""

    node: str
    arn: str
    account: str
    kind: str
    identity: tuple = ()
    boundaries: tuple = ()
    scps: tuple = ()
    is_management: bool = False
    is_service_linked: bool = False
    context: dict = field(default_factory=dict)
    allows: AllowPatterns | None = None
    #: customer-managed policy ARNs attached (directly or through groups)
    policy_arns: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    #: raw documents of every layer that limits the actor (identity, boundary, SCPs), for
    #: :class:`~iamreach.graph.candidates.ResourceSensitivity`
    raw_docs: tuple = ()
    #: ``context`` with lower-case keys, made on the actor's first decision (:meth:`_Builder.decide`)
    lower_context: LowerKeys | None = field(default=None, compare=False, repr=False)


def build_graph(inv: Inventory, config: Config | None = None, *, summary_min: int = SUMMARY_MIN,
                jobs: int | None = None) -> nx.MultiDiGraph:
    """Build the reachability graph of an inventory.

    Parameters
    ----------
    inv : Inventory
        The normalized inventory (from any loader or a snapshot).
    config : Config, optional
        Labels and rules; :meth:`Config.default` when omitted.
    summary_min : int
        Smallest set of alike targets drawn as one summary node (see
        :func:`iamreach.model.summary_node`); a size above any set draws every edge per member.
    jobs : int, optional
        Processes that decide the access and escalation edges (:mod:`iamreach.graph.fanout`):
        ``1`` this one alone; None (the default) reads ``IAMREACH_BUILD_JOBS``, or uses one per
        CPU (up to four) for inventories of 1,000 actors or more. The graph is the same either way.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by ARN (or the documented non-ARN ids); ``G.graph`` holds ``inventory``,
        ``config``, ``gaps`` and ``accounts``.
    """
    with paused_gc():
        return _Builder(inv, config or Config.default(), summary_min=summary_min, jobs=jobs).build()


#: entries of the attribute-dict cache of :meth:`_Builder.add_edge` before it starts afresh (it is
#: emptied between accounts too, but not while a forked child's edges are replayed: about 40 MB)
ATTR_CACHE_MAX = 262_144


def _graph_changed(G: nx.MultiDiGraph) -> None:
    """What networkx does after each change of a graph (drop what it cached of it, for its
    backends), once: :meth:`_Builder.add_edge` writes edges into the adjacency dicts itself."""
    clear = getattr(nx, "_clear_cache", None)
    if clear is not None:
        clear(G)


def _ev(type_: str, ref: str | None, detail: str, sid: str | None = None, index: int | None = None) -> dict:
    return {"type": type_, "ref": ref, "sid": sid, "index": index, "detail": detail}


def _get_path(d: dict, path: tuple[str, ...]):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


class _Builder:
    def __init__(self, inv: Inventory, config: Config, summary_min: int = SUMMARY_MIN, jobs: int | None = 1):
        self.inv = inv
        self.jobs = jobs
        #: in a forked build process: the calls that change the graph, for the parent to replay
        #: (:meth:`_fan_out`); with ``_log_only`` the edges are logged and not added here
        self._log: list | None = None
        self._log_only = False
        #: how a fanned-out build went: processes, parts decided here after a child failed
        self.fanout: dict[str, Any] = {"jobs": 1, "recomputed": 0}
        #: a child still busy this long after the parent finished its own part (and at least 4 times
        #: as long as that took) is stopped and its part decided here
        self.patience_min = 120.0
        self.summary_min = summary_min
        self.config = config
        self.G = nx.MultiDiGraph()
        self.policy_cache: dict[tuple[str, int], Any] = {}
        self._snapshot_policies: dict[str, Any] = {}
        self.managed = {p.arn: p for p in inv.policies}
        self.principals = {p.arn: p for p in inv.principals}
        self.resources = {r.arn: r for r in inv.resources}
        self.by_kind_account: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        self.by_id: dict[str, Resource] = {}
        for r in inv.resources:
            self.by_kind_account[(r.kind, r.account)].append(r)
            if r.id:
                self.by_id.setdefault(r.id, r)
        self.accounts = {a.id: a for a in inv.accounts}
        self.org_id = inv.organization.id if inv.organization else None
        self.mgmt = inv.organization.management_account_id if inv.organization else None
        self.rp_index = ResourcePolicyIndex()
        self.actors: dict[str, Actor] = {}
        self.evaluations = 0
        self.known_keys = _FIXED_KNOWN | _referenced_tag_keys(inv)
        self.sensitivity = ResourceSensitivity()
        self.grantees = Grantees()
        self._uniform_cache: dict[tuple, bool] = {}
        self._hits_cache: dict[tuple, frozenset[str]] = {}
        self._hits_per_pattern: dict[tuple, frozenset[str]] = {}
        self._parts_cache: dict[tuple, tuple] = {}
        self._rels: dict[tuple, tuple] = {}
        self._reads_actor: Actor | None = None
        self._reads_cache: dict[tuple, tuple] = {}
        self._part_info: dict[int, _Part] = {}
        self._label_cache: dict[tuple, list] = {}
        self._allow_cache: dict = {}
        self._interned: dict = {}
        self._shared: dict[tuple, tuple] = {}
        self._conds: dict[tuple, tuple] = {}
        self._term_dicts: dict = {}
        self._ev_dicts: dict[tuple, dict] = {}
        self._attr_dicts: dict[tuple, dict] = {}
        self._explained: dict[tuple, tuple] = {}
        self._key_templates: dict[str, tuple] = {}
        #: keys alike (:meth:`_key_sig`) share one ``kms:Decrypt`` answer per actor
        self.share_key_gates = True

    # ------------------------------------------------------------------ helpers
    def parse(self, doc: Any, source: str, kind: str = "identity"):
        key = (source, id(doc))
        cached = self.policy_cache.get(key)
        if cached is None:
            try:
                cached = parse_policy(doc, source=source, kind=kind)
            except PolicyError as exc:
                # A document AWS accepted but we cannot parse: record it; never treat as "no access".
                gap = self.inv_gap("iam", "parse-policy", "PolicyParseError", source, str(exc))
                if self._log is not None:
                    self._log.append(("p", key, gap))
                cached = False
            self.policy_cache[key] = cached
        return cached or None

    def inv_gap(self, service: str, api: str, code: str, resource: str | None, message: str) -> dict:
        gap = {"account": None, "region": None, "service": service, "api": api,
               "error_code": code, "message": message, "resource": resource}
        self.G.graph["gaps"].append(gap)
        return gap

    def add_edge(self, u: str, v: str, kind: EdgeKind, *, decision: str = "allowed", conditions=(),
                 actions=(), ports=(), method=None, reason: str = "", evidence=(), shared: bool = False) -> None:
        """``shared``: ``conditions`` and ``evidence`` are already tuples from :meth:`shared`.
        Equal reasons are one string (access, assume and escalation reasons leave out the source,
        so the edges of every actor of an account to a target share theirs)."""
        intern = self._interned.setdefault  # equal small tuples, keys and reasons shared by many edges
        actions = tuple(actions)
        key = f"{kind.value}:{method or ''}"
        if not shared:
            conditions, evidence = self.shared(conditions), self.shared(evidence)
        if self._log is not None:
            self._log.append(("e", u, v, kind, decision, conditions, actions, ports, method, reason, evidence))
            if self._log_only:
                return
        actions, reason, ports = intern(actions, actions), intern(reason, reason), tuple(ports)
        # Edges whose attributes are the same objects share one attribute dict (docs/architecture.md,
        # "Shared attribute values"): keyed by the values' identities, which the dict itself keeps
        # alive while the cache holds it (the cache is dropped with the others, _build_caches).
        akey = (kind, decision, id(conditions), id(actions), ports, method, id(reason), id(evidence))
        cache = self._attr_dicts
        attrs = cache.get(akey)
        if attrs is None:
            if len(cache) >= ATTR_CACHE_MAX:  # a replayed child's log has no account boundaries to drop it at
                cache.clear()
            attrs = cache[akey] = {
                "kind": kind.value, "decision": decision, "conditions": conditions, "actions": actions,
                "ports": ports, "method": method, "reason": reason, "evidence": evidence}
        # What MultiDiGraph.add_edge does, without its dict per edge: missing nodes are added, and an
        # edge added again takes the new attributes (all of them are given, so replacing its dict is
        # what networkx's in-place update would give, and a shared dict is never written to).
        G = self.G
        succ = G._succ
        if u not in succ:
            G.add_node(u)
        if v not in succ:
            G.add_node(v)
        key = intern(key, key)
        keydict = succ[u].get(v)
        if keydict is None:
            succ[u][v] = G._pred[v][u] = {key: attrs}
        else:
            keydict[key] = attrs

    def _add_node(self, node: str, **attrs) -> None:
        """A node made while deciding edges (a service or federated principal a trust names)."""
        if self._log is not None:
            self._log.append(("n", node, attrs))
        self.G.add_node(node, **attrs)

    def shared(self, items: Iterable, dedup: bool = False) -> tuple:
        """``items`` as one tuple shared by every edge given the same objects in the same order
        (with repeats by content dropped, first kept, when ``dedup``). Exact: keyed by the items'
        identities (packed in one bytes object), and the cache keeps the items alive so an id is
        never reused while cached."""
        items = tuple(items)
        if not items:
            return ()
        key = array("Q", map(id, items)).tobytes() + (b"d" if dedup else b"")
        hit = self._shared.get(key)
        if hit is None:
            hit = self._shared[key] = (items, tuple(_dedup(items)) if dedup else items)
        return hit[1]

    def ev(self, type_: str, ref: str | None, detail: str, sid: str | None = None, index: int | None = None) -> dict:
        """An evidence dict, one object per content for the whole build (edges only read them)."""
        key = (type_, ref, detail, sid, index)
        hit = self._ev_dicts.get(key)
        if hit is None:
            hit = self._ev_dicts[key] = _ev(type_, ref, detail, sid, index)
        return hit

    # ------------------------------------------------------------------ build
    def build(self) -> nx.MultiDiGraph:
        G = self.G
        self._start()
        self._add_nodes()
        self._apply_labels()
        self._structural_edges()
        self._make_actors()
        self._index_resource_policies()
        self._resource_summaries()
        self.fanout["jobs"] = fanout.jobs_for(self.jobs, len(self.actors))
        self._assume_edges()
        self._decided_edges()
        network.add_network_edges(self)
        self._exposure_edges()
        G.graph["stats"] = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                            "evaluations": self.evaluations, "processes": self.fanout["jobs"],
                            "parts_recomputed": self.fanout["recomputed"]}
        G.graph["authorizer"] = self
        self._drop_build_caches()  # build-time only; the graph keeps the builder for can / who-can
        _graph_changed(G)
        return G

    def _start(self) -> None:
        """The graph's attributes and the organization's policy levels, first of a build or update."""
        G = self.G
        G.graph["inventory"] = self.inv
        G.graph["config"] = self.config
        G.graph["gaps"] = [g.to_dict() for g in self.inv.gaps]
        G.graph["accounts"] = self._account_info()
        self._org_raw_docs: dict[str, dict[str, tuple]] = {}
        self._level_allows: dict[str, dict[str, tuple]] = {}
        self._may_cache: dict[tuple, bool] = {}
        self._scp_levels = self._org_levels("SCP")
        self._rcp_levels = self._org_levels("RCP")

    # ------------------------------------------------------------------ update
    def update(self, G: nx.MultiDiGraph, changed: Iterable[str]) -> nx.MultiDiGraph:
        """Turn ``G``, the graph of an inventory that differs from this builder's only in the
        identity policies of the principals ``changed`` (:func:`iamreach.graph.incremental.identity_changes`),
        into the graph of this inventory, in place: the edges those principals' policies decide
        (``can_assume``, data access, ``escalates_to`` from them) are dropped and decided again;
        every other edge and node stays, records now point at this inventory. The result has the
        edges and nodes a full build gives (``tests/test_incremental.py``)."""
        self.G = G
        self._start()
        self._rebind_records()
        changed = set(changed)
        previous = G.graph.get("authorizer")
        self._make_actors({a: actor for a, actor in previous.actors.items() if a not in changed}
                          if isinstance(previous, _Builder) else None)
        self._index_resource_policies()
        self._resource_summaries()
        actors = [a for a in self.actors.values() if a.arn in changed and a.kind in ("user", "role")]
        nodes = {a.node for a in actors}
        for node in nodes:
            for v, keyed in list(G._succ[node].items()):
                for k, d in list(keyed.items()):
                    if d.get("kind") in _DECIDED_KINDS:
                        G.remove_edge(node, v, k)
        self._assume_edges(only=nodes)
        self._access_edges(actors)
        from iamreach.graph import escalation

        escalation.add_escalation_edges(self, ESCALATION_METHODS, actors=actors)
        # a full build makes a summary only with an edge to it: one nobody reaches now goes
        G.remove_nodes_from([n for n in G if is_summary(n) and not G._pred[n]])
        G.graph["stats"] = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                            "evaluations": self.evaluations, "updated_principals": len(actors)}
        G.graph["authorizer"] = self
        self._drop_build_caches()
        _graph_changed(G)
        return G

    def _rebind_records(self) -> None:
        """Point the ``record`` of every inventory node at this inventory's object."""
        nodes = self.G._node
        for acc, rec in self.accounts.items():
            if account_node(acc) in nodes:
                nodes[account_node(acc)]["record"] = rec
        for group in (self.inv.principals, self.inv.instance_profiles, self.inv.resources):
            for rec in group:
                if rec.arn in nodes:
                    nodes[rec.arn]["record"] = rec

    # ------------------------------------------------------------------ single requests
    def _owning_resource(self, resource: str) -> Resource | None:
        r = self.resources.get(resource)
        if r is not None:
            return r
        if resource.startswith("arn:aws:s3:::") and "/" in resource:
            return self.resources.get(resource.split("/", 1)[0])
        return None

    def _actor_for(self, principal: str) -> Actor:
        from iamreach.errors import InputError

        actor = self.actors.get(principal)
        if actor is None and ":assumed-role/" in principal:
            parts = principal.split(":")
            role_name = parts[5].split("/")[1] if len(parts) > 5 and parts[5].count("/") >= 1 else ""
            for a in self.actors.values():
                if a.kind == "role" and a.account == parts[4] and a.arn.rsplit("/", 1)[-1] == role_name:
                    return a
        if actor is None and principal.isdigit():
            actor = self.actors.get(account_node(principal))
        if actor is None:
            raise InputError(f"principal {principal!r} is not in the snapshot (users, roles, or an account id "
                             "for its administrator)", field="--principal")
        return actor

    def can(self, principal: str, action: str, resource: str, *, context: dict | None = None):
        """Decide one request with everything the snapshot knows about the principal and resource."""
        actor = self._actor_for(principal)
        r = self._owning_resource(resource)
        if r is not None:
            account, tags = r.account, r.tags
            rpol = self._resource_policy(r)
            if r.kind == "role" or (r.arn in self.principals and self.principals[r.arn].kind == "role"):
                rpol = None
        else:
            account, tags, rpol = None, None, None
            p = self.principals.get(resource)
            if p is not None:
                account, tags = p.account, p.tags
                if p.kind == "role" and action.lower().startswith("sts:assumerole") and p.trust_policy:
                    rpol = self.parse(p.trust_policy, f"{p.arn} trust policy", kind="trust")
            elif resource.startswith("arn:") and len(resource.split(":")) > 4:
                account = resource.split(":")[4] or None
        return self.decide(actor, action, resource, resource_account=account, resource_policy=rpol,
                           resource_tags=tags, extra=context)

    def who_can(self, action: str, resource: str, *, context: dict | None = None) -> list:
        """Every actor allowed (or conditionally allowed) ``action`` on ``resource``."""
        r = self._owning_resource(resource)
        named = principal_keys_of_policy(r.policy) if (r is not None and r.policy) else set()
        out = []
        for actor in sorted(self.actors.values(), key=lambda a: a.node):
            if not actor.allows.may_allow(action) and not (
                    named & {actor.arn, f"account:{actor.account}", "*"}):
                continue
            res = self.can(actor.node, action, resource, context=context)
            if res.decision != Decision.DENIED:
                out.append((actor.node, res))
        return out

    # ------------------------------------------------------------------ accounts and org
    def _account_info(self) -> dict[str, dict]:
        names = {}
        if self.inv.organization:
            for u in self.inv.organization.units:
                if isinstance(u, dict) and u.get("id"):
                    names[u["id"]] = u.get("name") or u["id"]
        info = {}
        for a in self.inv.accounts:
            info[a.id] = {
                "name": a.name,
                "ou_path": tuple(a.ou_path),
                "ou_names": tuple(names.get(o, o) for o in a.ou_path),
                "is_management": a.is_management or a.id == self.mgmt,
                "tags": dict(a.tags),
            }
        return info

    def _org_levels(self, type_: str) -> dict[str, tuple[tuple, ...]]:
        pols = [p for p in self.inv.org_policies if p.type.upper() == type_]
        raw = self._org_raw_docs.setdefault(type_, {})
        if not pols or not self.inv.organization:
            return {}
        by_target: dict[str, list] = defaultdict(list)
        raw_by_target: dict[str, list] = defaultdict(list)
        for p in pols:
            parsed = self.parse(p.document, p.arn or p.id or p.name, kind=type_.lower())
            if parsed is None:
                continue
            for t in p.targets:
                by_target[t].append(parsed)
                raw_by_target[t].append(p.document)
        levels = {}
        for a in self.inv.accounts:
            if not a.ou_path:
                continue  # not placed in the organization tree: outside the org
            chain = [*a.ou_path, a.id]
            levels[a.id] = tuple(tuple(by_target.get(t, ())) for t in chain)
            raw[a.id] = tuple(d for t in chain for d in raw_by_target.get(t, ()))
            self._level_allows.setdefault(type_, {})[a.id] = tuple(
                AllowPatterns.from_documents(raw_by_target.get(t, ())) for t in chain)
        return levels

    def org_may_allow(self, account: str, action: str, type_: str = "SCP") -> bool:
        """Could every SCP (or RCP) level above ``account`` allow ``action``? Pruning only."""
        key = (type_, account, action)
        hit = self._may_cache.get(key)
        if hit is None:
            levels = self._level_allows.get(type_, {}).get(account)
            hit = levels is None or all(lvl.may_allow(action) for lvl in levels)
            self._may_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ nodes
    def _add_nodes(self) -> None:
        G = self.G
        G.add_node(INTERNET, kind=NodeKind.INTERNET.value, account=None, region=None, name="internet", tags={},
                   labels=(), vpc=None, subnets=(), record=None)
        G.add_node(ANONYMOUS, kind=NodeKind.ANONYMOUS.value, account=None, region=None, name="anonymous", tags={},
                   labels=(), vpc=None, subnets=(), record=None)
        accounts = set(self.accounts) | {p.account for p in self.inv.principals} | {
            r.account for r in self.inv.resources if r.account}
        for acc in sorted(accounts):
            rec = self.accounts.get(acc)
            G.add_node(account_node(acc), kind=NodeKind.ACCOUNT.value, account=acc, region=None,
                       name=(rec.name if rec and rec.name else acc), tags=dict(rec.tags) if rec else {},
                       labels=(), vpc=None, subnets=(), record=rec)
            G.add_node(account_principals_node(acc), kind=NodeKind.ACCOUNT_PRINCIPALS.value, account=acc,
                       region=None, name=f"principals of {acc}", tags={}, labels=(), vpc=None, subnets=(),
                       record=None)
        for p in self.inv.principals:
            G.add_node(p.arn, kind=p.kind, account=p.account, region=None, name=p.name, tags=dict(p.tags),
                       labels=(), vpc=None, subnets=(), record=p)
        for ip in self.inv.instance_profiles:
            G.add_node(ip.arn, kind=NodeKind.INSTANCE_PROFILE.value, account=ip.account, region=None,
                       name=ip.name, tags={}, labels=(), vpc=None, subnets=(), record=ip)
        for r in self.inv.resources:
            a = r.attributes
            vpc = a.get("vpc_id")
            subnets = a.get("subnet_ids") or ([a["subnet_id"]] if a.get("subnet_id") else [])
            G.add_node(r.arn, kind=r.kind, account=r.account, region=r.region, name=r.name or r.id or r.arn,
                       tags=dict(r.tags), labels=(), vpc=vpc, subnets=tuple(subnets), record=r)

    def _apply_labels(self) -> None:
        G = self.G
        accounts = G.graph["accounts"]
        labels: dict[str, set[str]] = defaultdict(set)
        for name, selectors in self.config.labels.items():
            for node, data in G.nodes(data=True):
                if any(s.matches(node, data, accounts) for s in selectors):
                    labels[node].add(name)
        # inheritance: an account's label passes down to everything in it
        inherit = set(self.config.inherit)
        acct_labels = {d["account"]: labels.get(n, set()) & inherit
                       for n, d in G.nodes(data=True) if d["kind"] == NodeKind.ACCOUNT.value}
        for node, data in G.nodes(data=True):
            extra = acct_labels.get(data.get("account"))
            if extra:
                labels[node] |= extra
        # snapshots carry the labels of the store they were taken from
        for r in self.inv.resources:
            if r.kind in _SNAPSHOT_KINDS:
                src = r.attributes.get("source_arn")
                if src and src in labels:
                    labels[r.arn] |= labels[src] - {"synthetic"}
        for node, ls in labels.items():
            G.nodes[node]["labels"] = tuple(sorted(ls))

    # ------------------------------------------------------------------ structural edges
    def _structural_edges(self) -> None:
        G = self.G
        for p in self.inv.principals:
            if p.kind == "user":
                for g in p.groups:
                    if g in G:
                        self.add_edge(p.arn, g, EdgeKind.MEMBER_OF, reason=f"{p.name} is a member of {g}",
                                      evidence=[self.ev("attribute", p.arn, "GroupList")])
        for ip in self.inv.instance_profiles:
            for role in ip.role_arns:
                if role in G:
                    self.add_edge(ip.arn, role, EdgeKind.RUNS_AS, reason=f"instance profile {ip.name} holds role",
                                  evidence=[self.ev("attribute", ip.arn, "InstanceProfile.Roles")])
        for r in self.inv.resources:
            a = r.attributes
            if r.kind == "ec2_instance" and a.get("instance_profile_arn"):
                self._runs_as(r, a["instance_profile_arn"], "IamInstanceProfile")
            elif r.kind in COMPUTE_KINDS and a.get("role_arn"):
                self._runs_as(r, a["role_arn"], "Role")
            elif r.kind in _SNAPSHOT_KINDS:
                src = a.get("source_arn")
                if src and src in G:
                    self.add_edge(src, r.arn, EdgeKind.SNAPSHOT_OF, reason="snapshot holds this store's data",
                                  evidence=[self.ev("attribute", r.arn, f"source {src}")])
                for acct in a.get("shared_accounts") or ():
                    target = ANONYMOUS if acct == "all" else account_principals_node(acct)
                    if target not in G:
                        G.add_node(target, kind=NodeKind.ACCOUNT_PRINCIPALS.value, account=acct, region=None,
                                   name=f"principals of {acct}", tags={}, labels=(), vpc=None, subnets=(),
                                   record=None)
                    self.add_edge(r.arn, target, EdgeKind.SHARED_WITH,
                                  reason=f"snapshot shared with {'everyone (public)' if acct == 'all' else acct}",
                                  evidence=[self.ev("snapshot_attribute", r.arn,
                                                "restore" if r.kind != "ebs_snapshot" else "createVolumePermission")])
            elif r.kind == "secret":
                for db in a.get("unlocks") or ():
                    if db in G:
                        self.add_edge(r.arn, db, EdgeKind.UNLOCKS, reason="secret holds this database's credentials",
                                      evidence=[self.ev("attribute", r.arn, "unlocks (tags/name)")])

    def _runs_as(self, r: Resource, target: str, field_name: str) -> None:
        if target not in self.G:
            # referenced role/profile not in the inventory (other account or a gap): keep the hop visible
            kind = NodeKind.INSTANCE_PROFILE.value if ":instance-profile/" in target else NodeKind.ROLE.value
            self.G.add_node(target, kind=kind, account=(target.split(":")[4] or None) if target.count(":") >= 5 else None, region=None,
                            name=target.rsplit("/", 1)[-1], tags={}, labels=(), vpc=None, subnets=(), record=None)
        self.add_edge(r.arn, target, EdgeKind.RUNS_AS, reason=f"{r.kind} {r.name or r.id} runs as {target}",
                      evidence=[self.ev("attribute", r.arn, field_name)])

    # ------------------------------------------------------------------ actors
    def _principal_docs(self, p: Principal) -> tuple[list, list[dict], list[str], tuple[str, ...]]:
        """(parsed identity policies, their raw documents, customer policy ARNs, group ARNs)."""
        parsed, raw, arns = [], [], []
        holders = [p]
        groups = tuple(g for g in p.groups if g in self.principals) if p.kind == "user" else ()
        holders += [self.principals[g] for g in groups]
        for h in holders:
            for name, doc in sorted(h.inline_policies.items()):
                pol = self.parse(doc, f"{h.arn} inline policy {name}")
                if pol is not None:
                    parsed.append(pol)
                if isinstance(doc, dict):
                    raw.append(doc)
            for arn in h.managed_policy_arns:
                mp = self.managed.get(arn)
                if mp is None:
                    self.inv_gap("iam", "GetPolicyVersion", "MissingManagedPolicy", arn,
                                 f"managed policy attached to {h.arn} is not in the inventory")
                    continue
                pol = self.parse(mp.document, arn)
                if pol is not None:
                    parsed.append(pol)
                raw.append(mp.document)
                if mp.account:
                    arns.append(arn)
        return parsed, raw, arns, groups

    def _context_for(self, p: Principal | None, account: str, arn: str) -> dict:
        ctx: dict[str, Any] = {
            "aws:PrincipalArn": arn,
            "aws:PrincipalAccount": account,
            "aws:PrincipalIsAWSService": "false",
        }
        if self.org_id and account in self.accounts:
            ctx["aws:PrincipalOrgID"] = self.org_id
            path = self.accounts[account].ou_path
            if path:
                ctx["aws:PrincipalOrgPaths"] = ["/".join([self.org_id, *path]) + "/"]
        if p is not None:
            ctx["aws:PrincipalType"] = "User" if p.kind == "user" else "AssumedRole"
            if p.kind == "user":
                ctx["aws:username"] = p.name
            if p.id:
                ctx["aws:userid"] = p.id if p.kind == "user" else f"{p.id}:*"
            for k, v in p.tags.items():
                ctx[f"aws:PrincipalTag/{k}"] = v
        else:
            ctx["aws:PrincipalType"] = "Account"
        return ctx

    def _make_actors(self, reuse: dict[str, Actor] | None = None) -> None:
        """An actor per user and role, and one administrator per account. ``reuse``: actors of an
        earlier build to keep as they are (:meth:`update`: the principals whose policies did not
        change; their documents, tags and SCPs are equal, so their actors are too)."""
        for p in self.inv.principals:
            if p.kind not in ("user", "role"):
                continue
            if reuse is not None and p.arn in reuse:
                self.actors[p.arn] = reuse[p.arn]
                continue
            identity, docs, arns, groups = self._principal_docs(p)
            boundaries = ()
            if p.permissions_boundary_arn:
                mp = self.managed.get(p.permissions_boundary_arn)
                pol = self.parse(mp.document, mp.arn) if mp else None
                if pol is None:
                    self.inv_gap("iam", "GetPolicyVersion", "MissingBoundaryPolicy", p.permissions_boundary_arn,
                                 f"permissions boundary of {p.arn} is not in the inventory")
                boundaries = (pol,) if pol is not None else ()
            limits = list(docs)
            if p.permissions_boundary_arn and p.permissions_boundary_arn in self.managed:
                limits.append(self.managed[p.permissions_boundary_arn].document)
            limits += self._org_raw_docs.get("SCP", {}).get(p.account, ())
            self.actors[p.arn] = Actor(
                node=p.arn, arn=p.arn, account=p.account, kind=p.kind, identity=tuple(identity),
                boundaries=boundaries, scps=self._scp_levels.get(p.account, ()),
                is_management=p.account == self.mgmt or bool(
                    self.accounts.get(p.account) and self.accounts[p.account].is_management),
                is_service_linked=p.is_service_linked,
                context=self._context_for(p, p.account, p.arn),
                allows=AllowPatterns.from_documents(docs, self._allow_cache), policy_arns=tuple(arns), groups=groups,
                raw_docs=tuple(limits),
            )
        admin = self.parse(_ADMIN_DOC, "iamreach:account-administrator")
        for acc in sorted(self.accounts):
            node = account_node(acc)
            self.actors[node] = Actor(
                node=node, arn=node, account=acc, kind="admin", identity=(admin,),
                scps=self._scp_levels.get(acc, ()), is_management=self.G.graph["accounts"][acc]["is_management"],
                context=self._context_for(None, acc, node), allows=AllowPatterns.from_documents([_ADMIN_DOC]),
                raw_docs=(_ADMIN_DOC, *self._org_raw_docs.get("SCP", {}).get(acc, ())),
            )

    # ------------------------------------------------------------------ the engine
    def decide(self, actor: Actor, action: str, resource: str, *, resource_account: str | None,
               resource_policy=None, resource_tags: dict | None = None, extra: dict | None = None):
        # The context with its keys lower-cased here, as the engine would (it reads a LowerKeys as
        # it is): the actor's part once per actor, not once per request.
        base = actor.lower_context
        if base is None:
            base = actor.lower_context = LowerKeys({k.lower(): v for k, v in actor.context.items()})
        ctx = LowerKeys(base)
        if resource_account:
            ctx["aws:resourceaccount"] = resource_account
            if self.org_id and resource_account in self.accounts:
                ctx["aws:resourceorgid"] = self.org_id
        if resource_tags:
            for k, v in resource_tags.items():
                ctx["aws:resourcetag/" + k.lower()] = v
        if extra:
            for k, v in extra.items():
                ctx[k.lower()] = v
        req = Request(principal=actor.arn, action=action, resource=resource, resource_account=resource_account,
                      principal_account=actor.account, context=ctx, unknown_keys="unknown",
                      known_keys=self.known_keys)
        self.evaluations += 1
        return evaluate(
            req,
            identity_policies=actor.identity,
            resource_policy=resource_policy,
            permission_boundaries=actor.boundaries,
            scps=actor.scps,
            rcps=self._rcp_levels.get(resource_account, ()) if resource_account else (),
            principal_is_management_account=actor.is_management,
            resource_in_management_account=bool(resource_account and resource_account == self.mgmt),
            principal_is_service_linked_role=actor.is_service_linked,
        )

    def decide_unless_denied(self, actor: Actor, action: str, resource: str, *, resource_account: str | None,
                             resource_policy, resource_tags: dict | None, doc: dict | None, required: bool = False):
        """:meth:`decide`, unless the resource-based policy ``doc`` (the raw form of the parsed
        ``resource_policy``) makes the engine's answer a certain deny (:meth:`_surely_denied`):
        then a stand-in whose ``decision`` is DENIED, and no engine call."""
        if (resource_policy is not None and doc is not None
                and self._surely_denied(actor, action, resource_account, doc, required)):
            return _SURELY_DENIED
        return self.decide(actor, action, resource, resource_account=resource_account,
                           resource_policy=resource_policy, resource_tags=resource_tags)

    def _surely_denied(self, actor: Actor, action: str, account: str | None, doc: dict,
                       required: bool = False) -> bool:
        """Is the engine bound to deny ``action`` to ``actor`` on a resource of ``account`` whose
        (parsed) resource-based policy is ``doc``? Spares engine calls only, never an edge: across
        accounts both the identity side and the resource policy must allow; in the account, a
        policy that names the account only delegates to the identity side, and a required policy
        (a KMS key policy) must allow too. Errs towards False."""
        if account is None:
            return False
        if account != actor.account:
            return not actor.allows.may_allow(action) or not self.grantees.may_admit(doc, action, actor.account)
        if required and not self.grantees.may_admit(doc, action, actor.account):
            return True
        return not actor.allows.may_allow(action) and not self.grantees.may_admit(doc, action, actor.account,
                                                                                    direct=True)

    def conditions_of(self, result) -> tuple[dict, ...]:
        """The conditions of an engine result as plain dicts, one tuple per distinct list of
        condition terms and one dict per distinct term, shared by every edge (never mutated)."""
        return self.conditions_of_terms(result.conditions)

    def conditions_of_terms(self, terms: tuple) -> tuple[dict, ...]:
        """:meth:`conditions_of` for a tuple of condition terms."""
        hit = self._conds.get(terms)
        if hit is None:
            out = []
            for c in terms:
                d = self._term_dicts.get(c)  # a term's hash is computed once: key by the term itself
                if d is None:
                    d = self._term_dicts[c] = dict(c)
                out.append(d)
            hit = self._conds[terms] = tuple(out)
        return hit

    def _evidence(self, result, layer_default: str) -> tuple[dict, ...]:
        """Evidence dicts of an engine result: one tuple per distinct explanation, shared by
        every edge it stands for (they are never mutated)."""
        lines = result.explanation
        hit = self._explained.get((lines, layer_default))
        if hit is None:
            ev = []
            for line in lines:
                layer = line.split(":", 1)[0].strip().replace(" ", "_") if ":" in line else layer_default
                ev.append(self.ev(layer, None, line))
            hit = tuple(ev)
            # Keyed by the evidence dicts' own strings (equal to ``lines``): the cache then holds no
            # second copy of every explanation line (a tenth of a build's peak memory).
            self._explained[(tuple(e["detail"] for e in hit), layer_default)] = hit
        return hit

    # ------------------------------------------------------------------ resource policy index
    def _resource_policy(self, r: Resource):
        if r.kind in _SNAPSHOT_KINDS:
            return self._snapshot_policy(r)
        if r.policy is None:
            return None
        return self.parse(r.policy, f"{r.arn} resource policy", kind="resource")

    def _snapshot_policy(self, r: Resource):
        """The snapshot's sharing attribute as the resource policy it amounts to, parsed once per
        snapshot (the document is made here, so :meth:`parse`, keyed by the document's identity,
        would parse it again on every call)."""
        hit = self._snapshot_policies.get(r.arn, _OWN)
        if hit is not _OWN:
            return hit
        shared = r.attributes.get("shared_accounts") or []
        if not shared:
            hit = None
        else:
            principals = "*" if "all" in shared else {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(shared)]}
            actions = [a for a, _ in ACCESS[r.kind]["reads"]]
            doc = {"Version": "2012-10-17", "Statement": [{"Sid": "SharedSnapshotAttribute", "Effect": "Allow",
                                                           "Principal": principals, "Action": actions,
                                                           "Resource": "*"}]}
            hit = self.parse(doc, f"{r.arn} shared-snapshot attribute", kind="resource")
        self._snapshot_policies[r.arn] = hit
        return hit

    def _index_resource_policies(self) -> None:
        for r in self.inv.resources:
            if r.kind in ACCESS:
                shared = r.attributes.get("shared_accounts") or []
                keys = ({"*"} if "all" in shared else {f"account:{a}" for a in shared}) if shared else ()
                if r.policy is not None or keys:
                    self.rp_index.add(r.arn, r.kind, r.policy, keys)

    # ------------------------------------------------------------------ can_assume
    def _assume_edges(self, only: set[str] | None = None) -> None:
        """``can_assume`` edges: from every actor a trust policy may let in (``only``: from these
        actor nodes alone, and no edges from the service and federated principals a trust names)."""
        by_account: dict[str, list[Actor]] = defaultdict(list)
        for a in self.actors.values():
            by_account[a.account].append(a)
        pools: dict[tuple, list[Principal]] = defaultdict(list)
        for role in self.inv.principals:
            if role.kind != "role" or not role.trust_policy:
                continue
            template = _policy_template(role.trust_policy, role.arn)
            if template is False or _SELF in template:  # a trust naming the role itself: its own pool
                template = role.arn.encode()
            pools[(role.account, template)].append(role)

        def work(run: list) -> None:
            for (account, template), roles in run:
                if len(roles) >= self.summary_min:
                    self._assume_pool(account, template, roles, by_account, only)
                else:
                    for role in roles:
                        trust = self.parse(role.trust_policy, f"{role.arn} trust policy", kind="trust")
                        if trust is not None:
                            for actor in self._assume_candidates(role, by_account, only).values():
                                self._assume_edge(actor, role, trust)

        ordered = sorted(pools.items())
        jobs = self.fanout["jobs"] if only is None else 1
        if jobs < 2 or len(ordered) < 2:
            work(ordered)
            return
        self._fan_out(_runs(ordered, jobs, lambda pool: len(pool[1])), work)

    def _assume_candidates(self, role: Principal, by_account, only: set[str] | None = None) -> dict[str, Actor]:
        """The actors a role's trust policy could let in (and the service / federated nodes it trusts;
        with ``only``, the candidates among those actor nodes, and no service / federated edges)."""
        G = self.G
        candidates: dict[str, Actor] = {}
        for key in principal_keys_of_policy(role.trust_policy):
            if key == "*":
                for a in self.actors.values():
                    candidates[a.node] = a
            elif key.startswith("account:"):
                # delegation to the account: only principals with an identity allow can use it
                for a in by_account.get(key[8:], ()):
                    if a.allows.may_allow("sts:AssumeRole"):
                        candidates[a.node] = a
            elif only is not None:
                continue
            elif key.startswith("service:"):
                svc = key[8:]
                node = service_node(svc)
                if node not in G:
                    self._add_node(node, kind=NodeKind.SERVICE_PRINCIPAL.value, account=None, region=None,
                                   name=svc, tags={}, labels=(), vpc=None, subnets=(), record=None)
                self.add_edge(node, role.arn, EdgeKind.CAN_ASSUME, reason=f"trust policy trusts {svc}",
                              actions=["sts:AssumeRole"],
                              evidence=[self.ev("trust_policy", role.arn, f"Principal Service {svc}")])
            elif key.startswith("federated:"):
                fed = key[10:]
                node = f"federated:{fed}"
                if node not in G:
                    self._add_node(node, kind=NodeKind.SERVICE_PRINCIPAL.value, account=None, region=None,
                                   name=fed, tags={}, labels=(), vpc=None, subnets=(), record=None)
                self.add_edge(node, role.arn, EdgeKind.CAN_ASSUME, decision="conditional",
                              conditions=[{"key": "federation", "detail": "holders of a federated identity"}],
                              actions=["sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
                              reason=f"trust policy trusts federated provider {fed}",
                              evidence=[self.ev("trust_policy", role.arn, f"Principal Federated {fed}")])
            elif key in self.actors:
                candidates[key] = self.actors[key]
        if only is not None:
            return {k: a for k, a in candidates.items() if k in only}
        return candidates

    def _may_assume(self, actor: Actor, account: str) -> bool:
        # (self-assumption is allowed only when the trust names the role: the engine decides)
        if not actor.allows.may_allow("sts:AssumeRole") and actor.account != account:
            return False  # cross-account needs an identity allow
        return self.actor_may(actor, "sts:AssumeRole")

    def _assume_edge(self, actor: Actor, role: Principal, trust, target: str | None = None,
                     what: str | None = None) -> None:
        if not self._may_assume(actor, role.account):
            return
        res = self.decide(actor, "sts:AssumeRole", role.arn, resource_account=role.account,
                          resource_policy=trust, resource_tags=role.tags)
        if res.decision == Decision.DENIED:
            return
        if callable(target):  # a summary made only when an edge goes to it (no summary without one)
            target = target()
        ev = [self.ev("trust_policy", role.arn, "trust policy allows the caller"), *self._evidence(res, "identity_policy")]
        if target is not None:
            ev.append(self.ev("summary", target, f"decided once, on {role.arn}, for {what}"))
        self.add_edge(actor.node, target or role.arn, EdgeKind.CAN_ASSUME, decision=res.decision.value,
                      conditions=self.conditions_of(res), actions=["sts:AssumeRole"],
                      reason=f"can_assume {what or role.name}", evidence=ev)  # without the source

    def _assume_pool(self, account: str, template: bytes, roles: list[Principal], by_account,
                     only: set[str] | None = None) -> None:
        """Roles of one account whose trust policies are one template: an actor the identity side
        treats alike on all of them gets one edge to their summary."""
        trusts = {r.arn: self.parse(r.trust_policy, f"{r.arn} trust policy", kind="trust") for r in roles}
        roles = [r for r in roles if trusts[r.arn] is not None]
        candidates: dict[str, Actor] = {}
        for role in roles:  # every member trusts the same principals: one candidate set (and service edges)
            candidates = self._assume_candidates(role, by_account, only)
        if not roles:
            return
        policy_tags = resource_tag_keys(roles[0].trust_policy)
        descr = template_descr("trust-", template)
        what = f"any of the {len(roles)} roles of {account} with this trust policy"
        for actor in candidates.values():
            if not self._may_assume(actor, account):
                continue
            if self.set_uniform(actor, [("sts:AssumeRole", "{arn}")], roles, account, policy_tags):
                rep = next(r for r in roles if r.arn != actor.arn)
                target = functools.partial(self.summary, account, "role", descr, [r.arn for r in roles])
                self._assume_edge(actor, rep, trusts[rep.arn], target=target, what=what)
            else:
                for role in roles:
                    self._assume_edge(actor, role, trusts[role.arn])

    # ------------------------------------------------------------------ data access
    def _candidates(self, actor: Actor, kind: str, action: str) -> set[str]:
        """Resources of ``kind`` worth asking about ``action`` for ``actor``: those an Allow
        pattern can reach in its account, and those whose resource policy names it."""
        out: set[str] = set()
        if not self.actor_may(actor, action):
            return out
        pats = tuple(actor.allows.resource_patterns(action))
        if pats:
            out |= self._pattern_hits(pats, kind, actor.account)
        for arn in self.rp_index.lookup((actor.arn, f"account:{actor.account}"), kind):
            account = self.resources[arn].account
            # across accounts both sides must allow: the actor's own Allow patterns must reach it
            if account == actor.account or (pats and arn in self._pattern_hits(pats, kind, account)):
                out.add(arn)
        out |= self._admitting(self._everyones(pats, kind, actor.account), action, actor.account)
        return out

    def _admitting(self, arns: frozenset[str], action: str, account: str) -> frozenset[str]:
        """``arns`` (organization-shared resources) less those of other accounts whose policy
        cannot let a principal of ``account`` do ``action``: the engine is bound to deny them
        (:meth:`_surely_denied`, which :meth:`decide_unless_denied` would answer without asking
        it), so they are no candidates. A policy that does not parse stays a candidate: the
        engine is asked without it, as before. Cached per set, action and account."""
        key = (_ADMITTING, id(arns), action, account)
        hit = self._hits_cache.get(key)
        if hit is None:
            may_admit = self.grantees.may_admit
            resources = self.resources
            hit = frozenset(
                arn for arn in arns
                if (r := resources[arn]).account == account or r.policy is None or r.kind in _SNAPSHOT_KINDS
                or may_admit(r.policy, action, account)
                or self._resource_policy(r) is None  # unparsed: decided, and its gap recorded, as before
            )
            if len(hit) == len(arns):
                hit = arns
            self._hits_cache[key] = (arns, hit)  # the set kept alive with its id
            return hit
        return hit[1]

    def _everyones(self, pats: tuple, kind: str, account: str) -> frozenset[str]:
        """The resources of ``kind`` whose policy names every principal (``"*"``) that an actor of
        ``account`` with the Allow patterns ``pats`` is worth asking about: all of its own account's,
        and in other accounts those ``pats`` reach. Cached per (patterns, kind, account): without it
        every actor walked every organization-shared resource of every account."""
        key = ("*", pats, kind, account)
        hit = self._hits_cache.get(key)
        if hit is None:
            groups = self.rp_index.by_account("*", kind, self._account_of)
            found = set(groups.get(account, ()))
            if pats:
                # what the patterns reach among every account's such resources (the own account's
                # are all in already): tested on those resources alone, not on every resource of
                # every other account, and cached per pattern set
                found |= self._pattern_hits(pats, kind, _EVERY)
            hit = self._hits_cache[key] = frozenset(found)
        return hit

    def _account_of(self, arn: str) -> str:
        return self.resources[arn].account

    def _pattern_hits(self, pats: tuple, kind: str, account: Any) -> frozenset[str]:
        """ARNs of ``kind`` in ``account`` that one of the identity patterns ``pats`` could reach
        (cached: actors sharing a managed policy share its patterns). ``account`` ``_EVERY``: among
        the resources of every account whose policy names every principal (:meth:`_universe`)."""
        key = (pats, kind, account)
        hit = self._hits_cache.get(key)
        if hit is None:
            if ANY_RESOURCE in pats:
                hit = self._pattern_hit(ANY_RESOURCE, kind, account)
            elif len(pats) == 1:
                hit = self._pattern_hit(pats[0], kind, account)
            else:
                hit = frozenset().union(*(self._pattern_hit(p, kind, account) for p in pats))
            self._hits_cache[key] = hit
        return hit

    def _pattern_hit(self, pat: str, kind: str, account: Any) -> frozenset[str]:
        """ARNs of ``kind`` in ``account`` (as in :meth:`_pattern_hits`) one identity pattern could
        reach (cached per pattern: many actors' pattern sets share patterns)."""
        key = (pat, kind, account)
        hit = self._hits_per_pattern.get(key)
        if hit is None:
            arns = self._universe(kind, account)
            hit = arns if pat == ANY_RESOURCE else frozenset(a for a in arns if _could_match(pat, a))
            self._hits_per_pattern[key] = hit
        return hit

    def _universe(self, kind: str, account: Any) -> frozenset[str]:
        """The ARNs pattern hits are taken from: the resources of ``kind`` in ``account``, or, for
        ``_EVERY``, those of every account whose policy names every principal (``"*"``)."""
        key = (_EVERY, kind, account)
        hit = self._hits_per_pattern.get(key)
        if hit is None:
            if account is _EVERY:
                groups = self.rp_index.by_account("*", kind, self._account_of)
                hit = frozenset().union(*groups.values())
            else:
                hit = frozenset(r.arn for r in self.by_kind_account.get((kind, account), ()))
            self._hits_per_pattern[key] = hit
        return hit

    def fill(self, template: str, r: Resource) -> str:
        if template == "{arn}":
            return r.arn
        return template.format(arn=r.arn, region=r.region or "*", account=r.account,
                               resource_id=r.attributes.get("resource_id") or "*", name=r.name or "")

    def actor_may(self, actor: Actor, action: str) -> bool:
        """False when the actor's SCPs cannot allow ``action`` at all (the management account and
        service-linked roles are exempt from SCPs)."""
        if actor.is_management or actor.is_service_linked or not actor.scps:
            return True
        return self.org_may_allow(actor.account, action)

    def _limits(self, actor: Actor, account: str) -> tuple:
        """Raw documents of every layer that limits ``actor`` on a resource of ``account``."""
        rcps = self._org_raw_docs.get("RCP", {}).get(account, ())
        return (*actor.raw_docs, *rcps) if rcps else actor.raw_docs

    def _reads(self, actor: Actor, account: str, action: str) -> tuple:
        """(resource-specific statements matching ``action`` — one tuple per content for the
        build, None when one uses a policy variable —, tag keys they read) for ``actor`` on a
        resource of ``account``; cached for the actor at hand (the build goes actor by actor)."""
        if actor is not self._reads_actor:
            self._reads_actor = actor
            self._reads_cache = {}
        key = (account, action)
        hit = self._reads_cache.get(key)
        if hit is None:
            docs = self._limits(actor, account)
            rel = self.sensitivity.relevant(docs, action)
            if rel is not None:
                rel = tuple(rel)
                rel = self._rels.setdefault(rel, rel)
            hit = self._reads_cache[key] = (rel, self.sensitivity.tag_keys(docs, action))
        return hit

    def memo_key(self, actor: Actor, action: str, r: Resource, resource: str) -> tuple | None:
        """A key under which the decision for (actor, action, ``r``) can be shared with other
        resources (None: evaluate this one on its own). Resources without a resource policy or
        sharing get equal decisions when the same resource-specific statements match their ARNs
        and they carry the same values of the tags those statements condition on."""
        if r.policy is not None or r.attributes.get("shared_accounts"):
            return None
        rel, tag_keys = self._reads(actor, r.account, action)
        if rel is None:
            return None
        return (action, r.account, r.kind, project_tags(r.tags, tag_keys), match_signature(rel, resource))

    # ------------------------------------------------------------------ summaries
    def _resource_summaries(self) -> None:
        """Partition the resources of each (account, kind) into sets of alike resources a summary
        may stand for: the same sharing and the same
        resource policy once the resource's own ARN is written as a placeholder (policies made from
        one template). Only sets of at least :data:`SUMMARY_MIN` members are kept; a policy that
        names a resource pattern other than ``*`` or the resource's own ARN keeps its resource out
        (its statements could tell members apart). KMS keys are never summarized."""
        sets: dict[tuple, list[Resource]] = defaultdict(list)
        for r in self.inv.resources:
            if r.kind not in ACCESS:
                continue
            template = _policy_template(r.policy, r.arn) if r.policy is not None else None
            if template is False:
                continue
            shared = tuple(sorted(r.attributes.get("shared_accounts") or ()))
            sets[(r.account, r.kind, shared, template or b"")].append(r)
        self.summaries: dict[tuple[str, str], list[AlikeSet]] = defaultdict(list)
        self.summaries_by_key: dict[tuple[str, str], list[AlikeSet]] = defaultdict(list)
        self.summary_of: dict[str, AlikeSet] = {}
        for (account, kind, shared, template), members in sorted(sets.items()):
            if len(members) < self.summary_min:
                continue
            # members behind the same KMS key next to each other (see _set_gate)
            members.sort(key=lambda r: (str(_get_path(r.attributes, KMS_GATED_KINDS[r.kind]) or "")
                                        if r.kind in KMS_GATED_KINDS else "", r.arn))
            parts = []
            if template:
                parts.append(template_descr("policy-", template))
            if shared:
                parts.append("shared-" + "-".join(shared))
            rpol = members[0].policy
            keys = ({"*"} if "all" in shared else {f"account:{a}" for a in shared}) | principal_keys_of_policy(rpol)
            rs = AlikeSet(account, kind, ",".join(parts) or "all", members,
                              resource_tag_keys(rpol) if rpol is not None else frozenset())
            self.summaries[(kind, account)].append(rs)
            for k in keys:
                self.summaries_by_key[(k, kind)].append(rs)
            for m in members:
                self.summary_of[m.arn] = rs

    def summary(self, account: str, member_kind: str, descr: str, members: list[str]) -> str:
        """The summary node for ``members`` (made, with its ``includes`` edges, on first use)."""
        node = summary_node(account, member_kind, descr)
        if node not in self.G:
            self.G.add_node(node, kind=NodeKind.SUMMARY.value, account=account, region=None,
                            name=f"{len(members)} {member_kind} of {account} ({descr})", tags={}, labels=(),
                            vpc=None, subnets=(), record=None, members=tuple(members), member_kind=member_kind)
            logged = self._log
            if logged is not None:  # a forked build process: the parent makes the node and its edges again
                logged.append(("s", account, member_kind, descr, tuple(members)))
                if self._log_only:
                    return node
                self._log = None
            try:
                ev = self.shared((self.ev("summary", node, f"{len(members)} alike {member_kind}: {descr}"),))
                self._includes(node, members, f"one of the {member_kind} of {account} ({descr})", ev)
            finally:
                self._log = logged
        return node

    def _includes(self, node: str, members: list[str], reason: str, evidence: tuple) -> None:
        """``node -includes-> m`` for each of ``members`` (nodes of the graph; ``node`` is new).

        The edges' attributes are equal, so they are one dict, shared by every edge of the summary
        (networkx would make one per edge: a sixth of a build's graph memory went to these copies).
        Edges are read, never changed, after the build (docs/architecture.md, "Shared attribute
        values")."""
        G = self.G
        if not members:
            return
        self.add_edge(node, members[0], EdgeKind.INCLUDES, reason=reason, evidence=evidence, shared=True)
        (key, attrs), = G._succ[node][members[0]].items()
        succ, pred = G._succ[node], G._pred
        for m in members[1:]:
            if m not in pred:  # not a node (never for resources and principals of the inventory)
                self.add_edge(node, m, EdgeKind.INCLUDES, reason=reason, evidence=evidence, shared=True)
                continue
            keydict = {key: attrs}
            succ[m] = keydict
            pred[m][node] = keydict

    def uniform_over(self, actor: Actor, action: str, resources: list[str], account: str) -> bool:
        """Do ``actor``'s policies match ``action`` on every one of ``resources`` in the same way?
        (The same resource-specific statements match each ARN.)"""
        rel = self._reads(actor, account, action)[0]
        if rel is None:
            return False
        if not rel:
            return True
        key = (rel, action, resources[0], resources[-1], len(resources))
        hit = self._uniform_cache.get(key)
        if hit is None:
            first = None
            hit = True
            for res in resources:
                sig = match_signature(rel, res)
                if first is None:
                    first = sig
                elif sig != first:
                    hit = False
                    break
            self._uniform_cache[key] = hit
        return hit

    def set_uniform(self, actor: Actor, pairs, members: list, account: str, policy_tags=frozenset()) -> bool:
        """Are ``actor``'s decisions for every (action, template) of ``pairs`` equal on each of
        ``members`` (resources or principals alike in everything but their ARN)? True when the
        same resource-specific statements match every member's ARN and the members agree on every
        tag those statements (or the members' common resource policy, ``policy_tags``) read."""
        for action, template in pairs:
            if not self.uniform_over(actor, action, [self.fill(template, m) for m in members], account):
                return False
            keys = self._reads(actor, account, action)[1]
            if keys is not None and policy_tags:
                keys = keys | policy_tags
            if keys == frozenset():
                continue
            first = project_tags(members[0].tags, keys)
            if any(project_tags(m.tags, keys) != first for m in members[1:]):
                return False
        return True

    # ------------------------------------------------------------------ data access
    def _access_edges(self, actors: Iterable[Actor] | None = None) -> None:
        """Data-access edges of ``actors`` (default: every actor)."""
        self._kms_keys = {r.arn: r for r in self.inv.resources if r.kind == "kms_key"}
        self._kms_by_id = {r.id: r for r in self._kms_keys.values() if r.id}
        for actor in self._actors_by_account(actors):
            memo: dict = {}
            keys = (actor.arn, f"account:{actor.account}", "*")
            for kind, edges in ACCESS.items():
                own = self.summaries.get((kind, actor.account), ())
                named = [rs for k in keys for rs in self.summaries_by_key.get((k, kind), ())]
                for edge_kind, pairs in edges.items():
                    ek = EdgeKind(edge_kind)
                    per_action = [(pair, self._candidates(actor, kind, pair[0])) for pair in pairs]
                    cands = set().union(*(c for _, c in per_action))
                    if not cands:
                        continue
                    done: set[int] = set()
                    for rs in (*own, *named):
                        if id(rs) in done:
                            continue
                        done.add(id(rs))
                        if not cands.isdisjoint(rs.arns):
                            self._set_edges(actor, rs, ek, pairs, cands, memo)
                            cands.difference_update(m.arn for m in rs.members)
                    for arn in sorted(cands):
                        r = self.resources[arn]
                        todo = tuple(pair for pair, c in per_action if arn in c)
                        self._access_edge(actor, r, ek, self._decisions(actor, r, todo, memo), memo)

    def _actors_by_account(self, actors: Iterable[Actor] | None = None, drop: bool = True) -> Iterator[Actor]:
        """``actors`` (default: all), one account after the other (accounts in order of first
        appearance, actors in inventory order within each), with the build-time caches dropped
        between two accounts.

        The caches are what an account's actors share (their policies' statements, the parts of
        the resource sets they read, their explanations); past its last actor an account's entries
        are dead weight, and on an organization they grew with every account built
        (docs/performance.md, session 6). Dropping them costs recomputing the few entries a later
        account shares (cross-account reads). ``drop=False``: just the order."""
        by_account: dict[str, list[Actor]] = {}
        for actor in self.actors.values() if actors is None else actors:
            by_account.setdefault(actor.account, []).append(actor)
        for i, actors in enumerate(by_account.values()):
            if i and drop:
                self._drop_build_caches()
            yield from actors

    def _build_caches(self) -> tuple[dict, ...]:
        return (self._label_cache, self._uniform_cache, self._hits_cache, self._hits_per_pattern, self._parts_cache,
                self._part_info, self._rels, self._reads_cache, self._interned, self._shared, self._conds,
                self._term_dicts, self._explained, self._ev_dicts, self._key_templates, self._attr_dicts)

    def _drop_build_caches(self) -> None:
        """Empty every build-time cache at once. Safe at any point between two actors: each is keyed
        by content, or by the ids of objects that outlive the build (resource sets, raw documents)
        or that another of these caches keeps alive (the ``_rels`` tuples, the label lists); all go
        together, so no id can outlive its entry and come back as a stale hit."""
        for cache in self._build_caches():
            cache.clear()
        self._reads_actor = None
        self.sensitivity.clear()

    def _set_edges(self, actor: Actor, rs: AlikeSet, ek: EdgeKind, pairs, cands: set, memo: dict) -> None:
        """Edges from ``actor`` to the members of ``rs``: the members are split into parts the
        actor's policies cannot tell apart (which resource-specific statements match the ARN,
        the values of the tags they read, the KMS key's answer); each part is decided once, on
        its first member, and a part of at least :data:`SUMMARY_MIN` members gets one edge to
        its summary node."""
        for part, subs in self.partition(actor, rs, ek, pairs, memo):
            if len(part) != len(rs.members) and cands.isdisjoint(self.part_info(part).arns):
                continue  # pruning: no Allow pattern reaches them and no policy names the actor
            results = self._decisions(actor, part[0], pairs, memo)
            if len(subs) == 1:
                gate = subs[0][1]
                if len(part) >= self.summary_min:
                    self._access_edge(actor, part[0], ek, results, memo, part=(rs, None, part), gate=gate)
                else:
                    for m in part:
                        self._access_edge(actor, m, ek, results, memo, gate=gate)
                continue
            # the KMS keys answer differently: each sub (members whose keys answer alike) of at least
            # SUMMARY_MIN members keeps a summary, named by its key when it is that key's whole group
            for sub, gate in subs:
                if len(sub) < self.summary_min:
                    for m in sub:
                        self._access_edge(actor, m, ek, results, memo, gate=gate)
                    continue
                ref = rs.key_of(self.part_info(sub).arn_list())
                self._access_edge(actor, sub[0], ek, results, memo, part=(rs, ref, sub), gate=gate)

    def partition(self, actor: Actor, rs: AlikeSet, ek: EdgeKind, pairs, memo) -> list[tuple[list, list]]:
        """``rs.members`` split by everything ``actor``'s decisions for ``pairs`` read besides the
        ARN itself (the statements matching it, the tags they read): ``[(part, subs)]``, where
        ``subs`` splits the part further by the answer of the KMS keys in front of the data
        (for reads of KMS-gated kinds; else one sub with ``_NO_GATE``): ``[(members, gate)]``."""
        labels: list[list] = []
        for action, template in pairs:
            rel, keys = self._reads(actor, rs.account, action)
            if rel is None:  # a policy variable in a Resource: every member on its own
                return [([m], [([m], _NO_GATE)]) for m in rs.members]
            if rel:
                labels.append(self._sig_labels(rs, rel, template))
            keys = None if keys is None or rs.policy_tags is None else keys | rs.policy_tags
            if keys != frozenset():
                labels.append(self._tag_labels(rs, keys))
        parts = self._parts_of(rs, labels)
        if not (ek == EdgeKind.READS and rs.kind in KMS_GATED_KINDS):
            return [(members, [(members, _NO_GATE)]) for members in parts]
        by_ref: dict = {}  # key ref -> (gate, what tells gates apart: decision and conditions)
        out = []
        for members in parts:
            sigs: dict = {}
            for ref, i in self.part_info(members).ref_runs():
                hit = by_ref.get(ref)
                if hit is None:
                    hit = by_ref[ref] = memo.get(("kms-sig", ref))
                    if hit is None:
                        g = self._gate_memo(actor, members[i], memo)
                        hit = by_ref[ref] = memo[("kms-sig", ref)] = (g, None if g is None else (g[0], repr(g[1])))
                sigs.setdefault(hit[1], hit[0])
            if len(sigs) == 1:  # every key in front of the part answers alike
                out.append((members, [(members, self._gate_over(next(iter(sigs.values())), members))]))
                continue
            subs: dict = {}
            for m in members:
                g, sig = by_ref[_get_path(m.attributes, KMS_GATED_KINDS[m.kind])]
                subs.setdefault(sig, (g, []))[1].append(m)
            out.append((members, [(sub, self._gate_over(gate, sub)) for gate, sub in subs.values()]))
        return out

    def _parts_of(self, rs: AlikeSet, labels: list[list]) -> list[list]:
        """``rs.members`` grouped by equal labels (one list per member each), in order of first
        appearance; cached per set and label lists (which are cached themselves), so actors that
        read a set alike share its parts and what is derived from them (:meth:`part_info`)."""
        key = (id(rs), *map(id, labels))
        hit = self._parts_cache.get(key)
        if hit is None:
            if labels:
                groups: dict[tuple, list] = {}
                for i, label in enumerate(zip(*labels, strict=True)):
                    groups.setdefault(label, []).append(rs.members[i])
                parts = list(groups.values())
            else:
                parts = [list(rs.members)]
            hit = self._parts_cache[key] = (labels, parts)  # the labels kept alive with their ids
            for part in parts:
                self._part_info[id(part)] = _Part(part)
        return hit[1]

    def part_info(self, members: list) -> _Part:
        """What is derived from a list of members: cached for the parts of :meth:`_parts_of`
        (kept alive by that cache, so the id is theirs), made afresh for any other list."""
        info = self._part_info.get(id(members))
        if info is None or info.members is not members:
            info = _Part(members)
        return info

    def _gate_over(self, gate, members: list):
        """The KMS gate of one member standing for ``members`` (its evidence names every key)."""
        if gate is None:
            return None
        refs = self.part_info(members).key_refs()
        if len(refs) <= 1:
            return gate
        return (gate[0], gate[1], self.shared((self.ev("key_policy", None, f"kms:Decrypt {gate[0]} on each of the "
                                                     f"{len(refs)} keys in front of these resources: "
                                                     f"{', '.join(refs[:5])}" + (" ..." if len(refs) > 5 else "")),)))

    def _sig_labels(self, rs: AlikeSet, rel: tuple, template: str) -> list:
        """Per member of ``rs``: which of the resource-specific statements ``rel`` (a tuple of
        :meth:`_reads`, one object per content) match its ARN."""
        key = (id(rs), id(rel), template)
        hit = self._label_cache.get(key)
        if hit is None:
            seen: dict = {}
            cols = [self._match_column(rs, pats, neg, template) for pats, neg in rel]
            hit = [seen.setdefault(sig, len(seen)) for sig in zip(*cols, strict=True)]
            self._label_cache[key] = hit
        return hit

    def _match_column(self, rs: AlikeSet, pats: tuple, neg: bool, template: str) -> tuple[bool, ...]:
        """Per member of ``rs``: does one statement's Resource (``pats``; NotResource when
        ``neg``) match its ARN filled into ``template``? Cached: statements recur across actors."""
        key = (id(rs), pats, neg, template)
        hit = self._label_cache.get(key)
        if hit is None:
            hit = self._label_cache[key] = tuple(any(match_wildcard(p, self.fill(template, m)) for p in pats) != neg
                                                 for m in rs.members)
        return hit

    def _tag_labels(self, rs: AlikeSet, keys: frozenset | None) -> list:
        """Per member of ``rs``: its values of the tag ``keys`` (None: all its tags)."""
        key = (id(rs), keys)
        hit = self._label_cache.get(key)
        if hit is None:
            seen: dict = {}
            hit = [seen.setdefault(project_tags(m.tags, keys), len(seen)) for m in rs.members]
            self._label_cache[key] = hit
        return hit

    def _decisions(self, actor, r: Resource, pairs, memo: dict) -> list:
        """[(action, Result)] for ``pairs`` on ``r``, up to the first allowed one."""
        out = []
        rpol = _OWN
        for action, template in pairs:
            resource = self.fill(template, r)
            key = self.memo_key(actor, action, r, resource)
            res = memo.get(key) if key is not None else None
            if res is None:
                if rpol is _OWN:
                    rpol = self._resource_policy(r)
                res = self.decide_unless_denied(actor, action, resource, resource_account=r.account,
                                                resource_policy=rpol, resource_tags=r.tags,
                                                doc=None if r.kind in _SNAPSHOT_KINDS else r.policy)
                if key is not None:
                    memo[key] = res
            out.append((action, res))
            if res.decision == Decision.ALLOWED:
                break  # one allowed action makes the edge
        return out

    def _access_edge(self, actor, r, edge_kind, results, memo, part=None, gate=_NO_GATE) -> None:
        # conditions and evidence are gathered as the shared tuples they come in
        allowed, conditional, conds, evidence = [], [], [], []
        for action, res in results:
            if res.decision == Decision.ALLOWED:
                allowed.append(action)
                evidence.append(self._evidence(res, "identity_policy"))
                break
            if res.decision == Decision.CONDITIONAL:
                conditional.append(action)
                conds.append(self.conditions_of(res))
                evidence.append(self._evidence(res, "identity_policy"))
        if not allowed and not conditional:
            return
        decision = "allowed" if allowed else "conditional"
        if edge_kind == EdgeKind.READS and r.kind in KMS_GATED_KINDS:
            if gate is _NO_GATE:
                gate = self._gate_memo(actor, r, memo)
            if gate is None:
                return
            gdecision, gconds, gev = gate
            if gdecision == "conditional":
                decision = "conditional"
                conds.append(gconds)
            evidence.append(gev)
        if decision == "allowed":
            conds = []
        target, what = r.arn, f"{r.kind} {r.name or r.arn}"
        if part is not None:
            rs, ref, members = part
            descr = rs.descr if ref is None else f"{rs.descr},key={ref}"
            info = self.part_info(members)
            if ref is None:
                descr = part_descr(descr, info, len(members) == len(rs.members))
            target = self.summary(r.account, r.kind, descr, info.arn_list())
            what = f"every one of {len(members)} alike {r.kind} of {r.account}"
            evidence.append(self.shared((self.ev("summary", target, f"decided once, on {r.arn}, for {len(members)} "
                                                 "resources that no policy tells apart"),)))
        # The reason leaves out the edge's source (every reader shows it beside the reason).
        self.add_edge(actor.node, target, edge_kind, decision=decision,
                      conditions=self.shared([x for p in conds for x in p], True), actions=allowed or conditional,
                      reason=f"{edge_kind.value} {what} ({', '.join(allowed or conditional)})",
                      evidence=self.shared([x for p in evidence for x in p], True), shared=True)

    def _gate_memo(self, actor, r, memo):
        gkey = ("kms-gate", _get_path(r.attributes, KMS_GATED_KINDS[r.kind]))
        if gkey in memo:
            return memo[gkey]
        gate = memo[gkey] = self._kms_gate(actor, r, self._kms_keys, self._kms_by_id, memo)
        return gate

    def _key_sig(self, actor, key: Resource) -> tuple | None:
        """What ``actor``'s ``kms:Decrypt`` on ``key`` reads besides the key's ARN, as a key under
        which keys alike share one engine answer (in the actor's memo): the key's account and manager,
        its key policy with the key's ARN as a placeholder (not shared when the policy names the key
        itself), which resource-specific statements of the actor's layers match the ARN, and the
        values of the tags those statements and the key policy condition on. None: decide alone.
        The alikeness rule of :meth:`memo_key` and the summaries', applied to keys."""
        hit = self._key_templates.get(key.arn)
        if hit is None:
            template = _policy_template(key.policy, key.arn) if key.policy is not None else b""
            if template is not False and _SELF in template:
                template = False
            tags = resource_tag_keys(key.policy) if key.policy is not None else frozenset()
            hit = self._key_templates[key.arn] = (template, tags)
        template, policy_tags = hit
        if template is False:
            return None
        rel, keys = self._reads(actor, key.account, "kms:Decrypt")
        if rel is None:
            return None
        keys = None if keys is None or policy_tags is None else keys | policy_tags
        return ("kms-alike", key.account, key.attributes.get("key_manager"), template,
                project_tags(key.tags, keys), match_signature(rel, key.arn))

    def _kms_gate(self, actor, r, kms_keys, kms_by_id, memo=None):
        """kms:Decrypt on the customer key protecting ``r``: None when denied, else (decision, conds, evidence)."""
        key_ref = _get_path(r.attributes, KMS_GATED_KINDS[r.kind])
        if not key_ref:
            return ("allowed", (), ())
        key = kms_keys.get(key_ref) or kms_by_id.get(key_ref.rsplit("/", 1)[-1])
        if key is None:
            if key_ref.startswith("arn:") and key_ref.split(":")[4] not in (actor.account, ""):
                return ("conditional", ({"key": "kms:Decrypt", "detail": f"key {key_ref} was not collected"},),
                        self.shared((self.ev("key_policy", key_ref, "KMS key not in the inventory: decrypt unknown"),)))
            return ("allowed", (), self.shared((self.ev("key_policy", key_ref,
                                                        "AWS-managed or uncollected same-account key"),)))
        if key.attributes.get("key_manager") == "AWS" and key.account != actor.account:
            return None  # AWS-managed keys cannot be used from another account
        sig = self._key_sig(actor, key) if memo is not None and self.share_key_gates else None
        hit = memo.get(sig) if sig is not None else None
        if hit is None:
            kpol = self.parse(key.policy, f"{key.arn} key policy", kind="resource") if key.policy else None
            res = self.decide_unless_denied(actor, "kms:Decrypt", key.arn, resource_account=key.account,
                                            resource_policy=kpol, resource_tags=key.tags, doc=key.policy,
                                            required=True)
            if sig is not None:
                memo[sig] = (res, key.arn)
        else:
            res, decided_on = hit
        terms = () if res.decision == Decision.DENIED else res.conditions
        if hit is not None and terms:  # the key policy's terms name their policy by its key: this key's
            was, now = f"{decided_on} key policy", f"{key.arn} key policy"
            terms = tuple(ConditionTerm(t.effect, t.operator, t.key, t.values, now, t.sid, t.negated)
                          if t.source == was else t for t in terms)
        if res.decision == Decision.DENIED:
            for grant in key.attributes.get("grants") or ():
                if grant.get("grantee_principal") in (actor.arn,) and "Decrypt" in (grant.get("operations") or ()):
                    return ("allowed", (), self.shared((self.ev("kms_grant", key.arn, f"grant {grant.get('grant_id')}"),)))
            return None
        ev = self.ev("key_policy", key.arn, f"kms:Decrypt {res.decision.value} on the key protecting the data")
        return (res.decision.value, self.conditions_of_terms(terms), self.shared((ev,)))

    # ------------------------------------------------------------------ escalation
    def _escalation_edges(self) -> None:
        from iamreach.graph import escalation

        escalation.add_escalation_edges(self, ESCALATION_METHODS)

    # ------------------------------------------------------------------ fan-out
    def _decided_edges(self) -> None:
        """The access and escalation edges, the bulk of a build: in this process, or with runs of
        actors decided in forked ones (:mod:`iamreach.graph.fanout`); the graph is the same."""
        from iamreach.graph import escalation

        jobs = self.fanout["jobs"]
        if jobs < 2:
            self._access_edges()
            self._escalation_edges()
            return
        runs = _runs(list(self._actors_by_account(None, drop=False)), jobs)
        self._fan_out(runs, self._access_edges)
        esc_runs = [[a for a in run if a.kind in ("user", "role")] for run in runs]
        escalation.add_escalation_edges(self, ESCALATION_METHODS,
                                        runner=lambda work, insert: self._fan_out(esc_runs, work, insert=insert))

    def _fan_out(self, runs: list[list], work, *, insert: bool = False) -> None:
        """``work(run)`` for each run (of actors, or of roles' trust pools), the first here and each other in a forked child
        whose log is then replayed here, in run order (a child that fails: its run is done here).
        ``insert``: the children add their edges to their own graph too (``work`` reads them)."""
        children: list[fanout.Child | None] = []
        try:
            for run in runs[1:]:
                children.append(fanout.spawn(functools.partial(self._in_child, work, run, insert)))
            t0 = time.monotonic()
            work(runs[0])
            deadline = time.monotonic() + max(self.patience_min, 4 * (time.monotonic() - t0))
        except BaseException:
            fanout.stop(children)
            raise
        own = time.monotonic() - t0
        wait = replay = 0.0
        try:
            for i, (run, child) in enumerate(zip(runs[1:], children, strict=True)):
                t1 = time.monotonic()
                answer = fanout.collect(child, deadline) if child is not None else None
                children[i] = None
                t2 = time.monotonic()
                wait += t2 - t1
                if answer is None:
                    self.fanout["recomputed"] += 1
                    work(run)
                else:
                    self._replay(*answer)
                replay += time.monotonic() - t2
        except BaseException:  # interrupted: no child is left working for nobody
            fanout.stop(children)
            raise
        self.fanout.setdefault("phases", []).append({"own_s": round(own, 3), "wait_s": round(wait, 3),
                                                     "replay_s": round(replay, 3)})

    def _in_child(self, work, run: list, insert: bool) -> tuple[list, int]:
        """In a forked child: ``work(run)``, returning (the log of its graph changes, its engine calls)."""
        self._log, self._log_only = [], not insert
        before = self.evaluations
        work(run)
        return self._log, self.evaluations - before

    def _replay(self, logged: list, evaluations: int) -> None:
        """Make the graph changes a child logged (:meth:`_in_child`), in its order. Names arrive as
        copies: each is swapped for the graph's own string, so the graph holds one per node."""
        nodes = self.G._node
        canon = {n: n for n in nodes}
        for event in logged:
            tag = event[0]
            if tag == "e":
                _t, u, v, kind, decision, conds, actions, ports, method, reason, evidence = event
                self.add_edge(canon.get(u, u), canon.get(v, v), kind, decision=decision, conditions=conds,
                              actions=actions, ports=ports, method=method, reason=reason, evidence=evidence,
                              shared=True)
            elif tag == "n":
                _t, node, attrs = event
                if node not in nodes:
                    self.G.add_node(node, **attrs)
                canon.setdefault(node, node)
            elif tag == "s":
                _t, account, member_kind, descr, members = event
                node = self.summary(account, member_kind, descr, [canon.get(m, m) for m in members])
                canon.setdefault(node, node)
            else:  # "p": a policy that did not parse, reported once as the first parse reports it
                _t, key, gap = event
                if key not in self.policy_cache:
                    self.policy_cache[key] = False
                    self.G.graph["gaps"].append(gap)
        self.evaluations += evaluations

    # ------------------------------------------------------------------ exposure
    def _exposure_edges(self) -> None:
        anon = Actor(node=ANONYMOUS, arn="anonymous", account="", kind="anonymous", context={},
                     allows=AllowPatterns([]))
        acct_bpa = {a.id: a.s3_public_access_block for a in self.inv.accounts}
        for r in self.inv.resources:
            if r.kind == "s3_bucket":
                bpa = _merge_bpa(r.attributes.get("public_access_block"), acct_bpa.get(r.account))
                self._bucket_exposure(anon, r, bpa)
            elif r.kind in _DB_KINDS and r.attributes.get("publicly_accessible"):
                network.add_internet_exposure(self, r)
            elif r.kind in _SNAPSHOT_KINDS and "all" in (r.attributes.get("shared_accounts") or ()):
                self.add_edge(INTERNET, r.arn, EdgeKind.EXPOSES, actions=[a for a, _ in ACCESS[r.kind]["reads"]],
                              reason="snapshot is public: any AWS account can restore it",
                              evidence=[self.ev("snapshot_attribute", r.arn, "shared with 'all'")])

    def _bucket_exposure(self, anon: Actor, r: Resource, bpa: dict) -> None:
        actions, ev = [], []
        if r.policy and not bpa.get("RestrictPublicBuckets"):
            pol = self._resource_policy(r)
            for action, template in (*ACCESS["s3_bucket"]["reads"], *ACCESS["s3_bucket"]["writes"]):
                res = evaluate(Request(principal="anonymous", action=action, resource=self.fill(template, r),
                                       resource_account=r.account, context={}, unknown_keys="unknown",
                                       known_keys=frozenset()),
                               resource_policy=pol, rcps=self._rcp_levels.get(r.account, ()))
                self.evaluations += 1
                if res.decision != Decision.DENIED:
                    actions.append(action)
                    ev.extend(self._evidence(res, "resource_policy"))
        if not bpa.get("IgnorePublicAcls"):
            for g in r.attributes.get("acl_grants") or ():
                uri = str(g.get("grantee") or "")
                if uri.endswith("/global/AllUsers") or uri.endswith("/global/AuthenticatedUsers"):
                    perm = g.get("permission")
                    if perm in ("READ", "FULL_CONTROL"):
                        actions.append("s3:ListBucket (ACL)")
                    if perm in ("WRITE", "FULL_CONTROL"):
                        actions.append("s3:PutObject (ACL)")
                    ev.append(self.ev("acl", r.arn, f"ACL grants {perm} to {uri}"))
        if actions:
            self.add_edge(INTERNET, r.arn, EdgeKind.EXPOSES, actions=sorted(set(actions)),
                          reason=f"bucket {r.name} is open to anyone", evidence=_dedup(ev))


#: Keys whose value the snapshot fixes for every request it analyses: present in the context
#: when the principal/resource has them, known to be absent otherwise.
_FIXED_KNOWN = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
    "aws:principaltype", "aws:principalisawsservice", "aws:username", "aws:userid",
    "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths",
})


def _referenced_tag_keys(inv: Inventory) -> frozenset[str]:
    """``aws:PrincipalTag/K`` and ``aws:ResourceTag/K`` keys any collected policy mentions.

    The snapshot holds every principal's and resource's tags, so these keys are known: present
    when the tag is set, absent otherwise (never unknown). Role-session tags passed at
    AssumeRole time are not modelled: a role's own tags stand for its sessions' tags.
    """
    import re

    import orjson

    pat = re.compile(rb"aws:(?:principal|resource)tag/[^\"\s,}]+", re.I)
    docs = [p.document for p in inv.policies] + [p.document for p in inv.org_policies]
    for p in inv.principals:
        docs += list(p.inline_policies.values())
        if p.trust_policy:
            docs.append(p.trust_policy)
    docs += [r.policy for r in inv.resources if r.policy]
    found = set()
    for d in docs:
        for m in pat.findall(orjson.dumps(d)):
            found.add(m.decode().lower())
    return frozenset(found)


@dataclass(slots=True, eq=False)
class AlikeSet:
    """Resources alike in everything a decision reads but their ARN (see _resource_summaries)."""

    account: str
    kind: str
    descr: str
    members: list
    policy_tags: frozenset | None
    arns: frozenset = frozenset()
    _by_key_group: dict | None = None

    def __post_init__(self):
        self.arns = frozenset(m.arn for m in self.members)

    def key_of(self, arns: tuple[str, ...]) -> str | None:
        """The KMS key ref when ``arns`` are exactly the members behind one key (members are
        sorted by key ref), else None."""
        if self._by_key_group is None:
            groups: list[tuple[str, list]] = []
            for m in self.members:
                ref = str(_get_path(m.attributes, KMS_GATED_KINDS[m.kind]) or "")
                if groups and groups[-1][0] == ref:
                    groups[-1][1].append(m.arn)
                else:
                    groups.append((ref, [m.arn]))
            self._by_key_group = {tuple(group): ref for ref, group in groups if ref}
        return self._by_key_group.get(arns)


class _Part:
    """A part of a set of alike members, and what is derived from its member list once."""

    __slots__ = ("members", "_arns", "_arn_list", "_runs", "_refs", "_hash")

    def __init__(self, members: list):
        self.members = members
        self._arns: frozenset | None = None
        self._arn_list: tuple | None = None
        self._runs: list | None = None
        self._refs: list | None = None
        self._hash: str | None = None

    @property
    def arns(self) -> frozenset[str]:
        if self._arns is None:
            self._arns = frozenset(self.arn_list())
        return self._arns

    def arn_list(self) -> tuple[str, ...]:
        if self._arn_list is None:
            self._arn_list = tuple(m.arn for m in self.members)
        return self._arn_list

    def ref_runs(self) -> list[tuple]:
        """``[(KMS key ref, index of its first member)]`` per run of members behind one key ref."""
        if self._runs is None:
            runs: list[tuple] = []
            for i, m in enumerate(self.members):
                ref = _get_path(m.attributes, KMS_GATED_KINDS[m.kind])
                if not runs or runs[-1][0] != ref:
                    runs.append((ref, i))
            self._runs = runs
        return self._runs

    def key_refs(self) -> list[str]:
        """The distinct KMS key refs in front of the members, sorted."""
        if self._refs is None:
            self._refs = sorted({str(_get_path(m.attributes, KMS_GATED_KINDS[m.kind]) or "")
                                 for m in self.members} - {""})
        return self._refs

    def digest(self) -> str:
        """A short hash of the member ARNs (names a part cut out of its set)."""
        if self._hash is None:
            self._hash = hashlib.blake2b("\n".join(self.arn_list()).encode(), digest_size=5).hexdigest()
        return self._hash


def _policy_template(doc, arn: str) -> bytes | bool:
    """The canonical text of a resource policy with its resource's ARN as a placeholder; False
    when a Resource / NotResource names anything but ``*`` or that ARN (and its sub-resources)."""
    import orjson

    stmts = doc.get("Statement") if isinstance(doc, dict) else None
    for st in stmts if isinstance(stmts, list) else [stmts]:
        if not isinstance(st, dict):
            return False
        for field_name in ("Resource", "NotResource"):
            vals = st.get(field_name)
            for v in vals if isinstance(vals, list) else ([] if vals is None else [vals]):
                v = str(v)
                if v != "*" and v != arn and not v.startswith(arn + "/"):
                    return False
    text = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return text.replace(arn.encode(), _SELF)


def template_descr(prefix: str, template: bytes) -> str:
    """A short, stable name for the policy template ``template`` (:func:`_policy_template`)."""
    return prefix + hashlib.blake2b(template, digest_size=5).hexdigest()


def part_descr(descr: str, part: _Part | list, whole: bool) -> str:
    """The summary descriptor of ``part`` of a set described by ``descr``: a part the actor's
    statements cut out of the set is named by its members, so actors with the same statements
    share its summary."""
    if whole:
        return descr
    return descr + "#" + (part.digest() if isinstance(part, _Part) else _Part(part).digest())


def _merge_bpa(bucket: dict | None, account: dict | None) -> dict:
    out = {}
    for src in (bucket or {}, account or {}):
        for k, v in src.items():
            out[k] = bool(out.get(k)) or bool(v)
    return out


def _runs(items: list, n: int, weight=None) -> list[list]:
    """``items`` cut into at most ``n`` contiguous runs of about equal total ``weight`` (default 1 each).

    >>> _runs(list(range(7)), 3)
    [[0, 1], [2, 3, 4], [5, 6]]
    >>> _runs(["a", "bbbbbb", "c", "d"], 2, len)
    [['a', 'bbbbbb'], ['c', 'd']]
    """
    weights = [1 if weight is None else max(1, weight(x)) for x in items]
    total = sum(weights)
    runs: list[list] = [[]]
    done = 0
    for x, w in zip(items, weights, strict=True):
        if runs[-1] and len(runs) < n and done + w / 2 > total * len(runs) / n:
            runs.append([])
        runs[-1].append(x)
        done += w
    return runs


_EVERY = object()  # every account's organization-shared resources (_universe), and its cache keys
_ADMITTING = object()  # tags the cache keys of _admitting apart from the others


def _could_match(pattern: str, arn: str) -> bool:
    """Could an identity-policy Resource pattern reach ``arn`` or a sub-resource of it (objects,
    ``dbuser:`` ARNs)? Pruning only: errs towards True."""
    if match_wildcard(pattern, arn) or match_wildcard(pattern, arn + "/*"):
        return True
    if pattern.startswith(arn + "/") or pattern.startswith("arn:aws:rds-db:"):
        return True
    return False


def _dedup(items: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for it in items:
        try:
            key = tuple(it.items()) if isinstance(it, dict) else it
            hash(key)
        except TypeError:  # an unhashable value (a list): compare by text
            key = repr(sorted(it.items())) if isinstance(it, dict) else repr(it)
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out
