"""Result types shared by the analyses and read by the formatters: hops, paths, path sets.

They are immutable; ``to_dict()`` gives the JSON contract documented in ``docs/cli.md``.

Examples
--------
>>> h = Hop("a", "b", "can_assume", "allowed", actions=("sts:AssumeRole",))
>>> p = Path((h,))
>>> p.source, p.target, p.decision
('a', 'b', 'allowed')
>>> PathSet((p,)).to_dict()["paths"][0]["hops"][0]["from"]
'a'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hop", "Path", "PathSet", "Unknown"]


@dataclass(frozen=True, slots=True)
class Hop:
    """One edge of a path: ``source`` can ``kind`` ``target``, and why."""

    source: str
    target: str
    kind: str
    decision: str = "allowed"
    actions: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    evidence: tuple[dict, ...] = ()
    conditions: tuple[dict, ...] = ()
    method: str | None = None
    reason: str = ""
    #: the summary node the edge reaches ``target`` through (an edge to a set of alike targets)
    via: str | None = None

    @classmethod
    def from_edge(cls, u: str, v: str, data: dict, via: str | None = None) -> Hop:
        return cls(
            via=via,
            source=u,
            target=v,
            kind=str(data.get("kind")),
            decision=str(data.get("decision", "allowed")),
            actions=tuple(data.get("actions", ())),
            ports=tuple(data.get("ports", ())),
            evidence=tuple(data.get("evidence", ())),
            conditions=tuple(data.get("conditions", ())),
            method=data.get("method"),
            reason=data.get("reason", ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "decision": self.decision,
            "actions": list(self.actions),
            "ports": list(self.ports),
            "evidence": [dict(e) for e in self.evidence],
            "conditions": [dict(c) for c in self.conditions],
            "method": self.method,
            "reason": self.reason,
            **({"via": self.via} if self.via is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class Path:
    """A witness path: consecutive hops from a source to a target."""

    hops: tuple[Hop, ...]

    @property
    def source(self) -> str:
        return self.hops[0].source

    @property
    def target(self) -> str:
        return self.hops[-1].target

    @property
    def decision(self) -> str:
        return "conditional" if any(h.decision == "conditional" for h in self.hops) else "allowed"

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.hops[0].source, *(h.target for h in self.hops))

    def __len__(self) -> int:
        return len(self.hops)

    def sort_key(self) -> tuple:
        return (len(self.hops), self.decision != "allowed", self.nodes, tuple(h.kind for h in self.hops))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "decision": self.decision,
            "hops": [h.to_dict() for h in self.hops],
        }


@dataclass(frozen=True, slots=True)
class Unknown:
    """A (source, target) question a collection gap could change: the answer is UNKNOWN."""

    source: str
    target: str
    gaps: tuple[dict, ...] = ()
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "reason": self.reason,
                "gaps": [dict(g) for g in self.gaps]}


@dataclass(frozen=True, slots=True)
class PathSet:
    """Witness paths (shortest first), the pairs left UNKNOWN by gaps, and the gaps themselves."""

    paths: tuple[Path, ...] = ()
    unknown: tuple[Unknown, ...] = ()
    gaps: tuple[dict, ...] = ()
    query: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self):
        return iter(self.paths)

    def pairs(self) -> list[tuple[str, str]]:
        """Sorted distinct (source, target) pairs that have at least one path."""
        return sorted({(p.source, p.target) for p in self.paths})

    def to_dict(self) -> dict[str, Any]:
        return {
            "paths": [p.to_dict() for p in self.paths],
            "unknown": [u.to_dict() for u in self.unknown],
            "gaps": [dict(g) for g in self.gaps],
        }
