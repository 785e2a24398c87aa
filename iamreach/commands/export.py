"""``iamreach export``: the graph of a snapshot for Neo4j, Neptune, any openCypher server, Gephi or yEd."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from iamreach.errors import InputError

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
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="shard the graph build over this Dask cluster (large inventories only; iamreach[scale])")
    p.add_argument("--workers", type=int, metavar="N",
                   help="shard the graph build over a local Dask cluster of N process workers (large inventories only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; exit 0."""
    from iamreach.export import export

    G = _graph(args)
    files = export(G, args.format, args.output)
    print(f"iamreach: wrote {', '.join(files)} ({G.number_of_nodes()} nodes, {G.number_of_edges()} relationships)",
          file=sys.stderr)
    return 0


def _graph(args: argparse.Namespace) -> Any:
    """The graph of the snapshot; sharded over Dask when asked and the inventory is large enough to gain."""
    from iamreach.commands._common import load_graph

    if args.scheduler is None and args.workers is None:
        return load_graph(args)[2]
    from iamreach.config import load_config
    from iamreach.graph.builder import build_graph
    from iamreach.scale.dask_build import MIN_PRINCIPALS, build_graph_distributed
    from iamreach.scale.dask_collect import dask_client
    from iamreach.snapshot import load

    if args.scheduler is not None and args.workers is not None:
        raise InputError("give exactly one of --scheduler and --workers", field="--scheduler/--workers")
    if args.workers is not None and args.workers < 1:
        raise InputError("expected a positive number of workers", field="--workers")
    config = load_config(args.config)
    inv = load(args.snapshot)
    if len(inv.principals) < MIN_PRINCIPALS:
        print(f"iamreach: {len(inv.principals)} principals: building locally (the cluster pays from "
              f"{MIN_PRINCIPALS})", file=sys.stderr)
        return build_graph(inv, config)
    with dask_client(scheduler=args.scheduler, workers=args.workers) as client:
        return build_graph_distributed(inv, config, client=client)
