"""SARIF 2.1.0 output, acceptable to GitHub code scanning.

- one rule per check that ran, with ``properties.security-severity`` (a numeric string) and
  ``properties.tags``;
- every result has a physical location (the input file, or the Terraform file and line a
  finding carries), the ARN as a logical location and in the message text, and
  ``partialFingerprints`` from the finding's stable fingerprint;
- witness paths become ``codeFlows``: one thread flow location per node, the hop's evidence as
  its message.

Examples
--------
>>> import json
>>> from iamreach.analyses.report import Report
>>> doc = json.loads(render(Report(input={"uri": "snap.json"})))
>>> doc["version"], doc["runs"][0]["tool"]["driver"]["name"]
('2.1.0', 'iamreach')
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from iamreach.analyses.report import CheckInfo, Finding, Report
from iamreach.analyses.results import Path

__all__ = ["render", "SECURITY_SEVERITY", "LEVEL", "to_sarif", "artifact_uri"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub buckets: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_PROBLEM = {"error": "error", "warning": "warning", "note": "recommendation"}
FINGERPRINT_KEY = "iamreachFinding/v1"


def artifact_uri(path: str) -> str:
    """A relative URI reference for a file path (forward slashes, percent-encoded).

    >>> artifact_uri("out dir\\\\snap.json")
    'out%20dir/snap.json'
    """
    return quote(path.replace("\\", "/"), safe="/._-~")


def _rule_name(title: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(w[:1].upper() + w[1:] for w in words)


def _rule(c: CheckInfo) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": _rule_name(c.title),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.rationale or c.title},
        "help": {"text": f"{c.rationale}\n\nRemediation: {c.remediation}",
                 "markdown": f"{c.rationale}\n\n**Remediation:** {c.remediation}"},
        "defaultConfiguration": {"level": LEVEL[c.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[c.severity],
            "tags": ["security", *c.categories],
            "precision": "high",
            "problem.severity": _PROBLEM[LEVEL[c.severity]],
        },
    }


def _physical(f: Finding, default_uri: str) -> dict[str, Any]:
    if f.location is not None:
        return {"artifactLocation": {"uri": artifact_uri(f.location.uri)},
                "region": {"startLine": max(1, int(f.location.line or 1))}}
    return {"artifactLocation": {"uri": default_uri, "index": 0}, "region": {"startLine": 1}}


def _logical(arn: str) -> dict[str, Any]:
    name = arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or arn
    return {"name": name, "fullyQualifiedName": arn, "kind": "resource"}


def _hop_text(h) -> str:
    bits = [f"{h.source} --{h.kind}--> {h.target}"]
    if h.actions:
        bits.append("actions " + ", ".join(h.actions))
    if h.ports:
        bits.append("ports " + ", ".join(h.ports))
    if h.method:
        bits.append(f"method {h.method}")
    for e in h.evidence:
        ref = e.get("ref") or ""
        where = f" {e['sid']}" if e.get("sid") else (f" #{e['index']}" if e.get("index") is not None else "")
        bits.append(f"{e.get('type')} {ref}{where}: {e.get('detail') or ''}".strip())
    if h.reason:
        bits.append(h.reason)
    return "; ".join(bits)


def _code_flow(p: Path, physical: dict[str, Any]) -> dict[str, Any]:
    locations = [{
        "location": {"physicalLocation": physical, "logicalLocations": [_logical(p.source)],
                     "message": {"text": f"start: {p.source}"}},
        "nestingLevel": 0, "executionOrder": 1,
    }]
    for i, h in enumerate(p.hops, 2):
        locations.append({
            "location": {"physicalLocation": physical, "logicalLocations": [_logical(h.target)],
                         "message": {"text": _hop_text(h)}},
            "nestingLevel": 0, "executionOrder": i,
        })
    return {"message": {"text": f"{p.source} -> {p.target} ({len(p)} hop(s), {p.decision})"},
            "threadFlows": [{"locations": locations}]}


def _result(f: Finding, rule_index: int, default_uri: str) -> dict[str, Any]:
    physical = _physical(f, default_uri)
    text = f.message if f.resource in f.message else f"{f.message} ({f.resource})"
    result: dict[str, Any] = {
        "ruleId": f.check_id,
        "ruleIndex": rule_index,
        "kind": "fail" if f.status == "fail" else "review",
        "level": LEVEL[f.severity] if f.status == "fail" else "none",
        "message": {"text": text},
        "locations": [{"physicalLocation": physical, "logicalLocations": [_logical(f.resource)]}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "status": f.status,
            "severity": f.severity,
            "security-severity": SECURITY_SEVERITY[f.severity],
            "account": f.account,
            "resource": f.resource,
            "remediation": f.remediation,
        },
    }
    if f.snippet:
        result["properties"]["snippet"] = f.snippet
    if f.paths:
        result["codeFlows"] = [_code_flow(p, physical) for p in f.paths]
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log as a dict."""
    default_uri = artifact_uri(str(report.input.get("uri") or "iamreach-snapshot.json"))
    checks = list(report.checks)
    known = {c.id for c in checks}
    for f in report.findings:  # a report read from elsewhere may lack a check's metadata
        if f.check_id not in known:
            checks.append(CheckInfo(id=f.check_id, title=f.title, severity=f.severity, categories=f.categories))
            known.add(f.check_id)
    checks.sort(key=lambda c: c.id)
    index = {c.id: i for i, c in enumerate(checks)}
    driver: dict[str, Any] = {
        "name": "iamreach",
        "rules": [_rule(c) for c in checks],
    }
    if report.tool_version:
        driver["version"] = report.tool_version
        driver["semanticVersion"] = report.tool_version
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "artifacts": [{"location": {"uri": default_uri}}],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.check_id], default_uri) for f in report.findings],
        "properties": {"schema": "iamreach-report/1", "gaps": len(report.gaps)},
    }
    if report.timestamp:
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": report.timestamp}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: Report) -> str:
    """The SARIF log as sorted, indented JSON text."""
    return orjson.dumps(to_sarif(report), default=str,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
