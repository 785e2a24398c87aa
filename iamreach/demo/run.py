"""``iamreach demo``: build the demo organization in an in-process AWS emulator and analyze it.

Steps: start a moto ``ThreadedMotoServer`` on 127.0.0.1 (a free port); point this process (and
only it) at the server with dummy credentials; build the Meridian Health organization
(:func:`iamreach.demo.build_demo_org`); run the real collector exactly as ``iamreach collect
--org`` does; then check, find the forbidden paths and write to the output directory:

``snapshot.json.gz``  the collected snapshot (``iamreach check snapshot.json.gz`` re-runs it)
``report.html``       the offline interactive view of the attack paths, with the findings
``attack-paths.svg``  the attack paths as a picture
``findings.sarif``    the findings for code-scanning tools
``summary.md``        a Markdown summary (findings and paths)

The emulator is :func:`iamreach.demo.emulator`: the environment variables are restored and the
server stopped afterwards, also on error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamreach.errors import IamreachError

__all__ = ["run_demo", "summary_text", "DemoResult", "OUTPUTS"]

#: The files a demo run writes, in the order they are listed in the summary.
OUTPUTS = ("report.html", "attack-paths.svg", "findings.sarif", "summary.md", "snapshot.json.gz")


@dataclass
class DemoResult:
    """What a demo run produced."""

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    findings: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    paths: int = 0
    pairs: int = 0
    unknown: int = 0
    gaps: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _collect(snapshot_path: Path, region: str) -> None:
    """The ``iamreach collect --org`` code path, in this process."""
    import argparse

    from iamreach.commands import collect

    parser = argparse.ArgumentParser(prog="iamreach")
    collect.register(parser.add_subparsers())
    args = parser.parse_args(["collect", "--org", "--regions", region, "--quiet", "-o", str(snapshot_path)])
    code = args.func(args)
    if code != 0:
        raise IamreachError(f"collection of the demo organization failed (exit {code})")


def _path_rows(G, pathsets) -> list[dict[str, Any]]:
    rows = []
    for rule, ps in pathsets.items():
        for p in ps.paths:
            rows.append({"rule": rule.name, "decision": p.decision, "hops": len(p),
                         "from": p.source, "to": p.target,
                         "route": " → ".join(f"{h.kind}" for h in p.hops)})
    return rows


def _finding_rows(report) -> list[dict[str, Any]]:
    return [{"check": f.check_id, "severity": f.severity, "status": f.status, "resource": f.resource,
             "account": f.account, "message": f.message} for f in report.findings]


def _merge(pathsets):
    from iamreach.analyses.results import PathSet

    paths = tuple(p for ps in pathsets.values() for p in ps.paths)
    unknown = tuple(u for ps in pathsets.values() for u in ps.unknown)
    gaps = next((ps.gaps for ps in pathsets.values()), ())
    return PathSet(paths=paths, unknown=unknown, gaps=gaps)


def _summary_md(result: DemoResult, report_md: str, path_rows: list[dict[str, Any]]) -> str:
    lines = ["# iamreach demo: Meridian Health", "",
             f"- findings: **{result.findings}** ({', '.join(f'{v} {k}' for k, v in result.counts.items()) or 'none'})",
             f"- forbidden paths synthetic → phi: **{result.paths}** over {result.pairs} source/target pair(s), "
             f"{result.unknown} UNKNOWN", f"- collection gaps: {result.gaps}", "",
             "Files: " + ", ".join(f"`{name}`" for name in OUTPUTS), "", "## Forbidden paths", ""]
    if path_rows:
        lines += ["| rule | decision | hops | from | to | edges |", "|---|---|---|---|---|---|"]
        from iamreach.formatters.markdown import table_cell as cell

        for r in path_rows[:50]:
            lines.append(f"| {cell(r['rule'])} | {r['decision']} | {r['hops']} | {cell(r['from'])} | {cell(r['to'])} "
                         f"| {cell(r['route'])} |")
        if len(path_rows) > 50:
            lines.append(f"\n… and {len(path_rows) - 50} more (see report.html)")
    else:
        lines.append("none")
    lines += ["", "## Check report", "", report_md]
    return "\n".join(lines) + "\n"


def run_demo(out_dir: str | os.PathLike[str] = "demo-output", *, region: str = "us-east-1",
             say: Callable[[str], None] = print) -> DemoResult:
    """Build, collect, analyze and write the demo outputs into ``out_dir``; return what was done.

    ``say`` receives the progress lines; :func:`summary_text` gives the closing summary.
    """
    from iamreach import __version__, snapshot
    from iamreach.analyses.checks import default_registry
    from iamreach.analyses.paths import forbidden_paths
    from iamreach.config import Config
    from iamreach.demo import build_demo_org, emulator
    from iamreach.fileio import atomic_write_bytes
    from iamreach.formatters import markdown, sarif
    from iamreach.formatters.dot import build_dot
    from iamreach.formatters.graphviz_render import render, write_picture
    from iamreach.formatters.html import write_html
    from iamreach.graph.builder import build_graph

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out_dir=out, files={name: out / name for name in OUTPUTS})
    render("digraph { a }", "svg")  # fail early, before the slow part, when Graphviz is missing
    t0 = time.monotonic()
    with emulator():
        say(f"iamreach demo: building the Meridian Health organization in an in-process AWS emulator ({region})")
        build_demo_org(region=region)
        result.seconds["build"] = time.monotonic() - t0
        say("iamreach demo: collecting it with the real collector (iamreach collect --org)")
        _collect(result.files["snapshot.json.gz"], region)
        result.seconds["collect"] = time.monotonic() - t0 - result.seconds["build"]
    t1 = time.monotonic()
    inv = snapshot.load(result.files["snapshot.json.gz"])
    config = Config.default()
    G = build_graph(inv, config)
    report = default_registry().run(G, config, tool_version=__version__,
                                    input={"snapshot": str(result.files["snapshot.json.gz"])})
    pathsets = forbidden_paths(G, config)
    merged = _merge(pathsets)
    result.findings = len(report.findings)
    for f in report.findings:
        result.counts[f.severity] = result.counts.get(f.severity, 0) + 1
    result.paths, result.pairs, result.unknown = len(merged.paths), len(merged.pairs()), len(merged.unknown)
    result.gaps = len(G.graph.get("gaps") or ())
    path_rows = _path_rows(G, pathsets)
    title = f"Meridian Health demo: {result.paths} forbidden path(s) synthetic → phi"
    write_html(result.files["report.html"], G, pathset=merged if merged.paths else None,
               nodes=None if merged.paths else set(), title=title,
               tables=[("Findings", _finding_rows(report)), ("Forbidden paths", path_rows)])
    write_picture(build_dot(G, pathset=merged, title=title).source, result.files["attack-paths.svg"])
    atomic_write_bytes(result.files["findings.sarif"], sarif.render(report).encode("utf-8"))
    atomic_write_bytes(result.files["summary.md"],
                       _summary_md(result, markdown.render(report), path_rows).encode("utf-8"))
    result.seconds["analyze"] = time.monotonic() - t1
    return result


def summary_text(result: DemoResult) -> str:
    """The short closing summary: counts and where to look."""
    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items()) or "none"
    lines = [
        f"iamreach demo: {result.findings} finding(s) ({counts}); "
        f"{result.paths} forbidden path(s) synthetic -> phi over {result.pairs} pair(s); "
        f"{result.unknown} UNKNOWN; {result.gaps} collection gap(s)",
        f"  open   {result.files['report.html']}   (interactive, offline: click nodes, highlight paths)",
        f"  read   {result.files['summary.md']}",
        f"  see    {result.files['attack-paths.svg']}",
        f"  upload {result.files['findings.sarif']}   (code scanning)",
        f"  replay iamreach check {result.files['snapshot.json.gz']}",
    ]
    return "\n".join(lines)
