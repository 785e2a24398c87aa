"""Small helpers shared by the checks: label tests, node and edge lookups, statement reading,
and turning one graph edge into a concrete remediation sentence.

Everything here reads the graph; nothing mutates it.

Examples
--------
>>> arn_account("arn:aws:iam::111122223333:role/x"), arn_account("111122223333"), arn_account("*")
('111122223333', '111122223333', None)
>>> [i for i, _ in statements({"Statement": {"Effect": "Allow", "Action": "s3:*"}})]
[0]
>>> action_covers(["s3:Get*"], "s3:GetObject"), action_covers(["s3:List*"], "s3:GetObject")
(True, False)
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from iamreach.graph.policy.wildcard import match_wildcard
from iamreach.model import account_node, is_summary

__all__ = [
    "labels",
    "has_label",
    "node_attrs",
    "attributes",
    "record",
    "nodes",
    "accounts_labelled",
    "kind_index",
    "labelled_or_in",
    "out_edges",
    "in_edges",
    "graph_gaps",
    "gaps_matching",
    "roles_of",
    "as_list",
    "statements",
    "action_covers",
    "statement_grants",
    "aws_principals",
    "arn_account",
    "sid_ref",
    "statement_evidence",
    "edge_fix",
    "snippet",
    "node_name",
    "account_root",
    "principal_closure",
]

_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _kind(k: Any) -> str:
    return str(getattr(k, "value", k))


def node_attrs(G: Any, n: str) -> dict:
    return G.nodes[n] if n in G else {}


def labels(G: Any, n: str) -> frozenset[str]:
    return frozenset(node_attrs(G, n).get("labels") or ())


def has_label(G: Any, n: str, label: str) -> bool:
    return label in (node_attrs(G, n).get("labels") or ())


def record(G: Any, n: str) -> Any:
    return node_attrs(G, n).get("record")


def attributes(G: Any, n: str) -> dict:
    """The inventory record's ``attributes`` dict (empty when the node has none)."""
    rec = record(G, n)
    attrs = getattr(rec, "attributes", None)
    return attrs if isinstance(attrs, dict) else {}


def node_name(G: Any, n: str) -> str:
    return str(node_attrs(G, n).get("name") or n)


class _KindIndex:
    """The nodes of one graph by kind, read once while checks run (:func:`kind_index`)."""

    __slots__ = ("G", "by_kind", "labelled")

    def __init__(self, G: Any) -> None:
        self.G = G
        self.by_kind: dict[str, list[tuple[str, dict]]] = {}
        for n, d in G.nodes(data=True):
            self.by_kind.setdefault(str(d.get("kind")), []).append((n, d))
        self.labelled: dict[str, frozenset[str]] = {}  # label -> accounts_labelled(G, label)


_ACTIVE: list[_KindIndex] = []  # innermost kind_index() last


@contextlib.contextmanager
def kind_index(G: Any) -> Iterator[None]:
    """While the block runs, :func:`nodes` and :func:`accounts_labelled` on ``G`` read an index of
    its nodes by kind made here, instead of every node of the graph on every call. The block must
    not add or remove nodes or change their kinds or labels (checks only read the graph)."""
    _ACTIVE.append(_KindIndex(G))
    try:
        yield
    finally:
        _ACTIVE.pop()


def _index_of(G: Any) -> _KindIndex | None:
    """The active :func:`kind_index` of ``G``, if any."""
    return _ACTIVE[-1] if _ACTIVE and _ACTIVE[-1].G is G else None


def _node_items(G: Any, wanted: set[str] | None) -> Iterable[tuple[str, dict]]:
    """``(node, data)`` of the nodes whose kind is in ``wanted`` (every node when ``None``)."""
    index = _index_of(G)
    if index is None:
        items = G.nodes(data=True)
        return items if wanted is None else [(n, d) for n, d in items if str(d.get("kind")) in wanted]
    if wanted is None:
        return [item for group in index.by_kind.values() for item in group]
    return [item for k in wanted for item in index.by_kind.get(k, ())]


def nodes(G: Any, kinds: Iterable[str] | str | None = None, label: str | None = None) -> list[str]:
    """Sorted node ids of the given kind(s), optionally carrying ``label``."""
    wanted = None if kinds is None else ({_kind(kinds)} if isinstance(kinds, str) else {_kind(k) for k in kinds})
    if label is None:
        return sorted(n for n, _ in _node_items(G, wanted))
    return sorted(n for n, d in _node_items(G, wanted) if label in (d.get("labels") or ()))


def accounts_labelled(G: Any, label: str) -> set[str]:
    """Ids of accounts whose account node (``arn:aws:iam::<id>:root``) carries ``label``."""
    index = _index_of(G)
    hit = index.labelled.get(label) if index is not None else None
    if hit is not None:
        return set(hit)
    out = set()
    for n, d in _node_items(G, {"account"}):
        if label in (d.get("labels") or ()):
            acct = d.get("account") or arn_account(n)
            if acct:
                out.add(acct)
    if index is not None:
        index.labelled[label] = frozenset(out)
    return out


def labelled_or_in(G: Any, n: str, label: str, accounts: set[str] | None = None) -> bool:
    """``n`` carries ``label``, or sits in an account that does."""
    if has_label(G, n, label):
        return True
    if accounts is None:
        accounts = accounts_labelled(G, label)
    return node_attrs(G, n).get("account") in accounts


def out_edges(G: Any, n: str, kinds: Iterable[str] | None = None) -> list[tuple[str, str, Any, dict]]:
    """Sorted ``(u, v, key, data)`` out-edges of ``n`` of the given kinds."""
    if n not in G:
        return []
    wanted = None if kinds is None else {_kind(k) for k in kinds}
    edges = []
    for v, keyed in G._succ[n].items():  # the graph's own dicts: cheaper than its edge views
        for k, d in keyed.items():
            if wanted is not None and str(d.get("kind")) not in wanted:
                continue
            if is_summary(v):  # an edge to a set of alike targets stands for one edge to each
                edges.extend((n, m, k, d) for m in G.nodes[v].get("members") or ())
            else:
                edges.append((n, v, k, d))
    return sorted(edges, key=lambda e: (e[1], str(e[3].get("kind")), str(e[2])))


def in_edges(G: Any, n: str, kinds: Iterable[str] | None = None) -> list[tuple[str, str, Any, dict]]:
    """Sorted ``(u, v, key, data)`` in-edges of ``n`` of the given kinds."""
    if n not in G:
        return []
    wanted = None if kinds is None else {_kind(k) for k in kinds}
    edges = []
    pred = G._pred  # the graph's own dicts: cheaper than its edge views
    for u, keyed in pred[n].items():
        for k, d in keyed.items():
            if str(d.get("kind")) == "includes":  # the edges into a summary reach each of its members
                for w, keyed2 in pred[u].items():
                    edges.extend((w, n, k2, d2) for k2, d2 in keyed2.items()
                                 if wanted is None or str(d2.get("kind")) in wanted)
            elif wanted is None or str(d.get("kind")) in wanted:
                edges.append((u, n, k, d))
    return sorted(edges, key=lambda e: (e[0], str(e[3].get("kind")), str(e[2])))


def graph_gaps(G: Any) -> list[dict]:
    """The collection gaps the graph carries, as plain dicts, in a stable order."""
    out = []
    for g in G.graph.get("gaps", ()) or ():
        out.append(dict(g) if isinstance(g, dict) else dict(g.to_dict()))
    return sorted(out, key=lambda g: tuple(str(g.get(k) or "") for k in
                                           ("account", "region", "service", "api", "resource", "error_code")))


def gaps_matching(G: Any, services: Iterable[str], account: str | None = None) -> list[dict]:
    """Gaps of the given services (``"iam"``, ``"s3"`` ...), in ``account`` (or account-less)."""
    wanted = set(services)
    return [g for g in graph_gaps(G) if g.get("service") in wanted
            and (account is None or g.get("account") in (None, account))]


def roles_of(G: Any, workload: str) -> list[str]:
    """Roles a workload runs as: follows ``runs_as`` through an instance profile."""
    out: set[str] = set()
    frontier = [workload]
    seen = {workload}
    while frontier:
        n = frontier.pop()
        for _, v, _, _ in out_edges(G, n, ("runs_as",)):
            if v in seen:
                continue
            seen.add(v)
            if str(node_attrs(G, v).get("kind")) == "role":
                out.add(v)
            else:
                frontier.append(v)
    return sorted(out)


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(policy: dict | None) -> Iterator[tuple[int, dict]]:
    """``(index, statement)`` of a policy document (a lone statement object counts as one)."""
    if not isinstance(policy, dict):
        return
    for i, stmt in enumerate(as_list(policy.get("Statement"))):
        if isinstance(stmt, dict):
            yield i, stmt


def action_covers(patterns: Iterable[str], action: str) -> bool:
    """Does any IAM action pattern (case-insensitive globs) cover ``action``?"""
    return any(isinstance(p, str) and match_wildcard(p, action, case_sensitive=False) for p in patterns)


def statement_grants(stmt: dict, action: str) -> bool:
    """An Allow statement whose Action (or NotAction) lets ``action`` through."""
    if stmt.get("Effect") != "Allow":
        return False
    if "NotAction" in stmt:
        return not action_covers(as_list(stmt.get("NotAction")), action)
    return action_covers(as_list(stmt.get("Action")), action)


def aws_principals(stmt: dict) -> list[str]:
    """AWS principal values of a statement; ``["*"]`` for ``"Principal": "*"``."""
    principal = stmt.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(p) for p in as_list(principal.get("AWS"))]
    return []


def arn_account(value: str) -> str | None:
    """The account id in an ARN or a bare 12-digit id; None for ``*`` and non-account ids."""
    if _ACCOUNT_ID.match(value or ""):
        return value
    parts = (value or "").split(":")
    if len(parts) >= 6 and parts[0] == "arn" and _ACCOUNT_ID.match(parts[4]):
        return parts[4]
    if value.startswith("account:"):
        acct = value.split(":")[1]
        return acct if _ACCOUNT_ID.match(acct) else None
    return None


def sid_ref(stmt: dict, index: int) -> str:
    """``Sid "X"`` or ``statement #i`` (0-based index) for messages."""
    sid = stmt.get("Sid")
    return f'statement Sid "{sid}"' if sid else f"statement #{index}"


def statement_evidence(type_: str, ref: str, stmt: dict, index: int, detail: str = "") -> dict:
    """An evidence dict for one policy statement (the statement's JSON in ``statement``)."""
    return {"type": type_, "ref": ref, "sid": stmt.get("Sid"), "index": index,
            "detail": detail or json.dumps(stmt, sort_keys=True), "statement": stmt}


def snippet(obj: Any) -> str:
    """Deterministic pretty JSON for remediation snippets."""
    return json.dumps(obj, sort_keys=True, indent=2)


def _ev_where(ev: dict) -> str:
    if ev.get("sid"):
        return f'statement Sid "{ev["sid"]}"'
    if ev.get("index") is not None:
        return f"statement #{ev['index']}"
    return "the statement"


_TYPE_ALIASES = {"identity": "identity_policy", "resource policy": "resource_policy",
                 "trust policy": "trust_policy", "key policy": "key_policy"}
#: Which evidence names the change to make, best first: the production side's resource policy,
#: trust or rule (its owners can fix it), then the caller's identity policy.
_FIX_ORDER = ("trust_policy", "resource_policy", "key_policy", "kms_grant", "sg_rule", "snapshot_attribute",
              "acl", "nacl_entry", "route", "identity_policy", "attribute")


def _ev_type(ev: dict) -> str:
    t = str(ev.get("type") or "")
    return _TYPE_ALIASES.get(t, t)


def _fix_from_evidence(ev: dict, u: str, v: str, what: str) -> str | None:
    t = _ev_type(ev)
    ref = ev.get("ref") or v
    where = _ev_where(ev)
    detail = f" ({ev['detail']})" if ev.get("detail") and "statement" not in ev else ""
    if where == "the statement" and ev.get("detail"):
        where = f"the statement behind \"{ev['detail']}\""
        detail = ""
    if t == "identity_policy":
        if ev.get("ref"):
            return f"Remove or scope {where} of policy {ref} so that {u} no longer gets {what} on {v}"
        return f"Remove or scope {where} so that {u} no longer gets {what} on {v}"
    if t == "resource_policy":
        return f"Remove or scope {where} of the resource policy of {ref} so that it no longer grants {what} to {u}"
    if t == "trust_policy":
        return f"Remove or scope {where} of the trust policy of {ref} so that {u} can no longer assume it"
    if t == "key_policy":
        return f"Remove or scope {where} of the key policy of {ref} so that {u} can no longer use the key"
    if t == "kms_grant":
        return f"Revoke KMS grant {ev.get('detail') or ev.get('sid') or ''} on {ref} that lets {u} use the key".replace("  ", " ")
    if t == "sg_rule":
        return f"Delete security group rule {ref}{detail} that lets {u} connect to {v}"
    if t == "nacl_entry":
        return f"Add a deny entry to (or remove the allow entry of) network ACL {ref}{detail}"
    if t == "route":
        return f"Remove route {ref}{detail} between the networks of {u} and {v}"
    if t == "snapshot_attribute":
        return f"Remove the account from the restore/createVolumePermission attribute of snapshot {ref}{detail}"
    if t == "acl":
        return f"Remove the ACL grant on {ref}{detail}"
    if t == "attribute":
        return f"Change the attribute of {ref}{detail}"
    return None


def edge_fix(u: str, v: str, data: dict) -> str:
    """One concrete sentence that removes the edge ``u -> v`` (from its evidence)."""
    kind = str(data.get("kind"))
    actions = tuple(data.get("actions") or ())
    what = ", ".join(actions[:4]) + (" ..." if len(actions) > 4 else "") if actions else kind
    evidence = [ev for ev in data.get("evidence") or () if _ev_type(ev) in _FIX_ORDER]
    # a statement that names itself (Sid, index, or an explanation naming the statement) first
    evidence.sort(key=lambda ev: (not (ev.get("sid") or ev.get("index") is not None
                                       or "statement" in str(ev.get("detail") or "")),
                                  _FIX_ORDER.index(_ev_type(ev))))
    for ev in evidence:
        text = _fix_from_evidence(ev, u, v, what)
        if text:
            return text
    if kind == "runs_as":
        return f"Run {u} as a role that does not lead to production data (detach {v})"
    if kind == "member_of":
        return f"Remove {u} from group {v}"
    if kind == "snapshot_of":
        return f"Delete or re-encrypt the snapshot {v} of {u}"
    return f"Break the {kind} edge {u} -> {v}" + (f": {data['reason']}" if data.get("reason") else "")


def account_root(account: str | None) -> str:
    return account_node(account) if account else "iamreach:unknown-account"


_PRINCIPAL_HOPS = ("runs_as", "can_assume", "escalates_to", "member_of")


def principal_closure(G: Any, start: Iterable[str], max_hops: int = 6, *,
                      cache: dict[str, list] | None = None) -> dict[str, tuple]:
    """Principals reachable from ``start`` by runs_as / can_assume / escalates_to / member_of.

    Returns ``{node: hops}`` where ``hops`` is the tuple of ``(u, v, data)`` edges from a start
    node (breadth first, so the witness is a shortest one); start nodes map to ``()``.
    ``cache``: a dict kept across calls on the same graph, holding each node's hop edges (a check
    that asks for many closures reads each principal's edges once).
    """
    found: dict[str, tuple] = {s: () for s in sorted(set(start)) if s in G}
    frontier = list(found)
    for _ in range(max_hops):
        nxt = []
        for n in frontier:
            hops = cache.get(n) if cache is not None else None
            if hops is None:
                hops = out_edges(G, n, _PRINCIPAL_HOPS)
                if cache is not None:
                    cache[n] = hops
            for u, v, _, d in hops:
                if v not in found:
                    found[v] = (*found[n], (u, v, d))
                    nxt.append(v)
        if not nxt:
            break
        frontier = nxt
    return found


class Environments:
    """The synthetic / production split of a graph: which accounts, nodes and principals are on which side.

    Built once per check by :func:`environments`; the account sets are computed once.

    Attributes
    ----------
    G : networkx.MultiDiGraph
        The graph.
    synthetic, production : frozenset of str
        Ids of the accounts whose account node carries the label.
    """

    __slots__ = ("G", "synthetic", "production")

    def __init__(self, G: Any) -> None:
        self.G = G
        self.synthetic = frozenset(accounts_labelled(G, "synthetic"))
        self.production = frozenset(accounts_labelled(G, "production"))

    def accounts(self, label: str) -> frozenset[str]:
        """Ids of the accounts labelled ``label``."""
        if label == "synthetic":
            return self.synthetic
        if label == "production":
            return self.production
        return frozenset(accounts_labelled(self.G, label))

    def holds(self, n: str, label: str) -> bool:
        """Node ``n`` carries ``label`` or sits in an account that does (:func:`labelled_or_in`)."""
        return labelled_or_in(self.G, n, label, self.accounts(label))

    def is_synthetic(self, n: str) -> bool:
        """Node ``n`` is labelled synthetic or sits in a synthetic account."""
        return self.holds(n, "synthetic")

    def is_production(self, n: str) -> bool:
        """Node ``n`` is labelled production or sits in a production account."""
        return self.holds(n, "production")

    def names_synthetic(self, principal: str) -> bool:
        """A principal value (node id, ARN, account id) labelled synthetic or of a synthetic account.

        Unlike :meth:`is_synthetic`, the account is read from the value itself, so principals a
        policy names that are not nodes of the graph are classified too.
        """
        acct = arn_account(principal)
        return has_label(self.G, principal, "synthetic") or (acct is not None and acct in self.synthetic)

    def synthetic_in_org(self) -> list[str]:
        """Sorted synthetic accounts placed in the organization tree (what ``aws:PrincipalOrgID`` admits)."""
        accounts = self.G.graph.get("accounts", {})
        return sorted(a for a in self.synthetic if (accounts.get(a) or {}).get("ou_path"))


def environments(G: Any) -> Environments:
    """The synthetic / production classification every cross-environment check opens with.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("arn:aws:iam::111111111111:root", kind="account", account="111111111111",
    ...            labels=frozenset({"synthetic"}))
    >>> G.add_node("arn:aws:s3:::phi", kind="s3_bucket", account="222222222222", labels=frozenset({"production"}))
    >>> env = environments(G)
    >>> sorted(env.synthetic), env.is_production("arn:aws:s3:::phi")
    (['111111111111'], True)
    >>> env.names_synthetic("arn:aws:iam::111111111111:role/etl"), env.names_synthetic("222222222222")
    (True, False)
    """
    return Environments(G)


__all__ += ["Environments", "environments"]
