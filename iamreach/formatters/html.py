"""One self-contained, offline, interactive HTML page of a graph or a path set.

The picture is the SVG that Graphviz lays out (see :mod:`iamreach.formatters.dot`), inlined in
the page, with a small script of our own on top: pan (drag) and zoom (wheel, buttons); click a
node or an edge for its attributes, policies and evidence; choose two nodes and highlight every
edge that lies on a path between them; switch edge kinds off and on.

Nothing is fetched: no CDN, no web font, no external reference. All data rides in one
``<script type="application/json">`` block whose ``<``, ``>`` and ``&`` are written as
``\\u003c``, ``\\u003e`` and ``\\u0026`` so no name can close the block; the page script builds
every text with ``textContent`` (never ``innerHTML``); and a Content-Security-Policy lets only
the page's own script (by hash) run, so a node named ``<script>alert(1)</script>`` is text.

Examples
--------
>>> embed_json({"name": "</script><script>alert(1)</script>"})
'{"name":"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from iamreach.analyses.results import PathSet
from iamreach.fileio import atomic_write_bytes
from iamreach.formatters.dot import OVERVIEW_THRESHOLD, DotDocument, build_dot, node_label
from iamreach.formatters.graphviz_render import render_svg_text

__all__ = ["render_html", "render_page", "write_html", "embed_json", "page_data", "PAGE_SCRIPT"]

Table = tuple[str, Sequence[Mapping[str, Any]]]
_SHOWN_ELSEWHERE = frozenset({"arn", "kind", "account", "name", "tags", "region"})


def embed_json(data: Any) -> str:
    """JSON text safe to place inside ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str, sort_keys=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _policy_index(G: nx.MultiDiGraph) -> dict[str, Any]:
    inv = G.graph.get("inventory")
    if inv is None:
        return {}
    return {p.arn: p.document for p in getattr(inv, "policies", ())}


def _record_details(record: Any, policies: Mapping[str, Any]) -> dict[str, Any]:
    """The inventory record as plain data, managed policy documents expanded for principals."""
    if record is None or not dataclasses.is_dataclass(record):
        return {}
    details = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
               if f.name not in _SHOWN_ELSEWHERE}
    arns = details.get("managed_policy_arns") or ()
    if arns:
        details["managed_policies"] = {a: policies.get(a, "(document not collected)") for a in arns}
    boundary = details.get("permissions_boundary_arn")
    if boundary:
        details["permissions_boundary"] = policies.get(boundary, "(document not collected)")
    return {k: v for k, v in details.items() if v not in (None, "", [], {})}


def _edge_json(eid: str, su: str, sv: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": eid, "u": su, "v": sv, "kind": str(data.get("kind") or ""),
        "decision": data.get("decision", "allowed"), "actions": list(data.get("actions") or ()),
        "ports": list(data.get("ports") or ()), "method": data.get("method"),
        "reason": data.get("reason") or "", "evidence": [dict(e) if isinstance(e, Mapping) else str(e)
                                                        for e in data.get("evidence") or ()],
        "conditions": [dict(c) if isinstance(c, Mapping) else str(c) for c in data.get("conditions") or ()],
        "count": data.get("count"),
    }


def page_data(G: nx.MultiDiGraph, doc: DotDocument, *, title: str) -> dict[str, Any]:
    """The JSON the page script reads: nodes and edges keyed by their SVG ids."""
    nodes: list[dict[str, Any]] = []
    if doc.overview:
        for gid, group in sorted(doc.groups.items(), key=lambda kv: int(kv[0][1:])):
            nodes.append({
                "id": gid, "label": f"{group['kind']} ×{group['count']} in {group['account']}",
                "arn": None, "kind": group["kind"], "account": group["account"],
                "labels": sorted(group["labels"]), "details": {"count": group["count"],
                                                               "label_counts": group["labels"],
                                                               "members": group["members"]},
            })
    else:
        policies = _policy_index(G)
        for node, nid in sorted(doc.node_ids.items(), key=lambda kv: int(kv[1][1:])):
            attrs = G.nodes[node] if node in G else {}
            nodes.append({
                "id": nid, "label": " ".join(node_label(node, attrs)[:1]), "arn": node,
                "kind": attrs.get("kind"), "name": attrs.get("name"), "account": attrs.get("account"),
                "region": attrs.get("region"), "labels": list(attrs.get("labels") or ()),
                "tags": dict(attrs.get("tags") or {}), "vpc": attrs.get("vpc"),
                "subnets": list(attrs.get("subnets") or ()),
                "details": _record_details(attrs.get("record"), policies),
            })
    edges = [_edge_json(eid, su, sv, data) for eid, (su, sv, data) in doc.edge_ids.items()]
    return {"title": title, "overview": doc.overview, "nodes": nodes, "edges": edges,
            "gaps": [dict(g) for g in G.graph.get("gaps") or ()]}


_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1c2833;
 display:flex;flex-direction:column;height:100vh}
header{padding:6px 12px;background:#1c2833;color:#fff;display:flex;gap:16px;align-items:baseline}
header h1{font-size:16px;margin:0}
#toolbar{padding:6px 12px;border-bottom:1px solid #ccd1d1;display:flex;flex-wrap:wrap;gap:10px;align-items:center}
#toolbar select{max-width:260px}
#kinds{display:flex;flex-wrap:wrap;gap:6px;border:none;margin:0;padding:0}
#kinds label{white-space:nowrap}
#status{color:#7b241c;font-weight:600}
main{flex:1;display:flex;min-height:0}
#canvas{flex:1;overflow:hidden;position:relative;background:#fff;cursor:grab}
#canvas svg{width:100%;height:100%;display:block;user-select:none}
#details{width:380px;overflow-y:auto;overflow-x:hidden;border-left:1px solid #ccd1d1;padding:8px 12px;background:#fbfcfc}
#details h2{font-size:14px;word-break:break-all;margin:4px 0}
#details dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 8px;margin:6px 0}
#details dt{font-weight:600}#details dd,#details li{margin:0;word-break:break-all}
#details pre{white-space:pre-wrap;word-break:break-all;background:#f2f3f4;padding:4px;font-size:11px}
#tables{padding:8px 12px;max-height:28vh;overflow:auto;border-top:1px solid #ccd1d1}
#tables table{border-collapse:collapse;margin-bottom:12px}
#tables th,#tables td{border:1px solid #d5d8dc;padding:2px 6px;text-align:left;vertical-align:top}
#tables th{background:#eaeded}
g.node,g.edge{cursor:pointer}
g.edge.kind-off{display:none}
svg.hl-mode g.node:not(.hl),svg.hl-mode g.edge:not(.hl){opacity:.12}
g.edge.hl path{stroke:#e6007e;stroke-width:3px}
g.edge.hl polygon{stroke:#e6007e;fill:#e6007e}
g.node.hl ellipse,g.node.hl polygon,g.node.hl path{stroke:#e6007e;stroke-width:3px}
g.node.sel ellipse,g.node.sel polygon,g.node.sel path,g.edge.sel path{stroke:#f1c40f;stroke-width:4px}
"""

#: The page's own script: pan/zoom, details, path highlight, edge-kind filter.
PAGE_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("iamreach-data").textContent);
  var svg = document.querySelector("#canvas svg");
  var details = document.getElementById("details");
  var statusEl = document.getElementById("status");
  var selFrom = document.getElementById("from"), selTo = document.getElementById("to");
  var nodes = {}, edges = {}, outE = {}, inE = {}, off = {}, active = false;
  data.nodes.forEach(function (n) { nodes[n.id] = n; outE[n.id] = []; inE[n.id] = []; });
  data.edges.forEach(function (e) {
    edges[e.id] = e;
    if (outE[e.u]) { outE[e.u].push(e); }
    if (inE[e.v]) { inE[e.v].push(e); }
  });

  function el(tag, text, cls) {
    var x = document.createElement(tag);
    if (text !== undefined && text !== null) { x.textContent = String(text); }
    if (cls) { x.className = cls; }
    return x;
  }
  function svgNode(id) {
    var x = document.getElementById(id);
    return x && svg.contains(x) ? x : null;
  }
  function say(text) { statusEl.textContent = text; }
  function nodeName(id) { var n = nodes[id]; return n ? (n.arn || n.label || id) : id; }

  /* ---- pan and zoom: we only move the viewBox ---- */
  var base = svg.viewBox.baseVal, vb0 = [base.x, base.y, base.width, base.height], vb = vb0.slice();
  svg.removeAttribute("width"); svg.removeAttribute("height");
  function applyView() { svg.setAttribute("viewBox", vb.join(" ")); }
  function toSvg(x, y) {
    var p = svg.createSVGPoint(); p.x = x; p.y = y;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  function zoomAt(k, cx, cy) {
    var p = toSvg(cx, cy);
    vb = [p.x - (p.x - vb[0]) * k, p.y - (p.y - vb[1]) * k, vb[2] * k, vb[3] * k];
    applyView();
  }
  function zoomCentre(k) {
    var r = svg.getBoundingClientRect();
    zoomAt(k, r.left + r.width / 2, r.top + r.height / 2);
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoomAt(ev.deltaY < 0 ? 0.8 : 1.25, ev.clientX, ev.clientY);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    if (ev.button !== 0) { return; }
    drag = { x: ev.clientX, y: ev.clientY, vb: vb.slice(), a: svg.getScreenCTM().a, moved: false };
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
    if (drag.moved) {
      vb[0] = drag.vb[0] - dx / drag.a; vb[1] = drag.vb[1] - dy / drag.a; applyView();
    }
  });
  window.addEventListener("mouseup", function (ev) {
    var d = drag; drag = null;
    if (!d || d.moved) { return; }
    var hit = ev.target && ev.target.closest ? ev.target.closest("g.node, g.edge") : null;
    if (hit && nodes[hit.id]) { showNode(hit.id); }
    else if (hit && edges[hit.id]) { showEdge(hit.id); }
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomCentre(0.8); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomCentre(1.25); });
  document.getElementById("zoom-fit").addEventListener("click", function () { vb = vb0.slice(); applyView(); });

  /* ---- details panel: textContent only ---- */
  function row(dl, key, value) {
    if (value === undefined || value === null || value === "" ||
        (Array.isArray(value) && !value.length)) { return; }
    dl.appendChild(el("dt", key));
    dl.appendChild(el("dd", Array.isArray(value) ? value.join(", ") : value));
  }
  function block(title, value) {
    var box = el("details"), sum = el("summary", title);
    box.appendChild(sum);
    box.appendChild(el("pre", typeof value === "string" ? value : JSON.stringify(value, null, 2)));
    return box;
  }
  function markSel(id) {
    Array.prototype.forEach.call(svg.querySelectorAll(".sel"), function (x) { x.classList.remove("sel"); });
    var g = svgNode(id); if (g) { g.classList.add("sel"); }
  }
  function showNode(id) {
    var n = nodes[id];
    markSel(id);
    details.textContent = "";
    details.setAttribute("data-node", id);
    details.removeAttribute("data-edge");
    details.appendChild(el("h2", n.arn || n.label));
    var dl = el("dl");
    row(dl, "kind", n.kind); row(dl, "name", n.name); row(dl, "account", n.account);
    row(dl, "region", n.region); row(dl, "labels", n.labels); row(dl, "vpc", n.vpc);
    row(dl, "subnets", n.subnets);
    Object.keys(n.tags || {}).sort().forEach(function (k) { row(dl, "tag " + k, n.tags[k]); });
    details.appendChild(dl);
    var bFrom = el("button", "Paths from here"), bTo = el("button", "Paths to here");
    bFrom.addEventListener("click", function () { selFrom.value = id; highlight(); });
    bTo.addEventListener("click", function () { selTo.value = id; highlight(); });
    details.appendChild(bFrom); details.appendChild(bTo);
    var d = n.details || {};
    Object.keys(d).forEach(function (k) {
      var v = d[k];
      if (v !== null && typeof v === "object") { details.appendChild(block(k, v)); }
      else { var dl2 = el("dl"); row(dl2, k, v); details.appendChild(dl2); }
    });
    var list = el("ul");
    (outE[id] || []).forEach(function (e) { list.appendChild(el("li", e.kind + " \u2192 " + nodeName(e.v))); });
    (inE[id] || []).forEach(function (e) { list.appendChild(el("li", nodeName(e.u) + " \u2192 " + e.kind)); });
    if (list.childNodes.length) { details.appendChild(el("h3", "Edges")); details.appendChild(list); }
  }
  function showEdge(id) {
    var e = edges[id];
    markSel(id);
    details.textContent = "";
    details.setAttribute("data-edge", id);
    details.removeAttribute("data-node");
    details.appendChild(el("h2", e.kind + (e.decision === "conditional" ? " (conditional)" : "")));
    var dl = el("dl");
    row(dl, "from", nodeName(e.u)); row(dl, "to", nodeName(e.v)); row(dl, "decision", e.decision);
    row(dl, "actions", e.actions); row(dl, "ports", e.ports); row(dl, "method", e.method);
    row(dl, "reason", e.reason); row(dl, "count", e.count);
    details.appendChild(dl);
    if (e.evidence.length) { details.appendChild(block("evidence", e.evidence)); }
    if (e.conditions.length) { details.appendChild(block("conditions", e.conditions)); }
  }

  /* ---- edge-kind filter ---- */
  var kinds = {};
  data.edges.forEach(function (e) { kinds[e.kind] = (kinds[e.kind] || 0) + 1; });
  var box = document.getElementById("kinds");
  Object.keys(kinds).sort().forEach(function (k) {
    var lab = el("label"), cb = el("input");
    cb.type = "checkbox"; cb.checked = true; cb.value = k; cb.setAttribute("data-kind", k);
    cb.addEventListener("change", function () {
      off[k] = !cb.checked;
      data.edges.forEach(function (e) {
        var g = svgNode(e.id);
        if (g && e.kind === k) { g.classList.toggle("kind-off", off[k]); }
      });
      if (active) { highlight(); }
    });
    lab.appendChild(cb); lab.appendChild(document.createTextNode(" " + k + " (" + kinds[k] + ")"));
    box.appendChild(lab);
  });

  /* ---- path highlight: edges u->v with u reachable from A and B reachable from v ---- */
  data.nodes.slice().sort(function (a, b) {
    var x = a.arn || a.label || "", y = b.arn || b.label || "";
    return x < y ? -1 : x > y ? 1 : 0;
  }).forEach(function (n) {
    [selFrom, selTo].forEach(function (s) {
      var o = el("option", n.arn || n.label); o.value = n.id; s.appendChild(o);
    });
  });
  function reach(start, adj, end) {
    var seen = {}, queue = [start], i = 0;
    seen[start] = true;
    while (i < queue.length) {
      (adj[queue[i++]] || []).forEach(function (e) {
        if (off[e.kind]) { return; }
        var y = e[end];
        if (!seen[y]) { seen[y] = true; queue.push(y); }
      });
    }
    return seen;
  }
  function clearHighlight() {
    active = false;
    svg.classList.remove("hl-mode");
    Array.prototype.forEach.call(svg.querySelectorAll(".hl"), function (x) { x.classList.remove("hl"); });
  }
  function highlight() {
    clearHighlight();
    var a = selFrom.value, b = selTo.value;
    if (!a || !b) { say("choose a source and a target"); return; }
    if (a === b) { say("choose two different nodes"); return; }
    var fwd = reach(a, outE, "v"), back = reach(b, inE, "u"), count = 0;
    data.edges.forEach(function (e) {
      if (off[e.kind] || !fwd[e.u] || !back[e.v]) { return; }
      count += 1;
      [e.id, e.u, e.v].forEach(function (id) { var g = svgNode(id); if (g) { g.classList.add("hl"); } });
    });
    active = true;
    svg.classList.add("hl-mode");
    say(count ? count + " edge(s) on paths from " + nodeName(a) + " to " + nodeName(b)
              : "no path from " + nodeName(a) + " to " + nodeName(b) + " with the edge kinds shown");
  }
  document.getElementById("highlight").addEventListener("click", highlight);
  document.getElementById("clear").addEventListener("click", function () { clearHighlight(); say(""); });
  document.body.setAttribute("data-ready", "1");
})();
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return html.escape(json.dumps(value, default=str))
    return html.escape(str(value))


def _table_html(title: str, rows: Sequence[Mapping[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for r in rows:
        for k in r:
            columns.setdefault(k)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    empty = "" if rows else "<p>none</p>"
    return f"<h2>{html.escape(title)}</h2>{empty}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(
    G: nx.MultiDiGraph,
    *,
    pathset: PathSet | None = None,
    nodes: Iterable[str] | None = None,
    title: str = "iamreach graph",
    tables: Sequence[Table] = (),
    max_nodes: int = OVERVIEW_THRESHOLD,
    emphasis: Mapping[str, str] | None = None,
) -> str:
    """The interactive page as a string.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The iamreach graph.
    pathset : PathSet, optional
        Show only the hops of these paths.
    nodes : iterable of str, optional
        Show only these nodes (and the edges between them).
    title : str
        Page title and caption.
    tables : sequence of (title, rows)
        Extra tables shown under the picture (findings, paths ...); rows are mappings.
    max_nodes : int
        Above this many nodes the picture is an overview per account and kind.
    emphasis : mapping, optional
        Node id -> ``"source"`` / ``"target"`` to draw in bold.
    """
    return render_page(G, pathset=pathset, nodes=nodes, title=title, tables=tables, max_nodes=max_nodes,
                       emphasis=emphasis)[0]


def render_page(
    G: nx.MultiDiGraph,
    *,
    pathset: PathSet | None = None,
    nodes: Iterable[str] | None = None,
    title: str = "iamreach graph",
    tables: Sequence[Table] = (),
    max_nodes: int = OVERVIEW_THRESHOLD,
    emphasis: Mapping[str, str] | None = None,
) -> tuple[str, DotDocument]:
    """Like :func:`render_html`, also returning the :class:`DotDocument` drawn."""
    doc = build_dot(G, nodes=nodes, pathset=pathset, max_nodes=max_nodes, emphasis=emphasis)
    svg = render_svg_text(doc.source)
    data = page_data(G, doc, title=title)
    script_hash = base64.b64encode(hashlib.sha256(PAGE_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    n_nodes = len(doc.node_ids)
    summary = (f"{n_nodes} nodes" + (f" in {len(doc.groups)} groups (overview)" if doc.overview else "")
               + f", {len(doc.edge_ids)} edges" + (f", {len(data['gaps'])} collection gaps" if data["gaps"] else ""))
    tables_html = "".join(_table_html(t, rows) for t, rows in tables)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head><body>
<header><h1>{html.escape(title)}</h1><span>{html.escape(summary)}</span></header>
<div id="toolbar">
<button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">&minus;</button>
<button id="zoom-fit" title="fit">fit</button>
<label>from <select id="from"><option value="">(source)</option></select></label>
<label>to <select id="to"><option value="">(target)</option></select></label>
<button id="highlight">highlight paths</button><button id="clear">clear</button>
<fieldset id="kinds"></fieldset>
<span id="status" role="status"></span>
</div>
<main><div id="canvas">{svg}</div>
<aside id="details"><p>Click a node or an edge for its attributes, policies and evidence.
Drag to pan, wheel to zoom.</p></aside></main>
{f'<section id="tables">{tables_html}</section>' if tables_html else ''}
<script type="application/json" id="iamreach-data">{embed_json(data)}</script>
<script>{PAGE_SCRIPT}</script>
</body></html>
""", doc


def write_html(path: str | os.PathLike[str], G: nx.MultiDiGraph, **kwargs: Any) -> DotDocument:
    """Write :func:`render_html` output to ``path`` atomically, mode 0600 (it holds account data).

    Returns the :class:`DotDocument` drawn.
    """
    page, doc = render_page(G, **kwargs)
    atomic_write_bytes(path, page.encode("utf-8"))
    return doc
