"""``iamreach paths``: witness paths between two selectors, hop by hop, with evidence.

Exit codes: 0 no path (and nothing unknown), 1 at least one path, 2 bad input,
3 no path found but a collection gap could hide one (UNKNOWN — never "clean").
"""

from __future__ import annotations

import orjson

from iamreach.errors import InputError

__all__ = ["register", "run", "render_text", "render_markdown"]

FORMATS = ("text", "json", "dot", "svg", "markdown")


def register(sub) -> None:
    from iamreach.commands._common import add_snapshot_args

    p = sub.add_parser("paths", help="witness paths from one selector to another (exit 1 if any)")
    add_snapshot_args(p)
    p.add_argument("--from", dest="source", required=True, metavar="SELECTOR", help="e.g. synthetic, tag:K=V, arn:...")
    p.add_argument("--to", dest="target", required=True, metavar="SELECTOR", help="e.g. phi")
    p.add_argument("--kinds", metavar="K1,K2", help="edge kinds to traverse (default: all but descriptive ones)")
    p.add_argument("--max-hops", type=int, default=8, metavar="N")
    p.add_argument("--max-paths", type=int, default=1000, metavar="N",
                   help="cap on paths beyond one shortest witness per pair (default 1000)")
    p.add_argument("--no-conditional", action="store_true", help="ignore edges allowed only under conditions")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=run)


def _kinds(text: str | None):
    if not text:
        return None
    from iamreach.model import EdgeKind

    out = []
    for k in text.split(","):
        k = k.strip()
        try:
            out.append(EdgeKind(k))
        except ValueError:
            raise InputError(f"unknown edge kind {k!r}; expected one of {[e.value for e in EdgeKind]}",
                             field="--kinds") from None
    return out


def run(args) -> int:
    from iamreach.analyses.paths import paths
    from iamreach.commands._common import load_graph, write_output
    from iamreach.selectors import parse_selector

    src = parse_selector(args.source, where="--from")
    dst = parse_selector(args.target, where="--to")
    kinds = _kinds(args.kinds)
    _, _, G = load_graph(args)
    ps = paths(G, src, dst, kinds=kinds, max_hops=args.max_hops, max_paths=args.max_paths,
               include_conditional=not args.no_conditional)
    if args.format == "json":
        out = orjson.dumps(ps.to_dict(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()
    elif args.format in ("dot", "svg"):
        from iamreach.formatters.dot import pathset_to_dot

        out = pathset_to_dot(G, ps, title=f"{args.source} -> {args.target}")
        if args.format == "svg":
            from iamreach.formatters.graphviz_render import render

            out = render(out, "svg")
    elif args.format == "markdown":
        out = render_markdown(G, ps, args.source, args.target)
    else:
        out = render_text(G, ps, args.source, args.target)
    write_output(out, args.output)
    if ps.paths:
        return 1
    return 3 if ps.unknown else 0


def _name(G, node: str) -> str:
    d = G.nodes.get(node, {})
    return f"{d.get('kind', '?')} {d.get('name') or node}"


def _hop_line(G, h) -> str:
    what = ", ".join(h.actions or h.ports) or h.kind
    cond = " [CONDITIONAL]" if h.decision == "conditional" else ""
    method = f" via {h.method}" if h.method else ""
    return f"  --{h.kind}{method} ({what}){cond}--> {_name(G, h.target)}\n      {h.target}"


def render_text(G, ps, source: str, target: str) -> str:
    """Human-readable paths, each hop with its evidence."""
    lines = [f"iamreach paths: {source} -> {target}: {len(ps.paths)} path(s), "
             f"{len(ps.pairs())} source/target pair(s), {len(ps.unknown)} unknown"]
    for i, p in enumerate(ps.paths, 1):
        lines.append("")
        lines.append(f"[{i}] {p.decision.upper()} {len(p)} hop(s): {_name(G, p.source)} -> {_name(G, p.target)}")
        lines.append(f"  {p.source}")
        for h in p.hops:
            lines.append(_hop_line(G, h))
            for e in h.evidence[:6]:
                ref = f" {e.get('ref')}" if e.get("ref") else ""
                lines.append(f"      evidence: {e.get('type')}{ref}: {e.get('detail')}")
            for c in h.conditions[:4]:
                lines.append(f"      condition: {orjson.dumps(c, option=orjson.OPT_SORT_KEYS).decode()}")
    if ps.unknown:
        lines.append("")
        lines.append(f"UNKNOWN ({len(ps.unknown)} pair(s)): collection gaps could hide a path")
        for u in ps.unknown[:50]:
            lines.append(f"  {u.source} -> {u.target}: {u.reason}")
    if ps.gaps:
        lines.append("")
        lines.append(f"collection gaps: {len(ps.gaps)}")
        for g in ps.gaps[:20]:
            lines.append(f"  {g.get('account')} {g.get('region')} {g.get('service')}:{g.get('api')} {g.get('error_code')}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def render_markdown(G, ps, source: str, target: str) -> str:
    """Markdown for a PR comment: a table of paths and the hops of each."""
    out = [f"### iamreach paths: `{_md(source)}` → `{_md(target)}`", "",
           f"**{len(ps.paths)}** path(s), **{len(ps.pairs())}** source/target pair(s), "
           f"**{len(ps.unknown)}** unknown, **{len(ps.gaps)}** collection gap(s).", ""]
    for i, p in enumerate(ps.paths, 1):
        out.append(f"#### {i}. {p.decision} — {_md(_name(G, p.source))} → {_md(_name(G, p.target))}")
        out.append("")
        out.append("| # | from | edge | to | evidence |")
        out.append("|---|---|---|---|---|")
        for j, h in enumerate(p.hops, 1):
            ev = "; ".join(_md(e.get("detail", "")) for e in h.evidence[:3])
            what = _md(", ".join(h.actions or h.ports) or h.kind)
            out.append(f"| {j} | `{_md(h.source)}` | {h.kind} ({what}){' conditional' if h.decision != 'allowed' else ''}"
                       f" | `{_md(h.target)}` | {ev} |")
        out.append("")
    if ps.unknown:
        out.append(f"**UNKNOWN**: {len(ps.unknown)} pair(s) could be connected through data that was not collected.")
    return "\n".join(out) + "\n"
