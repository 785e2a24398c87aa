"""``cypher``: parameterized ``UNWIND $rows`` batches for any openCypher server, as JSON lines.

Each line of the output is one statement object ``{"statement": ..., "parameters": {"rows": [...]}}``,
the shape the Neo4j HTTP API, the Neo4j and FalkorDB drivers and Neptune's openCypher endpoint
take. Every value from AWS (ids, names, tags, evidence) travels in ``parameters`` only; the
statement text holds nothing but the fixed vocabulary (``Node``, the PascalCase kind label, the
upper-case relationship type). The first line creates the ``Node(id)`` index and is marked
``"schema": true`` (skip it on servers without ``CREATE INDEX``, such as Neptune). Run the lines
in order; re-running is idempotent (``MERGE`` on ``id``).

Examples
--------
>>> statements_for_nodes([{"_labels": ["Node", "Role"], "id": "a", "kind": "role", "account": None,
...     "region": None, "name": "a", "tags": "{}", "labels": [], "vpc": None, "subnets": []}])[0]["statement"]
'UNWIND $rows AS row MERGE (n:Node:Role {id: row.id}) SET n += row.props'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx
import orjson

from iamreach.errors import InputError
from iamreach.export import EDGE_PROPERTIES, NODE_PROPERTIES, edge_rows, node_rows
from iamreach.fileio import atomic_writer

__all__ = ["write", "statements", "statements_for_nodes", "statements_for_edges", "read_statements",
           "INDEX_STATEMENT", "BATCH", "FORBIDDEN_PAIRS_QUERY", "forbidden_pairs_parameters"]

BATCH = 500
INDEX_STATEMENT = "CREATE INDEX FOR (n:Node) ON (n.id)"
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _checked(identifier: str) -> str:
    """Only vocabulary identifiers reach statement text; anything else is a bug, never data."""
    if not _IDENT.match(identifier):
        raise InputError(f"{identifier!r} is not a plain identifier", field="label/type")
    return identifier


def _batches(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def statements_for_nodes(rows: Iterable[dict[str, Any]], *, size: int = BATCH) -> list[dict[str, Any]]:
    """``MERGE`` batches, one statement per label set."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r["_labels"]), []).append(
            {"id": r["id"], "props": {p: r[p] for p in NODE_PROPERTIES}})
    out = []
    for labels in sorted(groups):
        text = ":".join(_checked(lab) for lab in labels)
        stmt = f"UNWIND $rows AS row MERGE (n:{text} {{id: row.id}}) SET n += row.props"
        out += [{"statement": stmt, "parameters": {"rows": b}} for b in _batches(groups[labels], size)]
    return out


def statements_for_edges(rows: Iterable[dict[str, Any]], *, size: int = BATCH) -> list[dict[str, Any]]:
    """``MATCH`` both ends by id, ``MERGE`` the relationship by its id; one statement per type."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["_type"], []).append(
            {"start": r["_start"], "end": r["_end"], "id": r["id"], "props": {p: r[p] for p in EDGE_PROPERTIES}})
    out = []
    for rtype in sorted(groups):
        stmt = ("UNWIND $rows AS row MATCH (a:Node {id: row.start}) MATCH (b:Node {id: row.end}) "
                f"MERGE (a)-[r:{_checked(rtype)} {{id: row.id}}]->(b) SET r += row.props")
        out += [{"statement": stmt, "parameters": {"rows": b}} for b in _batches(groups[rtype], size)]
    return out


def statements(G: nx.MultiDiGraph, *, size: int = BATCH) -> list[dict[str, Any]]:
    """Every statement object, in the order to run them: index, nodes, relationships."""
    return [{"statement": INDEX_STATEMENT, "parameters": {}, "schema": True},
            *statements_for_nodes(node_rows(G), size=size), *statements_for_edges(edge_rows(G), size=size)]


def write(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> list[str]:
    """Write the JSON-lines statement file atomically; return ``[path]``."""
    with atomic_writer(path) as fh:
        for stmt in statements(G):
            fh.write(orjson.dumps(stmt, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
    return [str(path)]


def read_statements(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The statement objects of an export file, one by one (for a loader loop)."""
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"line {n} is not JSON ({exc})", file=str(path)) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("statement"), str):
                raise InputError(f"line {n}: expected an object with a statement", file=str(path))
            yield obj


def _traversable_types() -> str:
    from iamreach.analyses.paths import NON_TRAVERSABLE
    from iamreach.model import EdgeKind

    return "|".join(sorted(k.value.upper() for k in EdgeKind if k.value not in NON_TRAVERSABLE))


#: "Which synthetic workloads and principals reach PHI?" on an exported graph: the pairs
#: ``iamreach paths`` / ``forbidden_paths`` report (8 hops, descriptive edges not traversed, paths
#: may pass through other targets, such as a PHI secret unlocking a PHI database). Parameters: ``source_label``, ``target_label``, ``actor_kinds``,
#: ``target_kinds`` (see :func:`forbidden_pairs_parameters`).
FORBIDDEN_PAIRS_QUERY = (
    "MATCH (s:Node) WHERE $source_label IN s.labels AND s.kind IN $actor_kinds\n"
    f"MATCH (s)-[:{_traversable_types()}*1..8]->(t:Node)\n"
    "WHERE $target_label IN t.labels AND t.kind IN $target_kinds AND t <> s\n"
    "RETURN DISTINCT s.id AS source, t.id AS target ORDER BY source, target"
)


def forbidden_pairs_parameters(source_label: str = "synthetic", target_label: str = "phi") -> dict[str, Any]:
    """Parameters of :data:`FORBIDDEN_PAIRS_QUERY` for one forbid rule (default synthetic -> phi)."""
    from iamreach.analyses.paths import ACTOR_KINDS, TARGET_KINDS

    return {"source_label": source_label, "target_label": target_label,
            "actor_kinds": sorted(ACTOR_KINDS), "target_kinds": sorted(TARGET_KINDS)}
