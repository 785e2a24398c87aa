"""Findings and the one immutable :class:`Report` every formatter reads.

A :class:`Finding` is one failed (or UNKNOWN) check about one resource; a :class:`Report` is
the sorted tuple of findings of one run plus the metadata of the checks that ran, the gaps of
the collection and the input it was computed from. Both are frozen dataclasses of tuples;
``to_dict()`` gives the JSON contract ``iamreach-report/1`` (``docs/report.schema.json``) and
``Report.from_dict`` reads it back.

Examples
--------
>>> f = Finding(check_id="IAMR-002", title="t", status="fail", severity="high",
...             resource="arn:aws:s3:::b", account="111122223333", message="m", remediation="r",
...             key=("stmt:0",))
>>> f.fingerprint == Finding(**{**f.to_kwargs(), "message": "other"}).fingerprint
True
>>> r = Report(findings=(f,))
>>> r.counts()["high"]["fail"]
1
>>> Report.from_dict(r.to_dict()) == r
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from iamreach.analyses.results import Hop, Path

__all__ = [
    "SCHEMA",
    "SEVERITIES",
    "STATUSES",
    "severity_rank",
    "Location",
    "CheckInfo",
    "Finding",
    "Report",
    "path_from_dict",
]

#: The JSON report schema id (bump the number on an incompatible change).
SCHEMA = "iamreach-report/1"
#: Severities, worst first.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
#: Finding statuses: a check that held is not reported at all.
STATUSES: tuple[str, ...] = ("fail", "unknown")


def severity_rank(severity: str) -> int:
    """0 for ``critical`` ... 4 for ``info``; raise ``ValueError`` for anything else.

    >>> severity_rank("high") < severity_rank("low")
    True
    """
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; expected one of {list(SEVERITIES)}") from None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding comes from in a source file (a Terraform file and line, say)."""

    uri: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "line": self.line}


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """The metadata of one check, as a report carries it (severity after config overrides)."""

    id: str
    title: str
    severity: str
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    rationale: str = ""
    remediation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "categories": list(self.categories),
            "kinds": list(self.kinds),
            "rationale": self.rationale,
            "remediation": self.remediation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckInfo:
        return cls(
            id=data["id"],
            title=data["title"],
            severity=data["severity"],
            categories=tuple(data.get("categories", ())),
            kinds=tuple(data.get("kinds", ())),
            rationale=data.get("rationale", ""),
            remediation=data.get("remediation", ""),
        )


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed or UNKNOWN check about one resource.

    Parameters
    ----------
    check_id, title : str
        The check (``IAMR-001`` ...) and its title.
    status : str
        ``"fail"`` or ``"unknown"`` (a collection gap could hide the answer).
    severity : str
        One of :data:`SEVERITIES` (after config overrides).
    resource : str
        The ARN (or documented node id) the finding is about.
    account : str or None
        Its account id.
    message : str
        One or two sentences naming ``resource``.
    remediation : str
        The concrete change: the statement to remove or scope, the SG rule to delete, ...
    snippet : str or None
        A JSON snippet for the change (an SCP to attach, a statement to remove).
    evidence : tuple of dict
        Policy statements, rules, attributes: ``{"type", "ref", "sid", "index", "detail"}``.
    paths : tuple of Path
        Witness paths, shortest first.
    gaps : tuple of dict
        The collection gaps behind an UNKNOWN finding.
    key : tuple of str
        The key evidence that makes this finding distinct from others of the same check and
        resource (a statement, a target, a rule id); part of the fingerprint. Stored sorted and
        de-duplicated, so the order it is given in does not matter.
    location : Location or None
        A source file position (Terraform) when known.
    categories : tuple of str
        The check's categories.
    """

    check_id: str
    title: str
    status: str
    severity: str
    resource: str
    account: str | None
    message: str
    remediation: str
    snippet: str | None = None
    evidence: tuple[dict, ...] = ()
    paths: tuple[Path, ...] = ()
    gaps: tuple[dict, ...] = ()
    key: tuple[str, ...] = ()
    location: Location | None = None
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", tuple(sorted({str(k) for k in self.key})))
        if self.status not in STATUSES:
            raise ValueError(f"finding status {self.status!r}; expected one of {list(STATUSES)}")
        severity_rank(self.severity)

    @property
    def fingerprint(self) -> str:
        """sha256 of check id + resource + sorted key evidence (stable across runs)."""
        text = _canon([self.check_id, self.resource, list(self.key)])
        return hashlib.sha256(text.encode()).hexdigest()

    def sort_key(self) -> tuple:
        return (severity_rank(self.severity), self.status != "fail", self.check_id, self.resource,
                self.message, self.fingerprint)

    def to_kwargs(self) -> dict[str, Any]:
        """The constructor arguments (for ``Finding(**kw)`` copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "title": self.title,
            "status": self.status,
            "severity": self.severity,
            "resource": self.resource,
            "account": self.account,
            "message": self.message,
            "remediation": self.remediation,
            "snippet": self.snippet,
            "evidence": [dict(e) for e in self.evidence],
            "paths": [p.to_dict() for p in self.paths],
            "gaps": [dict(g) for g in self.gaps],
            "key": list(self.key),
            "location": self.location.to_dict() if self.location else None,
            "categories": list(self.categories),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        loc = data.get("location")
        return cls(
            check_id=data["check_id"],
            title=data["title"],
            status=data["status"],
            severity=data["severity"],
            resource=data["resource"],
            account=data.get("account"),
            message=data["message"],
            remediation=data["remediation"],
            snippet=data.get("snippet"),
            evidence=tuple(data.get("evidence", ())),
            paths=tuple(path_from_dict(p) for p in data.get("paths", ())),
            gaps=tuple(data.get("gaps", ())),
            key=tuple(data.get("key", ())),
            location=Location(loc["uri"], loc.get("line")) if loc else None,
            categories=tuple(data.get("categories", ())),
        )


def path_from_dict(data: dict[str, Any]) -> Path:
    """Rebuild a :class:`~iamreach.analyses.results.Path` from its ``to_dict()``."""
    hops = tuple(
        Hop(
            source=h["from"],
            target=h["to"],
            kind=h["kind"],
            decision=h.get("decision", "allowed"),
            actions=tuple(h.get("actions", ())),
            ports=tuple(h.get("ports", ())),
            evidence=tuple(h.get("evidence", ())),
            conditions=tuple(h.get("conditions", ())),
            method=h.get("method"),
            reason=h.get("reason", ""),
        )
        for h in data["hops"]
    )
    return Path(hops)


@dataclass(frozen=True, slots=True)
class Report:
    """The findings of one ``iamreach check`` run (sorted: worst first), immutable.

    ``input`` describes what was analysed: ``{"uri": relative path, "kind": "snapshot" |
    "plan" | "config", "content_hash": ...}``. ``timestamp`` is None unless asked for, so the
    same input gives byte-identical output.
    """

    findings: tuple[Finding, ...] = ()
    checks: tuple[CheckInfo, ...] = ()
    gaps: tuple[dict, ...] = ()
    input: dict = field(default_factory=dict)
    tool_version: str = ""
    timestamp: str | None = None

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.findings, key=Finding.sort_key))
        object.__setattr__(self, "findings", ordered)
        object.__setattr__(self, "checks", tuple(sorted(self.checks, key=lambda c: c.id)))

    def counts(self) -> dict[str, dict[str, int]]:
        """``{severity: {"fail": n, "unknown": m}}`` for every severity (zeros included)."""
        out = {s: dict.fromkeys(STATUSES, 0) for s in SEVERITIES}
        for f in self.findings:
            out[f.severity][f.status] += 1
        return out

    def at_or_above(self, threshold: str, *, include_unknown: bool = True) -> tuple[Finding, ...]:
        """Findings whose severity is ``threshold`` or worse (UNKNOWN ones unless excluded)."""
        limit = severity_rank(threshold)
        return tuple(f for f in self.findings if severity_rank(f.severity) <= limit
                     and (include_unknown or f.status == "fail"))

    def check(self, check_id: str) -> CheckInfo | None:
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "schema": SCHEMA,
            "tool": {"name": "iamreach", "version": self.tool_version},
            "timestamp": self.timestamp,
            "input": dict(self.input),
            "summary": {
                "total": len(self.findings),
                "fail": sum(c["fail"] for c in counts.values()),
                "unknown": sum(c["unknown"] for c in counts.values()),
                "by_severity": counts,
            },
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "gaps": [dict(g) for g in self.gaps],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"report schema {data.get('schema')!r}; expected {SCHEMA!r}")
        return cls(
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", ())),
            checks=tuple(CheckInfo.from_dict(c) for c in data.get("checks", ())),
            gaps=tuple(data.get("gaps", ())),
            input=dict(data.get("input") or {}),
            tool_version=(data.get("tool") or {}).get("version", ""),
            timestamp=data.get("timestamp"),
        )
