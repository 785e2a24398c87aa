"""``iamreach export``: the graph of a snapshot for Neo4j, Neptune, any openCypher server, Gephi or yEd."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``export`` parser."""
    from iamreach.commands._common import add_snapshot_args
    from iamreach.export import FORMATS

    p = subparsers.add_parser(
        "export", help="export the graph (nodes, relationships, evidence) for graph databases and tools",
        description="Build the graph of SNAPSHOT and write every node and relationship with its attributes: "
                    "neo4j-csv / neptune-csv (a directory of CSV files), cypher (JSON lines of parameterized "
                    "UNWIND batches) or graphml. See docs/scale.md.")
    add_snapshot_args(p)
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="output format")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="a directory for the CSV formats, a file for cypher and graphml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; exit 0."""
    from iamreach.commands._common import load_graph
    from iamreach.export import export

    _, _, G = load_graph(args)
    files = export(G, args.format, args.output)
    print(f"iamreach: wrote {', '.join(files)} ({G.number_of_nodes()} nodes, {G.number_of_edges()} relationships)",
          file=sys.stderr)
    return 0

