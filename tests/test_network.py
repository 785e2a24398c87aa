"""can_connect: security groups (CIDR and SG references), NACLs both ways, routes both ways, peering."""

from __future__ import annotations

import copy

from iamreach.graph.builder import build_graph
from iamreach.inventory import Account, Inventory, Resource

SYN, PROD = "222222222222", "111111111111"


def res(kind, rid, account, **attrs):
    return Resource(arn=f"arn:aws:ec2:us-east-1:{account}:{kind}/{rid}", kind=kind, account=account,
                    region="us-east-1", id=rid, name=rid, attributes=attrs)


def sg(rid, account, vpc, ingress=(), egress=None):
    egress = [{"rule_id": f"{rid}-e", "protocol": "-1", "from_port": None, "to_port": None,
               "cidrs": ["0.0.0.0/0"], "ipv6_cidrs": [], "sg_refs": [], "prefix_lists": []}] if egress is None else egress
    return res("security_group", rid, account, vpc_id=vpc, group_name=rid, ingress=list(ingress), egress=list(egress))


def rule(rid, port, cidrs=(), refs=()):
    return {"rule_id": rid, "protocol": "tcp", "from_port": port, "to_port": port, "cidrs": list(cidrs),
            "ipv6_cidrs": [], "sg_refs": [{"group_id": r, "account": None} for r in refs], "prefix_lists": []}


def world(*, peered=True, route_back=True, db_ingress=None, nacl_deny=False):
    inv = Inventory(accounts=[Account(id=SYN), Account(id=PROD)])
    syn_vpc = res("vpc", "vpc-syn", SYN, cidrs=["10.20.0.0/16"], ipv6_cidrs=[], is_default=False)
    prod_vpc = res("vpc", "vpc-prod", PROD, cidrs=["10.10.0.0/16"], ipv6_cidrs=[], is_default=False)
    s1 = res("subnet", "subnet-syn", SYN, vpc_id="vpc-syn", cidr="10.20.1.0/24", ipv6_cidrs=[],
             availability_zone="us-east-1a", map_public_ip=False)
    s2 = res("subnet", "subnet-prod", PROD, vpc_id="vpc-prod", cidr="10.10.1.0/24", ipv6_cidrs=[],
             availability_zone="us-east-1a", map_public_ip=False)
    pcx = Resource(arn=f"arn:aws:ec2:us-east-1:{SYN}:vpc-peering-connection/pcx-1", kind="vpc_peering", account=SYN,
                   region="us-east-1", id="pcx-1", attributes={
                       "requester": {"vpc_id": "vpc-syn", "account": SYN, "region": "us-east-1", "cidrs": ["10.20.0.0/16"]},
                       "accepter": {"vpc_id": "vpc-prod", "account": PROD, "region": "us-east-1", "cidrs": ["10.10.0.0/16"]},
                       "status": "active" if peered else "pending-acceptance"})
    rt1 = res("route_table", "rtb-syn", SYN, vpc_id="vpc-syn", subnet_ids=["subnet-syn"], main=False,
              routes=[{"destination": "10.10.0.0/16", "target_type": "vpc_peering", "target_id": "pcx-1", "state": "active"}])
    rt2 = res("route_table", "rtb-prod", PROD, vpc_id="vpc-prod", subnet_ids=["subnet-prod"], main=False,
              routes=[{"destination": "10.20.0.0/16", "target_type": "vpc_peering", "target_id": "pcx-1",
                       "state": "active"}] if route_back else [])
    entries = [{"rule_number": 100, "egress": e, "protocol": "-1", "action": "allow", "cidr": "0.0.0.0/0",
                "ipv6_cidr": None, "from_port": None, "to_port": None} for e in (True, False)]
    if nacl_deny:
        entries.insert(0, {"rule_number": 50, "egress": False, "protocol": "6", "action": "deny", "cidr": "10.20.0.0/16",
                           "ipv6_cidr": None, "from_port": 5432, "to_port": 5432})
    nacl = res("nacl", "acl-prod", PROD, vpc_id="vpc-prod", subnet_ids=["subnet-prod"], is_default=False, entries=entries)
    wsg = sg("sg-gen", SYN, "vpc-syn")
    dsg = sg("sg-db", PROD, "vpc-prod", ingress=db_ingress if db_ingress is not None else [rule("sgr-1", 5432, ["10.20.0.0/16"])])
    inst = Resource(arn=f"arn:aws:ec2:us-east-1:{SYN}:instance/i-gen", kind="ec2_instance", account=SYN,
                    region="us-east-1", id="i-gen", attributes={
                        "instance_profile_arn": None, "vpc_id": "vpc-syn", "subnet_id": "subnet-syn",
                        "security_group_ids": ["sg-gen"], "private_ips": ["10.20.1.5"], "public_ip": None, "state": "running"})
    db = Resource(arn=f"arn:aws:rds:us-east-1:{PROD}:cluster:phi", kind="rds_cluster", account=PROD, region="us-east-1",
                  id="phi", name="phi", attributes={
                      "engine": "aurora-postgresql", "port": 5432, "endpoint": "phi.cluster.local", "vpc_id": "vpc-prod",
                      "subnet_ids": ["subnet-prod"], "security_group_ids": ["sg-db"], "publicly_accessible": False,
                      "iam_auth": False, "storage_encrypted": True, "kms_key_arn": None, "members": [], "resource_id": "c-1"})
    inv.resources = [syn_vpc, prod_vpc, s1, s2, pcx, rt1, rt2, nacl, wsg, dsg, inst, db]
    return inv, inst.arn, db.arn


def connects(inv, a, b):
    G = build_graph(inv)
    return [d for _, v, d in G.out_edges(a, data=True) if v == b and d["kind"] == "can_connect"]


def test_peered_vpcs_with_open_sg_connect_with_evidence():
    inv, a, b = world()
    (e,) = connects(inv, a, b)
    assert e["ports"] == ("tcp/5432",) and e["decision"] == "allowed"
    kinds = {ev["type"] for ev in e["evidence"]}
    assert {"route", "sg_rule", "nacl_entry"} <= kinds
    assert any(ev["ref"] == "sgr-1" for ev in e["evidence"])


def test_no_route_back_no_tcp():
    inv, a, b = world(route_back=False)
    assert connects(inv, a, b) == []


def test_peering_not_active():
    inv, a, b = world(peered=False)
    assert connects(inv, a, b) == []


def test_sg_must_allow_the_source():
    inv, a, b = world(db_ingress=[rule("sgr-2", 5432, ["10.30.0.0/16"])])
    assert connects(inv, a, b) == []
    inv, a, b = world(db_ingress=[rule("sgr-3", 5432, refs=["sg-gen"])])
    assert connects(inv, a, b)
    inv, a, b = world(db_ingress=[rule("sgr-4", 3306, ["10.20.0.0/16"])])
    assert connects(inv, a, b) == []


def test_nacl_deny_rule_first_match_wins():
    inv, a, b = world(nacl_deny=True)
    assert connects(inv, a, b) == []


def test_partial_cidr_cover_is_conditional():
    inv, a, b = world(db_ingress=[rule("sgr-5", 5432, ["10.20.1.0/28"])])
    inv2 = copy.deepcopy(inv)
    for r in inv2.resources:
        if r.kind == "ec2_instance":
            r.attributes["private_ips"] = []  # only the subnet is known
    (e,) = connects(inv2, a, b)
    assert e["decision"] == "conditional"
