"""DOT source and SVG/PNG pictures, drawn by the real Graphviz."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest
from test_render_graphs import (
    BUCKET,
    DB,
    EC2,
    HOSTILE,
    HOSTILE2,
    LAMBDA,
    PROD,
    PROD_ROLE,
    SNAP,
    big_graph,
    contract_graph,
    contract_pathset,
)

from iamreach.errors import InputError
from iamreach.formatters.dot import build_dot, escape, pathset_to_dot, to_dot
from iamreach.formatters.graphviz_render import (
    GraphvizMissingError,
    fmt_for_path,
    render,
    render_svg_text,
    write_picture,
)

SVG = "{http://www.w3.org/2000/svg}"


def _svg_tree(source: str) -> ET.Element:
    return ET.fromstring(render(source, "svg"))


def _node_texts(root: ET.Element) -> dict[str, list[str]]:
    out = {}
    for g in root.iter(f"{SVG}g"):
        if "node" in (g.get("class") or "").split():
            out[g.get("id")] = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
    return out


def test_node_ids_are_opaque_and_arns_are_labels():
    G = contract_graph()
    doc = build_dot(G)
    assert set(doc.node_ids) == set(G.nodes)
    assert all(re.fullmatch(r"n\d+", nid) for nid in doc.node_ids.values())
    # outside quoted strings there is only DOT syntax and opaque ids: no ARN, no name
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', doc.source)
    assert "arn:" not in bare and "script" not in bare and "internet" not in bare
    assert set(re.findall(r"^\s*(n\d+) \[", bare, re.M)) == set(doc.node_ids.values())
    texts = _node_texts(_svg_tree(doc.source))
    assert texts[doc.node_ids[BUCKET]] == ["s3_bucket: phi-claims", BUCKET]


def test_hostile_names_render_as_text():
    G = contract_graph()
    doc = build_dot(G)
    svg = render(doc.source, "svg").decode()
    root = ET.fromstring(svg)  # still well-formed XML
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    texts = _node_texts(root)
    assert texts[doc.node_ids[PROD_ROLE]] == [f"role: {HOSTILE}", PROD_ROLE]
    odd = next(n for n in G if n.endswith(HOSTILE2))
    assert texts[doc.node_ids[odd]] == [f"role: {HOSTILE2}", odd]


def test_escape_handles_quotes_backslashes_braces_and_controls():
    assert escape('x"y') == 'x\\"y'
    assert escape("a\\b") == "a\\\\b"
    assert escape("{}&") == "{}&amp;"
    assert escape("line\nbreak\x00") == "line break "
    assert escape("\ud800bad") == "?bad"
    assert len(escape("a" * 1000)) == 160
    # a name trying to end the string and add DOT statements stays inside the label
    G = contract_graph()
    evil = f'arn:aws:iam::{PROD}:role/x"]; evil [label="pwned'
    G.add_node(evil, kind="role", account=PROD, name='x"]; evil [label="pwned', labels=(), tags={})
    root = _svg_tree(to_dot(G))
    titles = {"".join(t.itertext()) for t in root.iter(f"{SVG}title")}
    assert "evil" not in titles
    assert any(evil in texts for texts in _node_texts(root).values())


def test_clusters_by_account_vpc_and_subnet():
    G = contract_graph()
    doc = build_dot(G)
    src = doc.source
    assert 'label="account 222233334444 (synthetic-data) [synthetic]"' in src
    assert 'label="account 111122223333 (prod-phi) [production]"' in src
    assert 'label="VPC vpc-syn"' in src and 'label="subnet subnet-a"' in src
    root = _svg_tree(src)
    clusters = {"".join(c.find(f"{SVG}title").itertext()): c for c in root.iter(f"{SVG}g")
                if "cluster" in (c.get("class") or "")}
    assert len(clusters) >= 5  # 2 accounts, 2 VPCs, 2 subnets
    # the EC2 instance (one subnet) sits in the subnet cluster, the Lambda (two subnets) in the VPC's
    lines = src.splitlines()
    ec2_line = next(i for i, line in enumerate(lines) if line.strip().startswith(doc.node_ids[EC2] + " ["))
    lam_line = next(i for i, line in enumerate(lines) if line.strip().startswith(doc.node_ids[LAMBDA] + " ["))
    assert "subnet subnet-a" in "\n".join(lines[:ec2_line][-3:])
    assert "subnet" not in lines[lam_line - 1]


def test_shapes_colours_and_edge_styles():
    G = contract_graph()
    doc = build_dot(G)
    src = doc.source
    bucket_stmt = next(line for line in src.splitlines() if line.strip().startswith(doc.node_ids[BUCKET] + " ["))
    assert 'shape="cylinder"' in bucket_stmt and 'fillcolor="#f5b7b1"' in bucket_stmt
    assert "l-phi" in bucket_stmt and "l-production" in bucket_stmt
    lam_stmt = next(line for line in src.splitlines() if line.strip().startswith(doc.node_ids[LAMBDA] + " ["))
    assert 'shape="box3d"' in lam_stmt and 'fillcolor="#c9e4fb"' in lam_stmt
    edges = {data["kind"]: (eid, data) for eid, (_u, _v, data) in doc.edge_ids.items()}
    src_lines = {line.strip().split(" [")[0]: line for line in src.splitlines() if "->" in line}
    esc = next(line for line in src_lines.values() if 'id="' + edges["escalates_to"][0] + '"' in line)
    assert 'style="dashed"' in esc and "iam-PassRole+lambda" in esc and "(if)" in esc
    conn = next(line for line in src_lines.values() if 'id="' + edges["can_connect"][0] + '"' in line)
    assert "tcp/5432" in conn and 'style="solid"' in conn and "sg_rule: sg-1" in conn
    reads = next(line for line in src_lines.values() if 's3:GetObject' in line and "ek-reads" in line)
    assert "identity_policy" in reads and "sid=ReadPhi" in reads
    # tooltips reach the SVG as titles of links
    svg = render(src, "svg").decode()
    assert "identity_policy: arn:aws:iam::111122223333:role/&lt;script&gt;" in svg


def test_pathset_picture_shows_only_the_paths():
    G = contract_graph()
    ps = contract_pathset(G)
    doc = build_dot(G, pathset=ps)
    assert set(doc.node_ids) == {LAMBDA, EC2, BUCKET, DB, PROD_ROLE,
                                 "arn:aws:iam::222233334444:role/synthetic-lambda"}
    assert len(doc.edge_ids) == 4
    assert SNAP not in doc.source
    lam = next(line for line in doc.source.splitlines() if line.strip().startswith(doc.node_ids[LAMBDA] + " ["))
    assert "penwidth=3" in lam
    assert pathset_to_dot(G, ps) == doc.source
    root = _svg_tree(doc.source)
    assert len(_node_texts(root)) == 6


def test_big_graph_becomes_an_overview_quickly():
    G = big_graph(5000)
    start = time.monotonic()
    doc = build_dot(G)
    svg = render_svg_text(doc.source)
    elapsed = time.monotonic() - start
    assert doc.overview
    assert len(doc.groups) == len({(i % 10, i % 6) for i in range(5000)}) == 30
    assert sum(g["count"] for g in doc.groups.values()) == 5000
    assert sum(d["count"] for _u, _v, d in doc.edge_ids.values()) == 15000
    assert svg.startswith("<svg") and svg.count('class="node') == 30
    assert elapsed < 30, elapsed


def test_overview_falls_back_to_accounts_when_kinds_are_too_many():
    G = big_graph(600)
    doc = build_dot(G, max_nodes=20)
    assert doc.overview and len(doc.groups) == 10


def test_png_and_dot_files(tmp_path):
    G = contract_graph()
    src = to_dot(G)
    png = tmp_path / "g.png"
    assert write_picture(src, png) == "png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_mode & 0o777 == 0o600
    dot = tmp_path / "g.dot"
    write_picture(src, dot)
    assert dot.read_text() == src
    with pytest.raises(InputError, match="unsupported picture format '.jpg'"):
        fmt_for_path("x.jpg")


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizMissingError, match=r"apt-get install -y graphviz"):
        render("digraph { a -> b }", "svg")
    out = tmp_path / "x.svg"
    with pytest.raises(GraphvizMissingError):
        write_picture("digraph { a -> b }", out)
    assert not out.exists()


def test_slow_layout_falls_back_to_sfdp():
    # a long chain with far-reaching edges: dot's layered layout needs minutes for this
    G = big_graph(100)
    src = to_dot(G)
    start = time.monotonic()
    svg = render(src, "svg", timeout=2).decode()
    assert time.monotonic() - start < 20
    root = ET.fromstring(svg)
    assert len(_node_texts(root)) == 100
    assert "Generated by graphviz" in svg
