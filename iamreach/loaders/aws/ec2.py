"""EC2 and VPC: instances (never user data), the VPC network and owned EBS snapshots.

Security group rules come from ``DescribeSecurityGroupRules`` when it answers (each rule keeps
its ``SecurityGroupRuleId``), else from the groups' ``IpPermissions`` (``rule_id`` None).
EBS snapshots are filtered by ``OwnerId`` == the account (``OwnerIds=["self"]`` alone is not
trusted: emulators return public AMI snapshots).
"""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, parse_document, tags_dict
from iamreach.loaders.aws.s3 import kms_arn

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False

#: raw key -> (API, result key); every one is a plain paginated Describe call.
_LISTS = {
    "vpcs": ("describe_vpcs", "Vpcs"),
    "subnets": ("describe_subnets", "Subnets"),
    "security_groups": ("describe_security_groups", "SecurityGroups"),
    "security_group_rules": ("describe_security_group_rules", "SecurityGroupRules"),
    "network_acls": ("describe_network_acls", "NetworkAcls"),
    "route_tables": ("describe_route_tables", "RouteTables"),
    "internet_gateways": ("describe_internet_gateways", "InternetGateways"),
    "nat_gateways": ("describe_nat_gateways", "NatGateways"),
    "vpc_peerings": ("describe_vpc_peering_connections", "VpcPeeringConnections"),
    "vpc_endpoints": ("describe_vpc_endpoints", "VpcEndpoints"),
    "tgw_attachments": ("describe_transit_gateway_vpc_attachments", "TransitGatewayVpcAttachments"),
}


def collect(ctx: Context) -> dict[str, Any]:
    """Raw EC2 responses for one region."""
    raw: dict[str, Any] = {key: ctx.paginate("ec2", api, rkey) for key, (api, rkey) in _LISTS.items()}
    reservations = ctx.paginate("ec2", "describe_instances", "Reservations")
    raw["instances"] = None if reservations is None else [i for r in reservations for i in r.get("Instances") or []]
    snaps = ctx.paginate("ec2", "describe_snapshots", "Snapshots", OwnerIds=[ctx.account])
    owned = [s for s in snaps or [] if s.get("OwnerId") == ctx.account]
    for s in owned:
        arn = f"arn:aws:ec2:{ctx.region}::snapshot/{s['SnapshotId']}"
        resp = ctx.call("ec2", "describe_snapshot_attribute", resource=arn, SnapshotId=s["SnapshotId"],
                        Attribute="createVolumePermission")
        s["CreateVolumePermissions"] = None if resp is None else resp.get("CreateVolumePermissions") or []
    raw["snapshots"] = None if snaps is None else owned
    return jsonable(raw)


def _arn(region: str | None, account: str, kind: str, ident: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:{kind}/{ident}"


def _res(kind: str, arn: str, account: str, region: str | None, ident: str, tags: Any,
         attributes: dict[str, Any], policy: dict | None = None) -> Resource:
    t = tags_dict(tags)
    return Resource(arn=arn, kind=kind, account=account, region=region, id=ident, name=t.get("Name") or ident,
                    tags=t, policy=policy, attributes=attributes)


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Instances, network objects and EBS snapshots as resources."""
    inv = Inventory()
    out = inv.resources
    for i in raw.get("instances") or []:
        out.append(_res("ec2_instance", _arn(region, i.get("OwnerId") or account, "instance", i["InstanceId"]),
                        account, region, i["InstanceId"], i.get("Tags"), {
            "instance_profile_arn": (i.get("IamInstanceProfile") or {}).get("Arn"),
            "vpc_id": i.get("VpcId"), "subnet_id": i.get("SubnetId"),
            "security_group_ids": sorted({g["GroupId"] for g in i.get("SecurityGroups") or []}),
            "private_ips": sorted({ip["PrivateIpAddress"] for n in i.get("NetworkInterfaces") or []
                                   for ip in n.get("PrivateIpAddresses") or [] if ip.get("PrivateIpAddress")}
                                  | ({i["PrivateIpAddress"]} if i.get("PrivateIpAddress") else set())),
            "public_ip": i.get("PublicIpAddress"),
            "state": (i.get("State") or {}).get("Name")}))
    for v in raw.get("vpcs") or []:
        out.append(_res("vpc", _arn(region, v.get("OwnerId") or account, "vpc", v["VpcId"]), account, region,
                        v["VpcId"], v.get("Tags"), {
            "cidrs": sorted({c["CidrBlock"] for c in v.get("CidrBlockAssociationSet") or []
                             if (c.get("CidrBlockState") or {}).get("State", "associated") == "associated"}
                            | ({v["CidrBlock"]} if v.get("CidrBlock") else set())),
            "ipv6_cidrs": sorted({c["Ipv6CidrBlock"] for c in v.get("Ipv6CidrBlockAssociationSet") or []
                                  if c.get("Ipv6CidrBlock")}),
            "is_default": bool(v.get("IsDefault"))}))
    for s in raw.get("subnets") or []:
        out.append(_res("subnet", s.get("SubnetArn") or _arn(region, account, "subnet", s["SubnetId"]), account,
                        region, s["SubnetId"], s.get("Tags"), {
            "vpc_id": s.get("VpcId"), "cidr": s.get("CidrBlock"),
            "ipv6_cidrs": sorted({c["Ipv6CidrBlock"] for c in s.get("Ipv6CidrBlockAssociationSet") or []
                                  if c.get("Ipv6CidrBlock")}),
            "availability_zone": s.get("AvailabilityZone"), "map_public_ip": bool(s.get("MapPublicIpOnLaunch"))}))
    _security_groups(inv, raw, account, region)
    _network(inv, raw, account, region)
    _snapshots(inv, raw, account, region)
    return inv.sort()


def _rule_from_api(r: dict) -> dict:
    ref = r.get("ReferencedGroupInfo") or {}
    return {"rule_id": r.get("SecurityGroupRuleId"), "protocol": str(r.get("IpProtocol")),
            "from_port": r.get("FromPort"), "to_port": r.get("ToPort"),
            "cidrs": [r["CidrIpv4"]] if r.get("CidrIpv4") else [],
            "ipv6_cidrs": [r["CidrIpv6"]] if r.get("CidrIpv6") else [],
            "sg_refs": [{"group_id": ref["GroupId"], "account": ref.get("UserId")}] if ref.get("GroupId") else [],
            "prefix_lists": [r["PrefixListId"]] if r.get("PrefixListId") else []}


def _rule_from_permission(p: dict) -> dict:
    return {"rule_id": None, "protocol": str(p.get("IpProtocol")),
            "from_port": p.get("FromPort"), "to_port": p.get("ToPort"),
            "cidrs": sorted({r["CidrIp"] for r in p.get("IpRanges") or []}),
            "ipv6_cidrs": sorted({r["CidrIpv6"] for r in p.get("Ipv6Ranges") or []}),
            "sg_refs": sorted(({"group_id": g["GroupId"], "account": g.get("UserId")}
                               for g in p.get("UserIdGroupPairs") or [] if g.get("GroupId")),
                              key=lambda g: (g["group_id"], str(g["account"]))),
            "prefix_lists": sorted({r["PrefixListId"] for r in p.get("PrefixListIds") or []})}


def _rule_key(r: dict) -> tuple:
    return (str(r["rule_id"]), r["protocol"], r["from_port"] if r["from_port"] is not None else -2,
            r["to_port"] if r["to_port"] is not None else -2, r["cidrs"], r["ipv6_cidrs"],
            [g["group_id"] for g in r["sg_refs"]], r["prefix_lists"])


def _security_groups(inv: Inventory, raw: dict, account: str, region: str | None) -> None:
    api_rules: dict[str, dict[str, list]] | None = None
    if raw.get("security_group_rules") is not None:
        api_rules = {}
        for r in raw["security_group_rules"]:
            side = "egress" if r.get("IsEgress") else "ingress"
            api_rules.setdefault(r["GroupId"], {"ingress": [], "egress": []})[side].append(_rule_from_api(r))
    for g in raw.get("security_groups") or []:
        gid = g["GroupId"]
        if api_rules is not None and gid in api_rules:
            ingress, egress = api_rules[gid]["ingress"], api_rules[gid]["egress"]
        else:
            ingress = [_rule_from_permission(p) for p in g.get("IpPermissions") or []]
            egress = [_rule_from_permission(p) for p in g.get("IpPermissionsEgress") or []]
        inv.resources.append(_res("security_group", g.get("SecurityGroupArn")
                                  or _arn(region, g.get("OwnerId") or account, "security-group", gid),
                                  account, region, gid, g.get("Tags"), {
            "vpc_id": g.get("VpcId"), "group_name": g.get("GroupName"),
            "ingress": sorted(ingress, key=_rule_key), "egress": sorted(egress, key=_rule_key)}))


def _network(inv: Inventory, raw: dict, account: str, region: str | None) -> None:
    out = inv.resources
    for n in raw.get("network_acls") or []:
        entries = [{"rule_number": e.get("RuleNumber"), "egress": bool(e.get("Egress")),
                    "protocol": str(e.get("Protocol")), "action": e.get("RuleAction"), "cidr": e.get("CidrBlock"),
                    "ipv6_cidr": e.get("Ipv6CidrBlock"), "from_port": (e.get("PortRange") or {}).get("From"),
                    "to_port": (e.get("PortRange") or {}).get("To")} for e in n.get("Entries") or []]
        out.append(_res("nacl", _arn(region, n.get("OwnerId") or account, "network-acl", n["NetworkAclId"]),
                        account, region, n["NetworkAclId"], n.get("Tags"), {
            "vpc_id": n.get("VpcId"),
            "subnet_ids": sorted({a["SubnetId"] for a in n.get("Associations") or [] if a.get("SubnetId")}),
            "is_default": bool(n.get("IsDefault")),
            "entries": sorted(entries, key=lambda e: (e["egress"], e["rule_number"] or 0))}))
    for t in raw.get("route_tables") or []:
        assoc = t.get("Associations") or []
        out.append(_res("route_table", _arn(region, t.get("OwnerId") or account, "route-table", t["RouteTableId"]),
                        account, region, t["RouteTableId"], t.get("Tags"), {
            "vpc_id": t.get("VpcId"),
            "subnet_ids": sorted({a["SubnetId"] for a in assoc if a.get("SubnetId")}),
            "main": any(a.get("Main") for a in assoc),
            "routes": sorted((_route(r) for r in t.get("Routes") or []),
                             key=lambda r: (str(r["destination"]), str(r["target_id"])))}))
    for g in raw.get("internet_gateways") or []:
        out.append(_res("internet_gateway", _arn(region, g.get("OwnerId") or account, "internet-gateway",
                                                 g["InternetGatewayId"]), account, region, g["InternetGatewayId"],
                        g.get("Tags"), {"vpc_ids": sorted({a["VpcId"] for a in g.get("Attachments") or []})}))
    for g in raw.get("nat_gateways") or []:
        addrs = g.get("NatGatewayAddresses") or []
        out.append(_res("nat_gateway", _arn(region, account, "natgateway", g["NatGatewayId"]), account, region,
                        g["NatGatewayId"], g.get("Tags"), {
            "vpc_id": g.get("VpcId"), "subnet_id": g.get("SubnetId"),
            "public_ip": next((a["PublicIp"] for a in addrs if a.get("PublicIp")), None)}))
    for p in raw.get("vpc_peerings") or []:
        out.append(_res("vpc_peering", _arn(region, account, "vpc-peering-connection", p["VpcPeeringConnectionId"]),
                        account, region, p["VpcPeeringConnectionId"], p.get("Tags"), {
            "requester": _peer(p.get("RequesterVpcInfo")), "accepter": _peer(p.get("AccepterVpcInfo")),
            "status": (p.get("Status") or {}).get("Code")}))
    for e in raw.get("vpc_endpoints") or []:
        out.append(_res("vpc_endpoint", _arn(region, e.get("OwnerId") or account, "vpc-endpoint", e["VpcEndpointId"]),
                        account, region, e["VpcEndpointId"], e.get("Tags"), {
            "vpc_id": e.get("VpcId"), "service_name": e.get("ServiceName"), "endpoint_type": e.get("VpcEndpointType"),
            "route_table_ids": sorted(e.get("RouteTableIds") or []), "subnet_ids": sorted(e.get("SubnetIds") or []),
            "security_group_ids": sorted({g["GroupId"] for g in e.get("Groups") or []})},
            policy=parse_document(e.get("PolicyDocument"), where=f"vpc endpoint {e['VpcEndpointId']} policy")))
    for a in raw.get("tgw_attachments") or []:
        aid = a["TransitGatewayAttachmentId"]
        out.append(_res("transit_gateway_attachment", _arn(region, a.get("VpcOwnerId") or account,
                                                           "transit-gateway-attachment", aid),
                        account, region, aid, a.get("Tags"), {
            "transit_gateway_id": a.get("TransitGatewayId"), "vpc_id": a.get("VpcId"),
            "subnet_ids": sorted(a.get("SubnetIds") or [])}))


_TARGETS = (("GatewayId", "gateway"), ("NatGatewayId", "nat_gateway"), ("VpcPeeringConnectionId", "vpc_peering"),
            ("TransitGatewayId", "transit_gateway"), ("NetworkInterfaceId", "network_interface"),
            ("InstanceId", "instance"), ("EgressOnlyInternetGatewayId", "egress_only_internet_gateway"),
            ("LocalGatewayId", "local_gateway"), ("CarrierGatewayId", "carrier_gateway"),
            ("CoreNetworkArn", "core_network"))


def _route(r: dict) -> dict:
    dest = r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock") or r.get("DestinationPrefixListId")
    ttype, tid = None, None
    for key, name in _TARGETS:
        if r.get(key):
            ttype, tid = name, r[key]
            break
    if ttype == "gateway" and tid == "local":
        ttype = "local"
    elif ttype == "gateway" and str(tid).startswith("vpce-"):
        ttype = "vpc_endpoint"
    elif ttype == "gateway" and str(tid).startswith("igw-"):
        ttype = "internet_gateway"
    return {"destination": dest, "target_type": ttype, "target_id": tid, "state": r.get("State")}


def _peer(info: dict | None) -> dict:
    info = info or {}
    cidrs = {c["CidrBlock"] for c in info.get("CidrBlockSet") or [] if c.get("CidrBlock")}
    if info.get("CidrBlock"):
        cidrs.add(info["CidrBlock"])
    return {"vpc_id": info.get("VpcId"), "account": info.get("OwnerId"), "region": info.get("Region"),
            "cidrs": sorted(cidrs)}


def _snapshots(inv: Inventory, raw: dict, account: str, region: str | None) -> None:
    for s in raw.get("snapshots") or []:
        perms = s.get("CreateVolumePermissions")
        shared = None
        if perms is not None:
            shared = sorted({"all" if p.get("Group") == "all" else p.get("UserId") for p in perms} - {None})
        vol = s.get("VolumeId")
        owner = s.get("OwnerId") or account
        inv.resources.append(_res("ebs_snapshot", f"arn:aws:ec2:{region}::snapshot/{s['SnapshotId']}", owner,
                                  region, s["SnapshotId"], s.get("Tags"), {
            "volume_id": vol,
            "source_arn": _arn(region, owner, "volume", vol) if vol and vol != "vol-ffffffff" else None,
            "encrypted": bool(s.get("Encrypted")), "kms_key_arn": kms_arn(s.get("KmsKeyId"), owner, region),
            "shared_accounts": shared}))
