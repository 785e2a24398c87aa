"""``graphml``: the graph for Gephi or yEd, every attribute as a string (lists and maps as JSON text)."""

from __future__ import annotations

import os

import networkx as nx

from iamreach.export import EDGE_PROPERTIES, LIST_PROPERTIES, NODE_PROPERTIES, edge_rows, json_text, node_rows
from iamreach.fileio import atomic_writer

__all__ = ["write", "to_graphml_graph"]


def _attrs(row: dict, names: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        value = row[name]
        if name in LIST_PROPERTIES:
            value = json_text(value)
        if value is not None:
            out[name] = value
    return out


def to_graphml_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``G`` holding only string attributes (no inventory records, no graph metadata)."""
    H = nx.MultiDiGraph()
    for r in node_rows(G):
        H.add_node(r["id"], **_attrs(r, NODE_PROPERTIES[1:]), graph_labels=";".join(r["_labels"]))
    for r in edge_rows(G):
        H.add_edge(r["_start"], r["_end"], key=r["id"], type=r["_type"], **_attrs(r, EDGE_PROPERTIES[1:]))
    return H


def write(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> list[str]:
    """Write ``path`` (GraphML, UTF-8) atomically; return ``[path]``."""
    H = to_graphml_graph(G)
    with atomic_writer(path) as fh:
        nx.write_graphml(H, fh, encoding="utf-8", prettyprint=False)
    return [str(path)]
