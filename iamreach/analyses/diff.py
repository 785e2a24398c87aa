"""Reachability diff of two snapshots: what a change opens, closes and touches.

For every forbid rule of the configuration (``synthetic -> phi`` by default) the diff compares
the (source, target) pairs that are connected before and after, with their witness paths and,
for each hop, whether its edge is new, changed or unchanged. It also compares the findings of
the checks (by fingerprint) and lists the edges added, removed or changed that *matter* to a
rule: edges on some path from the rule's sources towards its targets.

Pairs are the authoritative signal (the path enumeration is capped, pairs are not).
``DiffResult.exit_code`` is 1 when the change opens a forbidden pair, makes a conditional pair
unconditional, or adds a failing finding at or above ``fail_on``; else 0.

Examples
--------
>>> import networkx as nx
>>> def graph(edges):
...     G = nx.MultiDiGraph(gaps=[], accounts={})
...     for n, k, l in [("w", "lambda_function", ("synthetic",)), ("r", "role", ()),
...                     ("b", "s3_bucket", ("phi",))]:
...         G.add_node(n, kind=k, labels=l, account="1")
...     for u, v, k in edges:
...         G.add_edge(u, v, kind=k, decision="allowed", actions=(), evidence=())
...     return G
>>> d = diff_graphs(graph([("w", "r", "runs_as")]), graph([("w", "r", "runs_as"), ("r", "b", "reads")]),
...                 checks=False)
>>> d.exit_code, d.rules[0].opened[0].pair
(1, ('w', 'b'))
>>> [h["status"] for h in d.to_dict()["rules"][0]["opened"][0]["paths"][0]["hops"]]
['same', 'added']
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from iamreach.analyses.results import Path, PathSet
from iamreach.model import COMPUTE_KINDS, DATA_STORE_KINDS, EdgeKind, NodeKind

__all__ = [
    "SCHEMA",
    "HopChange",
    "PairChange",
    "EdgeChange",
    "RuleDiff",
    "DiffResult",
    "diff_graphs",
    "diff_snapshots",
    "edge_signature",
]

#: JSON contract of ``iamreach diff --format json`` (bump on an incompatible change).
SCHEMA = "iamreach-diff/1"
#: Witness paths kept per changed pair.
PATHS_PER_PAIR = 3
_SEVERITIES = ("critical", "high", "medium", "low", "info")
_NON_TRAVERSABLE = frozenset({EdgeKind.SNAPSHOT_OF.value, EdgeKind.SHARED_WITH.value, EdgeKind.MEMBER_OF.value})
_ACTORS = frozenset({*(k.value for k in COMPUTE_KINDS), NodeKind.USER.value, NodeKind.ROLE.value,
                     NodeKind.ACCOUNT_PRINCIPALS.value})
_TARGETS = frozenset(k.value for k in DATA_STORE_KINDS)
_CHANGED_ACTIONS = frozenset({"create", "update", "delete"})


def _canon(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


def edge_signature(data: dict) -> bytes:
    """What makes two edges of the same (u, v, kind) the same: decision, actions, ports, evidence."""
    return _canon({
        "decision": data.get("decision"),
        "actions": sorted(data.get("actions") or ()),
        "ports": sorted(data.get("ports") or ()),
        "method": data.get("method"),
        "conditions": list(data.get("conditions") or ()),
        "evidence": sorted(_canon(e).decode() for e in data.get("evidence") or ()),
    })


def _digest(sig: bytes) -> bytes:
    return hashlib.blake2b(sig, digest_size=12).digest()


def _edge_index(G, zones: list[tuple[str, set[str], set[str]]]) -> dict[tuple[str, str, str], tuple[bytes, dict | None]]:
    """(u, v, kind) -> (digest of all its parallel edges, data of the best one when it lies in a zone).

    Only edges between a rule's sources and targets keep their data (they are the ones reported);
    the others keep just the digest that says whether they changed.
    """
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for u, v, d in G.edges(data=True):
        groups.setdefault((u, v, str(d.get("kind"))), []).append(d)
    out = {}
    for key, datas in groups.items():
        sig = _digest(b"|".join(sorted(edge_signature(d) for d in datas)))
        u, v, kind = key
        relevant = kind not in _NON_TRAVERSABLE and any(u in fwd and v in back for _, fwd, back in zones)
        best = next((d for d in datas if d.get("decision") == "allowed"), datas[0]) if relevant else None
        out[key] = (sig, _plain(best) if best is not None else None)
    return out


def _plain(data: dict) -> dict:
    """Edge data without the graph's object references (picklable, JSON-able)."""
    return {k: data.get(k) for k in ("kind", "decision", "actions", "ports", "method", "reason", "evidence",
                                     "conditions")}


@dataclass(frozen=True, slots=True)
class HopChange:
    """One hop of a witness path and how its edge changed (``added`` / ``removed`` / ``changed`` / ``same``)."""

    hop: Any
    status: str
    location: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.hop.to_dict(), "status": self.status, "terraform": self.location}


@dataclass(frozen=True, slots=True)
class PairChange:
    """A (source, target) pair of a rule that opened, closed, or changed its best decision."""

    pair: tuple[str, str]
    change: str  # opened | closed | escalated | relaxed
    decision_before: str | None
    decision_after: str | None
    paths: tuple[tuple[HopChange, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.pair[0], "target": self.pair[1], "change": self.change,
            "decision_before": self.decision_before, "decision_after": self.decision_after,
            "paths": [{"decision": _decision(p), "hops": [h.to_dict() for h in p]} for p in self.paths],
        }


def _decision(hops: tuple[HopChange, ...]) -> str:
    return "conditional" if any(h.hop.decision == "conditional" for h in hops) else "allowed"


@dataclass(frozen=True, slots=True)
class EdgeChange:
    """An edge added, removed or changed that lies between a rule's sources and targets."""

    source: str
    target: str
    kind: str
    change: str  # added | removed | changed
    before: dict | None
    after: dict | None
    rules: tuple[str, ...]
    location: dict | None = None

    def sort_key(self) -> tuple:
        return (self.change, self.source, self.target, self.kind)

    def to_dict(self) -> dict[str, Any]:
        def slim(d: dict | None) -> dict | None:
            if d is None:
                return None
            return {k: (list(d.get(k) or ()) if k in ("actions", "ports", "evidence", "conditions") else d.get(k))
                    for k in ("decision", "actions", "ports", "method", "reason", "evidence", "conditions")}
        return {"from": self.source, "to": self.target, "kind": self.kind, "change": self.change,
                "rules": list(self.rules), "before": slim(self.before), "after": slim(self.after),
                "terraform": self.location}


@dataclass(frozen=True, slots=True)
class RuleDiff:
    """The diff of one forbid rule."""

    name: str
    source: str
    target: str
    pairs_before: int
    pairs_after: int
    opened: tuple[PairChange, ...] = ()
    closed: tuple[PairChange, ...] = ()
    escalated: tuple[PairChange, ...] = ()
    relaxed: tuple[PairChange, ...] = ()
    unknown_opened: tuple[tuple[str, str], ...] = ()
    unknown_closed: tuple[tuple[str, str], ...] = ()

    @property
    def fails(self) -> bool:
        """Does the change open this forbidden rule further?"""
        return bool(self.opened or self.escalated)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "from": self.source, "to": self.target,
            "pairs_before": self.pairs_before, "pairs_after": self.pairs_after, "fails": self.fails,
            "opened": [c.to_dict() for c in self.opened], "closed": [c.to_dict() for c in self.closed],
            "escalated": [c.to_dict() for c in self.escalated], "relaxed": [c.to_dict() for c in self.relaxed],
            "unknown_opened": [{"source": s, "target": t} for s, t in self.unknown_opened],
            "unknown_closed": [{"source": s, "target": t} for s, t in self.unknown_closed],
        }


@dataclass(frozen=True)
class DiffResult:
    """Everything ``iamreach diff`` reports; immutable, sorted, JSON via :meth:`to_dict`."""

    rules: tuple[RuleDiff, ...]
    edges: tuple[EdgeChange, ...]
    findings_new: tuple = ()
    findings_resolved: tuple = ()
    checks: tuple = ()
    checks_ran: bool = False
    fail_on: str = "high"
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def failing_findings(self) -> tuple:
        """New failing findings at or above ``fail_on``."""
        limit = _SEVERITIES.index(self.fail_on)
        return tuple(f for f in self.findings_new if f.status == "fail" and _SEVERITIES.index(f.severity) <= limit)

    @property
    def exit_code(self) -> int:
        """1 when the change opens a forbidden path or a failing finding at/above ``fail_on``; else 0."""
        return 1 if any(r.fails for r in self.rules) or self.failing_findings else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "exit_code": self.exit_code,
            "fail_on": self.fail_on,
            "summary": self.summary,
            "rules": [r.to_dict() for r in self.rules],
            "findings": {
                "checks_ran": self.checks_ran,
                "new": [f.to_dict() for f in self.findings_new],
                "resolved": [f.to_dict() for f in self.findings_resolved],
            },
            "edges": [e.to_dict() for e in self.edges],
        }


# -- helpers ------------------------------------------------------------------------------------
def _ends(G, rule) -> tuple[set[str], set[str]]:
    src, tgt = set(), set()
    for n, d in G.nodes(data=True):
        labels = d.get("labels") or ()
        if rule.source in labels and d.get("kind") in _ACTORS:
            src.add(n)
        if rule.target in labels and d.get("kind") in _TARGETS:
            tgt.add(n)
    return src, tgt


def _reach(G, starts: set[str], forward: bool) -> set[str]:
    """Nodes reachable from ``starts`` (forward) or reaching them (backward) over traversable edges."""
    seen = set(starts)
    q = deque(starts)
    edges = G.out_edges if forward else G.in_edges
    while q:
        n = q.popleft()
        for e in edges(n, data="kind"):
            if e[2] in _NON_TRAVERSABLE:
                continue
            m = e[1] if forward else e[0]
            if m not in seen:
                seen.add(m)
                q.append(m)
    return seen


def _pairs(ps: PathSet) -> dict[tuple[str, str], str]:
    """(source, target) -> best decision among its witness paths."""
    out: dict[tuple[str, str], str] = {}
    for p in ps.paths:
        key = (p.source, p.target)
        if out.get(key) != "allowed":
            out[key] = p.decision
    return out


def _by_pair(ps: PathSet) -> dict[tuple[str, str], list[Path]]:
    out: dict[tuple[str, str], list[Path]] = {}
    for p in ps.paths:
        out.setdefault((p.source, p.target), []).append(p)
    return out


_INLINE = re.compile(r"by (\S+) inline policy (\S+?)(?: statement|\s|$)")
_MANAGED = re.compile(r"(arn:aws[a-z-]*:iam::(?:\d{12}|aws):policy/[^\s'\"),]+)")


class _Locator:
    """Terraform location of the change behind an edge, when the inventory came from a plan.

    The evidence of the edge names it best (an inline policy, a managed policy attachment, a
    security group rule ``tf:<address>``); else a changed attachment of either end; else the
    resource block of either end.
    """

    def __init__(self, inv) -> None:
        tf = (getattr(inv, "meta", None) or {}).get("terraform") or {}
        self.changed = {c["address"] for c in tf.get("changes") or ()
                        if _CHANGED_ACTIONS & set(c.get("actions") or ())}
        self.locations = tf.get("locations") or {}
        self.contributors = tf.get("contributors") or {}
        self.addresses = tf.get("addresses") or {}
        self.sources = tf.get("policy_sources") or {}

    def _from_evidence(self, source: str, evidence) -> list[str]:
        found = []
        # a path into a database opens on the database's ingress side more often than on egress
        for e in sorted(evidence or (), key=lambda e: " ingress " not in f" {e.get('detail') or ''} "):
            ref = str(e.get("ref") or "")
            if f"rule {ref}" in self.sources:
                found.append(self.sources[f"rule {ref}"])
            elif ref.startswith("tf:"):
                found.append(ref[3:].split(":")[0])
            detail = str(e.get("detail") or "")
            for m in _INLINE.finditer(detail):
                addr = self.sources.get(f"{m.group(1)} inline policy {m.group(2)}")
                if addr:
                    found.append(addr)
            for m in _MANAGED.finditer(detail):
                addr = self.sources.get(f"{source} managed policy {m.group(1)}")
                found.extend(a for a in (addr, (self.locations.get(m.group(1)) or {}).get("terraform_address")) if a)
        return found

    def __call__(self, nodes: tuple[str, ...], evidence=()) -> dict | None:
        if not self.addresses and not self.locations:
            return None
        named = self._from_evidence(nodes[0], evidence) if nodes else []
        for addr in sorted(named, key=lambda a: a not in self.changed):
            if addr in self.addresses:
                return self.addresses[addr]
        fallback = None
        for n in nodes:
            for addr in self.contributors.get(n) or ():
                if addr in self.changed:
                    return self.addresses.get(addr) or {"terraform_address": addr}
            loc = self.locations.get(n)
            if loc is not None:
                if loc.get("terraform_address") in self.changed:
                    return loc
                fallback = fallback or loc
        return fallback


def _hops(path: Path, other: dict, mine: dict, locate: _Locator | None, missing: str) -> tuple[HopChange, ...]:
    out = []
    for h in path.hops:
        # a hop through a summary is two edges: to the summary, and the summary's includes
        keys = [(h.source, h.target, h.kind)] if h.via is None else [(h.source, h.via, h.kind),
                                                                      (h.via, h.target, "includes")]
        if any(key not in other for key in keys):
            status = missing
        elif any(other[key][0] != mine.get(key, (b"", None))[0] for key in keys):
            status = "changed"
        else:
            status = "same"
        loc = locate((h.source, h.target), h.evidence) if locate is not None and status != "same" else None
        out.append(HopChange(h, status, loc))
    return tuple(out)


@dataclass
class _Side:
    """Everything the diff needs from one graph: small, picklable (it may come from another process)."""

    paths: dict[str, PathSet]
    index: dict[tuple[str, str, str], tuple[bytes, dict | None]]
    zones: dict[str, tuple[set[str], set[str]]]
    report: Any
    nodes: int
    edges: int
    seconds: float


def _summarize(G, cfg, *, checks: bool, max_hops: int, max_paths: int) -> _Side:
    from iamreach.analyses.paths import forbidden_paths

    t0 = time.perf_counter()
    fp = forbidden_paths(G, cfg, max_hops=max_hops, max_paths=max_paths)
    zones = {}
    for rule in cfg.forbid:
        src, tgt = _ends(G, rule)
        zones[rule.name] = (_reach(G, src, True), _reach(G, tgt, False))
    index = _edge_index(G, [(n, f, b) for n, (f, b) in zones.items()])
    report = _run_checks(G, cfg) if checks else None
    return _Side({rule.name: fp[rule] for rule in cfg.forbid}, index, zones, report, G.number_of_nodes(),
                 G.number_of_edges(), round(time.perf_counter() - t0, 3))


def _rule_diff(rule, ps_b: PathSet, ps_a: PathSet, idx_b: dict, idx_a: dict,
               loc_b: _Locator, loc_a: _Locator) -> RuleDiff:
    pairs_b, pairs_a = _pairs(ps_b), _pairs(ps_a)
    paths_b, paths_a = _by_pair(ps_b), _by_pair(ps_a)

    def after_paths(pair):
        return tuple(_hops(p, idx_b, idx_a, loc_a, "added") for p in paths_a.get(pair, [])[:PATHS_PER_PAIR])

    def before_paths(pair):
        return tuple(_hops(p, idx_a, idx_b, loc_b, "removed") for p in paths_b.get(pair, [])[:PATHS_PER_PAIR])

    opened, closed, escalated, relaxed = [], [], [], []
    for pair in sorted(pairs_a.keys() - pairs_b.keys()):
        opened.append(PairChange(pair, "opened", None, pairs_a[pair], after_paths(pair)))
    for pair in sorted(pairs_b.keys() - pairs_a.keys()):
        closed.append(PairChange(pair, "closed", pairs_b[pair], None, before_paths(pair)))
    for pair in sorted(pairs_a.keys() & pairs_b.keys()):
        if pairs_b[pair] == pairs_a[pair]:
            continue
        if pairs_a[pair] == "allowed":
            escalated.append(PairChange(pair, "escalated", pairs_b[pair], "allowed", after_paths(pair)))
        else:
            relaxed.append(PairChange(pair, "relaxed", pairs_b[pair], pairs_a[pair], after_paths(pair)))
    unk_b = {(u.source, u.target) for u in ps_b.unknown}
    unk_a = {(u.source, u.target) for u in ps_a.unknown}
    return RuleDiff(rule.name, rule.source, rule.target, len(pairs_b), len(pairs_a), tuple(opened), tuple(closed),
                    tuple(escalated), tuple(relaxed), tuple(sorted(unk_a - unk_b)), tuple(sorted(unk_b - unk_a)))


def _edge_changes(side_b: _Side, side_a: _Side, loc_a: _Locator, loc_b: _Locator) -> list[EdgeChange]:
    idx_b, idx_a = side_b.index, side_a.index
    out = []
    for key in sorted(idx_b.keys() | idx_a.keys()):
        b, a = idx_b.get(key), idx_a.get(key)
        if b is not None and a is not None and b[0] == a[0]:
            continue
        u, v, kind = key
        if kind in _NON_TRAVERSABLE:
            continue
        change = "added" if b is None else "removed" if a is None else "changed"
        names = []
        for name in side_a.zones.keys() | side_b.zones.keys():
            fwd_a, back_a = side_a.zones.get(name, ((), ()))
            fwd_b, back_b = side_b.zones.get(name, ((), ()))
            if (a is not None and u in fwd_a and v in back_a) or (b is not None and u in fwd_b and v in back_b):
                names.append(name)
        if names:
            data = (b if change == "removed" else a)[1] or {}
            locate = loc_b if change == "removed" else loc_a
            out.append(EdgeChange(u, v, kind, change, b[1] if b else None, a[1] if a else None,
                                  tuple(sorted(names)), locate((u, v), data.get("evidence"))))
    return sorted(out, key=EdgeChange.sort_key)


def _run_checks(G, config):
    try:
        from iamreach.analyses.checks import default_registry
    except ImportError:  # checks not in this build: paths only
        return None
    return default_registry().run(G, config)


def _with_location(finding, locate: _Locator):
    from iamreach.analyses.report import Finding, Location

    if finding.location is not None:
        return finding
    nodes = [finding.resource]
    for p in finding.paths:
        nodes.extend(p.nodes)
    loc = locate(tuple(nodes))
    if not loc:
        return finding
    if not loc.get("file"):  # no --tf-dir: name the address in the message (the fingerprint ignores it)
        address = loc.get("terraform_address")
        if not address or address in finding.message:
            return finding
        return Finding(**{**finding.to_kwargs(), "message": f"{finding.message} [terraform: {address}]"})
    return Finding(**{**finding.to_kwargs(), "location": Location(loc["file"], loc.get("line"))})


def _combine(side_b: _Side, side_a: _Side, inv_b, inv_a, cfg, fail_on: str, timings: dict) -> DiffResult:
    loc_a, loc_b = _Locator(inv_a), _Locator(inv_b)
    t0 = time.perf_counter()
    rules = tuple(_rule_diff(rule, side_b.paths[rule.name], side_a.paths[rule.name], side_b.index, side_a.index,
                             loc_b, loc_a) for rule in cfg.forbid)
    edges = tuple(_edge_changes(side_b, side_a, loc_a, loc_b))
    new, resolved, infos, ran = (), (), (), False
    if side_a.report is not None and side_b.report is not None:
        fps_b = {f.fingerprint for f in side_b.report.findings}
        fps_a = {f.fingerprint for f in side_a.report.findings}
        new = tuple(sorted((_with_location(f, loc_a) for f in side_a.report.findings if f.fingerprint not in fps_b),
                           key=lambda f: f.sort_key()))
        resolved = tuple(sorted((f for f in side_b.report.findings if f.fingerprint not in fps_a),
                                key=lambda f: f.sort_key()))
        infos, ran = side_a.report.checks, True
    timings = {**timings, "before_s": side_b.seconds, "after_s": side_a.seconds,
               "compare_s": round(time.perf_counter() - t0, 3)}
    summary = {
        "opened": sum(len(r.opened) for r in rules), "closed": sum(len(r.closed) for r in rules),
        "escalated": sum(len(r.escalated) for r in rules), "relaxed": sum(len(r.relaxed) for r in rules),
        "findings_new": len(new), "findings_resolved": len(resolved), "edges": len(edges),
        "nodes_before": side_b.nodes, "nodes_after": side_a.nodes,
        "edges_before": side_b.edges, "edges_after": side_a.edges,
    }
    return DiffResult(rules=rules, edges=edges, findings_new=new, findings_resolved=resolved, checks=infos,
                      checks_ran=ran, fail_on=fail_on, summary=summary, timings=timings)


def _check_fail_on(fail_on: str) -> None:
    if fail_on not in _SEVERITIES:
        from iamreach.errors import InputError

        raise InputError(f"expected one of {list(_SEVERITIES)}, got {fail_on!r}", field="--fail-on")


def diff_graphs(G_before, G_after, config=None, *, checks: bool = True, fail_on: str = "high",
                max_hops: int = 8, max_paths: int = 200) -> DiffResult:
    """Diff two graphs built by :func:`iamreach.graph.builder.build_graph` (neither is modified).

    Parameters
    ----------
    G_before, G_after : networkx.MultiDiGraph
    config : Config, optional
        Forbid rules and check settings (default: the after graph's, else :meth:`Config.default`).
    checks : bool
        Also run the checks of :mod:`iamreach.analyses.checks` on both graphs and compare findings.
    fail_on : str
        Lowest severity of a new failing finding that makes :attr:`DiffResult.exit_code` 1.
    """
    from iamreach.config import Config

    _check_fail_on(fail_on)
    cfg = config or G_after.graph.get("config") or Config.default()
    opts = {"checks": checks, "max_hops": max_hops, "max_paths": max_paths}
    side_a = _summarize(G_after, cfg, **opts)
    side_b = side_a if G_before is G_after else _summarize(G_before, cfg, **opts)
    return _combine(side_b, side_a, G_before.graph.get("inventory"), G_after.graph.get("inventory"), cfg,
                    fail_on, {})


def _side_of(inv, cfg, opts: dict, jobs: int | None = None) -> _Side:
    """One side built and summarized; ``jobs``: the build's processes (1 when the other side is
    being built beside it; None: the build's default)."""
    from iamreach.graph.builder import build_graph

    return _summarize(build_graph(inv, cfg, jobs=jobs), cfg, **opts)


def _memory_allows_fork() -> bool:
    """Is there room for a second process as big as this one (which holds both inventories) three times over?

    A forked side duplicates the pages it touches and builds its own graph; when memory is short
    the sides run one after the other instead. Unknown (no /proc) counts as room.
    """
    from iamreach.graph.fanout import memory

    known = memory()
    if known is None:
        return True
    rss, avail = known
    return avail >= 3 * rss


def _fork(work):
    """Run ``work()`` (which returns a :class:`_Side`) in a forked child; return a receiver, or None
    when forking is not possible."""
    if os.environ.get("IAMREACH_DIFF_PARALLEL", "1") == "0" or (os.cpu_count() or 1) < 2:
        return None
    if not _memory_allows_fork():
        return None
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform
        return None
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", work()))
        except BaseException as exc:  # report any failure to the parent, which recomputes in-process
            send.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            send.close()

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()

    def receive(patience: float) -> _Side | None:
        """The child's summary; None when it failed or is still busy after ``patience`` seconds."""
        status, value = "error", "no answer"
        try:
            if recv.poll(patience):
                status, value = recv.recv()
        except (EOFError, OSError):
            status, value = "error", "child exited"
        finally:
            recv.close()
            if proc.is_alive() and status != "ok":
                proc.terminate()  # stuck (e.g. a lock inherited from another thread): do it here instead
            proc.join()
        return value if status == "ok" else None
    return receive


def _sides_updated(before, after, changed: frozenset[str], cfg, opts: dict, timings: dict,
                   parallel: bool = True) -> tuple[_Side, _Side]:
    """Both sides when only identity policies changed: the *before* graph is built and summarized,
    then updated in place into the *after* graph (:func:`iamreach.graph.incremental.update_graph`)
    and summarized again; one build of work. With ``parallel`` and room for it, a forked child
    summarizes the *before* graph (its copy) while this process updates and summarizes."""
    from iamreach.graph.builder import build_graph
    from iamreach.graph.incremental import can_update, update_graph

    t0 = time.perf_counter()
    G = build_graph(before, cfg)
    receive = _fork(lambda: _summarize(G, cfg, **opts)) if parallel else None
    side_b = _summarize(G, cfg, **opts) if receive is None else None
    t1 = time.perf_counter()
    if can_update(G):
        G = update_graph(G, after, changed, cfg)
        timings.update(updated=True, changed_principals=len(changed))
    else:  # a document of the before side did not parse: a full build is the exact answer
        del G
        G = build_graph(after, cfg)
    timings["update_s"] = round(time.perf_counter() - t1, 3)
    side_a = _summarize(G, cfg, **opts)
    if receive is not None:
        side_b = receive(max(60.0, 4 * (time.perf_counter() - t0)))
        timings["parallel"] = side_b is not None
        if side_b is None:  # the child failed, and this process's before graph is now the after graph
            del G
            side_b = _side_of(before, cfg, opts)
    return side_b, side_a


def diff_snapshots(before, after, config=None, *, checks: bool = True, fail_on: str = "high",
                   max_hops: int = 8, max_paths: int = 200, parallel: bool = True,
                   incremental: bool = True) -> DiffResult:
    """Build the graphs of two inventories and diff them (see :func:`diff_graphs`).

    What did not change is not redone: identical inventories (same content hash) are built and
    analysed once. When only identity policies differ (:func:`iamreach.graph.incremental.identity_changes`:
    inline policies, managed-policy documents and attachments, boundaries), the *before* graph is
    built once and updated in place into the *after* graph: only the edges the changed
    principals' own policies decide are decided again (``incremental=False`` or
    ``IAMREACH_DIFF_INCREMENTAL=0`` turns that off). Otherwise the *before* side is built and summarized in a forked process while
    this one does the *after* side (``parallel=False`` or ``IAMREACH_DIFF_PARALLEL=0`` turns that
    off; platforms without ``fork``, single cores and machines without three times this process's
    memory available run the sides one after the other), so on two cores a diff
    costs about one build. Only compact summaries cross the process boundary: the forbidden-pair
    path sets, the edge digests, the data of the edges between a rule's ends and the check
    report. ``DiffResult.timings`` records where the time went.
    """
    from iamreach.config import Config
    from iamreach.snapshot import content_hash

    _check_fail_on(fail_on)
    cfg = config or Config.default()
    opts = {"checks": checks, "max_hops": max_hops, "max_paths": max_paths}
    t0 = time.perf_counter()
    dicts = before.to_dict(), after.to_dict()
    same = content_hash(dicts[0]) == content_hash(dicts[1])
    timings: dict[str, Any] = {"reused_graph": same, "parallel": False, "updated": False}
    changed = None
    if not same and incremental and os.environ.get("IAMREACH_DIFF_INCREMENTAL", "1") != "0":
        from iamreach.graph.incremental import identity_changes

        changed = identity_changes(before, after, dicts=dicts)
    del dicts
    if same:
        side_a = side_b = _side_of(after, cfg, opts)
    elif changed is not None:
        side_b, side_a = _sides_updated(before, after, changed, cfg, opts, timings, parallel)
    else:
        receive = _fork(lambda: _side_of(before, cfg, opts, jobs=1)) if parallel else None
        side_a = _side_of(after, cfg, opts, jobs=1 if receive is not None else None)
        elapsed = time.perf_counter() - t0
        side_b = receive(max(60.0, 4 * elapsed)) if receive is not None else None
        timings["parallel"] = side_b is not None
        if side_b is None:
            side_b = _side_of(before, cfg, opts)
    timings["sides_s"] = round(time.perf_counter() - t0, 3)
    return _combine(side_b, side_a, before, after, cfg, fail_on, timings)
