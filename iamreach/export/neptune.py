"""``neptune-csv``: vertex and edge files for the Amazon Neptune bulk loader, queried with openCypher.

``PATH/nodes.csv`` has the header ``~id,~label,id:String,kind:String,...`` and ``PATH/edges.csv``
``~id,~from,~to,~label,id:String,...`` (the loader's ``csv`` format; Neptune's openCypher engine
queries what it loads). Multiple node labels are ``;``-separated in ``~label``. Neptune's
openCypher treats array properties as multi-valued sets, so lists (``labels``, ``actions``,
``ports``, ``subnets``) are JSON text like nested values: ``n.labels CONTAINS '"phi"'``.
Upload the directory to S3 and start a load with ``"format": "csv"``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import networkx as nx

from iamreach.export import (
    EDGE_PROPERTIES,
    LIST_PROPERTIES,
    NODE_PROPERTIES,
    edge_rows,
    json_text,
    node_rows,
    write_files,
)

__all__ = ["write", "NODES_FILE", "EDGES_FILE"]

NODES_FILE = "nodes.csv"
EDGES_FILE = "edges.csv"


def _cell(row: dict[str, Any], name: str) -> str | None:
    value = row[name]
    return json_text(value) if name in LIST_PROPERTIES else value


def _csv(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> list[str]:
    """Write ``PATH/nodes.csv`` and ``PATH/edges.csv``; return their paths."""
    out = Path(path)
    node_header = ["~id", "~label", *(f"{p}:String" for p in NODE_PROPERTIES)]
    nodes = ([r["id"], ";".join(r["_labels"]), *(_cell(r, p) for p in NODE_PROPERTIES)] for r in node_rows(G))
    edge_header = ["~id", "~from", "~to", "~label", *(f"{p}:String" for p in EDGE_PROPERTIES)]
    edges = ([r["id"], r["_start"], r["_end"], r["_type"], *(_cell(r, p) for p in EDGE_PROPERTIES)]
             for r in edge_rows(G))
    return write_files({str(out / NODES_FILE): _csv(node_header, nodes), str(out / EDGES_FILE): _csv(edge_header, edges)})
