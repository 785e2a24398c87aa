"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Summary counts, a table of findings, and a mermaid diagram of the worst path (the first path of
the worst finding that has one). Table cells and mermaid labels are escaped so that no ARN, tag
or reason can break the table or inject markup.

Examples
--------
>>> mermaid_label('a "b" <c> #d')
'a #quot;b#quot; #lt;c#gt; #35;d'
>>> table_cell("x|y\\nz")
'x\\\\|y z'
"""

from __future__ import annotations

from iamreach.analyses.report import SEVERITIES, Finding, Report, severity_rank
from iamreach.analyses.results import Path

__all__ = ["render", "mermaid_label", "table_cell", "mermaid"]

#: Rows shown in the findings table at most.
MAX_ROWS = 100
#: A PR comment holds at most 65536 characters: fewer rows are shown until the text fits.
MAX_CHARS = 60000
_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def mermaid_label(text: str) -> str:
    """Escape text for a double-quoted mermaid label (entity codes; no raw quotes or brackets)."""
    out = []
    for ch in " ".join(str(text).split()):
        if ch == "#":
            out.append("#35;")
        elif ch == '"':
            out.append("#quot;")
        elif ch == "<":
            out.append("#lt;")
        elif ch == ">":
            out.append("#gt;")
        elif ch in "`|{}[]()&;":
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def table_cell(text: str) -> str:
    """Escape text for a Markdown table cell (pipes, newlines, HTML)."""
    flat = " ".join(str(text).split())
    for raw, escaped in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;")):
        flat = flat.replace(raw, escaped)
    return flat


def _code(text: str) -> str:
    """A code span (pipes escaped for the table; no entities: they would show literally)."""
    flat = " ".join(str(text).split())
    if "`" in flat:
        return table_cell(flat)
    return f"`{flat.replace('|', chr(92) + '|')}`"


def mermaid(path: Path) -> str:
    """A left-to-right mermaid flowchart of ``path`` (node ids n0, n1, ...; labels escaped)."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for node in path.nodes:
        if node not in ids:
            ids[node] = f"n{len(ids)}"
            lines.append(f'  {ids[node]}["{mermaid_label(node)}"]')
    for h in path.hops:
        label = h.kind + (f": {', '.join(h.ports)}" if h.ports else "") + (f" ({h.method})" if h.method else "")
        arrow = "-.->" if h.decision == "conditional" else "-->"
        lines.append(f'  {ids[h.source]} {arrow}|"{mermaid_label(label)}"| {ids[h.target]}')
    return "\n".join(lines)


def _worst_path(report: Report) -> tuple[Finding, Path] | None:
    """The shortest allowed path of the most severe failing finding that has paths."""
    best = None
    for f in report.findings:
        for p in f.paths:
            key = (severity_rank(f.severity), f.status != "fail", *p.sort_key(), f.fingerprint)
            if best is None or key < best[0]:
                best = (key, f, p)
    return (best[1], best[2]) if best else None


def render(report: Report) -> str:
    """The report as GitHub-flavoured Markdown (at most :data:`MAX_CHARS` characters when it can)."""
    rows = MAX_ROWS
    text = _render(report, rows)
    while len(text) > MAX_CHARS and rows > 5:
        rows //= 2
        text = _render(report, rows)
    return text


def _render(report: Report, max_rows: int) -> str:
    counts = report.counts()
    fails = sum(c["fail"] for c in counts.values())
    unknowns = sum(c["unknown"] for c in counts.values())
    source = report.input.get("uri") or "the input"
    verdict = "✅ no findings" if not report.findings else f"❌ {fails} failing, ❔ {unknowns} unknown"
    out = [f"## iamreach check: {verdict}", "",
           f"Input {_code(source)}; {len(report.checks)} check(s) run; {len(report.gaps)} collection gap(s).", "",
           "| Severity | Fail | Unknown |", "|---|---:|---:|"]
    for sev in SEVERITIES:
        out.append(f"| {_ICON[sev]} {sev} | {counts[sev]['fail']} | {counts[sev]['unknown']} |")
    if report.findings:
        out += ["", "### Findings", "", "| Severity | Check | Status | Resource | Message |", "|---|---|---|---|---|"]
        for f in report.findings[:max_rows]:
            out.append(f"| {_ICON[f.severity]} {f.severity} | {f.check_id} | {f.status} | {_code(f.resource)} | "
                       f"{table_cell(f.message)} |")
        if len(report.findings) > max_rows:
            out += ["", f"… and {len(report.findings) - max_rows} more (see the JSON or SARIF report)."]
    worst = _worst_path(report)
    if worst is not None:
        f, p = worst
        out += ["", f"### Worst path ({f.check_id}, {f.severity})", "",
                f"{table_cell(p.source)} → {table_cell(p.target)} in {len(p)} hop(s), {p.decision}.", "",
                "```mermaid", mermaid(p), "```"]
    fixes = report.findings[:max_rows]
    if fixes:
        out += ["", "<details><summary>Remediation</summary>", ""]
        for f in fixes:
            out.append(f"- **{f.check_id}** {_code(f.resource)}: {table_cell(f.remediation)}")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
