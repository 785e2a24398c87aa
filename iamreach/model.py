"""The typed vocabulary of iamreach, in one place.

Node kinds, edge kinds, resource kinds and the attributes each carries are declared here and
nowhere else; ``docs/schema.md`` is generated from this module (``python -m iamreach.model``).

Node ids in the graph are ARNs, except for the documented non-ARN ids built by the helpers
below: the internet, service principals, anonymous, and an account's "all principals".

Examples
--------
>>> service_node("lambda.amazonaws.com")
'service:lambda.amazonaws.com'
>>> account_principals_node("111122223333")
'account:111122223333:principals'
>>> NodeKind("role") is NodeKind.ROLE
True
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "NodeKind",
    "EdgeKind",
    "Label",
    "INTERNET",
    "ANONYMOUS",
    "service_node",
    "account_node",
    "account_principals_node",
    "summary_node",
    "is_summary",
    "SUMMARY_MIN",
    "SUMMARY_PREFIX",
    "RESOURCE_ATTRIBUTES",
    "NODE_ATTRIBUTES",
    "EDGE_ATTRIBUTES",
    "COMPUTE_KINDS",
    "DATA_STORE_KINDS",
    "PRINCIPAL_KINDS",
    "NETWORK_KINDS",
]


class NodeKind(StrEnum):
    """What a graph node (and an inventory resource) is."""

    ACCOUNT = "account"
    ACCOUNT_PRINCIPALS = "account_principals"  # every principal an account's IAM may authorize
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    INSTANCE_PROFILE = "instance_profile"
    SERVICE_PRINCIPAL = "service_principal"
    ANONYMOUS = "anonymous"
    INTERNET = "internet"
    # compute / workloads
    EC2_INSTANCE = "ec2_instance"
    LAMBDA_FUNCTION = "lambda_function"
    GLUE_JOB = "glue_job"
    GLUE_CONNECTION = "glue_connection"
    GLUE_DEV_ENDPOINT = "glue_dev_endpoint"
    SAGEMAKER_NOTEBOOK = "sagemaker_notebook"
    SFN_STATE_MACHINE = "sfn_state_machine"
    # data stores
    S3_BUCKET = "s3_bucket"
    RDS_INSTANCE = "rds_instance"
    RDS_CLUSTER = "rds_cluster"
    DYNAMODB_TABLE = "dynamodb_table"
    SECRET = "secret"
    KMS_KEY = "kms_key"
    EBS_SNAPSHOT = "ebs_snapshot"
    RDS_SNAPSHOT = "rds_snapshot"
    RDS_CLUSTER_SNAPSHOT = "rds_cluster_snapshot"
    # network
    VPC = "vpc"
    SUBNET = "subnet"
    SECURITY_GROUP = "security_group"
    NACL = "nacl"
    ROUTE_TABLE = "route_table"
    INTERNET_GATEWAY = "internet_gateway"
    NAT_GATEWAY = "nat_gateway"
    VPC_PEERING = "vpc_peering"
    VPC_ENDPOINT = "vpc_endpoint"
    TRANSIT_GATEWAY_ATTACHMENT = "transit_gateway_attachment"
    # logging
    CLOUDTRAIL_TRAIL = "cloudtrail_trail"
    # graph structure
    SUMMARY = "summary"  # stands for a set of alike targets (see summary_node)


class EdgeKind(StrEnum):
    """What a graph edge means. Every edge reads "source can ... target"."""

    MEMBER_OF = "member_of"  # user -> group
    RUNS_AS = "runs_as"  # workload -> role / instance profile; instance profile -> role
    CAN_ASSUME = "can_assume"  # principal -> role (trust policy + caller's permissions)
    ESCALATES_TO = "escalates_to"  # principal -> principal it can act as / take over
    READS = "reads"  # principal -> data store
    WRITES = "writes"  # principal -> data store
    ADMINISTERS = "administers"  # principal -> resource (policy / config / credential control)
    DECRYPTS = "decrypts"  # principal -> KMS key (kms:Decrypt gates SSE-KMS data)
    UNLOCKS = "unlocks"  # secret -> database it holds the credentials of; key -> data it encrypts
    CAN_CONNECT = "can_connect"  # workload -> data store over the network (protocol/port)
    EXPOSES = "exposes"  # internet / anonymous -> publicly reachable store
    SHARED_WITH = "shared_with"  # snapshot -> account principals it is shared with (restorable)
    SNAPSHOT_OF = "snapshot_of"  # data store -> snapshot of its data
    INCLUDES = "includes"  # summary -> each member it stands for (a free hop: adds no step)


class Label(StrEnum):
    """Built-in labels (configuration may add more: labels are plain strings)."""

    SYNTHETIC = "synthetic"
    PRODUCTION = "production"
    PHI = "phi"


INTERNET = "internet"
ANONYMOUS = "anonymous"


def service_node(service: str) -> str:
    """Node id of an AWS service principal such as ``lambda.amazonaws.com``."""
    return f"service:{service}"


def account_node(account_id: str) -> str:
    """Node id of an account (its root ARN)."""
    return f"arn:aws:iam::{account_id}:root"


def account_principals_node(account_id: str) -> str:
    """Node id standing for "any principal of this account that its IAM authorizes"."""
    return f"account:{account_id}:principals"


#: A set of alike targets becomes a summary node once it has at least this many members.
SUMMARY_MIN = 4


#: what every summary node id starts with (:func:`summary_node`, :func:`is_summary`)
SUMMARY_PREFIX = "summary:"


def summary_node(account: str, member_kind: str, descr: str) -> str:
    """Node id of a summary: the set of ``member_kind`` nodes of ``account`` described by ``descr``.

    An actor whose decision is the same for every member of the set gets one edge to the summary
    (``summary -includes-> member`` for each member) instead of one edge per member, so the graph
    stays linear in actors + resources. Path queries treat ``includes`` as a free hop and report
    the actor's edge as reaching the member directly (the hop's ``via`` names the summary).

    >>> summary_node("111122223333", "s3_bucket", "untagged")
    'summary:111122223333:s3_bucket:untagged'
    >>> is_summary('summary:111122223333:s3_bucket:untagged'), is_summary('arn:aws:s3:::b')
    (True, False)
    """
    return f"{SUMMARY_PREFIX}{account}:{member_kind}:{descr}"


def is_summary(node: object) -> bool:
    """Is ``node`` a summary node id (see :func:`summary_node`)?"""
    return isinstance(node, str) and node.startswith(SUMMARY_PREFIX)


PRINCIPAL_KINDS = frozenset({NodeKind.USER, NodeKind.GROUP, NodeKind.ROLE})
COMPUTE_KINDS = frozenset(
    {
        NodeKind.EC2_INSTANCE,
        NodeKind.LAMBDA_FUNCTION,
        NodeKind.GLUE_JOB,
        NodeKind.GLUE_DEV_ENDPOINT,
        NodeKind.SAGEMAKER_NOTEBOOK,
        NodeKind.SFN_STATE_MACHINE,
    }
)
DATA_STORE_KINDS = frozenset(
    {
        NodeKind.S3_BUCKET,
        NodeKind.RDS_INSTANCE,
        NodeKind.RDS_CLUSTER,
        NodeKind.DYNAMODB_TABLE,
        NodeKind.SECRET,
        NodeKind.EBS_SNAPSHOT,
        NodeKind.RDS_SNAPSHOT,
        NodeKind.RDS_CLUSTER_SNAPSHOT,
    }
)
NETWORK_KINDS = frozenset(
    {
        NodeKind.VPC,
        NodeKind.SUBNET,
        NodeKind.SECURITY_GROUP,
        NodeKind.NACL,
        NodeKind.ROUTE_TABLE,
        NodeKind.INTERNET_GATEWAY,
        NodeKind.NAT_GATEWAY,
        NodeKind.VPC_PEERING,
        NodeKind.VPC_ENDPOINT,
        NodeKind.TRANSIT_GATEWAY_ATTACHMENT,
    }
)

# Graph node attributes (every node carries these).
NODE_ATTRIBUTES: dict[str, str] = {
    "kind": "NodeKind value",
    "account": "12-digit account id, or None for global things (internet, service principals)",
    "region": "AWS region, or None for global resources (IAM, S3 bucket ARNs carry none)",
    "name": "human name (role name, bucket name, instance id ...)",
    "tags": "dict of tag key -> value",
    "labels": "sorted tuple of label strings (synthetic, production, phi, ...)",
    "vpc": "VPC id for resources placed in a VPC, else None",
    "subnets": "tuple of subnet ids for resources placed in subnets, else ()",
    "record": "the inventory record behind the node (Principal, Resource, InstanceProfile, Account) or None",
}

# Graph edge attributes (every edge carries these).
EDGE_ATTRIBUTES: dict[str, str] = {
    "kind": "EdgeKind value",
    "decision": "'allowed' or 'conditional' (denied edges are never added)",
    "conditions": "tuple of condition dicts that must hold for a conditional edge",
    "actions": "tuple of IAM actions that make the edge (empty for network / structural edges)",
    "ports": "tuple of 'proto/from-to' strings that make a can_connect edge",
    "method": "privilege-escalation method id (escalates_to edges), else None",
    "reason": ("one-line human explanation; read beside the edge's source, which access and escalation "
               "reasons do not repeat (e.g. 'reads s3_bucket b (s3:GetObject)')"),
    "evidence": "tuple of evidence dicts: {type, ref, detail} (policy ARN + Sid/index, SG rule id, route, attribute)",
}

# Inventory Resource.attributes, per kind. Every key listed is always present (None when unknown).
RESOURCE_ATTRIBUTES: dict[str, dict[str, str]] = {
    "ec2_instance": {
        "instance_profile_arn": "ARN of the attached instance profile or None",
        "vpc_id": "VPC id",
        "subnet_id": "subnet id",
        "security_group_ids": "list of SG ids",
        "private_ips": "list of private IPv4 addresses",
        "public_ip": "public IPv4 address or None",
        "state": "running / stopped / ...",
    },
    "lambda_function": {
        "role_arn": "execution role ARN",
        "vpc_id": "VPC id (taken from the subnet) or None",
        "subnet_ids": "list of subnet ids",
        "security_group_ids": "list of SG ids",
        "environment_variable_names": "list of variable NAMES (values are never collected)",
        "runtime": "runtime id or None",
    },
    "glue_job": {
        "role_arn": "job role ARN",
        "connections": "list of Glue connection names the job uses",
    },
    "glue_connection": {
        "connection_type": "JDBC / NETWORK / ...",
        "jdbc_url": "JDBC URL (credentials stripped) or None",
        "host": "target host parsed from the JDBC URL or None",
        "port": "target port parsed from the JDBC URL or None",
        "subnet_id": "subnet id of the physical connection or None",
        "security_group_ids": "list of SG ids",
        "vpc_id": "VPC id (from the subnet) or None",
    },
    "glue_dev_endpoint": {"role_arn": "endpoint role ARN", "subnet_id": "subnet id or None",
                          "security_group_ids": "list of SG ids", "vpc_id": "VPC id or None"},
    "sagemaker_notebook": {
        "role_arn": "notebook role ARN",
        "subnet_id": "subnet id or None",
        "security_group_ids": "list of SG ids",
        "vpc_id": "VPC id (from the subnet) or None",
        "direct_internet_access": "bool",
        "kms_key_id": "KMS key id/ARN for the volume or None",
    },
    "sfn_state_machine": {
        "role_arn": "state machine role ARN",
        "tracing_enabled": "X-Ray tracing enabled (bool)",
        "logging_level": "ALL / ERROR / FATAL / OFF",
        "log_destinations": "list of log group ARNs",
        "resource_arns": "list of ARNs referenced by the definition (definition itself not kept)",
    },
    "s3_bucket": {
        "public_access_block": "dict of the 4 BPA flags or None when none is set",
        "ownership": "BucketOwnerEnforced / BucketOwnerPreferred / ObjectWriter / None",
        "acl_grants": "list of {grantee_type, grantee, permission}",
        "encryption": "{algorithm, kms_key_arn} or None",
    },
    "rds_instance": {
        "engine": "engine name", "port": "int", "endpoint": "host name or None",
        "vpc_id": "VPC id", "subnet_ids": "list of subnet ids of its subnet group",
        "security_group_ids": "list of VPC SG ids", "publicly_accessible": "bool",
        "iam_auth": "IAM database authentication enabled (bool)",
        "storage_encrypted": "bool", "kms_key_arn": "ARN or None",
        "cluster_arn": "ARN of the Aurora cluster it belongs to, or None",
        "resource_id": "DbiResourceId (for rds-db:connect ARNs)",
    },
    "rds_cluster": {
        "engine": "engine name", "port": "int", "endpoint": "host name or None",
        "vpc_id": "VPC id", "subnet_ids": "list of subnet ids of its subnet group",
        "security_group_ids": "list of VPC SG ids", "publicly_accessible": "bool",
        "iam_auth": "bool", "storage_encrypted": "bool", "kms_key_arn": "ARN or None",
        "members": "list of member DB instance ARNs", "resource_id": "DbClusterResourceId",
    },
    "dynamodb_table": {"kms_key_arn": "ARN or None (AWS-owned key)"},
    "secret": {"kms_key_arn": "ARN or None", "unlocks": "list of ARNs of databases this secret holds credentials for (from tags/name/rotation), may be empty"},
    "kms_key": {
        "key_manager": "AWS / CUSTOMER", "key_state": "Enabled / Disabled / ...",
        "aliases": "list of alias names",
        "grants": "list of {grant_id, grantee_principal, operations, retiring_principal, constraints}",
    },
    "ebs_snapshot": {
        "volume_id": "source volume id", "source_arn": "ARN of the instance/volume the data came from or None",
        "encrypted": "bool", "kms_key_arn": "ARN or None",
        "shared_accounts": "list of account ids with createVolumePermission, or ['all'] for public",
    },
    "rds_snapshot": {
        "source_arn": "ARN of the DB instance it was taken from", "encrypted": "bool",
        "kms_key_arn": "ARN or None", "snapshot_type": "manual / automated",
        "shared_accounts": "list of account ids in the 'restore' attribute, or ['all'] for public",
    },
    "rds_cluster_snapshot": {
        "source_arn": "ARN of the cluster it was taken from", "encrypted": "bool",
        "kms_key_arn": "ARN or None", "snapshot_type": "manual / automated",
        "shared_accounts": "list of account ids in the 'restore' attribute, or ['all'] for public",
    },
    "vpc": {"cidrs": "list of IPv4 CIDRs", "ipv6_cidrs": "list of IPv6 CIDRs", "is_default": "bool"},
    "subnet": {"vpc_id": "VPC id", "cidr": "IPv4 CIDR", "ipv6_cidrs": "list", "availability_zone": "AZ name",
               "map_public_ip": "bool"},
    "security_group": {
        "vpc_id": "VPC id", "group_name": "name",
        "ingress": "list of rules {rule_id, protocol, from_port, to_port, cidrs, ipv6_cidrs, sg_refs: [{group_id, account}], prefix_lists}",
        "egress": "list of rules (same shape)",
    },
    "nacl": {"vpc_id": "VPC id", "subnet_ids": "list of associated subnet ids", "is_default": "bool",
             "entries": "list of {rule_number, egress, protocol, action, cidr, ipv6_cidr, from_port, to_port}"},
    "route_table": {"vpc_id": "VPC id", "subnet_ids": "list of explicitly associated subnet ids", "main": "bool",
                    "routes": "list of {destination, target_type, target_id, state}"},
    "internet_gateway": {"vpc_ids": "list of attached VPC ids"},
    "nat_gateway": {"vpc_id": "VPC id", "subnet_id": "subnet id", "public_ip": "str or None"},
    "vpc_peering": {"requester": "{vpc_id, account, region, cidrs}", "accepter": "{vpc_id, account, region, cidrs}",
                    "status": "active / pending-acceptance / ..."},
    "vpc_endpoint": {"vpc_id": "VPC id", "service_name": "e.g. com.amazonaws.us-east-1.s3",
                     "endpoint_type": "Gateway / Interface", "route_table_ids": "list", "subnet_ids": "list",
                     "security_group_ids": "list"},
    "transit_gateway_attachment": {"transit_gateway_id": "tgw id", "vpc_id": "VPC id", "subnet_ids": "list"},
    "cloudtrail_trail": {
        "home_region": "region", "multi_region": "bool", "organization_trail": "bool",
        "is_logging": "bool or None when status unknown", "s3_bucket": "destination bucket name",
        "event_selectors": "list (classic selectors as returned)",
        "advanced_event_selectors": "list (advanced selectors as returned)",
    },
}


def schema_markdown() -> str:
    """``docs/schema.md``: the graph vocabulary, generated from this module."""
    out = ["# Graph schema", "",
           "Generated from `iamreach/model.py` by `python -m iamreach.model > docs/schema.md`; do not edit by hand.",
           "", "## Node kinds", "", "| kind | group |", "|---|---|"]
    groups = {**{k: "compute" for k in COMPUTE_KINDS}, **{k: "data store" for k in DATA_STORE_KINDS},
              **{k: "principal" for k in PRINCIPAL_KINDS}, **{k: "network" for k in NETWORK_KINDS}}
    for k in NodeKind:
        out.append(f"| `{k.value}` | {groups.get(k, 'other')} |")
    out += ["", "Non-ARN node ids: `internet`, `anonymous`, `service:<name>` (service principals),",
            "`federated:<provider>`, `account:<id>:principals` (any principal an account's IAM authorizes);",
            "an account's administrator is its root ARN `arn:aws:iam::<id>:root`.", "",
            "## Node attributes", "", "| attribute | meaning |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in NODE_ATTRIBUTES.items()]
    out += ["", "## Edge kinds", "", "| kind | meaning |", "|---|---|"]
    meanings = {
        "member_of": "user -> group (descriptive: the group's policies are folded into the user)",
        "runs_as": "workload -> instance profile / role; instance profile -> role",
        "can_assume": "principal -> role: trust policy and the caller's identity, boundary, SCPs, RCPs",
        "escalates_to": "principal -> principal (or account administrator) it can act as; `method` names how",
        "reads": "principal -> data store (object ARNs, rds-db:connect, restore of shared snapshots; KMS-gated)",
        "writes": "principal -> data store",
        "administers": "principal -> resource: policy, configuration or credential control",
        "decrypts": "principal -> KMS key (kms:Decrypt)",
        "unlocks": "secret -> database whose credentials it holds",
        "can_connect": "workload -> database over the network (SGs, NACLs both ways, routes both ways)",
        "exposes": "internet -> publicly reachable store (bucket policy/ACL to *, public DB, public snapshot)",
        "shared_with": "snapshot -> account principals it is shared with (descriptive)",
        "snapshot_of": "data store -> snapshot of its data (descriptive)",
    }
    out += [f"| `{k.value}` | {meanings.get(k.value, '')} |" for k in EdgeKind]
    out += ["", "## Edge attributes", "", "| attribute | meaning |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in EDGE_ATTRIBUTES.items()]
    out += ["", "## Resource attributes by kind", "",
            "Every inventory `Resource.attributes` carries exactly these keys (None / [] when unknown).", ""]
    for kind, attrs in RESOURCE_ATTRIBUTES.items():
        out += [f"### `{kind}`", "", "| attribute | meaning |", "|---|---|"]
        out += [f"| `{k}` | {v} |" for k, v in attrs.items()]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(schema_markdown())
