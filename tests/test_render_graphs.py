"""Hand-built graphs that follow the graph contract (iamreach.model), shared by the render tests.

``contract_graph()`` is a small two-account organization: a synthetic-data Lambda and EC2
instance whose roles reach a production PHI bucket and database, plus hostile names.
"""

from __future__ import annotations

import networkx as nx

from iamreach.analyses.results import Hop, Path, PathSet

SYN = "222233334444"
PROD = "111122223333"
HOSTILE = "<script>alert(1)</script>"
HOSTILE2 = 'a"b\\c{d}&e'

LAMBDA = f"arn:aws:lambda:us-east-1:{SYN}:function:gen-synthetic"
SYN_ROLE = f"arn:aws:iam::{SYN}:role/synthetic-lambda"
EC2 = f"arn:aws:ec2:us-east-1:{SYN}:instance/i-0abc"
PROFILE = f"arn:aws:iam::{SYN}:instance-profile/etl"
EC2_ROLE = f"arn:aws:iam::{SYN}:role/etl"
PROD_ROLE = f"arn:aws:iam::{PROD}:role/{HOSTILE}"
ODD_ROLE = f"arn:aws:iam::{PROD}:role/{HOSTILE2}"
BUCKET = "arn:aws:s3:::phi-claims"
DB = f"arn:aws:rds:us-east-1:{PROD}:db:phi-db"
SECRET = f"arn:aws:secretsmanager:us-east-1:{PROD}:secret:phi-db-creds"
KEY = f"arn:aws:kms:us-east-1:{PROD}:key/1234"
SNAP = f"arn:aws:rds:us-east-1:{PROD}:snapshot:phi-db-snap"


def _node(G: nx.MultiDiGraph, nid: str, kind: str, account: str | None, name: str, labels=(), *,
          vpc=None, subnets=(), tags=None, record=None) -> None:
    G.add_node(nid, kind=kind, account=account, region="us-east-1" if account else None, name=name,
               tags=tags or {}, labels=tuple(sorted(labels)), vpc=vpc, subnets=tuple(subnets), record=record)


def _edge(G: nx.MultiDiGraph, u: str, v: str, kind: str, *, decision="allowed", actions=(), ports=(),
          method=None, reason="", evidence=(), conditions=()) -> None:
    G.add_edge(u, v, key=kind, kind=kind, decision=decision, actions=tuple(actions), ports=tuple(ports),
               method=method, reason=reason or f"{kind} edge", evidence=tuple(evidence),
               conditions=tuple(conditions))


def contract_graph() -> nx.MultiDiGraph:
    """A small graph following the contract, with hostile names in it."""
    from iamreach.inventory import Principal

    G = nx.MultiDiGraph()
    G.graph.update(gaps=[], accounts={SYN: {"name": "synthetic-data", "ou_path": [], "ou_names": [],
                                            "is_management": False, "tags": {}},
                                      PROD: {"name": "prod-phi", "ou_path": [], "ou_names": [],
                                             "is_management": False, "tags": {}}})
    syn, prod, phi = ("synthetic",), ("production",), ("phi", "production")
    _node(G, f"arn:aws:iam::{SYN}:root", "account", SYN, "synthetic-data", syn)
    _node(G, f"arn:aws:iam::{PROD}:root", "account", PROD, "prod-phi", prod)
    _node(G, "internet", "internet", None, "internet")
    _node(G, LAMBDA, "lambda_function", SYN, "gen-synthetic", syn, vpc="vpc-syn", subnets=("subnet-a", "subnet-b"))
    _node(G, SYN_ROLE, "role", SYN, "synthetic-lambda", syn)
    _node(G, EC2, "ec2_instance", SYN, "i-0abc", syn, vpc="vpc-syn", subnets=("subnet-a",))
    _node(G, PROFILE, "instance_profile", SYN, "etl", syn)
    _node(G, EC2_ROLE, "role", SYN, "etl", syn)
    prod_role_record = Principal(
        arn=PROD_ROLE, kind="role", account=PROD, name=HOSTILE,
        inline_policies={"read-phi": {"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadPhi", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}]}},
        trust_policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "sts:AssumeRole"}]},
        tags={"Owner": HOSTILE})
    _node(G, PROD_ROLE, "role", PROD, HOSTILE, prod, tags={"Owner": HOSTILE}, record=prod_role_record)
    _node(G, ODD_ROLE, "role", PROD, HOSTILE2, prod)
    _node(G, BUCKET, "s3_bucket", PROD, "phi-claims", phi, tags={"DataClassification": "PHI"})
    _node(G, DB, "rds_instance", PROD, "phi-db", phi, vpc="vpc-prod", subnets=("subnet-p",))
    _node(G, SECRET, "secret", PROD, "phi-db-creds", phi)
    _node(G, KEY, "kms_key", PROD, "1234", prod)
    _node(G, SNAP, "rds_snapshot", PROD, "phi-db-snap", phi)
    ev = [{"type": "identity_policy", "ref": f"{SYN_ROLE}#inline/assume", "sid": "Go", "index": 0,
           "detail": f"Allow sts:AssumeRole on {PROD_ROLE}"}]
    _edge(G, LAMBDA, SYN_ROLE, "runs_as", reason="execution role")
    _edge(G, EC2, PROFILE, "runs_as")
    _edge(G, PROFILE, EC2_ROLE, "runs_as")
    _edge(G, SYN_ROLE, PROD_ROLE, "can_assume", actions=("sts:AssumeRole",), evidence=ev,
          reason=f"trust policy of {HOSTILE} allows synthetic-lambda")
    _edge(G, EC2_ROLE, ODD_ROLE, "escalates_to", method="iam-PassRole+lambda", actions=("iam:PassRole",),
          decision="conditional", conditions=({"StringEquals": {"aws:RequestedRegion": "us-east-1"}},))
    _edge(G, PROD_ROLE, BUCKET, "reads", actions=("s3:GetObject",),
          evidence=[{"type": "identity_policy", "ref": PROD_ROLE, "sid": "ReadPhi", "index": 0,
                     "detail": f"name {HOSTILE}"}])
    _edge(G, ODD_ROLE, SECRET, "reads", actions=("secretsmanager:GetSecretValue",))
    _edge(G, ODD_ROLE, KEY, "decrypts", actions=("kms:Decrypt",))
    _edge(G, SECRET, DB, "unlocks")
    _edge(G, KEY, SECRET, "unlocks")
    _edge(G, EC2, DB, "can_connect", ports=("tcp/5432",),
          evidence=[{"type": "sg_rule", "ref": "sg-1", "sid": None, "index": 0, "detail": "10.0.0.0/16"}])
    _edge(G, DB, SNAP, "snapshot_of")
    _edge(G, "internet", BUCKET, "exposes", decision="conditional", actions=("s3:GetObject",))
    return G


def contract_pathset(G: nx.MultiDiGraph) -> PathSet:
    """Two witness paths synthetic -> phi taken from the graph's own edges."""
    def hop(u, v):
        return Hop.from_edge(u, v, next(iter(G.get_edge_data(u, v).values())))

    p1 = Path((hop(LAMBDA, SYN_ROLE), hop(SYN_ROLE, PROD_ROLE), hop(PROD_ROLE, BUCKET)))
    p2 = Path((hop(EC2, DB),))
    return PathSet(paths=(p2, p1))


def big_graph(n: int = 5000) -> nx.MultiDiGraph:
    """A ``n``-node graph over 10 accounts and several kinds, ~3 edges per node."""
    G = nx.MultiDiGraph()
    G.graph.update(gaps=[], accounts={})
    kinds = ("role", "user", "s3_bucket", "lambda_function", "secret", "kms_key")
    ids = []
    for i in range(n):
        acct = f"{100000000000 + i % 10}"
        kind = kinds[i % len(kinds)]
        nid = f"arn:aws:iam::{acct}:{kind}/n{i}"
        _node(G, nid, kind, acct, f"n{i}", ("phi",) if i % 97 == 0 else ())
        ids.append(nid)
    for i in range(n):
        for step in (1, 7, 131):
            _edge(G, ids[i], ids[(i + step) % n], "can_assume" if step == 1 else "reads")
    return G


def test_contract_graph_follows_the_contract():
    G = contract_graph()
    node_keys = {"kind", "account", "region", "name", "tags", "labels", "vpc", "subnets", "record"}
    edge_keys = {"kind", "decision", "conditions", "actions", "ports", "method", "reason", "evidence"}
    assert all(node_keys <= set(d) for _, d in G.nodes(data=True))
    assert all(edge_keys <= set(d) for _, _, d in G.edges(data=True))
    ps = contract_pathset(G)
    assert {p.target for p in ps} == {BUCKET, DB}
