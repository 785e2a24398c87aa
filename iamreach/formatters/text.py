"""The terminal report: one rich table per severity, then each finding's remediation and paths.

Rendered through a rich ``Console`` into a string with a fixed width; colour only when asked
(``color=True``, which ``iamreach check`` passes when standard output is a terminal).

Examples
--------
>>> from iamreach.analyses.report import Report
>>> "No findings" in render(Report())
True
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from iamreach.analyses.report import SEVERITIES, Finding, Report
from iamreach.analyses.results import Path

__all__ = ["render", "path_lines"]

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _console(color: bool, width: int) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=color, no_color=not color,
                   color_system="standard" if color else None, highlight=False, emoji=False,
                   force_jupyter=False, soft_wrap=False, legacy_windows=False, record=False)


def _hop_detail(h) -> str:
    bits = []
    if h.actions:
        bits.append(", ".join(h.actions[:3]) + (" ..." if len(h.actions) > 3 else ""))
    if h.ports:
        bits.append(", ".join(h.ports))
    if h.method:
        bits.append(f"method {h.method}")
    if h.decision == "conditional":
        bits.append("conditional")
    refs = sorted({str(e.get("ref")) for e in h.evidence if e.get("ref")})
    if refs:
        bits.append("evidence " + ", ".join(refs[:2]) + (" ..." if len(refs) > 2 else ""))
    return f" ({'; '.join(bits)})" if bits else ""


def path_lines(path: Path) -> list[str]:
    """A path as lines: the source, then ``--kind--> target (details)`` per hop."""
    lines = [f"    {path.source}"]
    for h in path.hops:
        lines.append(f"      --{h.kind}--> {h.target}{_hop_detail(h)}")
    return lines


def _table(severity: str, findings: list[Finding]) -> Table:
    table = Table(title=f"{severity.upper()} ({len(findings)})", title_justify="left", show_lines=False,
                  expand=True, header_style="bold")
    table.add_column("Check", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Resource", overflow="fold", ratio=2)
    table.add_column("Message", overflow="fold", ratio=3)
    for f in findings:
        table.add_row(f.check_id, Text(f.status.upper(), style=_STYLE[severity]), f.resource, f.message)
    return table


def render(report: Report, *, color: bool = False, width: int = 140) -> str:
    """The report as text (no ANSI codes unless ``color``)."""
    con = _console(color, width)
    counts = report.counts()
    fails = sum(c["fail"] for c in counts.values())
    unknowns = sum(c["unknown"] for c in counts.values())
    source = report.input.get("uri") or "the input"
    con.print(Text(f"iamreach check: {len(report.findings)} finding(s) ({fails} fail, {unknowns} unknown) "
                   f"from {len(report.checks)} check(s) on {source}", style="bold"))
    if not report.findings:
        con.print("No findings.")
    for sev in SEVERITIES:
        group = [f for f in report.findings if f.severity == sev]
        if group:
            con.print()
            con.print(_table(sev, group))
    details = [f for f in report.findings]
    if details:
        con.print()
        con.print(Text("Details", style="bold"))
    for f in details:
        con.print()
        con.print(Text(f"[{f.severity.upper()}] {f.check_id} {f.status.upper()} {f.resource}", style=_STYLE[f.severity]))
        con.print(Text(f"  fingerprint {f.fingerprint[:16]}"))
        con.print(Text(f"  fix: {f.remediation}"))
        if f.location:
            con.print(Text(f"  at {f.location.uri}" + (f":{f.location.line}" if f.location.line else "")))
        for i, p in enumerate(f.paths, 1):
            con.print(Text(f"  path {i} ({len(p)} hop(s), {p.decision}):"))
            for line in path_lines(p):
                con.print(Text(line), overflow="fold")
        if f.gaps:
            con.print(Text(f"  gaps: {len(f.gaps)} (" + "; ".join(
                f"{g.get('service')}:{g.get('api')} {g.get('error_code')}" for g in f.gaps[:3]) + ")"))
    if report.gaps:
        con.print()
        con.print(Text(f"Collection gaps: {len(report.gaps)} (answers that depend on them are UNKNOWN)",
                       style="bold"))
    return con.file.getvalue()
