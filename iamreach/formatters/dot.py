r"""Graph and path sets as Graphviz DOT source.

Every node gets an opaque id (``n0``, ``n1`` ...) and its ARN as the visible label, so no
AWS-supplied string ever becomes DOT syntax: names, tags and evidence only appear inside
quoted, escaped strings. Nodes are clustered by account, then VPC, then subnet; shape and
colour follow the node kind and its ``synthetic`` / ``production`` / ``phi`` labels; edges are
labelled with their kind and decisive actions (or ports, or privilege-escalation method);
conditional edges are dashed; tooltips carry the reason and the evidence.

A graph with more nodes than ``max_nodes`` is drawn as an *overview*: one node per
(account, kind) with a count, one edge per (group, group, edge kind) with a count.

Examples
--------
>>> import networkx as nx
>>> G = nx.MultiDiGraph()
>>> G.add_node("arn:aws:iam::1:role/a", kind="role", account="1", labels=("synthetic",))
>>> G.add_node("arn:aws:s3:::b", kind="s3_bucket", account="2", labels=("phi",))
>>> _ = G.add_edge("arn:aws:iam::1:role/a", "arn:aws:s3:::b", kind="reads",
...                decision="conditional", actions=("s3:GetObject",))
>>> src = to_dot(G)
>>> 'n0 -> n1' in src and 'style="dashed"' in src
True
>>> print(escape('say "hi" \\ <b> & co'))
say \"hi\" \\ <b> &amp; co
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from iamreach.analyses.results import PathSet

__all__ = [
    "DotDocument",
    "build_dot",
    "to_dot",
    "pathset_to_dot",
    "escape",
    "node_label",
    "edge_label",
    "edge_tooltip",
    "OVERVIEW_THRESHOLD",
    "KIND_SHAPES",
    "EDGE_COLOURS",
    "LABEL_COLOURS",
]

#: Above this many nodes a picture becomes an overview per account and kind.
OVERVIEW_THRESHOLD = 300

_MAX_TEXT = 160  # longest single string we put in a label
_MAX_TOOLTIP = 1500

#: Graphviz shape per node kind (unknown kinds get ``box``).
KIND_SHAPES: dict[str, str] = {
    "account": "house",
    "account_principals": "doubleoctagon",
    "user": "ellipse",
    "group": "tab",
    "role": "ellipse",
    "instance_profile": "component",
    "service_principal": "septagon",
    "anonymous": "diamond",
    "internet": "diamond",
    "ec2_instance": "box3d",
    "lambda_function": "box3d",
    "glue_job": "box3d",
    "glue_connection": "component",
    "glue_dev_endpoint": "box3d",
    "sagemaker_notebook": "box3d",
    "sfn_state_machine": "box3d",
    "s3_bucket": "cylinder",
    "rds_instance": "cylinder",
    "rds_cluster": "cylinder",
    "dynamodb_table": "cylinder",
    "secret": "note",
    "kms_key": "hexagon",
    "ebs_snapshot": "folder",
    "rds_snapshot": "folder",
    "rds_cluster_snapshot": "folder",
    "cloudtrail_trail": "note",
}

#: Edge colour per edge kind.
EDGE_COLOURS: dict[str, str] = {
    "member_of": "#7f8c8d",
    "runs_as": "#7f8c8d",
    "can_assume": "#2e6fd8",
    "escalates_to": "#c0392b",
    "reads": "#1e8449",
    "writes": "#d68910",
    "administers": "#8e44ad",
    "decrypts": "#a0522d",
    "unlocks": "#a0522d",
    "can_connect": "#117a8b",
    "exposes": "#c0392b",
    "shared_with": "#c71585",
    "snapshot_of": "#7f8c8d",
}

#: Fill colour per label, first match wins (phi before production before synthetic).
LABEL_COLOURS: tuple[tuple[str, str], ...] = (
    ("phi", "#f5b7b1"),
    ("production", "#fde3c0"),
    ("synthetic", "#c9e4fb"),
)
_DEFAULT_FILL = "#f4f6f7"
_CLUSTER_FILLS = {"production": "#fff7ee", "synthetic": "#f0f7ff", "phi": "#fdf0ef"}

Edge = tuple[str, str, Mapping[str, Any]]


def escape(text: Any, *, limit: int = _MAX_TEXT) -> str:
    r"""Make any value safe inside a double-quoted DOT string.

    Backslashes and quotes are escaped, ``&`` becomes ``&amp;`` (Graphviz would otherwise read
    entities), control characters become spaces, unpaired surrogates are replaced and the text
    is cut at ``limit`` characters.

    Examples
    --------
    >>> print(escape('a"b'))
    a\"b
    >>> escape("x\ny")
    'x y'
    """
    s = "" if text is None else str(text)
    s = s.encode("utf-8", "replace").decode("utf-8")
    s = "".join(ch if ch.isprintable() else " " for ch in s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def _lines(*parts: Any, limit: int = _MAX_TEXT) -> str:
    """Escape each part and join them with DOT's centred line break ``\\n``."""
    return "\\n".join(escape(p, limit=limit) for p in parts if p not in (None, ""))


def _fill(labels: Iterable[str]) -> str:
    labels = set(labels or ())
    for name, colour in LABEL_COLOURS:
        if name in labels:
            return colour
    return _DEFAULT_FILL


def node_label(node: str, attrs: Mapping[str, Any]) -> list[str]:
    """The lines shown in a node: ``kind: name`` then the ARN (node id)."""
    kind = str(attrs.get("kind") or "node")
    name = attrs.get("name")
    head = f"{kind}: {name}" if name and name != node else kind
    return [head, node]


def edge_label(data: Mapping[str, Any], *, max_actions: int = 2) -> str:
    """Short edge text: kind, then decisive actions (or ports, or escalation method)."""
    kind = str(data.get("kind") or "")
    actions = list(data.get("actions") or ())
    detail = ""
    if data.get("method"):
        detail = str(data["method"])
    elif actions:
        shown = actions[:max_actions]
        detail = ", ".join(str(a) for a in shown)
        if len(actions) > max_actions:
            detail += f" +{len(actions) - max_actions}"
    elif data.get("ports"):
        detail = ", ".join(str(p) for p in data["ports"])
    if data.get("decision") == "conditional":
        kind += " (if)"
    return f"{kind}\n{detail}" if detail else kind


def edge_tooltip(data: Mapping[str, Any]) -> list[str]:
    """Tooltip lines: reason, each evidence item, each condition."""
    lines = [str(data.get("reason") or data.get("kind") or "")]
    for ev in data.get("evidence") or ():
        if not isinstance(ev, Mapping):
            lines.append(str(ev))
            continue
        where = str(ev.get("ref") or "")
        if ev.get("sid"):
            where += f" sid={ev['sid']}"
        elif ev.get("index") is not None:
            where += f" #{ev['index']}"
        lines.append(f"{ev.get('type', 'evidence')}: {where} {ev.get('detail') or ''}".strip())
    for cond in data.get("conditions") or ():
        lines.append(f"condition: {cond}")
    return lines


def _tooltip(lines: list[str]) -> str:
    text = "\\n".join(escape(line, limit=400) for line in lines if line)
    return text[:_MAX_TOOLTIP]


@dataclass
class DotDocument:
    """DOT source plus the mapping between graph objects and the opaque DOT/SVG ids.

    Attributes
    ----------
    source : str
        The DOT text.
    node_ids : dict
        Graph node id (ARN) -> DOT id (``n0``...). In an overview: ARN -> group id.
    edge_ids : dict
        DOT edge id (``e0``...) -> (source DOT id, target DOT id, edge data).
    overview : bool
        True when the picture groups nodes per account and kind.
    groups : dict
        Overview only: group id -> {"account", "kind", "count", "labels", "members"}.
    """

    source: str
    node_ids: dict[str, str] = field(default_factory=dict)
    edge_ids: dict[str, tuple[str, str, Mapping[str, Any]]] = field(default_factory=dict)
    overview: bool = False
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)


def _account_names(G: nx.MultiDiGraph) -> dict[str, str]:
    accounts = G.graph.get("accounts") or {}
    return {str(k): str(v.get("name") or "") for k, v in accounts.items() if isinstance(v, Mapping)}


def _account_labels(G: nx.MultiDiGraph, account: str) -> tuple[str, ...]:
    node = f"arn:aws:iam::{account}:root"
    if node in G:
        return tuple(G.nodes[node].get("labels") or ())
    return ()


def _cluster_fill(labels: Iterable[str]) -> str:
    for name in ("phi", "production", "synthetic"):
        if name in labels:
            return _CLUSTER_FILLS[name]
    return "#ffffff"


def _graph_header(title: str | None, *, rankdir: str = "LR") -> list[str]:
    out = [
        "digraph iamreach {",
        f'  graph [rankdir="{rankdir}", fontname="Helvetica", fontsize=11, compound=true, '
        'nodesep=0.25, ranksep=0.6, tooltip=" ", newrank=true];',
        '  node [fontname="Helvetica", fontsize=9, style="filled", penwidth=1.2];',
        '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];',
    ]
    if title:
        out.append(f'  label="{escape(title, limit=200)}"; labelloc="t";')
    return out


def _node_stmt(nid: str, node: str, attrs: Mapping[str, Any], emphasis: str | None) -> str:
    kind = str(attrs.get("kind") or "")
    labels = tuple(attrs.get("labels") or ())
    shape = KIND_SHAPES.get(kind, "box")
    colour = "#d35400" if "production" in labels else "#34495e"
    tip = [f"{kind}: {node}"]
    if labels:
        tip.append("labels: " + ", ".join(map(str, labels)))
    if attrs.get("account"):
        tip.append(f"account: {attrs['account']}")
    extra = ""
    if emphasis == "source":
        extra = ", penwidth=3"
    elif emphasis == "target":
        extra = ", penwidth=3, peripheries=2"
    classes = " ".join(["k-" + _css_token(kind), *("l-" + _css_token(lb) for lb in labels)])
    return (
        f'  {nid} [id="{nid}", class="{classes}", shape="{shape}", label="{_lines(*node_label(node, attrs))}", '
        f'fillcolor="{_fill(labels)}", color="{colour}", tooltip="{_tooltip(tip)}"{extra}];'
    )


def _css_token(text: Any) -> str:
    """A class-name-safe token (letters, digits, ``-`` and ``_`` only)."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in str(text))[:40]


def _edge_stmt(eid: str, su: str, sv: str, data: Mapping[str, Any], *, count: int | None = None) -> str:
    kind = str(data.get("kind") or "")
    colour = EDGE_COLOURS.get(kind, "#555555")
    style = "dashed" if data.get("decision") == "conditional" else "solid"
    width = 2.0 if kind in ("escalates_to", "exposes") else 1.2
    if count is not None:
        label = escape(f"{kind} ×{count}")
        tip = escape(f"{count} {kind} edge(s)")
        width = min(1.0 + count ** 0.5 / 2, 5.0)
    else:
        label = _lines(*edge_label(data).split("\n"))
        tip = _tooltip(edge_tooltip(data))
    return (
        f'  {su} -> {sv} [id="{eid}", class="ek-{_css_token(kind)}", label="{label}", color="{colour}", '
        f'fontcolor="{colour}", style="{style}", penwidth={width:.1f}, tooltip="{tip}", labeltooltip="{tip}"];'
    )


def _placement(attrs: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    account = attrs.get("account")
    vpc = attrs.get("vpc")
    subnets = tuple(attrs.get("subnets") or ())
    subnet = subnets[0] if vpc and len(subnets) == 1 else None
    return (str(account) if account else None, str(vpc) if vpc else None, str(subnet) if subnet else None)


def _emit_clusters(
    G: nx.MultiDiGraph, node_stmts: dict[str, tuple[tuple[str | None, str | None, str | None], str]]
) -> list[str]:
    """Nest node statements into account / VPC / subnet clusters."""
    tree: dict[str | None, dict[str | None, dict[str | None, list[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for _nid, (place, stmt) in node_stmts.items():
        account, vpc, subnet = place
        tree[account][vpc][subnet].append(stmt)
    names = _account_names(G)
    out: list[str] = []
    counter = 0
    for account in sorted(tree, key=lambda a: (a is not None, a or "")):
        vpcs = tree[account]
        if account is None:
            for vpc_map in vpcs.values():
                for stmts in vpc_map.values():
                    out.extend(stmts)
            continue
        labels = _account_labels(G, account)
        title = f"account {account}" + (f" ({names[account]})" if names.get(account) else "")
        if labels:
            title += " [" + ", ".join(labels) + "]"
        out.append(f"  subgraph cluster_{counter} {{")
        counter += 1
        out.append(f'    label="{escape(title)}"; style="rounded,filled"; fillcolor="{_cluster_fill(labels)}"; '
                   'color="#95a5a6"; fontsize=12;')
        for vpc in sorted(vpcs, key=lambda v: (v is not None, v or "")):
            subnets = vpcs[vpc]
            if vpc is not None:
                out.append(f"    subgraph cluster_{counter} {{")
                counter += 1
                out.append(f'      label="{escape("VPC " + vpc)}"; style="dashed"; color="#5d6d7e"; fillcolor="none";')
            for subnet in sorted(subnets, key=lambda s: (s is not None, s or "")):
                stmts = subnets[subnet]
                if subnet is not None:
                    out.append(f"      subgraph cluster_{counter} {{")
                    counter += 1
                    out.append(f'        label="{escape("subnet " + subnet)}"; style="dotted"; color="#7f8c8d";')
                out.extend("      " + s.strip() for s in stmts)
                if subnet is not None:
                    out.append("      }")
            if vpc is not None:
                out.append("    }")
        out.append("  }")
    return out


def _detailed(
    G: nx.MultiDiGraph,
    nodes: list[str],
    edges: list[Edge],
    *,
    title: str | None,
    emphasis: Mapping[str, str],
) -> DotDocument:
    node_ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    stmts: dict[str, tuple[tuple[str | None, str | None, str | None], str]] = {}
    for n in nodes:
        attrs = G.nodes[n] if n in G else {"kind": "node"}
        stmts[node_ids[n]] = (_placement(attrs), _node_stmt(node_ids[n], n, attrs, emphasis.get(n)))
    lines = _graph_header(title)
    lines.extend(_emit_clusters(G, stmts))
    edge_ids: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for i, (u, v, data) in enumerate(edges):
        eid = f"e{i}"
        edge_ids[eid] = (node_ids[u], node_ids[v], data)
        lines.append(_edge_stmt(eid, node_ids[u], node_ids[v], data))
    lines.append("}")
    return DotDocument("\n".join(lines) + "\n", node_ids, edge_ids, overview=False)


def _group_key(attrs: Mapping[str, Any], by_kind: bool) -> tuple[str, str]:
    account = str(attrs.get("account") or "global")
    return (account, str(attrs.get("kind") or "node")) if by_kind else (account, "*")


def _overview(
    G: nx.MultiDiGraph, nodes: list[str], edges: list[Edge], *, title: str | None, max_nodes: int
) -> DotDocument:
    """One node per (account, kind); if that is still too many, one per account."""
    by_kind = True
    keys = {n: _group_key(G.nodes[n] if n in G else {}, True) for n in nodes}
    if len(set(keys.values())) > max_nodes:
        by_kind = False
        keys = {n: _group_key(G.nodes[n] if n in G else {}, False) for n in nodes}
    ordered = sorted(set(keys.values()))
    gid = {k: f"g{i}" for i, k in enumerate(ordered)}
    members: dict[str, list[str]] = defaultdict(list)
    label_counts: dict[str, Counter] = defaultdict(Counter)
    for n in nodes:
        g = gid[keys[n]]
        members[g].append(n)
        label_counts[g].update((G.nodes[n].get("labels") or ()) if n in G else ())
    groups: dict[str, dict[str, Any]] = {}
    stmts: dict[str, tuple[tuple[str | None, str | None, str | None], str]] = {}
    for (account, kind), g in gid.items():
        count = len(members[g])
        labels = tuple(sorted(label_counts[g]))
        groups[g] = {"account": account, "kind": kind, "count": count,
                     "labels": {k: label_counts[g][k] for k in labels}, "members": members[g][:200]}
        text = [f"{kind} ×{count}" if by_kind else f"{count} nodes"]
        text += [f"{lb}: {label_counts[g][lb]}" for lb in labels]
        shape = KIND_SHAPES.get(kind, "box")
        colour = "#d35400" if "production" in labels else "#34495e"
        tip = _tooltip([f"{count} {kind} node(s) in account {account}", *members[g][:15]])
        stmt = (f'  {g} [id="{g}", class="group k-{_css_token(kind)}", shape="{shape}", label="{_lines(*text)}", '
                f'fillcolor="{_fill(labels)}", color="{colour}", tooltip="{tip}"];')
        stmts[g] = ((None if account == "global" else account, None, None), stmt)
    agg: Counter = Counter()
    cond: dict[tuple[str, str, str], bool] = {}
    for u, v, data in edges:
        key = (gid[keys[u]], gid[keys[v]], str(data.get("kind") or ""))
        agg[key] += 1
        cond[key] = cond.get(key, True) and data.get("decision") == "conditional"
    lines = _graph_header(title)
    lines.extend(_emit_clusters(G, stmts))
    edge_ids: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for i, (key, count) in enumerate(sorted(agg.items())):
        su, sv, kind = key
        data = {"kind": kind, "decision": "conditional" if cond[key] else "allowed", "count": count}
        eid = f"e{i}"
        edge_ids[eid] = (su, sv, data)
        lines.append(_edge_stmt(eid, su, sv, data, count=count))
    lines.append("}")
    node_ids = {n: gid[keys[n]] for n in nodes}
    return DotDocument("\n".join(lines) + "\n", node_ids, edge_ids, overview=True, groups=groups)


def _graph_edges(G: nx.MultiDiGraph, nodes: set[str]) -> list[Edge]:
    out = [(u, v, d) for u, v, _k, d in G.edges(keys=True, data=True) if u in nodes and v in nodes]
    out.sort(key=lambda e: (e[0], e[1], str(e[2].get("kind"))))
    return out


def _pathset_edges(pathset: PathSet) -> tuple[list[str], list[Edge], dict[str, str]]:
    nodes: dict[str, None] = {}
    edges: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    emphasis: dict[str, str] = {}
    for path in pathset.paths:
        for hop in path.hops:
            nodes.setdefault(hop.source)
            nodes.setdefault(hop.target)
            edges.setdefault((hop.source, hop.target, hop.kind), {
                "kind": hop.kind, "decision": hop.decision, "actions": hop.actions, "ports": hop.ports,
                "evidence": hop.evidence, "conditions": hop.conditions, "method": hop.method,
                "reason": hop.reason,
            })
        emphasis[path.source] = "source"
        emphasis.setdefault(path.target, "target")
    edge_list = [(u, v, d) for (u, v, _k), d in sorted(edges.items(), key=lambda kv: kv[0])]
    return sorted(nodes), edge_list, emphasis


def build_dot(
    G: nx.MultiDiGraph,
    *,
    nodes: Iterable[str] | None = None,
    pathset: PathSet | None = None,
    title: str | None = None,
    max_nodes: int = OVERVIEW_THRESHOLD,
    emphasis: Mapping[str, str] | None = None,
) -> DotDocument:
    """Build DOT for the whole graph, an induced subgraph (``nodes``) or a path set.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The iamreach graph (node and edge attributes per :mod:`iamreach.model`).
    nodes : iterable of str, optional
        Draw only these nodes and the edges between them.
    pathset : PathSet, optional
        Draw exactly the hops of these paths (sources bold, targets double-bordered).
    title : str, optional
        Caption on top of the picture.
    max_nodes : int
        Above this many nodes, draw an overview per account and kind instead.
    emphasis : mapping, optional
        Node id -> ``"source"`` or ``"target"`` to emphasise.

    Returns
    -------
    DotDocument
    """
    if pathset is not None:
        node_list, edges, emph = _pathset_edges(pathset)
    else:
        chosen = set(G.nodes) if nodes is None else {n for n in nodes if n in G}
        node_list = sorted(chosen)
        edges = _graph_edges(G, chosen)
        emph = {}
    emph.update(emphasis or {})
    if len(node_list) > max_nodes:
        return _overview(G, node_list, edges, title=title, max_nodes=max_nodes)
    return _detailed(G, node_list, edges, title=title, emphasis=emph)


def to_dot(G: nx.MultiDiGraph, *, nodes: Iterable[str] | None = None, title: str | None = None,
           max_nodes: int = OVERVIEW_THRESHOLD) -> str:
    """DOT source of ``G`` (or of the subgraph induced by ``nodes``); see :func:`build_dot`."""
    return build_dot(G, nodes=nodes, title=title, max_nodes=max_nodes).source


def pathset_to_dot(G: nx.MultiDiGraph, pathset: PathSet, *, title: str | None = None,
                   max_nodes: int = OVERVIEW_THRESHOLD) -> str:
    """DOT source showing the hops of every path in ``pathset``; see :func:`build_dot`."""
    return build_dot(G, pathset=pathset, title=title, max_nodes=max_nodes).source
