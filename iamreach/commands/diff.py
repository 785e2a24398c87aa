"""``iamreach diff BEFORE AFTER``: what a change opens, closes and touches (issue #6).

Exit codes: 0 nothing forbidden opened; 1 the change opens a forbidden path (or makes one
unconditional) or adds a failing finding at or above ``--fail-on``; 2 bad input.
Formats: ``text`` (default), ``json`` (schema ``iamreach-diff/1``), ``sarif`` (GitHub code
scanning: one ``IAMR-D01`` result per opened pair plus the new findings of the checks, located
at the Terraform file and line when the snapshot came from ``iamreach import terraform --tf-dir``)
and ``markdown`` (a pull-request comment or ``$GITHUB_STEP_SUMMARY``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import orjson

from iamreach.analyses.diff import DiffResult, HopChange, PairChange

__all__ = ["register", "run", "RENDERERS", "render_text", "render_markdown", "render_json", "render_sarif"]

_MAX_ROWS = 50


def register(subparsers: Any) -> None:
    """Add the ``diff`` parser."""
    p = subparsers.add_parser(
        "diff", help="reachability diff of two snapshots (CI gate)",
        description="Compare two snapshots: forbidden label pairs opened and closed (with the hops that "
                    "changed), findings new and resolved, and the edges that matter to a forbidden pair. "
                    "Exit 1 when the change opens something the configuration forbids.")
    p.add_argument("before", metavar="BEFORE", help="snapshot before the change")
    p.add_argument("after", metavar="AFTER", help="snapshot after the change")
    p.add_argument("--config", metavar="FILE", help="iamreach.toml or pyproject.toml with [tool.iamreach]")
    p.add_argument("--format", choices=sorted(RENDERERS), default="text", help="output format (default: text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--fail-on", default="high", choices=("critical", "high", "medium", "low", "info"),
                   help="lowest severity of a new finding that fails the diff (default: high)")
    p.add_argument("--no-checks", action="store_true", help="compare paths and edges only, not check findings")
    p.add_argument("--max-hops", type=int, default=8, metavar="N", help="longest path considered (default: 8)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load both snapshots, diff them, write the chosen format; return the diff's exit code."""
    from iamreach.analyses.diff import diff_snapshots
    from iamreach.commands._common import write_output
    from iamreach.config import load_config
    from iamreach.errors import InputError
    from iamreach.snapshot import load

    if args.max_hops < 1:
        raise InputError(f"expected a positive number, got {args.max_hops}", field="--max-hops")
    config = load_config(args.config)
    before, after = load(args.before), load(args.after)
    result = diff_snapshots(before, after, config, checks=not args.no_checks, fail_on=args.fail_on,
                            max_hops=args.max_hops)
    write_output(RENDERERS[args.format](result, args), args.output)
    return result.exit_code


# -- text ---------------------------------------------------------------------------------------
def _where(loc: dict | None) -> str:
    if not loc:
        return ""
    addr = loc.get("terraform_address") or ""
    if loc.get("file"):
        return f"{addr} ({loc['file']}:{loc.get('line') or 1})"
    return addr


def _headline(result: DiffResult) -> str:
    s = result.summary
    verdict = "FAIL" if result.exit_code else "OK"
    bits = [f"{s['opened']} forbidden pair(s) opened", f"{s['closed']} closed"]
    if s["escalated"]:
        bits.append(f"{s['escalated']} became unconditional")
    if result.checks_ran:
        bits.append(f"{s['findings_new']} new finding(s), {s['findings_resolved']} resolved")
    bits.append(f"{s['edges']} relevant edge change(s)")
    return f"iamreach diff: {verdict}: " + ", ".join(bits)


def _hop_line(h: HopChange) -> str:
    hop = h.hop
    extra = []
    if hop.actions:
        extra.append(", ".join(hop.actions[:4]) + (" ..." if len(hop.actions) > 4 else ""))
    if hop.ports:
        extra.append("ports " + ", ".join(hop.ports))
    if hop.decision == "conditional":
        extra.append("conditional")
    mark = {"added": "[ADDED]", "removed": "[REMOVED]", "changed": "[CHANGED]"}.get(h.status, "")
    where = _where(h.location)
    line = f"{hop.source} --{hop.kind}--> {hop.target}"
    tail = " ".join(x for x in (mark, "; ".join(extra), f"<- {where}" if where else "") if x)
    return f"{line}  {tail}".rstrip()


def _pair_text(sign: str, c: PairChange) -> list[str]:
    out = [f"  {sign} {c.change.upper()} {c.pair[0]} -> {c.pair[1]} "
           f"[{c.decision_before or '-'} -> {c.decision_after or '-'}]"]
    for i, p in enumerate(c.paths):
        out.append(f"      path {i + 1}:")
        out.extend(f"        {_hop_line(h)}" for h in p)
    return out


def render_text(result: DiffResult, args: Any = None) -> str:
    """Plain text, stable order."""
    lines = [_headline(result)]
    for r in result.rules:
        lines.append(f"rule {r.name} ({r.source} -> {r.target}): {r.pairs_before} -> {r.pairs_after} pair(s)")
        for sign, changes in (("+", r.opened), ("+", r.escalated), ("-", r.closed), ("~", r.relaxed)):
            for c in changes:
                lines.extend(_pair_text(sign, c))
        for s, t in r.unknown_opened:
            lines.append(f"  ? UNKNOWN {s} -> {t} (a collection gap could hide a path)")
    if result.checks_ran:
        for sign, findings in (("+", result.findings_new), ("-", result.findings_resolved)):
            for f in findings:
                loc = f" ({f.location.uri}:{f.location.line or 1})" if f.location else ""
                lines.append(f"finding {sign} {f.check_id} {f.severity} {f.status} {f.resource}{loc}: {f.message}")
    else:
        lines.append("findings: not compared (checks not run)")
    for e in result.edges[:_MAX_ROWS]:
        sign = {"added": "+", "removed": "-", "changed": "~"}[e.change]
        where = _where(e.location)
        lines.append(f"edge {sign} {e.source} --{e.kind}--> {e.target} [{', '.join(e.rules)}]"
                     + (f" <- {where}" if where else ""))
    if len(result.edges) > _MAX_ROWS:
        lines.append(f"edge ... {len(result.edges) - _MAX_ROWS} more (see --format json)")
    return "\n".join(lines) + "\n"


# -- markdown -----------------------------------------------------------------------------------
def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _short(node: str) -> str:
    return node.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or node


def render_markdown(result: DiffResult, args: Any = None) -> str:
    """A pull-request comment / job summary."""
    icon = ":x:" if result.exit_code else ":white_check_mark:"
    out = [f"## {icon} iamreach reachability diff", "", _headline(result).split(": ", 1)[1].capitalize() + ".", ""]
    out += ["| rule | from | to | pairs before | pairs after | opened | closed |", "|---|---|---|---|---|---|---|"]
    for r in result.rules:
        out.append(f"| {_md(r.name)} | {_md(r.source)} | {_md(r.target)} | {r.pairs_before} | {r.pairs_after} "
                   f"| {len(r.opened) + len(r.escalated)} | {len(r.closed)} |")
    for r in result.rules:
        for title, changes in (("Opened", r.opened), ("Now unconditional", r.escalated), ("Closed", r.closed)):
            for c in changes[:_MAX_ROWS]:
                out += ["", f"### {title}: `{_short(c.pair[0])}` → `{_short(c.pair[1])}` ({_md(r.name)})", "",
                        f"`{c.pair[0]}` → `{c.pair[1]}`, decision {c.decision_before or '—'} → "
                        f"{c.decision_after or '—'}", "",
                        "| # | hop | change | actions / ports | Terraform |", "|---|---|---|---|---|"]
                for n, h in enumerate(c.paths[0] if c.paths else (), 1):
                    what = ", ".join(h.hop.actions[:4]) or ", ".join(h.hop.ports)
                    out.append(f"| {n} | `{_short(h.hop.source)}` —{h.hop.kind}→ `{_short(h.hop.target)}` | {h.status} "
                               f"| {_md(what)} | {_md(_where(h.location))} |")
    if result.checks_ran:
        out += ["", "### Findings", "", "| change | check | severity | resource | message |", "|---|---|---|---|---|"]
        for sign, findings in (("new", result.findings_new), ("resolved", result.findings_resolved)):
            for f in findings[:_MAX_ROWS]:
                out.append(f"| {sign} | {f.check_id} | {f.severity} | `{_md(_short(f.resource))}` | {_md(f.message)} |")
    if result.edges:
        out += ["", "### Edges that matter to a forbidden pair", "",
                "| change | from | edge | to | rules | Terraform |", "|---|---|---|---|---|---|"]
        for e in result.edges[:_MAX_ROWS]:
            out.append(f"| {e.change} | `{_short(e.source)}` | {e.kind} | `{_short(e.target)}` | "
                       f"{_md(', '.join(e.rules))} | {_md(_where(e.location))} |")
    return "\n".join(out) + "\n"


# -- json / sarif -------------------------------------------------------------------------------
def render_json(result: DiffResult, args: Any = None) -> str:
    """``DiffResult.to_dict()`` as sorted, indented JSON (schema ``iamreach-diff/1``)."""
    return orjson.dumps(result.to_dict(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode() + "\n"


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _opened_findings(result: DiffResult) -> list:
    from iamreach.analyses.report import Finding, Location

    out = []
    for r in result.rules:
        for c in (*r.opened, *r.escalated):
            hops = c.paths[0] if c.paths else ()
            changed = [h for h in hops if h.status in ("added", "changed")]
            loc = next((h.location for h in changed if h.location and h.location.get("file")), None)
            addr = next((h.location.get("terraform_address") for h in changed if h.location), None)
            via = "; ".join(f"{h.hop.source} --{h.hop.kind}--> {h.hop.target} ({h.status})" for h in changed)
            message = (f"{r.name}: {c.pair[0]} can now reach {c.pair[1]} ({c.decision_after})"
                       + (f" through {via}" if via else "") + (f"; changed by {addr}" if addr else ""))
            from iamreach.analyses.results import Path

            out.append(Finding(
                check_id="IAMR-D01", title="Change opens a forbidden path", status="fail", severity="critical",
                resource=c.pair[1], account=_account_of(c.pair[1]), message=message,
                remediation="Remove or scope the added permission, trust or network rule on the changed hop.",
                evidence=tuple(e for h in changed for e in h.hop.evidence),
                paths=(Path(tuple(h.hop for h in hops)),) if hops else (),
                key=(r.name, c.pair[0], c.change),
                location=Location(loc["file"], loc.get("line")) if loc else None,
                categories=("reachability", "diff")))
    return out


def render_sarif(result: DiffResult, args: Any = None) -> str:
    """SARIF 2.1.0: opened pairs (IAMR-D01) and new findings; rendered by the SARIF formatter."""
    from iamreach.analyses.report import CheckInfo, Report
    from iamreach.formatters import sarif

    d01 = CheckInfo(id="IAMR-D01", title="Change opens a forbidden path", severity="critical",
                    categories=("reachability", "diff"),
                    rationale="The change under review connects a workload or principal to a data store "
                              "that a forbid rule of the configuration keeps apart.",
                    remediation="Remove or scope the added permission, trust or network rule on the changed hop.")
    findings = [*_opened_findings(result), *result.findings_new]
    checks = (d01, *result.checks)
    uri = getattr(args, "after", None) or "after.json"
    report = Report(findings=tuple(sorted(findings, key=lambda f: f.sort_key())), checks=checks,
                    input={"uri": uri, "kind": "snapshot"})
    return sarif.render(report)


RENDERERS: dict[str, Callable[[DiffResult, Any], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "markdown": render_markdown,
}
