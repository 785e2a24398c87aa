"""IAMR-001: any path from a synthetic workload or principal to a production PHI store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import edge_fix, graph_gaps, node_attrs
from iamreach.analyses.checks.registry import check
from iamreach.analyses.paths import forbidden_paths, min_cuts_by_target
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Path

__all__ = ["forbidden_path"]

#: Witness paths kept per (source, target) pair.
MAX_PATHS_PER_PAIR = 3


def _path_text(p: Path) -> str:
    return " -> ".join([p.source, *(f"[{h.kind}] {h.target}" for h in p.hops)])


def _cut_by_target(G: Any, pairs: list[tuple[str, str]]) -> dict[str, list]:
    """One min cut per target (all its sources at once): far fewer flow problems than pairs."""
    sources: dict[str, set[str]] = defaultdict(set)
    for s, t in pairs:
        sources[t].add(s)
    return {t: list(cut) for t, cut in min_cuts_by_target(G, sources).items()}


_ACTIONABLE = ("trust_policy", "identity_policy", "resource_policy", "key_policy", "kms_grant", "sg_rule",
               "snapshot_attribute", "acl")


def _pair_fix(cut: list, paths: list[Path]) -> tuple[str, dict | None]:
    """Prefer an edge of the smallest cut that lies on this pair's paths; else the first hop of the
    shortest path that a policy statement or rule makes."""
    on_path = {(h.source, h.target) for p in paths for h in p.hops}
    chosen = [e for e in cut if (e[0], e[1]) in on_path] or cut
    if chosen:
        u, v, _, data = sorted(chosen, key=lambda e: (e[0], e[1], str(e[3].get("kind"))))[0]
        extra = f" ({len(cut)} edge(s) in the smallest cut)" if len(cut) > 1 else ""
        return f"{edge_fix(u, v, data)}: this edge is in the smallest cut that breaks every path{extra}", {
            "type": "min_cut", "ref": f"{u} -> {v}", "sid": None, "index": None,
            "detail": _detail(data.get("kind"), data.get("reason"))}
    for h in paths[0].hops if paths else ():
        if any(e.get("type") in _ACTIONABLE for e in h.evidence):
            data = {"kind": h.kind, "actions": h.actions, "evidence": h.evidence, "reason": h.reason}
            return f"{edge_fix(h.source, h.target, data)} (a hop of the shortest path)", {
                "type": "path_hop", "ref": f"{h.source} -> {h.target}", "sid": None, "index": None,
                "detail": _detail(h.kind, h.reason)}
    return "Remove one of the hops of the path (see the path's evidence)", None


def _detail(kind: object, reason: object) -> str:
    """An edge's kind and reason in one line (the reason alone when it starts with the kind).

    >>> _detail("reads", "reads s3_bucket b (s3:GetObject)"), _detail("runs_as", "lambda f runs as r")
    ('reads s3_bucket b (s3:GetObject)', 'runs_as: lambda f runs as r')
    """
    reason = str(reason or "")
    if reason.startswith(f"{kind} "):
        return reason
    return f"{kind}: {reason}".strip()


@check(
    id="IAMR-001",
    title="Synthetic workload or principal can reach a production PHI store",
    severity="critical",
    categories=("reachability", "phi", "iam", "network"),
    kinds=("ec2_instance", "lambda_function", "glue_job", "sagemaker_notebook", "sfn_state_machine",
           "role", "user", "s3_bucket", "rds_instance", "rds_cluster", "dynamodb_table",
           "rds_snapshot", "ebs_snapshot"),
    rationale="""Synthetic-data environments exist so that no real patient data is touched. Any
    chain of identity (runs_as, can_assume, escalates_to), data (reads, decrypts, unlocks),
    snapshot or network (can_connect) hops from a synthetic workload or principal to a store
    labelled phi breaks that separation, whatever the number of hops.""",
    remediation="""Break the path at the edge of the smallest cut the graph finds: usually the
    trust policy statement that lets the synthetic role assume a production role, the identity
    or resource policy statement that grants the read, or the security group rule that opens
    the database port.""",
)
def forbidden_path(G: Any, config: Any) -> Iterator[Finding]:
    meta = forbidden_path.meta
    results = forbidden_paths(G, config)
    for rule in sorted(results, key=lambda r: (r.name, r.source, r.target)):
        pathset = results[rule]
        by_pair: dict[tuple[str, str], list[Path]] = defaultdict(list)
        for p in pathset.paths:
            by_pair[(p.source, p.target)].append(p)
        cuts = _cut_by_target(G, sorted(by_pair))
        for (src, dst), plist in sorted(by_pair.items()):
            plist = sorted(plist, key=Path.sort_key)[:MAX_PATHS_PER_PAIR]
            fix, cut_ev = _pair_fix(cuts.get(dst, []), plist)
            best = plist[0]
            conditional = " (under conditions)" if best.decision == "conditional" else ""
            yield meta.finding(
                resource=dst,
                account=node_attrs(G, dst).get("account"),
                message=(f"{rule.source} {src} can reach {rule.target} store {dst} in {len(best)} hop(s)"
                         f"{conditional}: {_path_text(best)} (forbid rule {rule.name})"),
                remediation=fix,
                evidence=[cut_ev] if cut_ev else [],
                paths=plist,
                key=(rule.name, src, dst),
            )
        unknown_by_target: dict[str, list] = defaultdict(list)
        for unk in pathset.unknown:
            unknown_by_target[unk.target].append(unk)
        for dst, unks in sorted(unknown_by_target.items()):
            srcs = sorted({u.source for u in unks})
            gaps = {tuple(sorted((k, str(v)) for k, v in g.items())): dict(g) for u in unks for g in u.gaps}
            yield meta.finding(
                status="unknown",
                resource=dst,
                account=node_attrs(G, dst).get("account"),
                message=(f"UNKNOWN whether {len(srcs)} {rule.source} source(s) ({', '.join(srcs[:3])}"
                         f"{' ...' if len(srcs) > 3 else ''}) can reach {rule.target} store {dst}: "
                         f"{unks[0].reason or 'a collection gap could hide an edge'}"),
                remediation="Grant the collector the missing read permissions and collect again "
                            "(see the gaps listed in the finding)",
                gaps=[gaps[k] for k in sorted(gaps)] or graph_gaps(G),
                evidence=[{"type": "unknown", "ref": s, "sid": None, "index": None,
                           "detail": f"no path found from {s}, but gaps could hide one"} for s in srcs],
                key=(rule.name, "unknown"),
            )
