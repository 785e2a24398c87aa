"""Jupyter: load a snapshot, ask questions, and let the answers draw themselves.

Usage in a notebook::

    import iamreach
    env = iamreach.load("snap.json.gz")
    env.paths("synthetic", "phi")        # a picture and a table of the paths
    env.check()                          # findings as an HTML table
    env.render(around="arn:aws:iam::111122223333:role/etl", hops=2)

Results are wrapped in small display classes: :class:`GraphView` and :class:`PathSetView` show an
SVG drawn by Graphviz (``_repr_mimebundle_``), :class:`ReportView` and :class:`WhoCanView` an
HTML table; each has ``to_pandas()`` (pandas is optional: ``pip install 'iamreach[jupyter]'``).
Everything an AWS account supplies is HTML-escaped before it reaches a table.

Examples
--------
>>> import networkx as nx
>>> G = nx.MultiDiGraph()
>>> G.add_node("a", kind="role", labels=("synthetic",), account="1", name="a")
>>> G.add_node("b", kind="s3_bucket", labels=("phi",), account="2", name="b")
>>> G.add_edge("a", "b", kind="reads", decision="allowed", actions=("s3:GetObject",))
0
>>> env = Environment.from_graph(G)
>>> ps = env.paths("synthetic", "phi")
>>> len(ps), ps[0].nodes
(1, ('a', 'b'))
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import networkx as nx

from iamreach.analyses.results import Path, PathSet
from iamreach.errors import IamreachError, InputError
from iamreach.formatters.dot import OVERVIEW_THRESHOLD, DotDocument, build_dot

__all__ = ["load", "Environment", "GraphView", "PathSetView", "ReportView", "WhoCanView", "DecisionView"]


def _pandas():
    try:
        import pandas
    except ImportError:
        raise IamreachError("pandas is not installed; install it with: pip install 'iamreach[jupyter]'") from None
    return pandas


def _svg_or_none(source: str) -> str | None:
    """SVG text, or None when Graphviz is missing (the views then fall back to tables)."""
    from iamreach.formatters.graphviz_render import GraphvizMissingError, render_svg_text

    try:
        return render_svg_text(source)
    except GraphvizMissingError:
        return None


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


class GraphView:
    """A picture of (part of) the graph: shows itself as SVG in Jupyter.

    Attributes
    ----------
    doc : DotDocument
        The DOT source and the node/edge id mapping.
    graph : networkx.MultiDiGraph
        The graph it was drawn from.
    """

    def __init__(self, graph: nx.MultiDiGraph, doc: DotDocument, *, title: str = "", pathset: PathSet | None = None,
                 nodes: Iterable[str] | None = None) -> None:
        self.graph = graph
        self.doc = doc
        self.title = title
        self._pathset = pathset
        self._nodes = None if nodes is None else set(nodes)
        self._svg: str | None = None

    @property
    def dot(self) -> str:
        """The DOT source."""
        return self.doc.source

    def svg(self) -> str:
        """The SVG text (drawn once, then kept)."""
        if self._svg is None:
            from iamreach.formatters.graphviz_render import render_svg_text

            self._svg = render_svg_text(self.doc.source)
        return self._svg

    def _repr_svg_(self) -> str | None:
        return _svg_or_none(self.doc.source) if self._svg is None else self._svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": repr(self)}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle

    def __repr__(self) -> str:
        what = (f"overview of {len(self.doc.node_ids)} nodes in {len(self.doc.groups)} groups" if self.doc.overview
                else f"{len(self.doc.node_ids)} nodes, {len(self.doc.edge_ids)} edges")
        return f"<GraphView {self.title!r}: {what}>"

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the picture: ``.svg``, ``.png``, ``.dot`` or ``.html`` (interactive); return the format."""
        if str(path).lower().endswith(".html"):
            from iamreach.formatters.html import write_html

            write_html(path, self.graph, pathset=self._pathset, nodes=self._nodes, title=self.title or "iamreach graph")
            return "html"
        from iamreach.formatters.graphviz_render import write_picture

        return write_picture(self.doc.source, path)


class PathSetView(Sequence):
    """A :class:`PathSet` that shows itself: a picture of the paths and a table of them."""

    def __init__(self, graph: nx.MultiDiGraph, pathset: PathSet, *, title: str = "") -> None:
        self.graph = graph
        self.pathset = pathset
        self.title = title
        self._view: GraphView | None = None

    def __len__(self) -> int:
        return len(self.pathset.paths)

    def __getitem__(self, index):  # type: ignore[override]
        return self.pathset.paths[index]

    def __iter__(self) -> Iterator[Path]:
        return iter(self.pathset.paths)

    @property
    def unknown(self):
        """Pairs a collection gap leaves UNKNOWN."""
        return self.pathset.unknown

    def picture(self, *, max_nodes: int = OVERVIEW_THRESHOLD) -> GraphView:
        """The :class:`GraphView` of the hops of every path."""
        if self._view is None:
            doc = build_dot(self.graph, pathset=self.pathset, title=self.title, max_nodes=max_nodes)
            self._view = GraphView(self.graph, doc, title=self.title, pathset=self.pathset)
        return self._view

    def rows(self) -> list[dict[str, Any]]:
        """One dict per path: source, target, decision, hop count, edge kinds and the route."""
        return [{"source": p.source, "target": p.target, "decision": p.decision, "hops": len(p),
                 "kinds": " > ".join(h.kind for h in p.hops), "route": " -> ".join(p.nodes)}
                for p in self.pathset.paths]

    def to_pandas(self):
        """A DataFrame with one row per path (see :meth:`rows`)."""
        return _pandas().DataFrame(self.rows(), columns=["source", "target", "decision", "hops", "kinds", "route"])

    def _summary(self) -> str:
        ps = self.pathset
        return (f"{len(ps.paths)} path(s), {len(ps.pairs())} source/target pair(s), {len(ps.unknown)} UNKNOWN, "
                f"{len(ps.gaps)} collection gap(s)")

    def _repr_html_(self) -> str:
        rows = self.rows()
        parts = [f"<p><b>{html.escape(self.title)}</b> {html.escape(self._summary())}</p>"]
        if rows:
            svg = self.picture()._repr_svg_()
            if svg is not None:
                parts.append(f'<div style="overflow:auto;max-height:600px">{svg}</div>')
            parts.append(_table(["source", "target", "decision", "hops", "kinds"],
                                ([r["source"], r["target"], r["decision"], r["hops"], r["kinds"]] for r in rows)))
        if self.pathset.unknown:
            parts.append("<p><b>UNKNOWN</b>: collection gaps could hide a path for these pairs</p>")
            parts.append(_table(["source", "target", "reason"],
                                ([u.source, u.target, u.reason] for u in self.pathset.unknown[:200])))
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if self.pathset.paths:
            svg = self.picture()._repr_svg_()
            if svg is not None:
                bundle["image/svg+xml"] = svg
        return bundle

    def __repr__(self) -> str:
        return f"<PathSetView {self.title!r}: {self._summary()}>"


class ReportView:
    """A check :class:`~iamreach.analyses.report.Report` as an HTML table of findings."""

    _COLUMNS = ("check_id", "severity", "status", "resource", "account", "title", "message")

    def __init__(self, report: Any) -> None:
        self.report = report

    @property
    def findings(self) -> tuple:
        return tuple(self.report.findings)

    def __len__(self) -> int:
        return len(self.report.findings)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per finding (the report's JSON fields that fit a table)."""
        return [{c: getattr(f, c, None) for c in self._COLUMNS} | {"paths": len(getattr(f, "paths", ()))}
                for f in self.report.findings]

    def to_pandas(self):
        """A DataFrame with one row per finding."""
        return _pandas().DataFrame(self.rows(), columns=[*self._COLUMNS, "paths"])

    def _repr_html_(self) -> str:
        counts = {}
        for f in self.report.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        summary = ", ".join(f"{v} {k}" for k, v in counts.items()) or "no findings"
        rows = self.rows()
        return (f"<p><b>{len(rows)} finding(s)</b>: {html.escape(summary)}; "
                f"{len(self.report.gaps)} collection gap(s)</p>"
                + _table([*self._COLUMNS, "paths"], ([r[c] for c in (*self._COLUMNS, "paths")] for r in rows)))

    def __repr__(self) -> str:
        return f"<ReportView: {len(self)} finding(s), {len(self.report.gaps)} gap(s)>"


class DecisionView:
    """The answer of :meth:`Environment.can`: the decision, why, and under which conditions."""

    def __init__(self, principal: str, action: str, resource: str, result: Any) -> None:
        self.principal, self.action, self.resource, self.result = principal, action, resource, result

    @property
    def decision(self) -> str:
        return str(getattr(self.result, "decision", self.result))

    def __getattr__(self, name: str) -> Any:  # denial, conditions, explanation ...
        if name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)

    def _repr_html_(self) -> str:
        explanation = getattr(self.result, "explanation", "")
        conditions = getattr(self.result, "conditions", ())
        return (f"<p><b>{html.escape(self.decision.upper())}</b>: {html.escape(self.principal)} "
                f"{html.escape(self.action)} on {html.escape(self.resource)}</p>"
                + (f"<pre>{html.escape(_text(explanation))}</pre>" if explanation else "")
                + (f"<p>conditions: {html.escape(_text(conditions))}</p>" if conditions else ""))

    def __repr__(self) -> str:
        return f"<DecisionView {self.decision}: {self.principal} {self.action} {self.resource}>"


class WhoCanView(Sequence):
    """The answer of :meth:`Environment.who_can`: (principal, result) pairs as a table."""

    def __init__(self, action: str, resource: str, answers: Sequence[tuple[str, Any]]) -> None:
        self.action, self.resource, self.answers = action, resource, list(answers)

    def __len__(self) -> int:
        return len(self.answers)

    def __getitem__(self, index):  # type: ignore[override]
        return self.answers[index]

    def rows(self) -> list[dict[str, Any]]:
        return [{"principal": p, "decision": str(getattr(r, "decision", r)),
                 "conditions": _text(getattr(r, "conditions", ()))} for p, r in self.answers]

    def to_pandas(self):
        return _pandas().DataFrame(self.rows(), columns=["principal", "decision", "conditions"])

    def _repr_html_(self) -> str:
        return (f"<p>who can <b>{html.escape(self.action)}</b> on {html.escape(self.resource)}: "
                f"{len(self)} principal(s)</p>"
                + _table(["principal", "decision", "conditions"],
                         ([r["principal"], r["decision"], r["conditions"]] for r in self.rows())))

    def __repr__(self) -> str:
        return f"<WhoCanView {self.action} on {self.resource}: {len(self)} principal(s)>"


class Environment:
    """A loaded snapshot: its inventory, its configuration and its graph, with question methods.

    Parameters
    ----------
    inventory : Inventory or None
        The snapshot's inventory (``None`` for a graph built by hand).
    config : Config, optional
        Labels and forbid rules (default :meth:`Config.default`).
    graph : networkx.MultiDiGraph, optional
        A graph already built; by default built from ``inventory``.
    """

    def __init__(self, inventory: Any, config: Any = None, graph: nx.MultiDiGraph | None = None) -> None:
        from iamreach.config import Config

        self.inventory = inventory
        self.config = config or (graph.graph.get("config") if graph is not None else None) or Config.default()
        if graph is None:
            from iamreach.graph.builder import build_graph

            graph = build_graph(inventory, self.config)
        self.graph = graph

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph) -> Environment:
        """Wrap a graph that is already built (its inventory and config come from ``graph.graph``)."""
        return cls(graph.graph.get("inventory"), graph.graph.get("config"), graph)

    def __repr__(self) -> str:
        return (f"<iamreach Environment: {self.graph.number_of_nodes()} nodes, {self.graph.number_of_edges()} edges, "
                f"{len(self.graph.graph.get('gaps') or ())} collection gap(s)>")

    # -- questions ------------------------------------------------------------------------
    def select(self, selector: Any) -> set[str]:
        """Node ids a selector (``"synthetic & kind:role"``, ``"tag:K=V"`` ...) matches."""
        from iamreach.selectors import select

        return select(self.graph, selector)

    def paths(self, from_: Any, to: Any, **kwargs: Any) -> PathSetView:
        """Witness paths (see :func:`iamreach.analyses.paths.paths` for the keyword arguments)."""
        from iamreach.analyses.paths import paths

        ps = paths(self.graph, from_, to, **kwargs)
        return PathSetView(self.graph, ps, title=f"{_label(from_)} -> {_label(to)}")

    def forbidden(self, **kwargs: Any) -> dict[Any, PathSetView]:
        """One :class:`PathSetView` per forbid rule of the config (default: synthetic -> phi)."""
        from iamreach.analyses.paths import forbidden_paths

        return {rule: PathSetView(self.graph, ps, title=f"forbidden: {rule.name}")
                for rule, ps in forbidden_paths(self.graph, self.config, **kwargs).items()}

    def reachable_from(self, source: str, **kwargs: Any) -> dict[str, int]:
        """Blast radius of ``source``: node -> hops."""
        from iamreach.analyses.paths import reachable_from

        return reachable_from(self.graph, source, **kwargs)

    def can(self, principal: str, action: str, resource: str, *, context: dict | None = None) -> DecisionView:
        """Decide one request with every policy layer."""
        from iamreach.analyses.paths import can

        return DecisionView(principal, action, resource, can(self.graph, principal, action, resource, context=context))

    def who_can(self, action: str, resource: str, *, context: dict | None = None) -> WhoCanView:
        """Every principal allowed (or conditionally allowed) ``action`` on ``resource``."""
        from iamreach.analyses.paths import who_can

        return WhoCanView(action, resource, who_can(self.graph, action, resource, context=context))

    def check(self, ids: Iterable[str] | str | None = None) -> ReportView:
        """Run the checks (all, or the ids given) and return the findings."""
        from iamreach import __version__
        from iamreach.analyses.checks import default_registry, parse_check_ids

        if isinstance(ids, str):
            ids = parse_check_ids(ids)
        report = default_registry().run(self.graph, self.config, ids=ids, tool_version=__version__)
        return ReportView(report)

    def render(self, from_: Any = None, to: Any = None, *, around: str | None = None, hops: int = 2,
               max_nodes: int = OVERVIEW_THRESHOLD, title: str | None = None, **path_kwargs: Any) -> GraphView:
        """A picture: the paths ``from_`` -> ``to``, the nodes ``hops`` around ``around``, or everything."""
        if (from_ is None) != (to is None):
            raise InputError("give both from_ and to (or neither)", field="render")
        if from_ is not None:
            view = self.paths(from_, to, **path_kwargs)
            doc = build_dot(self.graph, pathset=view.pathset, title=title or view.title, max_nodes=max_nodes)
            return GraphView(self.graph, doc, title=title or view.title, pathset=view.pathset)
        if around is not None:
            from iamreach.commands.render import neighbourhood

            nodes = neighbourhood(self.graph, around, hops)
            label = title or f"{hops} hop(s) around {around}"
            doc = build_dot(self.graph, nodes=nodes, title=label, max_nodes=max_nodes, emphasis={around: "source"})
            return GraphView(self.graph, doc, title=label, nodes=nodes)
        label = title or "iamreach graph"
        return GraphView(self.graph, build_dot(self.graph, title=label, max_nodes=max_nodes), title=label)

    # -- tables ---------------------------------------------------------------------------
    def nodes(self):
        """A DataFrame of the nodes: id, kind, account, region, name, labels, vpc."""
        rows = [{"id": n, "kind": d.get("kind"), "account": d.get("account"), "region": d.get("region"),
                 "name": d.get("name"), "labels": ",".join(d.get("labels") or ()), "vpc": d.get("vpc")}
                for n, d in self.graph.nodes(data=True)]
        return _pandas().DataFrame(rows, columns=["id", "kind", "account", "region", "name", "labels", "vpc"])

    def edges(self):
        """A DataFrame of the edges: source, target, kind, decision, actions, ports, method, reason."""
        rows = [{"source": u, "target": v, "kind": d.get("kind"), "decision": d.get("decision"),
                 "actions": ",".join(d.get("actions") or ()), "ports": ",".join(d.get("ports") or ()),
                 "method": d.get("method"), "reason": d.get("reason")}
                for u, v, d in self.graph.edges(data=True)]
        return _pandas().DataFrame(rows, columns=["source", "target", "kind", "decision", "actions", "ports",
                                                  "method", "reason"])


def _label(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    text = getattr(spec, "text", None)
    if isinstance(text, str):
        return text
    if isinstance(spec, Mapping | set | frozenset | list | tuple):
        return f"{len(spec)} node(s)"
    return "selection"


def load(path: str | os.PathLike[str], config: Any = None) -> Environment:
    """Load a snapshot (``.json`` or ``.json.gz``) and build its graph.

    Parameters
    ----------
    path : str or path-like
        The snapshot file.
    config : Config, str or path-like, optional
        A :class:`~iamreach.config.Config`, or the path of an ``iamreach.toml`` / ``pyproject.toml``.
    """
    from iamreach.config import Config, load_config
    from iamreach.snapshot import load as load_snapshot

    cfg = config if isinstance(config, Config) else load_config(config)
    return Environment(load_snapshot(path), cfg)
