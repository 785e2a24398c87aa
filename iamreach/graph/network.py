"""Network reachability: ``can_connect`` edges from workloads to databases, and internet exposure.

A workload reaches a database port when, for some pair of their subnets:

* a route exists both ways (same VPC: local; otherwise an active VPC peering or a shared transit
  gateway, with routes in both subnets' route tables — TCP needs the reply path too);
* the workload's security groups allow the egress and the database's security groups allow the
  ingress (CIDR rules or SG-to-SG references);
* when the subnets differ, both subnets' network ACLs allow the request (ordered rules, first
  match wins) and the reply on ephemeral ports, in both directions.

Addresses that are only known up to a subnet make a rule that covers part of the subnet
CONDITIONAL, never ALLOWED. Candidates are limited to workloads in VPCs connected to the
database's VPC, so the cost is not workloads x databases.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import defaultdict
from dataclasses import dataclass

from iamreach.model import INTERNET, EdgeKind

__all__ = ["add_network_edges", "add_internet_exposure", "Placement"]

_EPHEMERAL_PROBES = (1024, 32768, 49152, 60999, 65535)
_WORKLOAD_KINDS = ("ec2_instance", "lambda_function", "sagemaker_notebook", "glue_dev_endpoint", "glue_job")
_DB_KINDS = ("rds_instance", "rds_cluster")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where something sits on the network."""

    vpc: str
    subnets: tuple[str, ...]
    sgs: tuple[str, ...]
    ips: tuple[str, ...] = ()
    via: str | None = None  # e.g. the Glue connection a job uses


@functools.lru_cache(maxsize=65536)
def _parse_net(cidr):
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except (ValueError, TypeError):
        return None


def _net(cidr):
    """The network of a CIDR string (parsed once per distinct string), None when it is not one."""
    if not isinstance(cidr, str):
        return None
    return _parse_net(cidr)


@functools.lru_cache(maxsize=65536)
def _covers_cached(rule_cidr: str, src) -> str | None:
    rn = _net(rule_cidr)
    if rn is None or src is None or rn.version != src.version:
        return None
    if src.subnet_of(rn):
        return "full"
    if rn.overlaps(src):
        return "part"
    return None


def _covers(rule_cidr: str, src) -> str | None:
    """'full' if the rule CIDR contains all of ``src`` (a network), 'part' if it overlaps, None."""
    if not isinstance(rule_cidr, str):
        return None
    return _covers_cached(rule_cidr, src)


def _port_ok(rule: dict, port: int) -> bool:
    proto = str(rule.get("protocol", "-1")).lower()
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = rule.get("from_port"), rule.get("to_port")
    if lo is None or hi is None or lo == -1:
        return True
    return int(lo) <= port <= int(hi)


class _Net:
    def __init__(self, b):
        self.b = b
        res = b.inv.resources
        self.sg = {r.id: r for r in res if r.kind == "security_group" and r.id}
        self.subnet = {r.id: r for r in res if r.kind == "subnet" and r.id}
        self.vpc = {r.id: r for r in res if r.kind == "vpc" and r.id}
        self.nacl_of: dict[str, object] = {}
        default_nacl: dict[str, object] = {}
        for r in res:
            if r.kind == "nacl":
                for s in r.attributes.get("subnet_ids") or ():
                    self.nacl_of[s] = r
                if r.attributes.get("is_default"):
                    default_nacl[r.attributes.get("vpc_id")] = r
        self.default_nacl = default_nacl
        self.rt_of: dict[str, object] = {}
        self.main_rt: dict[str, object] = {}
        for r in res:
            if r.kind == "route_table":
                for s in r.attributes.get("subnet_ids") or ():
                    self.rt_of[s] = r
                if r.attributes.get("main"):
                    self.main_rt[r.attributes.get("vpc_id")] = r
        self.peerings = [r for r in res if r.kind == "vpc_peering"
                         and str(r.attributes.get("status") or "").lower() == "active"]
        # active peerings by the pair of VPCs they join (route_path asks for one pair at a time)
        self.peering_links: dict[frozenset, set[str]] = defaultdict(set)
        self._routes: dict[tuple[str, str, str, str], tuple[str, list] | None] = {}
        self.tgw_of: dict[str, set[str]] = defaultdict(set)
        for r in res:
            if r.kind == "transit_gateway_attachment" and r.attributes.get("vpc_id"):
                self.tgw_of[r.attributes["vpc_id"]].add(r.attributes.get("transit_gateway_id"))
        self.connected: dict[str, set[str]] = defaultdict(set)
        for v in self.vpc:
            self.connected[v].add(v)
        for p in self.peerings:
            a = (p.attributes.get("requester") or {}).get("vpc_id")
            c = (p.attributes.get("accepter") or {}).get("vpc_id")
            self.peering_links[frozenset({a, c})].add(p.id)
            if a and c:
                self.connected[a].add(c)
                self.connected[c].add(a)
        by_tgw = defaultdict(set)
        for v, tgws in self.tgw_of.items():
            for t in tgws:
                by_tgw[t].add(v)
        for vs in by_tgw.values():
            for v in vs:
                self.connected[v] |= vs

    # -- placement ---------------------------------------------------------------------------
    def placement(self, r) -> list[Placement]:
        a = r.attributes
        if r.kind == "glue_job":
            out = []
            for name in a.get("connections") or ():
                for c in self.b.by_kind_account.get(("glue_connection", r.account), ()):
                    if c.name == name or c.id == name:
                        for p in self.placement(c):
                            out.append(Placement(p.vpc, p.subnets, p.sgs, p.ips, via=c.arn))
            return out
        subnets = tuple(a.get("subnet_ids") or ([a["subnet_id"]] if a.get("subnet_id") else []))
        sgs = tuple(a.get("security_group_ids") or ())
        if not subnets:
            return []
        vpc = a.get("vpc_id") or (self.subnet[subnets[0]].attributes.get("vpc_id") if subnets[0] in self.subnet else None)
        if not vpc:
            return []
        ips = tuple(a.get("private_ips") or ())
        return [Placement(vpc, subnets, sgs, ips)]

    def src_nets(self, p: Placement, subnet: str):
        if p.ips:
            return [_net(ip + "/32") for ip in p.ips]
        s = self.subnet.get(subnet)
        return [_net(s.attributes.get("cidr"))] if s else []

    def subnet_net(self, subnet: str):
        s = self.subnet.get(subnet)
        return _net(s.attributes.get("cidr")) if s else None

    # -- security groups ---------------------------------------------------------------------
    def sg_allows(self, sgs, direction: str, port: int, peer_nets, peer_sgs) -> tuple[str, list] | None:
        best, ev = None, []
        for sg_id in sgs:
            sg = self.sg.get(sg_id)
            if sg is None:
                continue
            for rule in sg.attributes.get(direction) or ():
                if not _port_ok(rule, port):
                    continue
                hit = None
                refs = {ref.get("group_id") for ref in rule.get("sg_refs") or ()}
                if refs & set(peer_sgs):
                    hit = "full"
                for cidr in [*(rule.get("cidrs") or ()), *(rule.get("ipv6_cidrs") or ())]:
                    for n in peer_nets:
                        c = _covers(cidr, n)
                        if c == "full" or (c == "part" and hit is None):
                            hit = c
                if hit:
                    ev.append({"type": "sg_rule", "ref": rule.get("rule_id") or sg_id, "sid": None, "index": None,
                               "detail": f"{sg_id} {direction} {rule.get('protocol')} "
                                         f"{rule.get('from_port')}-{rule.get('to_port')} "
                                         f"{','.join([*(rule.get('cidrs') or ()), *sorted(r for r in refs if r)])}"})
                    if hit == "full":
                        best = "full"
                    elif best is None:
                        best = "part"
        if best is None:
            return None
        return ("allowed" if best == "full" else "conditional", ev)

    # -- NACLs -------------------------------------------------------------------------------
    def nacl_for(self, subnet: str):
        n = self.nacl_of.get(subnet)
        if n is None:
            s = self.subnet.get(subnet)
            n = self.default_nacl.get(s.attributes.get("vpc_id")) if s else None
        return n

    def nacl_allows(self, subnet: str, egress: bool, port: int, peer) -> tuple[str, list] | None:
        nacl = self.nacl_for(subnet)
        if nacl is None:
            return ("allowed", [])  # no NACL collected: the VPC default allows all
        entries = sorted((e for e in nacl.attributes.get("entries") or () if bool(e.get("egress")) == egress),
                         key=lambda e: int(e.get("rule_number", 32767)))
        for e in entries:
            if not _port_ok(e, port):
                continue
            c = _covers(e.get("cidr") or e.get("ipv6_cidr") or "", peer)
            if c is None:
                continue
            ok = str(e.get("action", "")).lower() == "allow"
            ev = [{"type": "nacl_entry", "ref": nacl.id, "sid": None, "index": e.get("rule_number"),
                   "detail": f"{nacl.id} {'egress' if egress else 'ingress'} rule {e.get('rule_number')} "
                             f"{e.get('action')} {e.get('cidr')} port {port}"}]
            if c == "full":
                return ("allowed", ev) if ok else None
            return ("conditional", ev) if ok else ("conditional", ev)
        return None

    def nacl_path(self, s_sub: str, d_sub: str, port: int) -> tuple[str, list] | None:
        if s_sub == d_sub:
            return ("allowed", [])
        s_net, d_net = self.subnet_net(s_sub), self.subnet_net(d_sub)
        checks = [self.nacl_allows(s_sub, True, port, d_net), self.nacl_allows(d_sub, False, port, s_net)]
        reply = []
        for eph in _EPHEMERAL_PROBES:
            r1 = self.nacl_allows(d_sub, True, eph, s_net)
            r2 = self.nacl_allows(s_sub, False, eph, d_net)
            reply.append(r1 is not None and r2 is not None)
        if any(c is None for c in checks) or not any(reply):
            return None
        ev = [e for c in checks for e in c[1]]
        decision = "conditional" if any(c[0] == "conditional" for c in checks) or not all(reply) else "allowed"
        return decision, ev

    # -- routes ------------------------------------------------------------------------------
    def route_table(self, subnet: str):
        rt = self.rt_of.get(subnet)
        if rt is None:
            s = self.subnet.get(subnet)
            rt = self.main_rt.get(s.attributes.get("vpc_id")) if s else None
        return rt

    def routes_to(self, subnet: str, dest_net, links: set[str]) -> dict | None:
        rt = self.route_table(subnet)
        if rt is None or dest_net is None:
            return None
        best = None
        for route in rt.attributes.get("routes") or ():
            c = _covers(route.get("destination") or "", dest_net)
            if c is None or str(route.get("state") or "active").lower() == "blackhole":
                continue
            if route.get("target_id") in links:
                if best is None or c == "full":
                    best = {**route, "_cover": c, "_rt": rt.id}
        return best

    def route_path(self, s_vpc: str, s_sub: str, d_vpc: str, d_sub: str) -> tuple[str, list] | None:
        """The routes both ways between two subnets: ``(decision, evidence)`` or None; cached per
        subnet pair (every workload and database placed in the same subnets asks the same; the
        evidence is only read)."""
        key = (s_vpc, s_sub, d_vpc, d_sub)
        try:
            return self._routes[key]
        except KeyError:
            hit = self._routes[key] = self._route_path(s_vpc, s_sub, d_vpc, d_sub)
            return hit

    def _route_path(self, s_vpc: str, s_sub: str, d_vpc: str, d_sub: str) -> tuple[str, list] | None:
        if s_vpc == d_vpc:
            return ("allowed", [{"type": "route", "ref": s_vpc, "sid": None, "index": None,
                                 "detail": "same VPC (local route)"}])
        links = set(self.peering_links.get(frozenset({s_vpc, d_vpc}), ()))
        links |= self.tgw_of.get(s_vpc, set()) & self.tgw_of.get(d_vpc, set())
        there = self.routes_to(s_sub, self.subnet_net(d_sub), links)
        back = self.routes_to(d_sub, self.subnet_net(s_sub), links)
        if there is None or back is None:
            return None
        ev = [{"type": "route", "ref": r["_rt"], "sid": None, "index": None,
               "detail": f"{r['_rt']}: {r.get('destination')} -> {r.get('target_id')}"} for r in (there, back)]
        decision = "allowed" if there["_cover"] == "full" and back["_cover"] == "full" else "conditional"
        return decision, ev

    # -- the whole check -----------------------------------------------------------------------
    def can_connect(self, src: Placement, dst: Placement, port: int) -> tuple[str, list] | None:
        best = None
        for s_sub in src.subnets:
            for d_sub in dst.subnets:
                route = self.route_path(src.vpc, s_sub, dst.vpc, d_sub)
                if route is None:
                    continue
                d_net = self.subnet_net(d_sub)
                egress = self.sg_allows(src.sgs, "egress", port, [d_net], dst.sgs)
                if egress is None:
                    continue
                ingress = self.sg_allows(dst.sgs, "ingress", port, self.src_nets(src, s_sub), src.sgs)
                if ingress is None:
                    continue
                nacl = self.nacl_path(s_sub, d_sub, port)
                if nacl is None:
                    continue
                parts = (route, egress, ingress, nacl)
                decision = "allowed" if all(p[0] == "allowed" for p in parts) else "conditional"
                ev = [e for p in parts for e in p[1]]
                if best is None or (decision == "allowed" and best[0] != "allowed"):
                    best = (decision, ev)
                if decision == "allowed":
                    return best
        return best


def add_network_edges(b) -> None:
    """Add ``can_connect`` edges from every placed workload to every reachable database port."""
    net = _Net(b)
    workloads_by_vpc: dict[str, list] = defaultdict(list)
    for r in b.inv.resources:
        if r.kind in _WORKLOAD_KINDS:
            for p in net.placement(r):
                workloads_by_vpc[p.vpc].append((r, p))
    for db in b.inv.resources:
        if db.kind not in _DB_KINDS:
            continue
        port = db.attributes.get("port")
        dplace = net.placement(db)
        if not port or not dplace:
            continue
        dp = dplace[0]
        for vpc in sorted(net.connected.get(dp.vpc, {dp.vpc})):
            for w, wp in workloads_by_vpc.get(vpc, ()):
                hit = net.can_connect(wp, dp, int(port))
                if hit is None:
                    continue
                decision, ev = hit
                if wp.via:
                    ev = [{"type": "attribute", "ref": wp.via, "sid": None, "index": None,
                           "detail": "network placement from the Glue connection"}, *ev]
                b.add_edge(w.arn, db.arn, EdgeKind.CAN_CONNECT, decision=decision,
                           conditions=[{"key": "network", "detail": "a rule covers only part of the source/destination addresses"}]
                           if decision == "conditional" else (),
                           ports=[f"tcp/{port}"], reason=f"{w.kind} {w.name or w.id} can open tcp/{port} on {db.name}",
                           evidence=ev)
    b._net = net


def add_internet_exposure(b, db) -> None:
    """``internet -> exposes -> db`` when a publicly accessible database is open to 0.0.0.0/0 through an IGW route."""
    net = getattr(b, "_net", None) or _Net(b)
    port = db.attributes.get("port")
    place = net.placement(db)
    if not port or not place:
        return
    p = place[0]
    anywhere = [_net("0.0.0.0/0"), _net("::/0")]
    ingress = net.sg_allows(p.sgs, "ingress", int(port), anywhere, ())
    if ingress is None:
        return
    igws = {r.id for r in b.inv.resources if r.kind == "internet_gateway" and p.vpc in (r.attributes.get("vpc_ids") or ())}
    for sub in p.subnets:
        route = net.routes_to(sub, _net("0.0.0.0/1"), igws)
        if route is not None:
            b.add_edge(INTERNET, db.arn, EdgeKind.EXPOSES, decision=ingress[0], ports=[f"tcp/{port}"],
                       reason=f"{db.name} is publicly accessible and open to the internet on tcp/{port}",
                       evidence=[*ingress[1], {"type": "route", "ref": route["_rt"], "sid": None, "index": None,
                                               "detail": f"{route.get('destination')} -> {route.get('target_id')}"}])
            return
