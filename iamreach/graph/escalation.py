"""Privilege-escalation edges, driven by the method table in :mod:`iamreach.graph.tables`.

Each method is interpreted by its category (see :class:`~iamreach.graph.tables.EscalationMethod`);
every action it needs is decided by the policy engine for the acting principal, with the exact
resource the action applies to (the passed role, the workload, the user, the policy). Edges are
``escalates_to`` with ``method`` set; targets are the principal taken over, or the account's
administrator node (``arn:aws:iam::<id>:root``) for methods that let the actor grant itself
anything.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict

from iamreach.graph.builder import AlikeSet, _policy_template, part_descr, template_descr
from iamreach.graph.candidates import (
    AllowPatterns,
    match_signature,
    principal_keys_of_policy,
    resource_tag_keys,
)
from iamreach.graph.policy import Decision, default_catalog
from iamreach.graph.tables import PROBE_RESOURCE, EscalationMethod
from iamreach.model import EdgeKind, account_node

__all__ = ["add_escalation_edges"]


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z]+)\}")


@functools.lru_cache(maxsize=4096)
def _probe_template(action: str) -> str | None:
    """An ARN template of the resource type a create-style action is authorized on."""
    types = default_catalog().resource_types(action)
    if types is None:
        return None
    if not types:
        return "*"
    noun = action.split(":", 1)[-1].lower()
    ranked = sorted(types, key=lambda t: (t.name.replace("-", "") not in noun, not t.required))
    return ranked[0].arn_patterns[0] if ranked[0].arn_patterns else None


def _probe(action: str, actor, region: str) -> str:
    """A concrete resource ARN to ask about an action that creates something new."""
    template = _probe_template(action)
    if template is None:
        service = action.split(":", 1)[0]
        return PROBE_RESOURCE.format(service=service, region=region, account=actor.account)
    values = {"Partition": "aws", "Region": region, "Account": actor.account}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "iamreach-probe"), template)


def _combine(results, b) -> tuple[str, list, list] | None:
    """All results must allow: DENIED if any is, CONDITIONAL if any is, else ALLOWED (conditions
    and evidence from the builder ``b``, shared by content)."""
    conds, ev = [], []
    decision = "allowed"
    for action, res in results:
        if res.decision == Decision.DENIED:
            return None
        if res.decision == Decision.CONDITIONAL:
            decision = "conditional"
            conds.extend(b.conditions_of(res))
        ev.append(b.ev("identity_policy", None, f"{action}: {res.decision.value}; " + "; ".join(res.explanation[:3])))
    return decision, conds, ev


class _Escalation:
    def __init__(self, b):
        self.b = b
        self.roles_by_service: dict[tuple[str, str], list] = defaultdict(list)
        self.users_by_account: dict[str, list] = defaultdict(list)
        self.roles_by_account: dict[str, list] = defaultdict(list)
        self.groups_by_account: dict[str, list] = defaultdict(list)
        for p in b.inv.principals:
            if p.kind == "role":
                self.roles_by_account[p.account].append(p)
                for key in principal_keys_of_policy(p.trust_policy):
                    if key.startswith("service:"):
                        self.roles_by_service[(p.account, key[8:])].append(p)
            elif p.kind == "user":
                self.users_by_account[p.account].append(p)
            elif p.kind == "group":
                self.groups_by_account[p.account].append(p)
        self.profile_roles = {ip.arn: list(ip.role_arns) for ip in b.inv.instance_profiles}
        self.workloads: dict[tuple[str, str], list] = defaultdict(list)
        # workloads that run as a role, grouped as resources are for summaries: by kind, account
        # and resource policy once the workload's own ARN is a placeholder (a Lambda function's
        # policy is mostly one template); a policy naming other resources keeps its workload out
        pooled: dict[tuple[str, str, bytes], list] = defaultdict(list)
        for r in b.inv.resources:
            self.workloads[(r.kind, r.account)].append(r)
            if self._workload_roles(r):
                template = _policy_template(r.policy, r.arn) if r.policy is not None else b""
                if template is not False:
                    pooled[(r.kind, r.account, template)].append(r)
        self.pooled_workload_arns = {w.arn for ws in pooled.values() for w in ws}

        # pools that may be summarized (see AlikeSet): fixed per build, so part labels are cached
        def pools(groups: dict, kind: str, account_at: int | None) -> dict:
            return {key: AlikeSet(key if account_at is None else key[account_at], kind, kind,
                                  sorted(members, key=lambda p: p.arn), frozenset())
                    for key, members in groups.items() if members}

        self.service_pools = pools(self.roles_by_service, "role", 0)
        self.role_pools = pools(self.roles_by_account, "role", None)
        self.user_pools = pools(self.users_by_account, "user", None)
        self.workload_pools: dict[tuple[str, str], list[AlikeSet]] = defaultdict(list)
        for (kind, account, template), members in sorted(pooled.items()):
            rpol = members[0].policy
            descr = "plain" if not template else template_descr("policy-", template)
            self.workload_pools[(kind, account)].append(
                AlikeSet(account, "workload", descr, sorted(members, key=lambda w: w.arn),
                         resource_tag_keys(rpol) if rpol is not None else frozenset()))
        regions = Counter(r.region for r in b.inv.resources if r.region)
        self.region = regions.most_common(1)[0][0] if regions else "us-east-1"
        self.catalog = default_catalog()
        self._memo: dict = {}
        self._memo_actor = None

    def decide(self, actor, action: str, resource: str, account: str | None, extra: dict | None = None,
               kind: str | None = None, resource_policy=None):
        """The engine's answer for one request of ``actor``; a request asked again (methods
        share actions: UpdateFunctionCode, CreatePolicyVersion, PassRole to one service) is
        answered from a memo of the actor's identical requests. ``kind``: ``resource`` is the ARN
        of an existing resource of that kind, asked about without a resource policy or tags, so
        resources of the kind whose ARNs the same resource-specific statements match (and that
        the action applies to alike) get the same answer, as in the builder's ``memo_key``.
        ``resource_policy``: the parsed policy of the resource ``resource`` names (a workload's),
        evaluated with the request (then the request is memoized by its exact resource)."""
        if actor is not self._memo_actor:
            self._memo.clear()
            self._memo_actor = actor
        key = None
        if kind is not None and extra is None and resource_policy is None:
            rel, _tags = self.b._reads(actor, account, action)
            if rel is not None:
                key = ("alike", action, account, kind, self.catalog.applicability(action.lower(), resource)[:2],
                       match_signature(rel, resource))
        if key is None:
            key = (action, resource, account, tuple(extra.items()) if extra else None)
        res = self._memo.get(key)
        if res is None:
            res = self._memo[key] = self.b.decide(actor, action, resource, resource_account=account, extra=extra,
                                                  resource_policy=resource_policy)
        return res

    def decide_all(self, actor, pairs, on=None, policy=None):
        """All of ``pairs`` decided (None at the first denied); ``on``: the existing resource the
        requests on its ARN are about (see :meth:`decide`); ``policy``: (ARN, parsed resource
        policy) evaluated with the requests on that ARN."""
        results = []
        for action, resource, account, extra in pairs:
            res = self.decide(actor, action, resource, account, extra,
                              on.kind if on is not None and resource == on.arn else None,
                              policy[1] if policy is not None and resource == policy[0] else None)
            if res.decision == Decision.DENIED:
                return None
            results.append((action, res))
        return _combine(results, self.b)

    def edge(self, actor, target: str, method: EscalationMethod, outcome, detail: str) -> None:
        decision, conds, ev = outcome
        if target == actor.node or target not in self.b.G:
            return
        self.b.add_edge(actor.node, target, EdgeKind.ESCALATES_TO, decision=decision,
                        conditions=conds if decision == "conditional" else (), actions=method.actions,
                        method=method.id, reason=f"{method.title}: {detail}",
                        evidence=[self.b.ev("method", method.reference, f"{method.id} (covers {', '.join(method.covers)})"),
                                  *ev])

    # -- categories ------------------------------------------------------------------------------
    def passrole(self, actor, m: EscalationMethod) -> None:
        if not actor.allows.may_allow("iam:PassRole") or not all(actor.allows.may_allow(a) for a in m.actions):
            return
        base = self.decide_all(actor, [(a, _probe(a, actor, self.region), actor.account, None) for a in m.actions])
        if base is None:
            return
        rs = self.service_pools.get((actor.account, m.service))
        if rs is None:
            return
        extra = {"iam:PassedToService": m.service}
        for part in self._parts(actor, rs, [("iam:PassRole", "{arn}")]):
            rep = part[0] if part[0].arn != actor.arn or len(part) == 1 else part[1]
            res = self.decide(actor, "iam:PassRole", rep.arn, rep.account, extra)
            if res.decision == Decision.DENIED:
                continue
            outcome = _combine([("iam:PassRole", res)], self.b)
            decision = "conditional" if "conditional" in (base[0], outcome[0]) else "allowed"
            self._to_members(actor, m, rs, part, [p.arn for p in part],
                           (decision, base[1] + outcome[1], base[2] + outcome[2]), f"trusting {m.service}",
                           lambda r: f"pass {r.rsplit('/', 1)[-1]} to {m.service}",
                           f"pass any of these roles trusting {m.service} to it")

    def _parts(self, actor, rs, pairs) -> list[list]:
        """``rs.members`` split into parts ``actor``'s policies treat alike for ``pairs``."""
        return [part for part, _subs in self.b.partition(actor, rs, None, pairs, {})]

    def _to_members(self, actor, m, rs, part, members, outcome, descr, one, many, kind="role") -> None:
        """Edges for one part: to the summary of its ``members`` (ARNs) when they are enough,
        else to each."""
        members = sorted(x for x in set(members) if x in self.b.G)
        if len(members) >= self.b.summary_min:
            descr = part_descr(descr, self.b.part_info(part), len(part) == len(rs.members))
            self.edge(actor, self.b.summary(actor.account, kind, descr, members), m, outcome, many)
        else:
            for x in members:
                self.edge(actor, x, m, outcome, one(x))

    def workload(self, actor, m: EscalationMethod) -> None:
        if not all(actor.allows.may_allow(a) for a in m.actions):
            return
        for kind in m.workload_kinds:
            for rs in self.workload_pools.get((kind, actor.account), ()):
                pairs = [(a, self._template(a, rs, actor)) for a in m.actions]
                for part in self._parts(actor, rs, pairs):
                    w = part[0]  # the members share one policy template: w's policy decides for all
                    outcome = self.decide_all(actor, [(a, self.b.fill(t, w), w.account, None) for a, t in pairs],
                                              policy=(w.arn, self.b._resource_policy(w)) if w.policy is not None else None)
                    if outcome is None:
                        continue
                    descr = f"run by {kind}" if rs.descr == "plain" else f"run by {kind} ({rs.descr})"
                    self._to_members(actor, m, rs, part, [r for w in part for r in self._workload_roles(w)], outcome,
                                     descr, lambda r, kind=kind: f"take over a {kind} running as {r}",
                                     f"take over any of these {kind} and the roles they run as")
            for w in self.workloads.get((kind, actor.account), ()):
                if w.arn in self.pooled_workload_arns:
                    continue
                roles = self._workload_roles(w)
                if not roles:
                    continue
                targets = [(a, self._on_workload(a, w, actor)) for a in m.actions]
                rpol = self.b._resource_policy(w) if w.policy is not None else None
                outcome = self.decide_all(actor, [(a, res, w.account, None) for a, res in targets],
                                          on=w if rpol is None else None,
                                          policy=(w.arn, rpol) if rpol is not None else None)
                if outcome is None:
                    continue
                for role in roles:
                    self.edge(actor, role, m, outcome, f"take over {kind} {w.name or w.id} running as {role}")

    def _template(self, action: str, rs: AlikeSet, actor) -> str:
        """The resource ``action`` is asked on for a workload of the pool ``rs``: its ARN when the
        action applies to it, else a probe of the action's own type in the workload's region."""
        if self.catalog.arn_matches_type(action, rs.members[0].arn) is False:
            return _probe(action, actor, "{region}")
        return "{arn}"

    def _on_workload(self, action: str, w, actor) -> str:
        """The workload's ARN when ``action`` applies to it, else a probe of the action's own type
        (e.g. a lifecycle configuration created to hijack a notebook)."""
        if self.catalog.arn_matches_type(action, w.arn) is False:
            return _probe(action, actor, w.region or self.region)
        return w.arn

    def _workload_roles(self, w) -> list[str]:
        a = w.attributes
        if a.get("role_arn"):
            return [a["role_arn"]]
        prof = a.get("instance_profile_arn")
        return list(self.profile_roles.get(prof, ())) if prof else []

    def self_methods(self, actor, m: EscalationMethod) -> None:
        if actor.kind not in ("user", "role") or not all(actor.allows.may_allow(a) for a in m.actions):
            return
        tk = m.target_kind
        targets: list[tuple[str, str]] = []
        if tk == "policy":
            targets = [(arn, f"policy {arn} attached to itself") for arn in actor.policy_arns]
        elif tk == "role" and actor.kind == "role":
            targets = [(actor.arn, "its own role")]
        elif tk == "user" and actor.kind == "user":
            targets = [(actor.arn, "itself")]
        elif tk == "group" and actor.kind == "user":
            targets = [(g, f"its group {g}") for g in actor.groups]
        elif tk == "any_group" and actor.kind == "user":
            for g in self.groups_by_account.get(actor.account, ()):
                docs = list(g.inline_policies.values()) + [self.b.managed[a].document for a in g.managed_policy_arns
                                                           if a in self.b.managed]
                if AllowPatterns.from_documents(docs).may_allow("iam:PutUserPolicy"):
                    targets.append((g.arn, f"group {g.name} that grants IAM administration"))
        for resource, detail in targets:
            outcome = self.decide_all(actor, [(a, resource, actor.account, None) for a in m.actions])
            if outcome is not None:
                self.edge(actor, account_node(actor.account), m, outcome, f"on {detail}")
                return

    def principal(self, actor, m: EscalationMethod) -> None:
        if m.id == "principal-assumerole":
            return  # can_assume edges carry sts:AssumeRole
        if not all(actor.allows.may_allow(a) for a in m.actions):
            return
        rs = (self.user_pools if m.target_kind == "user" else self.role_pools).get(actor.account)
        if rs is not None:
            for part in self._parts(actor, rs, [(a, "{arn}") for a in m.actions]):
                rep = part[0] if part[0].arn != actor.arn or len(part) == 1 else part[1]
                if rep.arn == actor.arn:
                    continue
                outcome = self.decide_all(actor, [(a, rep.arn, rep.account, None) for a in m.actions])
                if outcome is None:
                    continue
                names = {p.arn: p for p in part}
                self._to_members(actor, m, rs, part, list(names), outcome, "all",
                                 lambda x, names=names: f"on {names[x].kind} {names[x].name}",
                                 f"on any of these {m.target_kind}s of {actor.account}", kind=m.target_kind)

    def amplify(self, actor, m: EscalationMethod) -> None:
        if not all(actor.allows.may_allow(a) for a in m.actions):
            return
        G = self.b.G
        reachable = set()
        for _, v, d in G.out_edges(actor.node, data=True):
            if d["kind"] in ("can_assume", "escalates_to"):
                reachable.update(G.nodes[v].get("members") or (v,))
        done = set()
        for target in sorted(reachable):
            if target not in self.b.principals or self.b.principals[target].account in done:
                continue
            p = self.b.principals[target]
            if m.target_kind == "role_policy":
                if p.kind != "role":
                    continue
                resources = [a for a in p.managed_policy_arns if a in self.b.managed and self.b.managed[a].account]
            elif p.kind != m.target_kind:
                continue
            else:
                resources = [p.arn]
            for resource in resources:
                outcome = self.decide_all(actor, [(a, resource, p.account, None) for a in m.actions])
                if outcome is not None:
                    self.edge(actor, account_node(p.account), m, outcome, f"widen {p.kind} {p.name} it can act as")
                    done.add(p.account)  # one edge per account administrator is all there is to add
                    break


def _possible(builder, actor, m) -> bool:
    needed = (*m.actions, "iam:PassRole") if m.category == "passrole" else m.actions
    return all(builder.actor_may(actor, a) for a in needed)


def add_escalation_edges(builder, methods, actors=None, runner=None) -> None:
    """Add ``escalates_to`` edges for every actor and every method in ``methods`` (``actors``: for
    these users and roles alone, and none for the account administrators).

    ``runner(work, insert)``: how the two passes over the users and roles run, ``work`` taking a
    list of actors (default: ``work(actors)`` here; a fanned-out build passes its runs of actors to
    forked processes, :meth:`iamreach.graph.builder._Builder._fan_out`). The second pass reads the
    first pass's edges of the same actor, so its processes keep their edges (``insert``)."""
    esc = _Escalation(builder)
    by_cat = defaultdict(list)
    for m in methods:
        by_cat[m.category].append(m)
    if actors is None:
        actors = [a for a in builder.actors.values() if a.kind in ("user", "role")]
        for admin in (a for a in builder.actors.values() if a.kind == "admin"):
            for m in by_cat["principal"]:
                esc.principal(admin, m)

    def first(run) -> None:
        for actor in builder._actors_by_account(run):
            for cat, method in (("passrole", esc.passrole), ("workload", esc.workload),
                                ("self", esc.self_methods), ("principal", esc.principal)):
                for m in by_cat[cat]:
                    if _possible(builder, actor, m):
                        method(actor, m)

    def second(run) -> None:  # after can_assume / principal edges exist
        for actor in builder._actors_by_account(run):
            for m in by_cat["amplify"]:
                if _possible(builder, actor, m):
                    esc.amplify(actor, m)

    if runner is None:
        first(actors)
        second(actors)
    else:
        runner(first, False)
        runner(second, True)
