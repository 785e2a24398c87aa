"""The check registry: checks are small functions with their metadata beside them.

A check is a function ``(G, config) -> iterable of Finding`` wrapped by the :func:`check`
decorator, which attaches its :class:`CheckMeta` and turns it into a :class:`Check`. Checks are
registered into an explicit :class:`Registry`; :func:`iamreach.analyses.checks.default_registry`
builds the one ``iamreach check`` uses. Nothing is registered at import time.

Examples
--------
>>> import networkx as nx
>>> from iamreach.config import Config
>>> @check(id="X-001", title="Every role is a finding", severity="low", categories=("demo",),
...        kinds=("role",), rationale="A demo.", remediation="Delete the role.")
... def every_role(G, config):
...     for n in sorted(G):
...         yield every_role.meta.finding(resource=n, account=None, message=f"{n} is a role",
...                                       remediation="delete it")
>>> reg = Registry()
>>> _ = reg.register(every_role)
>>> G = nx.MultiDiGraph(); G.add_node("arn:aws:iam::1:role/r", kind="role")
>>> report = reg.run(G, Config.default())
>>> [f.resource for f in report.findings]
['arn:aws:iam::1:role/r']
>>> reg.run(G, Config(**{**Config.default().__dict__, "severities": {"X-001": "high"}})).findings[0].severity
'high'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from iamreach.analyses.checks._common import kind_index
from iamreach.analyses.report import SEVERITIES, CheckInfo, Finding, Location, Report
from iamreach.analyses.results import Path
from iamreach.errors import InputError
from iamreach.gcpause import paused_gc

__all__ = ["CheckMeta", "Check", "check", "Registry", "parse_check_ids"]

_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d{3}$")


@dataclass(frozen=True, slots=True)
class CheckMeta:
    """What a check is: id, title, default severity, categories, node kinds, why and how to fix.

    ``options`` documents the per-check options read from ``[checks.<ID>]`` in the config,
    as ``(name, description)`` pairs.
    """

    id: str
    title: str
    severity: str
    categories: tuple[str, ...]
    kinds: tuple[str, ...]
    rationale: str
    remediation: str
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"check id {self.id!r}: expected PREFIX-NNN such as IAMR-001")
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity {self.severity!r} not in {list(SEVERITIES)}")
        for name in ("title", "rationale", "remediation"):
            if not getattr(self, name).strip():
                raise ValueError(f"check {self.id}: {name} is empty")

    def info(self, severity: str | None = None) -> CheckInfo:
        """The report's view of this check (with an overridden severity when given)."""
        return CheckInfo(id=self.id, title=self.title, severity=severity or self.severity,
                         categories=self.categories, kinds=self.kinds, rationale=self.rationale,
                         remediation=self.remediation)

    def finding(
        self,
        *,
        resource: str,
        account: str | None,
        message: str,
        remediation: str,
        status: str = "fail",
        snippet: str | None = None,
        evidence: Iterable[dict] = (),
        paths: Iterable[Path] = (),
        gaps: Iterable[dict] = (),
        key: Iterable[str] = (),
        location: Location | None = None,
    ) -> Finding:
        """A :class:`Finding` of this check, with its default severity (the runner overrides)."""
        return Finding(
            check_id=self.id, title=self.title, status=status, severity=self.severity,
            resource=resource, account=account, message=message, remediation=remediation,
            snippet=snippet, evidence=tuple(evidence), paths=tuple(paths), gaps=tuple(gaps),
            key=tuple(key), location=location, categories=self.categories,
        )


CheckFunc = Callable[[Any, Any], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Check:
    """A check function and its metadata. Calling it runs the function."""

    meta: CheckMeta
    func: CheckFunc

    @property
    def id(self) -> str:
        return self.meta.id

    def __call__(self, G: Any, config: Any) -> Iterable[Finding]:
        return self.func(G, config)


def check(
    *,
    id: str,
    title: str,
    severity: str,
    categories: Sequence[str],
    kinds: Sequence[str],
    rationale: str,
    remediation: str,
    options: Sequence[tuple[str, str]] = (),
) -> Callable[[CheckFunc], Check]:
    """Decorator: wrap a ``(G, config) -> Iterable[Finding]`` function into a :class:`Check`."""
    meta = CheckMeta(id=id, title=title, severity=severity, categories=tuple(categories),
                     kinds=tuple(str(getattr(k, "value", k)) for k in kinds), rationale=" ".join(rationale.split()),
                     remediation=" ".join(remediation.split()), options=tuple(options))

    def wrap(func: CheckFunc) -> Check:
        return Check(meta=meta, func=func)

    return wrap


def parse_check_ids(text: str | None) -> tuple[str, ...] | None:
    """``"IAMR-001,IAMR-005"`` -> ``("IAMR-001", "IAMR-005")``; None or empty -> None.

    >>> parse_check_ids(" iamr-001 , IAMR-002")
    ('IAMR-001', 'IAMR-002')
    """
    if text is None or not text.strip():
        return None
    return tuple(p.strip().upper() for p in text.split(",") if p.strip())


class Registry:
    """An explicit, ordered set of checks keyed by id."""

    def __init__(self, checks: Iterable[Check] = ()) -> None:
        self._checks: dict[str, Check] = {}
        for c in checks:
            self.register(c)

    def register(self, c: Check) -> Check:
        """Add ``c``; a second check with the same id is a programming error (ValueError)."""
        if not isinstance(c, Check):
            raise TypeError(f"expected a Check (use the @check decorator), got {type(c).__name__}")
        if c.id in self._checks:
            raise ValueError(f"check {c.id} is registered twice")
        self._checks[c.id] = c
        return c

    def __iter__(self) -> Iterator[Check]:
        return iter(sorted(self._checks.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._checks))

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise InputError(f"unknown check {check_id!r}; known: {', '.join(self.ids())}",
                             field="--checks") from None

    def selected(self, ids: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> list[Check]:
        """The checks to run: ``ids`` (all when None) minus ``exclude``; unknown ids raise."""
        chosen = [self.get(i) for i in sorted(set(ids))] if ids is not None else list(self)
        excluded = set(exclude)
        for cid in excluded:
            if cid not in self._checks:
                raise InputError(f"unknown check {cid!r} in the exclude list; known: {', '.join(self.ids())}",
                                 field="checks.exclude")
        return [c for c in chosen if c.id not in excluded]

    def run(
        self,
        G: Any,
        config: Any,
        *,
        ids: Iterable[str] | None = None,
        input: dict | None = None,
        tool_version: str = "",
        timestamp: str | None = None,
    ) -> Report:
        """Run the selected checks on ``G`` and return the :class:`Report`.

        Severities come from ``config.severities`` when overridden; checks listed in
        ``config.exclude_checks`` do not run. Findings with the same fingerprint are merged.
        """
        severities = dict(getattr(config, "severities", {}) or {})
        for cid in severities:
            if cid not in self._checks:
                raise InputError(f"severity override for unknown check {cid!r}", field="checks.severities")
        checks = self.selected(ids, getattr(config, "exclude_checks", ()) or ())
        findings: dict[str, Finding] = {}
        infos = []
        # short-lived search state: see iamreach.gcpause; the checks only read G: index its nodes once
        with paused_gc(collect=False), kind_index(G):
            for c in checks:
                sev = severities.get(c.id, c.meta.severity)
                infos.append(c.meta.info(sev))
                for f in c(G, config):
                    if f.check_id != c.id:
                        raise ValueError(f"check {c.id} produced a finding of {f.check_id}")
                    f = Finding(**{**f.to_kwargs(), "severity": sev})
                    findings.setdefault(f.fingerprint, f)
        gaps = tuple(sorted((dict(g) for g in G.graph.get("gaps", ()) or ()),
                            key=lambda g: sorted((k, str(v)) for k, v in g.items())))
        return Report(findings=tuple(findings.values()), checks=tuple(infos), gaps=gaps,
                      input=dict(input or {}), tool_version=tool_version, timestamp=timestamp)
