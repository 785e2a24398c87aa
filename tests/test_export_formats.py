"""Export formats on small graphs: layouts, hostile strings, atomic output, CLI errors (no server needed)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from iamreach import snapshot
from iamreach.errors import InputError
from iamreach.export import export, kind_label, relationship_type
from iamreach.export.cypher import FORBIDDEN_PAIRS_QUERY, read_statements, statements
from iamreach.inventory import Account, Inventory, Principal

IAMREACH = [sys.executable, "-m", "iamreach"]
ROOT = Path(__file__).resolve().parent.parent
NASTY = "a'b\"c`d\ne,f;g\\h }) DETACH DELETE n //"


def _graph(label: str = "synthetic") -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(gaps=[], accounts={})
    G.add_node("w", kind="lambda_function", account="111122223333", region="us-east-1", name=NASTY,
               tags={"Note": NASTY}, labels=(label,), vpc=None, subnets=("subnet-1", "subnet-2"), record=None)
    G.add_node("r", kind="role", account="111122223333", region=None, name="r", tags={}, labels=(), vpc=None,
               subnets=(), record=object())
    G.add_edge("w", "r", key="runs_as:", kind="runs_as", decision="allowed", conditions=(), actions=(), ports=(),
               method=None, reason="runs as r", evidence=({"type": "attribute", "ref": "w", "sid": None,
                                                           "index": None, "detail": NASTY},))
    G.add_edge("r", "w", key="administers:", kind="administers", decision="conditional",
               conditions=({"key": "aws:SourceIp", "values": ["10.0.0.0/8"]},), actions=("lambda:UpdateFunctionCode",),
               ports=(), method=None, reason="x", evidence=())
    return G


def test_vocabulary_names():
    assert kind_label("ec2_instance") == "Ec2Instance" and kind_label("not-a-kind") is None
    assert relationship_type("escalates_to") == "ESCALATES_TO"
    with pytest.raises(InputError):
        relationship_type("DETACH DELETE")


def test_neo4j_csv_round_trips_hostile_strings(tmp_path):
    files = export(_graph(), "neo4j-csv", tmp_path / "n")
    assert sorted(Path(f).name for f in files) == ["nodes.csv", "relationships.csv"]
    with open(tmp_path / "n" / "nodes.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    w = next(r for r in rows if r["id:ID"] == "w")
    assert w["name:string"] == NASTY and json.loads(w["tags:string"]) == {"Note": NASTY}
    assert w[":LABEL"] == "Node;LambdaFunction" and w["subnets:string[]"] == "subnet-1;subnet-2"
    with open(tmp_path / "n" / "relationships.csv", newline="", encoding="utf-8") as fh:
        rels = list(csv.DictReader(fh))
    assert [(r[":START_ID"], r[":END_ID"], r[":TYPE"], r["id:string"]) for r in rels] == [
        ("r", "w", "ADMINISTERS", "e0"), ("w", "r", "RUNS_AS", "e1")]
    assert json.loads(rels[1]["evidence:string"])[0]["detail"] == NASTY
    assert json.loads(rels[0]["conditions:string"]) == [{"key": "aws:SourceIp", "values": ["10.0.0.0/8"]}]
    assert (tmp_path / "n" / "nodes.csv").stat().st_mode & 0o777 == 0o600


def test_neo4j_array_delimiter_in_a_value_fails_and_writes_nothing(tmp_path):
    out = tmp_path / "n"
    export(_graph(), "neo4j-csv", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(InputError, match="delimiter"):
        export(_graph(label="a;b"), "neo4j-csv", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched, no temporaries


def test_neptune_csv_headers_and_json_lists(tmp_path):
    export(_graph(), "neptune-csv", tmp_path / "p")
    with open(tmp_path / "p" / "nodes.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["~id", "~label", "id:String"]
    w = next(r for r in rows if r["~id"] == "w")
    assert json.loads(w["labels:String"]) == ["synthetic"] and w["name:String"] == NASTY
    with open(tmp_path / "p" / "edges.csv", newline="", encoding="utf-8") as fh:
        edges = list(csv.DictReader(fh))
    assert [(e["~from"], e["~to"], e["~label"]) for e in edges] == [("r", "w", "ADMINISTERS"), ("w", "r", "RUNS_AS")]
    assert json.loads(edges[0]["actions:String"]) == ["lambda:UpdateFunctionCode"]


def test_cypher_statements_keep_values_in_parameters(tmp_path):
    path = tmp_path / "g.jsonl"
    export(_graph(), "cypher", path)
    stmts = list(read_statements(path))
    assert stmts == json.loads(json.dumps(statements(_graph())))
    texts = [s["statement"] for s in stmts]
    assert not any("DETACH" in t or "subnet" in t for t in texts)
    rows = [r for s in stmts for r in s["parameters"].get("rows", [])]
    assert next(r for r in rows if r["id"] == "w")["props"]["name"] == NASTY
    assert {r["id"] for r in rows} == {"w", "r", "e0", "e1"}


def test_graphml_stringifies_attributes(tmp_path):
    path = tmp_path / "g.graphml"
    export(_graph(), "graphml", path)
    H = nx.read_graphml(path, force_multigraph=True)
    assert H.nodes["w"]["name"] == NASTY and json.loads(H.nodes["w"]["subnets"]) == ["subnet-1", "subnet-2"]
    assert "record" not in H.nodes["r"]
    assert sorted((u, v, d["type"]) for u, v, d in H.edges(data=True)) == [("r", "w", "ADMINISTERS"),
                                                                          ("w", "r", "RUNS_AS")]


def test_unknown_format_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="unknown export format"):
        export(_graph(), "dot", tmp_path / "x")


def test_documented_query_is_the_shipped_one():
    assert FORBIDDEN_PAIRS_QUERY in (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")


def test_cli_export_and_bad_snapshot(tmp_path):
    inv = Inventory(accounts=[Account(id="111122223333")], principals=[
        Principal(arn="arn:aws:iam::111122223333:role/x", kind="role", account="111122223333", name="x")])
    snap = tmp_path / "s.json"
    snapshot.save(inv, snap)
    ok = subprocess.run([*IAMREACH, "export", str(snap), "--format", "graphml", "-o", str(tmp_path / "g.graphml")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "arn:aws:iam::111122223333:role/x" in nx.read_graphml(tmp_path / "g.graphml")
    snap.write_bytes(snap.read_bytes().replace(b'"x"', b'"y"'))
    bad = subprocess.run([*IAMREACH, "export", str(snap), "--format", "cypher", "-o", str(tmp_path / "c.jsonl")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "content_hash" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

