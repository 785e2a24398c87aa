"""``iamreach check SNAPSHOT``: run the checks, write one report (text, json, sarif, markdown).

Exit codes: 0 when no finding is at or above ``--severity-threshold`` (default ``low``), 1 when
one is (UNKNOWN findings count unless ``--unknown-ok``), 2 for usage or input errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from iamreach.analyses.report import SEVERITIES, Report
from iamreach.errors import InputError

__all__ = ["register", "run", "build_report"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="run the checks (IAMR-001...) on a snapshot and report findings",
        description=("Run the iamreach checks on a snapshot and write one report. Exit 0: nothing at or above "
                     "the threshold; 1: findings (UNKNOWN ones too unless --unknown-ok); 2: bad input."),
    )
    p.add_argument("snapshot", help="snapshot file written by `iamreach collect` (.json or .json.gz)")
    p.add_argument("--config", metavar="FILE", help="iamreach.toml or pyproject.toml with [tool.iamreach]")
    p.add_argument("--checks", metavar="IDS", help="comma-separated check ids to run (default: all)")
    p.add_argument("--severity-threshold", metavar="LEVEL", default="low", choices=SEVERITIES,
                   help="lowest severity that makes the exit code 1 (default: low)")
    p.add_argument("--unknown-ok", action="store_true",
                   help="UNKNOWN findings (collection gaps) do not make the exit code 1")
    p.add_argument("--format", default="text", help="text (default), json, sarif or markdown")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here (atomically) instead of stdout")
    p.add_argument("--timestamp", metavar="ISO8601", help="timestamp to put in the report (default: none)")
    p.set_defaults(func=run)


def _input_uri(path: str) -> str:
    rel = os.path.relpath(os.path.abspath(path))
    return Path(rel).as_posix()


def build_report(snapshot: str, *, config_path: str | None = None, checks: str | None = None,
                 timestamp: str | None = None) -> Report:
    """Load ``snapshot``, build the graph and run the (selected) checks."""
    from iamreach import __version__
    from iamreach.analyses.checks import default_registry, parse_check_ids
    from iamreach.config import load_config
    from iamreach.graph.builder import build_graph
    from iamreach.snapshot import load

    config = load_config(config_path)
    registry = default_registry()
    ids = parse_check_ids(checks)
    if ids is not None:
        for cid in ids:
            registry.get(cid)  # unknown ids fail before the (slow) graph build
    inv = load(snapshot)
    G = build_graph(inv, config)
    source = inv.meta.get("source") if isinstance(inv.meta, dict) else None
    report = registry.run(G, config, ids=ids, tool_version=__version__, timestamp=timestamp,
                          input={"uri": _input_uri(snapshot), "kind": "snapshot", "source": source})
    return with_terraform_locations(report, inv)


def with_terraform_locations(report: Report, inv) -> Report:
    """Give each finding the Terraform file and line of its resource (or of a node on its path,
    or of an evidence reference) when the snapshot came from ``iamreach import terraform``."""
    import dataclasses

    from iamreach.analyses.report import Location
    from iamreach.loaders.terraform import terraform_location

    if not isinstance(inv.meta, dict) or not isinstance(inv.meta.get("terraform"), dict):
        return report
    cache: dict[str, Location | None] = {}

    def locate(arn: str) -> Location | None:
        if arn not in cache:
            loc = terraform_location(inv, arn) or {}
            cache[arn] = Location(str(loc["file"]), loc.get("line")) if loc.get("file") else None
        return cache[arn]

    findings = []
    for f in report.findings:
        if f.location is None:
            candidates = [f.resource, *(n for p in f.paths for n in p.nodes),
                          *(str(e.get("ref")) for e in f.evidence if e.get("ref"))]
            found = next((loc for loc in map(locate, candidates) if loc is not None), None)
            if found is not None:
                f = dataclasses.replace(f, location=found)
        findings.append(f)
    return dataclasses.replace(report, findings=tuple(findings))


def run(args: argparse.Namespace) -> int:
    from iamreach.fileio import atomic_write_bytes
    from iamreach.formatters.registry import get_formatter

    formatter = get_formatter(args.format)
    if args.checks is not None and not args.checks.strip():
        raise InputError("expected comma-separated check ids such as IAMR-001,IAMR-005", field="--checks")
    report = build_report(args.snapshot, config_path=args.config, checks=args.checks, timestamp=args.timestamp)
    if args.format == "text":
        text = formatter.render(report, color=args.output is None and sys.stdout.isatty())
    else:
        text = formatter.render(report)
    if args.output:
        atomic_write_bytes(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    failing = report.at_or_above(args.severity_threshold, include_unknown=not args.unknown_ok)
    return 1 if failing else 0
