"""Small hand-built graphs that follow the graph contract, for the check tests.

``Kit`` builds a ``networkx.MultiDiGraph`` with the documented node and edge attributes, inventory
records behind the nodes and account-label inheritance, so each check can be exercised on a
graph of a handful of nodes. The tests at the bottom check the kit itself.
"""

from __future__ import annotations

import networkx as nx

from iamreach.config import Config
from iamreach.inventory import Account, Inventory, Principal, Resource

SYN = "222222222222"
PROD = "111111111111"
OTHER = "333333333333"


def root(acct: str) -> str:
    return f"arn:aws:iam::{acct}:root"


class Kit:
    """Build a graph node by node; account labels flow down to every node of the account."""

    def __init__(self, config: Config | None = None) -> None:
        self.inv = Inventory()
        self.G = nx.MultiDiGraph()
        self.G.graph.update(inventory=self.inv, config=config or Config.default(), gaps=[], accounts={})
        self.account_labels: dict[str, tuple[str, ...]] = {}

    def account(self, acct: str, *labels: str, ou_path: tuple[str, ...] = (), name: str | None = None) -> str:
        rec = Account(id=acct, name=name or acct, ou_path=list(ou_path))
        self.inv.accounts.append(rec)
        self.account_labels[acct] = tuple(labels)
        self.G.graph["accounts"][acct] = {"name": rec.name, "ou_path": tuple(ou_path), "ou_names": tuple(ou_path),
                                          "is_management": False, "tags": {}}
        self._add(root(acct), "account", acct, labels, rec, name=rec.name)
        return root(acct)

    def _add(self, node: str, kind: str, acct: str | None, labels, rec, name=None, vpc=None) -> str:
        inherited = self.account_labels.get(acct or "", ()) if kind != "account" else ()
        self.G.add_node(node, kind=kind, account=acct, region=None, name=name or node.rsplit("/", 1)[-1],
                        tags={}, labels=tuple(sorted({*labels, *inherited})), vpc=vpc, subnets=(), record=rec)
        return node

    def resource(self, arn: str, kind: str, acct: str, *labels: str, policy: dict | None = None,
                 id: str | None = None, **attributes) -> str:
        rec = Resource(arn=arn, kind=kind, account=acct, id=id, name=arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
                       policy=policy, attributes=attributes)
        self.inv.resources.append(rec)
        return self._add(arn, kind, acct, labels, rec, name=rec.name, vpc=attributes.get("vpc_id"))

    def role(self, name: str, acct: str, *labels: str, trust: dict | None = None) -> str:
        arn = f"arn:aws:iam::{acct}:role/{name}"
        rec = Principal(arn=arn, kind="role", account=acct, name=name, trust_policy=trust)
        self.inv.principals.append(rec)
        return self._add(arn, "role", acct, labels, rec, name=name)

    def bucket(self, name: str, acct: str, *labels: str, **kw) -> str:
        kw.setdefault("public_access_block", None)
        kw.setdefault("acl_grants", [])
        kw.setdefault("encryption", {"algorithm": "AES256", "kms_key_arn": None})
        return self.resource(f"arn:aws:s3:::{name}", "s3_bucket", acct, *labels, **kw)

    def workload(self, kind: str, name: str, acct: str, role: str | None, *labels: str, **attrs) -> str:
        prefix = {"lambda_function": f"arn:aws:lambda:us-east-1:{acct}:function:",
                  "ec2_instance": f"arn:aws:ec2:us-east-1:{acct}:instance/",
                  "glue_job": f"arn:aws:glue:us-east-1:{acct}:job/",
                  "sagemaker_notebook": f"arn:aws:sagemaker:us-east-1:{acct}:notebook-instance/",
                  "sfn_state_machine": f"arn:aws:states:us-east-1:{acct}:stateMachine:"}[kind]
        node = self.resource(prefix + name, kind, acct, *labels, role_arn=role, **attrs)
        if role:
            self.edge(node, role, "runs_as", reason=f"{name} runs as {role}")
        return node

    def edge(self, u: str, v: str, kind: str, *, decision: str = "allowed", actions=(), ports=(),
             evidence=(), method=None, reason: str = "", conditions=()) -> None:
        for n in (u, v):
            if n not in self.G:
                acct = n.split(":")[1] if n.startswith("account:") else None
                self._add(n, "account_principals" if n.startswith("account:") else "unknown", acct, (), None)
        self.G.add_edge(u, v, key=f"{kind}:{method or ''}", kind=kind, decision=decision,
                        conditions=tuple(conditions), actions=tuple(actions), ports=tuple(ports), method=method,
                        reason=reason or f"{u} {kind} {v}", evidence=tuple(evidence))

    def gap(self, service: str, api: str, code: str = "AccessDenied", account: str | None = None,
            resource: str | None = None) -> None:
        self.G.graph["gaps"].append({"service": service, "api": api, "error_code": code, "account": account,
                                     "region": "us-east-1" if account else None, "message": "denied",
                                     "resource": resource})


def ev(type_: str, ref: str, sid: str | None = None, index: int | None = 0, detail: str = "") -> dict:
    return {"type": type_, "ref": ref, "sid": sid, "index": index, "detail": detail}


def run(check, G, config: Config | None = None):
    """Run one check and return its findings as a list (through the registry, like the CLI)."""
    from iamreach.analyses.checks.registry import Registry

    return list(Registry([check]).run(G, config or G.graph["config"]).findings)


# -- the kit itself -------------------------------------------------------------------------
def test_kit_inherits_account_labels_and_follows_contract():
    k = Kit()
    k.account(PROD, "production")
    b = k.bucket("phi-data", PROD, "phi")
    assert k.G.nodes[b]["labels"] == ("phi", "production")
    for attr in ("kind", "account", "region", "name", "tags", "labels", "vpc", "subnets", "record"):
        assert attr in k.G.nodes[b]
    r = k.role("reader", PROD)
    k.edge(r, b, "reads", actions=("s3:GetObject",))
    (_, _, data), = k.G.edges(data=True)
    assert set(data) == {"kind", "decision", "conditions", "actions", "ports", "method", "reason", "evidence"}


def test_environments_classify_nodes_and_named_principals():
    """The one synthetic / production classification the cross-environment checks share."""
    from iamreach.analyses.checks._common import environments

    k = Kit()
    k.account(SYN, "synthetic", ou_path=("r-1", "ou-syn"))
    k.account(OTHER, "synthetic")  # outside the organization tree
    k.account(PROD, "production")
    b = k.bucket("phi-data", PROD, "phi")
    stray = k.role("labelled-synthetic", PROD, "synthetic")
    env = environments(k.G)
    assert (env.synthetic, env.production) == ({SYN, OTHER}, {PROD})
    assert env.is_production(b) and not env.is_synthetic(b)
    assert env.is_synthetic(stray) and env.is_production(stray)  # its own label and its account's
    # principals a policy names need not be nodes: the account comes from the value itself
    assert env.names_synthetic(f"arn:aws:iam::{SYN}:role/not-a-node") and env.names_synthetic(SYN)
    assert env.names_synthetic(stray) and not env.names_synthetic(f"arn:aws:iam::{PROD}:role/x")
    assert not env.names_synthetic("*") and not env.names_synthetic("")
    assert env.synthetic_in_org() == [SYN]
    assert env.holds(b, "phi") and env.accounts("phi") == frozenset()


def test_kind_index_answers_as_the_graph_does_and_only_for_its_graph():
    """While checks run, node and account lookups read an index by kind: same answers, own graph only."""
    from iamreach.analyses.checks._common import accounts_labelled, kind_index, nodes

    k = Kit()
    k.account(SYN, "synthetic")
    k.account(PROD, "production")
    k.account(OTHER, "production", "phi")
    k.bucket("phi-data", PROD, "phi")
    k.bucket("syn-data", SYN)
    k.role("etl", SYN)
    k.workload("sagemaker_notebook", "nb", SYN, f"arn:aws:iam::{SYN}:role/etl")
    other = Kit()
    other.account(SYN, "production")
    queries = [((), {}), (("s3_bucket",), {}), ((["s3_bucket", "role"],), {}), (("s3_bucket",), {"label": "phi"}),
               ((None,), {"label": "production"}), (("no_such_kind",), {})]
    plain = [nodes(k.G, *a, **kw) for a, kw in queries]
    accounts = {label: accounts_labelled(k.G, label) for label in ("synthetic", "production", "phi", "none")}
    assert plain[1] == ["arn:aws:s3:::phi-data", "arn:aws:s3:::syn-data"] and plain[-1] == []
    assert accounts["production"] == {PROD, OTHER} and accounts["none"] == set()
    with kind_index(k.G):
        assert [nodes(k.G, *a, **kw) for a, kw in queries] == plain
        for _ in range(2):  # the second answer comes from the index's memo, and is the caller's to change
            got = {label: accounts_labelled(k.G, label) for label in accounts}
            assert got == accounts
            got["production"].add("mutated")
        # another graph is read directly, not through this graph's index
        assert accounts_labelled(other.G, "production") == {SYN}
        assert nodes(other.G, "account") == [root(SYN)]
    assert [nodes(k.G, *a, **kw) for a, kw in queries] == plain
