"""``neo4j-csv``: node and relationship files for ``neo4j-admin database import full``.

``PATH/nodes.csv`` has the header ``id:ID,:LABEL,kind:string,...,labels:string[],...`` and
``PATH/relationships.csv`` ``:START_ID,:END_ID,:TYPE,id:string,...``. Arrays use the default
``;`` delimiter; nested values are JSON text. Fields may hold newlines (names from AWS), so the
import needs ``--multiline-fields=true``::

    neo4j-admin database import full --nodes=PATH/nodes.csv \\
        --relationships=PATH/relationships.csv --multiline-fields=true neo4j
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from iamreach.errors import InputError
from iamreach.export import (
    EDGE_PROPERTIES,
    LIST_PROPERTIES,
    NODE_PROPERTIES,
    edge_rows,
    node_rows,
    write_files,
)

__all__ = ["write", "NODES_FILE", "RELATIONSHIPS_FILE", "ARRAY_DELIMITER"]

NODES_FILE = "nodes.csv"
RELATIONSHIPS_FILE = "relationships.csv"
ARRAY_DELIMITER = ";"


def _header(name: str, first: str) -> str:
    if name == "id":
        return first
    return f"{name}:string[]" if name in LIST_PROPERTIES else f"{name}:string"


def _array(values: list[str], where: str) -> str:
    for v in values:
        if ARRAY_DELIMITER in v:
            raise InputError(f"array element {v!r} contains the array delimiter {ARRAY_DELIMITER!r}", field=where)
    return ARRAY_DELIMITER.join(values)


def _cell(row: dict[str, Any], name: str, where: str) -> str | None:
    value = row[name]
    return _array(value, f"{where}.{name}") if name in LIST_PROPERTIES else value


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> list[str]:
    """Write ``PATH/nodes.csv`` and ``PATH/relationships.csv``; return their paths."""
    out = Path(path)
    node_header = ["id:ID", ":LABEL", *(_header(p, "id:ID") for p in NODE_PROPERTIES[1:])]
    nodes = ([r["id"], ";".join(r["_labels"]), *(_cell(r, p, f"node {r['id']}") for p in NODE_PROPERTIES[1:])]
             for r in node_rows(G))
    edge_header = [":START_ID", ":END_ID", ":TYPE", *(_header(p, "id:string") for p in EDGE_PROPERTIES)]
    edges = ([r["_start"], r["_end"], r["_type"], *(_cell(r, p, f"edge {r['id']}") for p in EDGE_PROPERTIES)]
             for r in edge_rows(G))
    return write_files({str(out / NODES_FILE): _csv(node_header, nodes),
                        str(out / RELATIONSHIPS_FILE): _csv(edge_header, edges)})
