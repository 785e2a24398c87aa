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

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from iamreach.config import Config
from iamreach.graph import network
from iamreach.graph.candidates import (
    ANY_RESOURCE,
    AllowPatterns,
    ResourcePolicyIndex,
    ResourceSensitivity,
    principal_keys_of_policy,
)
from iamreach.graph.policy import Decision, PolicyError, Request, evaluate, match_wildcard, parse_policy
from iamreach.graph.tables import ACCESS, ESCALATION_METHODS, KMS_GATED_KINDS
from iamreach.inventory import Inventory, Principal, Resource
from iamreach.model import (
    ANONYMOUS,
    COMPUTE_KINDS,
    INTERNET,
    EdgeKind,
    NodeKind,
    account_node,
    account_principals_node,
    service_node,
)

__all__ = ["build_graph", "Actor"]

log = logging.getLogger(__name__)

_ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Sid": "AccountAdministrator", "Effect": "Allow",
                                                      "Action": "*", "Resource": "*"}]}
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


def build_graph(inv: Inventory, config: Config | None = None) -> nx.MultiDiGraph:
    """Build the reachability graph of an inventory.

    Parameters
    ----------
    inv : Inventory
        The normalized inventory (from any loader or a snapshot).
    config : Config, optional
        Labels and rules; :meth:`Config.default` when omitted.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by ARN (or the documented non-ARN ids); ``G.graph`` holds ``inventory``,
        ``config``, ``gaps`` and ``accounts``.
    """
    return _Builder(inv, config or Config.default()).build()


def _ev(type_: str, ref: str | None, detail: str, sid: str | None = None, index: int | None = None) -> dict:
    return {"type": type_, "ref": ref, "sid": sid, "index": index, "detail": detail}


def _get_path(d: dict, path: tuple[str, ...]):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


class _Builder:
    def __init__(self, inv: Inventory, config: Config):
        self.inv = inv
        self.config = config
        self.G = nx.MultiDiGraph()
        self.policy_cache: dict[tuple[str, int], Any] = {}
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
        self._resource_tag_keys = {k.split("/", 1)[1] for k in self.known_keys if k.startswith("aws:resourcetag/")}

    # ------------------------------------------------------------------ helpers
    def parse(self, doc: Any, source: str, kind: str = "identity"):
        key = (source, id(doc))
        cached = self.policy_cache.get(key)
        if cached is None:
            try:
                cached = parse_policy(doc, source=source, kind=kind)
            except PolicyError as exc:
                # A document AWS accepted but we cannot parse: record it; never treat as "no access".
                self.inv_gap("iam", "parse-policy", "PolicyParseError", source, str(exc))
                cached = False
            self.policy_cache[key] = cached
        return cached or None

    def inv_gap(self, service: str, api: str, code: str, resource: str | None, message: str) -> None:
        self.G.graph["gaps"].append({"account": None, "region": None, "service": service, "api": api,
                                     "error_code": code, "message": message, "resource": resource})

    def add_edge(self, u: str, v: str, kind: EdgeKind, *, decision: str = "allowed", conditions=(),
                 actions=(), ports=(), method=None, reason: str = "", evidence=()) -> None:
        self.G.add_edge(u, v, key=f"{kind.value}:{method or ''}", kind=kind.value, decision=decision,
                        conditions=tuple(conditions), actions=tuple(actions), ports=tuple(ports), method=method,
                        reason=reason, evidence=tuple(evidence))

    # ------------------------------------------------------------------ build
    def build(self) -> nx.MultiDiGraph:
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
        self._add_nodes()
        self._apply_labels()
        self._structural_edges()
        self._make_actors()
        self._index_resource_policies()
        self._assume_edges()
        self._access_edges()
        self._escalation_edges()
        network.add_network_edges(self)
        self._exposure_edges()
        G.graph["stats"] = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                            "evaluations": self.evaluations}
        G.graph["authorizer"] = self
        return G

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
                                      evidence=[_ev("attribute", p.arn, "GroupList")])
        for ip in self.inv.instance_profiles:
            for role in ip.role_arns:
                if role in G:
                    self.add_edge(ip.arn, role, EdgeKind.RUNS_AS, reason=f"instance profile {ip.name} holds role",
                                  evidence=[_ev("attribute", ip.arn, "InstanceProfile.Roles")])
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
                                  evidence=[_ev("attribute", r.arn, f"source {src}")])
                for acct in a.get("shared_accounts") or ():
                    target = ANONYMOUS if acct == "all" else account_principals_node(acct)
                    if target not in G:
                        G.add_node(target, kind=NodeKind.ACCOUNT_PRINCIPALS.value, account=acct, region=None,
                                   name=f"principals of {acct}", tags={}, labels=(), vpc=None, subnets=(),
                                   record=None)
                    self.add_edge(r.arn, target, EdgeKind.SHARED_WITH,
                                  reason=f"snapshot shared with {'everyone (public)' if acct == 'all' else acct}",
                                  evidence=[_ev("snapshot_attribute", r.arn,
                                                "restore" if r.kind != "ebs_snapshot" else "createVolumePermission")])
            elif r.kind == "secret":
                for db in a.get("unlocks") or ():
                    if db in G:
                        self.add_edge(r.arn, db, EdgeKind.UNLOCKS, reason="secret holds this database's credentials",
                                      evidence=[_ev("attribute", r.arn, "unlocks (tags/name)")])

    def _runs_as(self, r: Resource, target: str, field_name: str) -> None:
        if target not in self.G:
            # referenced role/profile not in the inventory (other account or a gap): keep the hop visible
            kind = NodeKind.INSTANCE_PROFILE.value if ":instance-profile/" in target else NodeKind.ROLE.value
            self.G.add_node(target, kind=kind, account=(target.split(":")[4] or None) if target.count(":") >= 5 else None, region=None,
                            name=target.rsplit("/", 1)[-1], tags={}, labels=(), vpc=None, subnets=(), record=None)
        self.add_edge(r.arn, target, EdgeKind.RUNS_AS, reason=f"{r.kind} {r.name or r.id} runs as {target}",
                      evidence=[_ev("attribute", r.arn, field_name)])

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

    def _make_actors(self) -> None:
        for p in self.inv.principals:
            if p.kind not in ("user", "role"):
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
                allows=AllowPatterns.from_documents(docs), policy_arns=tuple(arns), groups=groups,
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
        ctx = dict(actor.context)
        if resource_account:
            ctx["aws:ResourceAccount"] = resource_account
            if self.org_id and resource_account in self.accounts:
                ctx["aws:ResourceOrgID"] = self.org_id
        for k, v in (resource_tags or {}).items():
            ctx[f"aws:ResourceTag/{k}"] = v
        if extra:
            ctx.update(extra)
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

    @staticmethod
    def _evidence(result, layer_default: str) -> list[dict]:
        ev = []
        for line in result.explanation:
            layer = line.split(":", 1)[0].strip().replace(" ", "_") if ":" in line else layer_default
            ev.append(_ev(layer, None, line))
        return ev

    # ------------------------------------------------------------------ resource policy index
    def _resource_policy(self, r: Resource):
        if r.kind in _SNAPSHOT_KINDS:
            return self._snapshot_policy(r)
        if r.policy is None:
            return None
        return self.parse(r.policy, f"{r.arn} resource policy", kind="resource")

    def _snapshot_policy(self, r: Resource):
        shared = r.attributes.get("shared_accounts") or []
        if not shared:
            return None
        principals = "*" if "all" in shared else {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(shared)]}
        actions = [a for a, _ in ACCESS[r.kind]["reads"]]
        doc = {"Version": "2012-10-17", "Statement": [{"Sid": "SharedSnapshotAttribute", "Effect": "Allow",
                                                       "Principal": principals, "Action": actions, "Resource": "*"}]}
        return self.parse(doc, f"{r.arn} shared-snapshot attribute", kind="resource")

    def _index_resource_policies(self) -> None:
        for r in self.inv.resources:
            if r.kind in ACCESS:
                shared = r.attributes.get("shared_accounts") or []
                keys = ({"*"} if "all" in shared else {f"account:{a}" for a in shared}) if shared else ()
                if r.policy is not None or keys:
                    self.rp_index.add(r.arn, r.kind, r.policy, keys)

    # ------------------------------------------------------------------ can_assume
    def _assume_edges(self) -> None:
        G = self.G
        by_account: dict[str, list[Actor]] = defaultdict(list)
        for a in self.actors.values():
            by_account[a.account].append(a)
        for role in self.inv.principals:
            if role.kind != "role" or not role.trust_policy:
                continue
            trust = self.parse(role.trust_policy, f"{role.arn} trust policy", kind="trust")
            if trust is None:
                continue
            keys = principal_keys_of_policy(role.trust_policy)
            candidates: dict[str, Actor] = {}
            for key in keys:
                if key == "*":
                    for a in self.actors.values():
                        candidates[a.node] = a
                elif key.startswith("account:"):
                    # delegation to the account: only principals with an identity allow can use it
                    for a in by_account.get(key[8:], ()):
                        if a.allows.may_allow("sts:AssumeRole"):
                            candidates[a.node] = a
                elif key.startswith("service:"):
                    svc = key[8:]
                    node = service_node(svc)
                    if node not in G:
                        G.add_node(node, kind=NodeKind.SERVICE_PRINCIPAL.value, account=None, region=None,
                                   name=svc, tags={}, labels=(), vpc=None, subnets=(), record=None)
                    self.add_edge(node, role.arn, EdgeKind.CAN_ASSUME, reason=f"trust policy trusts {svc}",
                                  actions=["sts:AssumeRole"],
                                  evidence=[_ev("trust_policy", role.arn, f"Principal Service {svc}")])
                elif key.startswith("federated:"):
                    fed = key[10:]
                    node = f"federated:{fed}"
                    if node not in G:
                        G.add_node(node, kind=NodeKind.SERVICE_PRINCIPAL.value, account=None, region=None,
                                   name=fed, tags={}, labels=(), vpc=None, subnets=(), record=None)
                    self.add_edge(node, role.arn, EdgeKind.CAN_ASSUME, decision="conditional",
                                  conditions=[{"key": "federation", "detail": "holders of a federated identity"}],
                                  actions=["sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
                                  reason=f"trust policy trusts federated provider {fed}",
                                  evidence=[_ev("trust_policy", role.arn, f"Principal Federated {fed}")])
                elif key in self.actors:
                    candidates[key] = self.actors[key]
            for actor in candidates.values():
                # (self-assumption is allowed only when the trust names the role: the engine decides)
                if not actor.allows.may_allow("sts:AssumeRole") and actor.account != role.account:
                    continue  # cross-account needs an identity allow
                if not self.actor_may(actor, "sts:AssumeRole"):
                    continue
                res = self.decide(actor, "sts:AssumeRole", role.arn, resource_account=role.account,
                                  resource_policy=trust, resource_tags=role.tags)
                if res.decision == Decision.DENIED:
                    continue
                self.add_edge(actor.node, role.arn, EdgeKind.CAN_ASSUME, decision=res.decision.value,
                              conditions=[dict(c) for c in res.conditions], actions=["sts:AssumeRole"],
                              reason=f"{actor.node} can assume {role.name}",
                              evidence=[_ev("trust_policy", role.arn, "trust policy allows the caller"),
                                        *self._evidence(res, "identity_policy")])

    # ------------------------------------------------------------------ data access
    def _candidates(self, actor: Actor, kind: str, action: str) -> set[str]:
        out: set[str] = set()
        if not self.actor_may(actor, action):
            return out
        pats = actor.allows.resource_patterns(action)
        if pats:
            same = self.by_kind_account.get((kind, actor.account), ())
            if ANY_RESOURCE in pats:
                out.update(r.arn for r in same)
            else:
                for r in same:
                    arn = r.arn
                    if any(_could_match(p, arn) for p in pats):
                        out.add(arn)
        out |= self.rp_index.lookup((actor.arn, f"account:{actor.account}", "*"), kind)
        return out

    def _fill(self, template: str, r: Resource) -> str:
        return template.format(arn=r.arn, region=r.region or "*", account=r.account,
                               resource_id=r.attributes.get("resource_id") or "*", name=r.name or "")

    def actor_may(self, actor: Actor, action: str) -> bool:
        """False when the actor's SCPs cannot allow ``action`` at all (the management account and
        service-linked roles are exempt from SCPs)."""
        if actor.is_management or actor.is_service_linked or not actor.scps:
            return True
        return self.org_may_allow(actor.account, action)

    def uniform(self, actor: Actor, action: str, account: str) -> bool:
        """Is ``action`` decided alike for every policy-less, untagged resource of ``account``?"""
        docs = (*actor.raw_docs, *self._org_raw_docs.get("RCP", {}).get(account, ()))
        return self.sensitivity.uniform(docs, action)

    def memo_key(self, actor: Actor, action: str, r: Resource, resource: str) -> tuple | None:
        """A key under which the decision for (actor, action, ``r``) can be shared with other
        plain resources of the same account (None: evaluate this one on its own)."""
        if not self.plain(r):
            return None
        docs = (*actor.raw_docs, *self._org_raw_docs.get("RCP", {}).get(r.account, ()))
        sig = self.sensitivity.signature(docs, action, resource)
        return None if sig is None else (action, r.account, r.kind, sig)

    def plain(self, r: Resource) -> bool:
        """A resource whose decisions depend only on its ARN: no resource policy, no sharing,
        no tag a policy conditions on."""
        if r.policy is not None or r.attributes.get("shared_accounts"):
            return False
        return not (self._resource_tag_keys and any(k.lower() in self._resource_tag_keys for k in r.tags))

    def _access_edges(self) -> None:
        kms_keys = {r.arn: r for r in self.inv.resources if r.kind == "kms_key"}
        kms_by_id = {r.id: r for r in kms_keys.values() if r.id}
        for actor in self.actors.values():
            memo: dict = {}
            for kind, edges in ACCESS.items():
                for edge_kind, pairs in edges.items():
                    per_action = [(pair, self._candidates(actor, kind, pair[0])) for pair in pairs]
                    cands = set().union(*(c for _, c in per_action))
                    for arn in sorted(cands):
                        r = self.resources[arn]
                        todo = tuple(pair for pair, c in per_action if arn in c)
                        self._access_edge(actor, r, EdgeKind(edge_kind), todo, kms_keys, kms_by_id, memo)

    def _access_edge(self, actor, r, edge_kind, pairs, kms_keys, kms_by_id, memo) -> None:
        rpol = self._resource_policy(r)
        allowed, conditional, conds, evidence = [], [], [], []
        for action, template in pairs:
            resource = self._fill(template, r)
            key = self.memo_key(actor, action, r, resource)
            res = memo.get(key) if key is not None else None
            if res is None:
                res = self.decide(actor, action, resource, resource_account=r.account,
                                  resource_policy=rpol, resource_tags=r.tags)
                if key is not None:
                    memo[key] = res
            if res.decision == Decision.ALLOWED:
                allowed.append(action)
                evidence.extend(self._evidence(res, "identity_policy"))
                break  # one allowed action makes the edge
            if res.decision == Decision.CONDITIONAL:
                conditional.append(action)
                conds.extend(dict(c) for c in res.conditions)
                evidence.extend(self._evidence(res, "identity_policy"))
        if not allowed and not conditional:
            return
        decision = "allowed" if allowed else "conditional"
        if edge_kind == EdgeKind.READS and r.kind in KMS_GATED_KINDS:
            gkey = ("kms-gate", _get_path(r.attributes, KMS_GATED_KINDS[r.kind]))
            if gkey in memo:
                gate = memo[gkey]
            else:
                gate = memo[gkey] = self._kms_gate(actor, r, kms_keys, kms_by_id)
            if gate is None:
                return
            gdecision, gconds, gev = gate
            if gdecision == "conditional":
                decision = "conditional"
                conds.extend(gconds)
            evidence.extend(gev)
        if decision == "allowed":
            conds = []
        self.add_edge(actor.node, r.arn, edge_kind, decision=decision, conditions=_dedup(conds),
                      actions=allowed or conditional,
                      reason=f"{actor.node} {edge_kind.value} {r.kind} {r.name or r.arn} ({', '.join(allowed or conditional)})",
                      evidence=_dedup(evidence))

    def _kms_gate(self, actor, r, kms_keys, kms_by_id):
        """kms:Decrypt on the customer key protecting ``r``: None when denied, else (decision, conds, evidence)."""
        key_ref = _get_path(r.attributes, KMS_GATED_KINDS[r.kind])
        if not key_ref:
            return ("allowed", [], [])
        key = kms_keys.get(key_ref) or kms_by_id.get(key_ref.rsplit("/", 1)[-1])
        if key is None:
            if key_ref.startswith("arn:") and key_ref.split(":")[4] not in (actor.account, ""):
                return ("conditional", [{"key": "kms:Decrypt", "detail": f"key {key_ref} was not collected"}],
                        [_ev("key_policy", key_ref, "KMS key not in the inventory: decrypt unknown")])
            return ("allowed", [], [_ev("key_policy", key_ref, "AWS-managed or uncollected same-account key")])
        if key.attributes.get("key_manager") == "AWS" and key.account != actor.account:
            return None  # AWS-managed keys cannot be used from another account
        kpol = self.parse(key.policy, f"{key.arn} key policy", kind="resource") if key.policy else None
        res = self.decide(actor, "kms:Decrypt", key.arn, resource_account=key.account, resource_policy=kpol,
                          resource_tags=key.tags)
        if res.decision == Decision.DENIED:
            for grant in key.attributes.get("grants") or ():
                if grant.get("grantee_principal") in (actor.arn,) and "Decrypt" in (grant.get("operations") or ()):
                    return ("allowed", [], [_ev("kms_grant", key.arn, f"grant {grant.get('grant_id')}")])
            return None
        ev = [_ev("key_policy", key.arn, f"kms:Decrypt {res.decision.value} on the key protecting the data")]
        return (res.decision.value, [dict(c) for c in res.conditions], ev)

    # ------------------------------------------------------------------ escalation
    def _escalation_edges(self) -> None:
        from iamreach.graph import escalation

        escalation.add_escalation_edges(self, ESCALATION_METHODS)

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
                              evidence=[_ev("snapshot_attribute", r.arn, "shared with 'all'")])

    def _bucket_exposure(self, anon: Actor, r: Resource, bpa: dict) -> None:
        actions, ev = [], []
        if r.policy and not bpa.get("RestrictPublicBuckets"):
            pol = self._resource_policy(r)
            for action, template in (*ACCESS["s3_bucket"]["reads"], *ACCESS["s3_bucket"]["writes"]):
                res = evaluate(Request(principal="anonymous", action=action, resource=self._fill(template, r),
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
                    ev.append(_ev("acl", r.arn, f"ACL grants {perm} to {uri}"))
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


def _merge_bpa(bucket: dict | None, account: dict | None) -> dict:
    out = {}
    for src in (bucket or {}, account or {}):
        for k, v in src.items():
            out[k] = bool(out.get(k)) or bool(v)
    return out


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
        key = repr(sorted(it.items())) if isinstance(it, dict) else repr(it)
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out
