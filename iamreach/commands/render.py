"""``iamreach render``: draw the graph, the paths between two selectors, or a node's neighbourhood.

The output format follows the extension of ``-o``: ``.svg`` / ``.png`` (Graphviz), ``.dot`` /
``.gv`` (the DOT source) or ``.html`` (the offline interactive view). Exit codes: 0 written,
2 bad input (unknown node, bad selector, unsupported extension, Graphviz missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

from iamreach.errors import InputError

__all__ = ["register", "run", "neighbourhood"]

_EXTENSIONS = (".svg", ".png", ".dot", ".gv", ".html")


def register(sub) -> None:
    from iamreach.commands._common import add_snapshot_args
    from iamreach.formatters.dot import OVERVIEW_THRESHOLD

    p = sub.add_parser("render", help="draw the graph, paths or a neighbourhood as SVG/PNG/DOT/HTML")
    add_snapshot_args(p)
    p.add_argument("--from", dest="source", metavar="SELECTOR", help="draw the paths from these nodes ...")
    p.add_argument("--to", dest="target", metavar="SELECTOR", help="... to these nodes (with --from)")
    p.add_argument("--around", metavar="ARN", help="draw the nodes within --hops of this node (both directions)")
    p.add_argument("--hops", type=int, default=2, metavar="N", help="radius for --around (default 2)")
    p.add_argument("--max-hops", type=int, default=8, metavar="N", help="longest path for --from/--to (default 8)")
    p.add_argument("--max-nodes", type=int, default=OVERVIEW_THRESHOLD, metavar="N",
                   help=f"above this many nodes draw an overview per account and kind (default {OVERVIEW_THRESHOLD})")
    p.add_argument("--title", metavar="TEXT", help="caption of the picture")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="output file: .svg, .png, .dot/.gv or .html")
    p.set_defaults(func=run)


def neighbourhood(G, node: str, hops: int) -> set[str]:
    """Nodes within ``hops`` edges of ``node``, following edges in either direction."""
    import networkx as nx

    if node not in G:
        raise InputError(f"no node {node!r} in the graph", field="--around")
    if hops < 0:
        raise InputError(f"expected a number of hops >= 0, got {hops}", field="--hops")
    return set(nx.single_source_shortest_path_length(G.to_undirected(as_view=True), node, cutoff=hops))


def _check_args(args) -> str:
    ext = Path(args.output).suffix.lower()
    if ext not in _EXTENSIONS:
        raise InputError(f"unsupported output extension {ext or '(none)'!r}; expected one of "
                         + ", ".join(_EXTENSIONS), field="-o")
    if (args.source is None) != (args.target is None):
        raise InputError("--from and --to go together", field="--from" if args.source is None else "--to")
    if args.around and args.source:
        raise InputError("choose either --from/--to or --around, not both", field="--around")
    if args.max_nodes < 1:
        raise InputError(f"expected a positive number, got {args.max_nodes}", field="--max-nodes")
    return ext


def run(args) -> int:
    from iamreach.commands._common import load_graph

    ext = _check_args(args)
    _, _, G = load_graph(args)
    pathset = nodes = None
    emphasis: dict[str, str] = {}
    if args.source is not None:
        from iamreach.analyses.paths import paths
        from iamreach.selectors import parse_selector

        src = parse_selector(args.source, where="--from")
        dst = parse_selector(args.target, where="--to")
        pathset = paths(G, src, dst, max_hops=args.max_hops)
        title = args.title or f"paths {args.source} -> {args.target}: {len(pathset.paths)} path(s)"
        if not pathset.paths:
            print(f"iamreach render: no path from {args.source!r} to {args.target!r}"
                  + (f" ({len(pathset.unknown)} pair(s) UNKNOWN: collection gaps)" if pathset.unknown else ""),
                  file=sys.stderr)
    elif args.around:
        nodes = neighbourhood(G, args.around, args.hops)
        emphasis = {args.around: "source"}
        title = args.title or f"{args.hops} hop(s) around {args.around}"
    else:
        title = args.title or f"iamreach graph of {args.snapshot}"
    if ext == ".html":
        from iamreach.formatters.html import write_html

        doc = write_html(args.output, G, pathset=pathset, nodes=nodes, title=title, max_nodes=args.max_nodes,
                         emphasis=emphasis)
    else:
        from iamreach.formatters.dot import build_dot
        from iamreach.formatters.graphviz_render import write_picture

        doc = build_dot(G, pathset=pathset, nodes=nodes, title=title, max_nodes=args.max_nodes, emphasis=emphasis)
        write_picture(doc.source, args.output)
    shape = f"overview of {len(doc.node_ids)} nodes in {len(doc.groups)} groups" if doc.overview \
        else f"{len(doc.node_ids)} nodes, {len(doc.edge_ids)} edges"
    print(f"iamreach render: wrote {args.output} ({shape})", file=sys.stderr)
    return 0
