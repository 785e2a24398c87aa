"""Small, composable helpers that build AWS Organizations in an AWS API emulator (moto).

:class:`OrgBuilder` creates an organization with a management account and two member
accounts ("production" in OU ``Production``, "synthetic-data" in OU ``Synthetic``), hands out a
:class:`boto3.Session` acting in each account (by assuming ``OrganizationAccountAccessRole``),
and offers one helper per object a scenario needs: a role, a bucket, a key, a VPC, a security
group, a peering, an Aurora cluster, snapshots, workloads, trails and organization policies.
Each helper does the fewest API calls that make the object real, and returns its ARN or id.

The builder only ever talks to an emulator: it refuses to run unless an endpoint override is
configured (``endpoint_url=`` or ``AWS_ENDPOINT_URL``), because creating an organization and
accounts in a real AWS account is not something a demo should do.

Examples
--------
>>> doc = policy(statement(["s3:GetObject"], ["arn:aws:s3:::b/*"], sid="Read"))
>>> doc["Statement"][0]["Action"], doc["Statement"][0]["Sid"]
(['s3:GetObject'], 'Read')
>>> service_trust("ec2.amazonaws.com")["Statement"][0]["Principal"]
{'Service': 'ec2.amazonaws.com'}
>>> ingress(5432, cidrs=["10.20.0.0/16"])["IpRanges"]
[{'CidrIp': '10.20.0.0/16'}]
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamreach.errors import InputError

if TYPE_CHECKING:
    import boto3

__all__ = [
    "OrgBuilder",
    "VpcInfo",
    "ClusterInfo",
    "policy",
    "statement",
    "service_trust",
    "account_trust",
    "principal_trust",
    "ingress",
    "FAKE_SECRET",
    "ORG_ACCESS_ROLE",
]

#: The only value the builder ever puts where a secret would go (passwords, env values, user data).
FAKE_SECRET = "not-a-real-secret"
#: The role AWS Organizations creates in every member account it creates.
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"

_VERSION = "2012-10-17"
_AZS = ("a", "b", "c")


# -- policy documents -----------------------------------------------------------------------

def statement(
    actions: str | Sequence[str],
    resources: str | Sequence[str] = "*",
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: Mapping[str, Any] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """Return one IAM policy statement.

    Parameters
    ----------
    actions : str or sequence of str
        IAM actions (a single string is wrapped in a list).
    resources : str or sequence of str, optional
        Resource ARNs; omitted from the statement when ``None`` (trust policies).
    effect : {"Allow", "Deny"}
        The statement's effect.
    principal : Any, optional
        The ``Principal`` element for resource-based and trust policies.
    condition : mapping, optional
        The ``Condition`` element.
    sid : str, optional
        The statement id.
    """
    out: dict[str, Any] = {}
    if sid:
        out["Sid"] = sid
    out["Effect"] = effect
    if principal is not None:
        out["Principal"] = principal
    out["Action"] = [actions] if isinstance(actions, str) else list(actions)
    if resources is not None:
        out["Resource"] = resources if isinstance(resources, str) else list(resources)
    if condition:
        out["Condition"] = dict(condition)
    return out


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    """Return a policy document holding ``statements`` in order."""
    return {"Version": _VERSION, "Statement": [dict(s) for s in statements]}


def service_trust(service: str) -> dict[str, Any]:
    """Trust policy letting an AWS service (``ec2.amazonaws.com`` ...) assume the role."""
    return policy(statement("sts:AssumeRole", None, principal={"Service": service}))


def account_trust(account_id: str, condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Trust policy naming an account's root: any principal the account's IAM allows."""
    return policy(statement("sts:AssumeRole", None, principal={"AWS": f"arn:aws:iam::{account_id}:root"},
                            condition=condition))


def principal_trust(*principal_arns: str) -> dict[str, Any]:
    """Trust policy naming exactly the given principal ARNs."""
    return policy(statement("sts:AssumeRole", None, principal={"AWS": list(principal_arns)}))


def ingress(
    port: int,
    *,
    to_port: int | None = None,
    protocol: str = "tcp",
    cidrs: Iterable[str] = (),
    groups: Iterable[str] = (),
    group_account: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Return one EC2 ``IpPermissions`` entry for a security group rule.

    ``groups`` are security group ids; ``group_account`` names their owner when they live in
    another account (a reference across a VPC peering).
    """
    rule: dict[str, Any] = {"IpProtocol": protocol, "FromPort": port,
                            "ToPort": port if to_port is None else to_port}
    ranges = [{"CidrIp": c, **({"Description": description} if description else {})} for c in cidrs]
    if ranges:
        rule["IpRanges"] = ranges
    pairs = []
    for gid in groups:
        pair: dict[str, Any] = {"GroupId": gid}
        if group_account:
            pair["UserId"] = group_account
        if description:
            pair["Description"] = description
        pairs.append(pair)
    if pairs:
        rule["UserIdGroupPairs"] = pairs
    return rule


def _tag_list(tags: Mapping[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


# -- results --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VpcInfo:
    """A VPC made by :meth:`OrgBuilder.vpc`: its id, CIDR, subnets (one per AZ) and route table."""

    account: str
    vpc_id: str
    cidr: str
    subnet_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]
    route_table_id: str


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """An Aurora cluster made by :meth:`OrgBuilder.aurora`."""

    account: str
    identifier: str
    arn: str
    endpoint: str
    port: int
    resource_id: str
    instance_arns: tuple[str, ...] = field(default=())


# -- the builder ----------------------------------------------------------------------------

class OrgBuilder:
    """Build an AWS Organization and its resources in a moto server, one small call at a time.

    Parameters
    ----------
    region : str
        Region every regional resource is created in.
    endpoint_url : str, optional
        The emulator endpoint. Defaults to ``AWS_ENDPOINT_URL``; one of the two is required.
    session : boto3.Session, optional
        Credentials of the management account (default: the ambient credential chain).

    Raises
    ------
    InputError
        When no endpoint override is configured (the builder never touches real AWS).
    """

    def __init__(self, region: str = "us-east-1", *, endpoint_url: str | None = None,
                 session: boto3.Session | None = None):
        import boto3

        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if not self.endpoint_url:
            raise InputError("refusing to build a demo organization in real AWS; expected an emulator "
                             "endpoint (moto server) in endpoint_url or AWS_ENDPOINT_URL",
                             field="AWS_ENDPOINT_URL")
        self.region = region
        self._root_session = session or boto3.Session(region_name=region)
        self._sessions: dict[str, Any] = {}
        self._creds: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self.management: str = self.client(None, "sts").get_caller_identity()["Account"]
        self._sessions[self.management] = self._root_session
        self.org_id: str | None = None
        self.root_id: str | None = None
        self.ous: dict[str, str] = {}
        #: account name -> id of every member account created
        self.accounts: dict[str, str] = {}
        self._production: str | None = None
        self._synthetic: str | None = None

    @property
    def production(self) -> str:
        """Id of the production account (after :meth:`create_org`)."""
        return self._member(self._production, "production")

    @property
    def synthetic(self) -> str:
        """Id of the synthetic-data account (after :meth:`create_org`)."""
        return self._member(self._synthetic, "synthetic")

    @staticmethod
    def _member(value: str | None, what: str) -> str:
        if value is None:
            raise InputError(f"no {what} account yet; expected create_org() to be called first",
                             field=f"OrgBuilder.{what}")
        return value

    # -- sessions and clients ---------------------------------------------------------------
    def session(self, account: str) -> boto3.Session:
        """Return a :class:`boto3.Session` acting in ``account`` (cached per account).

        Member accounts are entered by assuming their ``OrganizationAccountAccessRole``.
        """
        cached = self._sessions.get(account)
        if cached is None:
            import boto3

            cached = boto3.Session(region_name=self.region, **self._credentials(account))
            self._sessions[account] = cached
        return cached

    def _credentials(self, account: str) -> dict[str, str]:
        """Temporary credentials of ``account``'s OrganizationAccountAccessRole (cached)."""
        cached = self._creds.get(account)
        if cached is None:
            creds = self.client(None, "sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ORG_ACCESS_ROLE}", RoleSessionName="iamreach-demo",
            )["Credentials"]
            cached = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                      "aws_session_token": creds["SessionToken"]}
            self._creds[account] = cached
        return cached

    def client(self, account: str | None, service: str):
        """Return a cached boto3 client for ``service`` acting in ``account`` (None: management)."""
        if account == getattr(self, "management", None):
            account = None
        key = (account or "", service)
        cached = self._clients.get(key)
        if cached is None:
            # one session for every account: the service models are loaded once, not per account
            creds = {} if account is None else self._credentials(account)
            cached = self._root_session.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                                               **creds)
            self._clients[key] = cached
        return cached

    # -- organization -----------------------------------------------------------------------
    def create_org(
        self,
        *,
        production_name: str = "production",
        synthetic_name: str = "synthetic-data",
        production_tags: Mapping[str, str] | None = None,
        synthetic_tags: Mapping[str, str] | None = None,
    ) -> OrgBuilder:
        """Create the organization, OUs ``Production`` and ``Synthetic`` and one account in each.

        Account tags default to ``Environment=production`` and ``Environment=synthetic``.
        Returns ``self`` so calls chain.
        """
        org = self.client(None, "organizations")
        try:
            self.org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        except org.exceptions.AlreadyInOrganizationException as exc:
            raise InputError(f"the emulator at {self.endpoint_url} already holds an organization; expected a "
                             "fresh or reset moto server (POST /moto-api/reset)", field="organization") from exc
        self.root_id = org.list_roots()["Roots"][0]["Id"]
        for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            self._enable_policy_type(policy_type)
        self._production = self.account(production_name, ou="Production",
                                        tags=production_tags or {"Environment": "production"})
        self._synthetic = self.account(synthetic_name, ou="Synthetic",
                                       tags=synthetic_tags or {"Environment": "synthetic"})
        return self

    def _enable_policy_type(self, policy_type: str) -> None:
        org = self.client(None, "organizations")
        try:
            org.enable_policy_type(RootId=self.root_id, PolicyType=policy_type)
        except org.exceptions.PolicyTypeAlreadyEnabledException:
            return

    def ou(self, name: str) -> str:
        """Return the id of the OU ``name`` directly under the root, creating it when missing."""
        if name not in self.ous:
            org = self.client(None, "organizations")
            self.ous[name] = org.create_organizational_unit(ParentId=self.root_id, Name=name)[
                "OrganizationalUnit"]["Id"]
        return self.ous[name]

    def account(self, name: str, *, ou: str | None = None, tags: Mapping[str, str] | None = None) -> str:
        """Create a member account (moved into OU ``ou`` when given); return its id."""
        org = self.client(None, "organizations")
        status = org.create_account(Email=f"{name}@example.com", AccountName=name,
                                    Tags=_tag_list(tags))["CreateAccountStatus"]
        account_id = status["AccountId"]
        if ou:
            org.move_account(AccountId=account_id, SourceParentId=self.root_id, DestinationParentId=self.ou(ou))
        self.accounts[name] = account_id
        return account_id

    def org_policy(
        self,
        name: str,
        document: Mapping[str, Any],
        targets: Iterable[str],
        *,
        policy_type: str = "SERVICE_CONTROL_POLICY",
        description: str = "",
    ) -> str:
        """Create an SCP (or RCP with ``policy_type="RESOURCE_CONTROL_POLICY"``), attach it to
        each target (root, OU or account id); return the policy ARN."""
        org = self.client(None, "organizations")
        summary = org.create_policy(Content=json.dumps(document), Description=description or name, Name=name,
                                    Type=policy_type)["Policy"]["PolicySummary"]
        for target in targets:
            org.attach_policy(PolicyId=summary["Id"], TargetId=target)
        return summary["Arn"]

    # -- IAM --------------------------------------------------------------------------------
    def role(
        self,
        account: str,
        name: str,
        trust: Mapping[str, Any],
        policies: Mapping[str, Mapping[str, Any]] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        instance_profile: bool = False,
        managed_policy_arns: Iterable[str] = (),
    ) -> str:
        """Create a role with inline ``policies`` (name -> document); return its ARN.

        With ``instance_profile=True`` an instance profile of the same name holds the role.
        """
        iam = self.client(account, "iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                              Tags=_tag_list(tags))["Role"]["Arn"]
        for policy_name, document in (policies or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        for managed in managed_policy_arns:
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        if instance_profile:
            self.instance_profile(account, name, name)
        return arn

    def put_role_policy(self, account: str, role: str, name: str, document: Mapping[str, Any]) -> None:
        """Add (or replace) one inline policy of an existing role."""
        self.client(account, "iam").put_role_policy(RoleName=role, PolicyName=name,
                                                    PolicyDocument=json.dumps(document))

    def managed_policy(self, account: str, name: str, document: Mapping[str, Any]) -> str:
        """Create a customer-managed policy; return its ARN."""
        return self.client(account, "iam").create_policy(PolicyName=name, PolicyDocument=json.dumps(document))[
            "Policy"]["Arn"]

    def instance_profile(self, account: str, name: str, role: str) -> str:
        """Create an instance profile holding ``role``; return its ARN."""
        iam = self.client(account, "iam")
        arn = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
        return arn

    def group(self, account: str, name: str, policies: Mapping[str, Mapping[str, Any]] | None = None) -> str:
        """Create an IAM group with inline ``policies``; return its ARN."""
        iam = self.client(account, "iam")
        arn = iam.create_group(GroupName=name)["Group"]["Arn"]
        for policy_name, document in (policies or {}).items():
            iam.put_group_policy(GroupName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        return arn

    def user(
        self,
        account: str,
        name: str,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        groups: Iterable[str] = (),
    ) -> str:
        """Create an IAM user (no keys, no password) with inline ``policies``, in ``groups``."""
        iam = self.client(account, "iam")
        arn = iam.create_user(UserName=name, Tags=_tag_list(tags))["User"]["Arn"]
        for policy_name, document in (policies or {}).items():
            iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        for group in groups:
            iam.add_user_to_group(GroupName=group, UserName=name)
        return arn

    # -- KMS, S3, DynamoDB, Secrets Manager --------------------------------------------------
    def kms_key(
        self,
        account: str,
        alias: str | None = None,
        key_policy: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        description: str = "",
    ) -> str:
        """Create a symmetric KMS key (with ``alias/<alias>`` when given); return its ARN.

        Without ``key_policy`` the key gets the default policy (the account root may do ``kms:*``).
        """
        kms = self.client(account, "kms")
        document = key_policy or policy(statement("kms:*", "*", principal={"AWS": f"arn:aws:iam::{account}:root"},
                                                  sid="EnableRootPermissions"))
        meta = kms.create_key(Policy=json.dumps(document), Description=description or (alias or "key"),
                              Tags=_tag_list(tags, "TagKey", "TagValue"))["KeyMetadata"]
        if alias:
            kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=meta["KeyId"])
        return meta["Arn"]

    def bucket(
        self,
        account: str,
        name: str,
        policy: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        kms_key: str | None = None,
        *,
        sse_s3: bool = False,
    ) -> str:
        """Create an S3 bucket with an optional bucket policy, tags and SSE-KMS key; return its ARN.

        ``sse_s3=True`` (without ``kms_key``) sets default encryption with S3-managed keys (AES256).
        """
        s3 = self.client(account, "s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if policy is not None:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(tags)})
        if kms_key:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
                "BucketKeyEnabled": True}]})
        elif sse_s3:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        return f"arn:aws:s3:::{name}"

    def table(
        self,
        account: str,
        name: str,
        tags: Mapping[str, str] | None = None,
        *,
        resource_policy: Mapping[str, Any] | None = None,
        kms_key: str | None = None,
    ) -> str:
        """Create an on-demand DynamoDB table keyed by ``id`` (string); return its ARN."""
        ddb = self.client(account, "dynamodb")
        kwargs: dict[str, Any] = {}
        if kms_key:
            kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key}
        arn = ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                               BillingMode="PAY_PER_REQUEST", Tags=_tag_list(tags), **kwargs)[
            "TableDescription"]["TableArn"]
        if resource_policy is not None:
            ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(resource_policy))
        return arn

    def secret(
        self,
        account: str,
        name: str,
        fields: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        kms_key: str | None = None,
    ) -> str:
        """Create a secret whose value is ``fields`` as JSON; return its ARN.

        Values must be placeholders: every value is checked to be :data:`FAKE_SECRET` or to
        contain ``placeholder``, so no real credential can slip into a demo.
        """
        values = dict(fields or {"password": FAKE_SECRET})
        for key, value in values.items():
            if key.lower() in {"password", "secret", "token", "key"} and not _is_placeholder(value):
                raise InputError("expected a placeholder value (never a real secret)", field=f"secret {name}.{key}")
        kwargs: dict[str, Any] = {"KmsKeyId": kms_key} if kms_key else {}
        return self.client(account, "secretsmanager").create_secret(
            Name=name, SecretString=json.dumps(values), Tags=_tag_list(tags), **kwargs)["ARN"]

    # -- network ----------------------------------------------------------------------------
    def vpc(self, account: str, cidr: str, name: str | None = None, *, subnets: int = 2,
            tags: Mapping[str, str] | None = None) -> VpcInfo:
        """Create a VPC with ``subnets`` /24 subnets (one per AZ) sharing one route table.

        Subnets are carved from the start of ``cidr`` (``10.20.0.0/16`` gives ``10.20.1.0/24``,
        ``10.20.2.0/24`` ...). The route table is explicitly associated with every subnet.
        """
        ec2 = self.client(account, "ec2")
        all_tags = {**({"Name": name} if name else {}), **(tags or {})}
        spec = [{"ResourceType": "vpc", "Tags": _tag_list(all_tags)}] if all_tags else []
        vpc_id = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec)["Vpc"]["VpcId"]
        prefix = ".".join(cidr.split("/")[0].split(".")[:2])
        subnet_ids, azs = [], []
        for index in range(subnets):
            az = f"{self.region}{_AZS[index % len(_AZS)]}"
            sub_tags = [{"ResourceType": "subnet", "Tags": _tag_list({**all_tags, "Name": f"{name or vpc_id}-{az}"})}]
            subnet_ids.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{prefix}.{index + 1}.0/24",
                                                AvailabilityZone=az, TagSpecifications=sub_tags)["Subnet"]["SubnetId"])
            azs.append(az)
        rt_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        for subnet_id in subnet_ids:
            ec2.associate_route_table(RouteTableId=rt_id, SubnetId=subnet_id)
        return VpcInfo(account, vpc_id, cidr, tuple(subnet_ids), tuple(azs), rt_id)

    def sg(
        self,
        account: str,
        vpc_id: str,
        name: str,
        rules: Iterable[Mapping[str, Any]] = (),
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        egress: Iterable[Mapping[str, Any]] | None = None,
    ) -> str:
        """Create a security group with ingress ``rules`` (see :func:`ingress`); return its id.

        With ``egress`` the default allow-all egress rule is replaced by these rules (an empty
        list leaves the group with no egress at all).
        """
        ec2 = self.client(account, "ec2")
        spec = [{"ResourceType": "security-group", "Tags": _tag_list({"Name": name, **(tags or {})})}]
        group_id = ec2.create_security_group(GroupName=name, Description=description or name, VpcId=vpc_id,
                                             TagSpecifications=spec)["GroupId"]
        rules = [dict(r) for r in rules]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=rules)
        if egress is not None:
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            out = [dict(r) for r in egress]
            if out:
                ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=out)
        return group_id

    def nacl(self, vpc: VpcInfo, entries: Iterable[Mapping[str, Any]], *, name: str | None = None) -> str:
        """Create a network ACL holding ``entries`` and associate it with every subnet of ``vpc``.

        Each entry is ``{"rule": 100, "action": "allow"|"deny", "cidr": "10.20.0.0/16",
        "egress": False, "protocol": "6", "ports": (5432, 5432)}`` (``ports`` optional, protocol
        ``"-1"`` for all). Remember that a new NACL denies everything it does not allow.
        """
        ec2 = self.client(vpc.account, "ec2")
        spec = [{"ResourceType": "network-acl", "Tags": _tag_list({"Name": name})}] if name else []
        acl_id = ec2.create_network_acl(VpcId=vpc.vpc_id, TagSpecifications=spec)["NetworkAcl"]["NetworkAclId"]
        for entry in entries:
            kwargs: dict[str, Any] = {}
            if entry.get("ports"):
                low, high = entry["ports"]
                kwargs["PortRange"] = {"From": low, "To": high}
            ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=int(entry["rule"]),
                                         Protocol=str(entry.get("protocol", "-1")), RuleAction=entry["action"],
                                         Egress=bool(entry.get("egress", False)), CidrBlock=entry["cidr"], **kwargs)
        current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                      "Values": list(vpc.subnet_ids)}])["NetworkAcls"]
        for acl in current:
            for assoc in acl["Associations"]:
                if assoc["SubnetId"] in vpc.subnet_ids:
                    ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                                        NetworkAclId=acl_id)
        return acl_id

    def peering(self, requester: VpcInfo, accepter: VpcInfo, *, routes: bool = True,
                name: str | None = None) -> str:
        """Peer two VPCs (across accounts too), accept it, and with ``routes`` add a route to the
        other VPC's CIDR in each side's route table; return the peering connection id."""
        ec2 = self.client(requester.account, "ec2")
        spec = [{"ResourceType": "vpc-peering-connection", "Tags": _tag_list({"Name": name})}] if name else []
        pcx = ec2.create_vpc_peering_connection(VpcId=requester.vpc_id, PeerVpcId=accepter.vpc_id,
                                                PeerOwnerId=accepter.account, PeerRegion=self.region,
                                                TagSpecifications=spec)["VpcPeeringConnection"]
        pcx_id = pcx["VpcPeeringConnectionId"]
        self.client(accepter.account, "ec2").accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
        if routes:
            self.route(requester, accepter.cidr, pcx_id)
            self.route(accepter, requester.cidr, pcx_id)
        return pcx_id

    def route(self, vpc: VpcInfo, destination: str, peering_id: str) -> None:
        """Add a route to ``destination`` through a VPC peering in ``vpc``'s route table."""
        self.client(vpc.account, "ec2").create_route(RouteTableId=vpc.route_table_id, DestinationCidrBlock=destination,
                                                     VpcPeeringConnectionId=peering_id)

    # -- databases and snapshots ------------------------------------------------------------
    def aurora(
        self,
        account: str,
        name: str,
        vpc: VpcInfo,
        security_group_ids: Sequence[str],
        *,
        kms_key: str | None = None,
        tags: Mapping[str, str] | None = None,
        database: str = "app",
        iam_auth: bool = True,
        instances: int = 1,
    ) -> ClusterInfo:
        """Create an encrypted Aurora PostgreSQL cluster (port 5432) with ``instances`` writers/readers.

        The master password is :data:`FAKE_SECRET`.
        """
        rds = self.client(account, "rds")
        group = f"{name}-subnets"
        rds.create_db_subnet_group(DBSubnetGroupName=group, DBSubnetGroupDescription=f"{name} subnets",
                                   SubnetIds=list(vpc.subnet_ids))
        kwargs: dict[str, Any] = {"KmsKeyId": kms_key} if kms_key else {}
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="15.4", Port=5432,
            MasterUsername="dbadmin", MasterUserPassword=FAKE_SECRET, DatabaseName=database,
            DBSubnetGroupName=group, VpcSecurityGroupIds=list(security_group_ids), StorageEncrypted=True,
            EnableIAMDatabaseAuthentication=iam_auth, Tags=_tag_list(tags), **kwargs)["DBCluster"]
        instance_arns = []
        for index in range(instances):
            instance_arns.append(rds.create_db_instance(
                DBInstanceIdentifier=f"{name}-{index + 1}", DBClusterIdentifier=name, Engine="aurora-postgresql",
                DBInstanceClass="db.r6g.large", Tags=_tag_list(tags))["DBInstance"]["DBInstanceArn"])
        return ClusterInfo(account, name, cluster["DBClusterArn"], cluster["Endpoint"], int(cluster["Port"]),
                           cluster["DbClusterResourceId"], tuple(instance_arns))

    def cluster_snapshot(self, account: str, cluster: str, name: str, *, share_with: Iterable[str] = (),
                         tags: Mapping[str, str] | None = None) -> str:
        """Snapshot an Aurora cluster, adding ``share_with`` accounts to its ``restore`` attribute."""
        rds = self.client(account, "rds")
        arn = rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=name, DBClusterIdentifier=cluster,
                                             Tags=_tag_list(tags))["DBClusterSnapshot"]["DBClusterSnapshotArn"]
        shared = list(share_with)
        if shared:
            rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=name, AttributeName="restore",
                                                     ValuesToAdd=shared)
        return arn

    def ebs_snapshot(
        self,
        account: str,
        *,
        size: int = 8,
        encrypted: bool = False,
        kms_key: str | None = None,
        share_with: Iterable[str] = (),
        tags: Mapping[str, str] | None = None,
        availability_zone: str | None = None,
    ) -> tuple[str, str]:
        """Create a volume and a snapshot of it, sharing ``createVolumePermission`` with
        ``share_with`` accounts; return ``(volume_id, snapshot_id)``."""
        ec2 = self.client(account, "ec2")
        kwargs: dict[str, Any] = {"KmsKeyId": kms_key} if kms_key else {}
        volume_id = ec2.create_volume(AvailabilityZone=availability_zone or f"{self.region}a", Size=size,
                                      Encrypted=encrypted or bool(kms_key),
                                      TagSpecifications=[{"ResourceType": "volume", "Tags": _tag_list(tags)}],
                                      **kwargs)["VolumeId"]
        snapshot_id = ec2.create_snapshot(VolumeId=volume_id, Description=f"snapshot of {volume_id}",
                                          TagSpecifications=[{"ResourceType": "snapshot", "Tags": _tag_list(tags)}])[
            "SnapshotId"]
        shared = list(share_with)
        if shared:
            ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                          OperationType="add", UserIds=shared)
        return volume_id, snapshot_id

    # -- workloads --------------------------------------------------------------------------
    def instance(
        self,
        account: str,
        name: str,
        subnet_id: str,
        security_group_ids: Sequence[str],
        *,
        instance_profile_arn: str | None = None,
        user_data: str | None = None,
        tags: Mapping[str, str] | None = None,
        image_id: str = "ami-12c6146b",
    ) -> str:
        """Launch one EC2 instance; return its ARN. ``user_data`` must hold only placeholders."""
        if user_data is not None and ("password" in user_data.lower() or "secret" in user_data.lower()) \
                and not _is_placeholder(user_data):
            raise InputError("expected user data with placeholder values only", field=f"instance {name}.UserData")
        kwargs: dict[str, Any] = {}
        if instance_profile_arn:
            kwargs["IamInstanceProfile"] = {"Arn": instance_profile_arn}
        if user_data is not None:
            kwargs["UserData"] = user_data
        reservation = self.client(account, "ec2").run_instances(
            ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.medium", SubnetId=subnet_id,
            SecurityGroupIds=list(security_group_ids),
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tag_list({"Name": name, **(tags or {})})}],
            **kwargs)
        instance_id = reservation["Instances"][0]["InstanceId"]
        return f"arn:aws:ec2:{self.region}:{account}:instance/{instance_id}"

    def lambda_function(
        self,
        account: str,
        name: str,
        role_arn: str,
        *,
        environment: Mapping[str, str] | None = None,
        subnet_ids: Sequence[str] = (),
        security_group_ids: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a Python Lambda function (a tiny inline handler); return its ARN.

        Environment values must be placeholders (:data:`FAKE_SECRET` or containing ``placeholder``).
        """
        for key, value in (environment or {}).items():
            if any(word in key.upper() for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")) \
                    and not _is_placeholder(value):
                raise InputError("expected a placeholder value (never a real secret)",
                                 field=f"lambda {name}.Environment.{key}")
        kwargs: dict[str, Any] = {}
        if environment:
            kwargs["Environment"] = {"Variables": dict(environment)}
        if subnet_ids:
            kwargs["VpcConfig"] = {"SubnetIds": list(subnet_ids), "SecurityGroupIds": list(security_group_ids)}
        return self.client(account, "lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role_arn, Handler="handler.handler",
            Code={"ZipFile": _handler_zip()}, Tags=dict(tags or {}), **kwargs)["FunctionArn"]

    def glue_connection(
        self,
        account: str,
        name: str,
        jdbc_url: str,
        *,
        subnet_id: str | None = None,
        security_group_ids: Sequence[str] = (),
        availability_zone: str | None = None,
        username: str = "glue_reader",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a JDBC Glue connection (password: :data:`FAKE_SECRET`); return its ARN."""
        conn: dict[str, Any] = {"Name": name, "ConnectionType": "JDBC", "ConnectionProperties": {
            "JDBC_CONNECTION_URL": jdbc_url, "USERNAME": username, "PASSWORD": FAKE_SECRET}}
        if subnet_id:
            conn["PhysicalConnectionRequirements"] = {
                "SubnetId": subnet_id, "SecurityGroupIdList": list(security_group_ids),
                "AvailabilityZone": availability_zone or f"{self.region}a"}
        self.client(account, "glue").create_connection(ConnectionInput=conn, Tags=dict(tags or {}))
        return f"arn:aws:glue:{self.region}:{account}:connection/{name}"

    def glue_job(self, account: str, name: str, role_arn: str, *, connections: Sequence[str] = (),
                 script: str | None = None, tags: Mapping[str, str] | None = None) -> str:
        """Create a Glue ETL job using ``connections``; return its ARN."""
        kwargs: dict[str, Any] = {"Connections": {"Connections": list(connections)}} if connections else {}
        self.client(account, "glue").create_job(
            Name=name, Role=role_arn, GlueVersion="4.0",
            Command={"Name": "glueetl", "ScriptLocation": script or f"s3://aws-glue-scripts-{account}/{name}.py",
                     "PythonVersion": "3"},
            Tags=dict(tags or {}), **kwargs)
        return f"arn:aws:glue:{self.region}:{account}:job/{name}"

    def notebook(
        self,
        account: str,
        name: str,
        role_arn: str,
        *,
        direct_internet_access: bool,
        subnet_id: str | None = None,
        security_group_ids: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a SageMaker notebook instance; return its ARN."""
        kwargs: dict[str, Any] = {}
        if subnet_id:
            kwargs.update(SubnetId=subnet_id, SecurityGroupIds=list(security_group_ids))
        return self.client(account, "sagemaker").create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=role_arn,
            DirectInternetAccess="Enabled" if direct_internet_access else "Disabled",
            Tags=_tag_list(tags), **kwargs)["NotebookInstanceArn"]

    def state_machine(
        self,
        account: str,
        name: str,
        role_arn: str,
        definition: Mapping[str, Any],
        *,
        tracing: bool = False,
        log_group_arn: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a Step Functions state machine; with ``log_group_arn`` it logs ALL events there."""
        logging = {"level": "OFF"}
        if log_group_arn:
            logging = {"level": "ALL", "includeExecutionData": False,
                       "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": log_group_arn}}]}
        return self.client(account, "stepfunctions").create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=role_arn,
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
            tracingConfiguration={"enabled": tracing}, loggingConfiguration=logging)["stateMachineArn"]

    def log_group(self, account: str, name: str) -> str:
        """Create a CloudWatch Logs group; return its ARN (with the ``:*`` suffix Step Functions wants)."""
        self.client(account, "logs").create_log_group(logGroupName=name)
        return f"arn:aws:logs:{self.region}:{account}:log-group:{name}:*"

    # -- logging ----------------------------------------------------------------------------
    def trail(
        self,
        account: str,
        name: str,
        bucket: str,
        *,
        multi_region: bool = False,
        s3_data_events: bool = False,
        logging: bool = True,
    ) -> str:
        """Create a CloudTrail trail writing to ``bucket`` (which must exist); return its ARN.

        ``s3_data_events`` adds a classic selector for all S3 object events.
        """
        ct = self.client(account, "cloudtrail")
        arn = ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region)["TrailARN"]
        data = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}] if s3_data_events else []
        ct.put_event_selectors(TrailName=name, EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": data}])
        if logging:
            ct.start_logging(Name=name)
        return arn


def _is_placeholder(value: str) -> bool:
    low = value.lower()
    return FAKE_SECRET in low or "placeholder" in low


def _handler_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()
