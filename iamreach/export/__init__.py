"""Export the reachability graph to graph databases and graph tools.

Every format carries every node and relationship with its attributes. Node properties: ``id``
(the node id, an ARN or a documented non-ARN id), ``kind``, ``account``, ``region``, ``name``,
``tags`` (JSON text), ``labels`` (the iamreach labels), ``vpc``, ``subnets``. Relationship
properties: ``id``, ``kind``, ``decision``, ``conditions`` (JSON text), ``actions``, ``ports``,
``method``, ``reason``, ``evidence`` (JSON text). The inventory record behind a node stays in the
snapshot. Graph labels: every node is a ``Node`` plus its kind in PascalCase (``Role``,
``S3Bucket``); relationship types are the edge kind in upper case (``CAN_ASSUME``).

Formats (:data:`FORMATS`): ``neo4j-csv`` and ``neptune-csv`` (a directory of node and
relationship CSV files), ``cypher`` (JSON lines of parameterized ``UNWIND $rows`` statements)
and ``graphml``. Every file is written atomically with mode 0600. See ``docs/scale.md``.

Examples
--------
>>> kind_label("s3_bucket"), relationship_type("can_assume")
('S3Bucket', 'CAN_ASSUME')
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import networkx as nx

from iamreach.errors import InputError
from iamreach.model import EdgeKind, NodeKind

__all__ = [
    "FORMATS",
    "NODE_PROPERTIES",
    "EDGE_PROPERTIES",
    "LIST_PROPERTIES",
    "JSON_PROPERTIES",
    "export",
    "node_rows",
    "edge_rows",
    "kind_label",
    "relationship_type",
    "json_text",
    "write_files",
]

#: format name -> module under iamreach.export exposing ``write(G, path) -> list[str]``
FORMATS: dict[str, str] = {
    "neo4j-csv": "neo4j",
    "neptune-csv": "neptune",
    "cypher": "cypher",
    "graphml": "graphml",
}
NODE_PROPERTIES = ("id", "kind", "account", "region", "name", "tags", "labels", "vpc", "subnets")
EDGE_PROPERTIES = ("id", "kind", "decision", "conditions", "actions", "ports", "method", "reason", "evidence")
#: properties that are lists of strings (arrays where the format has them)
LIST_PROPERTIES = frozenset({"labels", "subnets", "actions", "ports"})
#: properties that are nested structures, always exported as JSON text
JSON_PROPERTIES = frozenset({"tags", "conditions", "evidence"})
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
NODE_LABEL = "Node"


def json_text(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces) of a nested attribute.

    >>> json_text({"b": 1, "a": ("x",)})
    '{"a":["x"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def kind_label(kind: str | None) -> str | None:
    """The graph label of a node kind (PascalCase), or ``None`` for a kind outside the vocabulary."""
    if kind not in NodeKind._value2member_map_:
        return None
    label = "".join(part.capitalize() for part in str(kind).split("_"))
    return label if _IDENT.match(label) else None


def relationship_type(kind: str | None) -> str:
    """The relationship type of an edge kind (upper case); raises for a kind outside the vocabulary."""
    if kind not in EdgeKind._value2member_map_:
        raise InputError(f"edge kind {kind!r} is not one of {[k.value for k in EdgeKind]}", field="edge.kind")
    return str(kind).upper()


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _scalar(value: Any) -> str | None:
    return None if value is None else str(value)


def node_rows(G: nx.MultiDiGraph) -> Iterator[dict[str, Any]]:
    """One dict per node, sorted by id: ``NODE_PROPERTIES`` plus ``_labels`` (graph labels)."""
    for n in sorted(G.nodes, key=str):
        d = G.nodes[n]
        kind = d.get("kind")
        extra = kind_label(kind)
        yield {
            "_labels": [NODE_LABEL, extra] if extra else [NODE_LABEL],
            "id": str(n),
            "kind": _scalar(kind),
            "account": _scalar(d.get("account")),
            "region": _scalar(d.get("region")),
            "name": _scalar(d.get("name")),
            "tags": json_text(dict(d.get("tags") or {})),
            "labels": sorted(_strings(d.get("labels"))),
            "vpc": _scalar(d.get("vpc")),
            "subnets": _strings(d.get("subnets")),
        }


def edge_rows(G: nx.MultiDiGraph) -> Iterator[dict[str, Any]]:
    """One dict per edge, sorted by (start, end, key): ``EDGE_PROPERTIES`` plus ``_start``, ``_end``, ``_type``.

    Relationship ids are ``e<n>`` in that order, stable for the same graph.
    """
    edges = sorted(G.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2])))
    for i, (u, v, _key, d) in enumerate(edges):
        kind = d.get("kind")
        yield {
            "_start": str(u),
            "_end": str(v),
            "_type": relationship_type(kind),
            "id": f"e{i}",
            "kind": _scalar(kind),
            "decision": _scalar(d.get("decision")),
            "conditions": json_text(list(d.get("conditions") or ())),
            "actions": _strings(d.get("actions")),
            "ports": _strings(d.get("ports")),
            "method": _scalar(d.get("method")),
            "reason": _scalar(d.get("reason")),
            "evidence": json_text(list(d.get("evidence") or ())),
        }


def export(G: nx.MultiDiGraph, fmt: str, path: str | os.PathLike[str]) -> list[str]:
    """Write ``G`` in format ``fmt`` to ``path``; return the files written.

    Raises :class:`~iamreach.errors.InputError` for an unknown format.
    """
    module = FORMATS.get(fmt)
    if module is None:
        raise InputError(f"unknown export format {fmt!r}; expected one of {sorted(FORMATS)}", field="--format")
    return importlib.import_module(f"iamreach.export.{module}").write(G, path)


def write_files(files: dict[str, bytes]) -> list[str]:
    """Write several files so that none is left half-written: all temporaries first, then the renames.

    Each file is written with :func:`iamreach.fileio.atomic_writer` (mode 0600); if producing or
    writing any of them fails, every temporary is removed and no destination is touched.
    """
    import contextlib

    from iamreach.fileio import atomic_writer

    with contextlib.ExitStack() as stack:
        for path, data in files.items():
            stack.enter_context(atomic_writer(path)).write(data)
    return list(files)
