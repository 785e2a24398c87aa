"""A 3-account organization (management, production with PHI stores, synthetic-data) built in moto.

Used by the end-to-end loader tests and ``benchmarks/bench_collect.py``. Everything is created
through boto3 against the endpoint in ``AWS_ENDPOINT_URL`` (a moto server), the way a real
account would be configured. Planted secrets (:data:`PLANTED`) must never reach a snapshot.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

__all__ = ["build", "PLANTED", "REGION"]

REGION = "us-east-1"
#: secret values planted in the accounts; none may appear in a snapshot
PLANTED = {
    "lambda_env": "planted-lambda-env-value-7f3a",
    "secret_value": "planted-secret-string-91bd",
    "user_data": "planted-user-data-c0ffee",
    "glue_password": "planted-glue-password-5e5e",
}
_TRUST_EC2 = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com",
                                                    "glue.amazonaws.com", "sagemaker.amazonaws.com",
                                                    "states.amazonaws.com"]},
     "Action": "sts:AssumeRole"}]}


def _session(mgmt: Any, account: str) -> boto3.Session:
    creds = mgmt.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=REGION)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def _network(s: boto3.Session, cidr: str) -> dict[str, str]:
    ec2 = s.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.2.0/24", AvailabilityZone=f"{REGION}b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=sub_a)
    return {"vpc": vpc, "subnet_a": sub_a, "subnet_b": sub_b, "sg": sg, "igw": igw, "rt": rt}


def _production(s: boto3.Session, synth: str) -> dict[str, Any]:
    iam = s.client("iam")
    account = s.client("sts").get_caller_identity()["Account"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{synth}:role/synthetic-worker"},
         "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="phi-reader", AssumeRolePolicyDocument=json.dumps(trust),
                           Tags=[{"Key": "team", "Value": "phi"}])["Role"]["Arn"]
    pol = iam.create_policy(PolicyName="phi-read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::prod-phi/*"}]}))
    iam.attach_role_policy(RoleName="phi-reader", PolicyArn=pol["Policy"]["Arn"])
    iam.put_role_policy(RoleName="phi-reader", PolicyName="kms", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}))
    kms = s.client("kms")
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"}]}
    key = kms.create_key(Policy=json.dumps(key_policy), Description="phi",
                         Tags=[{"TagKey": "data", "TagValue": "phi"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/phi", TargetKeyId=key["KeyId"])
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=role, Operations=["Decrypt"])
    s3 = s.client("s3")
    s3.create_bucket(Bucket="prod-phi")
    s3.put_bucket_policy(Bucket="prod-phi", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::prod-phi/*"}]}))
    s3.put_bucket_encryption(Bucket="prod-phi", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    s3.put_public_access_block(Bucket="prod-phi", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_tagging(Bucket="prod-phi", Tagging={"TagSet": [{"Key": "data", "Value": "phi"}]})
    net = _network(s, "10.1.0.0/16")
    ec2 = s.client("ec2")
    db_sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": net["sg"]}]},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.2.0.0/16"}]}])
    rds = s.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="phi", DBSubnetGroupDescription="phi",
                               SubnetIds=[net["subnet_a"], net["subnet_b"]])
    cluster = rds.create_db_cluster(DBClusterIdentifier="phi-cluster", Engine="aurora-postgresql",
                                    MasterUsername="admin", MasterUserPassword="planted-db-pw-123",
                                    DBSubnetGroupName="phi", VpcSecurityGroupIds=[db_sg], StorageEncrypted=True,
                                    KmsKeyId=key["Arn"], EnableIAMDatabaseAuthentication=True,
                                    Tags=[{"Key": "data", "Value": "phi"}])["DBCluster"]
    rds.create_db_instance(DBInstanceIdentifier="phi-1", DBInstanceClass="db.r5.large", Engine="aurora-postgresql",
                           DBClusterIdentifier="phi-cluster", DBSubnetGroupName="phi")
    sm = s.client("secretsmanager")
    secret = sm.create_secret(Name="phi-db", SecretString=PLANTED["secret_value"],
                              Tags=[{"Key": "DBCluster", "Value": "phi-cluster"}])["ARN"]
    sm.put_resource_policy(SecretId=secret, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    ddb = s.client("dynamodb")
    table = ddb.create_table(TableName="phi-table", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST",
                             SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]},
                             Tags=[{"Key": "data", "Value": "phi"}])["TableDescription"]["TableArn"]
    s3.create_bucket(Bucket="prod-trail")
    trail = s.client("cloudtrail").create_trail(Name="org-trail", S3BucketName="prod-trail",
                                                IsMultiRegionTrail=True)["TrailARN"]
    s.client("cloudtrail").start_logging(Name=trail)
    return {"account": account, "role": role, "key": key["Arn"], "cluster": cluster["DBClusterArn"],
            "secret": secret, "table": table, "db_sg": db_sg, "app_sg": net["sg"], "vpc": net["vpc"],
            "trail": trail}


def _synthetic(s: boto3.Session, prod: str) -> dict[str, Any]:
    iam = s.client("iam")
    role = iam.create_role(RoleName="synthetic-worker", AssumeRolePolicyDocument=json.dumps(_TRUST_EC2))["Role"]
    iam.put_role_policy(RoleName="synthetic-worker", PolicyName="hop", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{prod}:role/phi-reader"}]}))
    iam.create_instance_profile(InstanceProfileName="synthetic-worker")
    iam.add_role_to_instance_profile(InstanceProfileName="synthetic-worker", RoleName="synthetic-worker")
    iam.create_role(RoleName="AWSServiceRoleForSupport", Path="/aws-service-role/support.amazonaws.com/",
                    AssumeRolePolicyDocument=json.dumps(_TRUST_EC2))
    net = _network(s, "10.2.0.0/16")
    ec2 = s.client("ec2")
    ec2.authorize_security_group_egress(GroupId=net["sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=net["subnet_a"],
                             SecurityGroupIds=[net["sg"]], UserData=PLANTED["user_data"],
                             IamInstanceProfile={"Name": "synthetic-worker"},
                             TagSpecifications=[{"ResourceType": "instance",
                                                 "Tags": [{"Key": "Name", "Value": "synth-gen"}]}])
    instance = inst["Instances"][0]["InstanceId"]
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol, Description="synthetic")["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission", OperationType="add",
                                  UserIds=[prod])
    lam = s.client("lambda")
    fn = lam.create_function(FunctionName="synth-fn", Runtime="python3.12", Role=role["Arn"], Handler="index.handler",
                             Code={"ZipFile": _zip()}, Environment={"Variables": {"DB_TOKEN": PLANTED["lambda_env"]}},
                             VpcConfig={"SubnetIds": [net["subnet_a"]], "SecurityGroupIds": [net["sg"]]},
                             Tags={"purpose": "synthetic"})["FunctionArn"]
    glue = s.client("glue")
    glue.create_connection(ConnectionInput={
        "Name": "prod-jdbc", "ConnectionType": "JDBC",
        "ConnectionProperties": {"JDBC_CONNECTION_URL": "jdbc:postgresql://phi-cluster.example:5432/phi",
                                 "USERNAME": "etl", "PASSWORD": PLANTED["glue_password"]},
        "PhysicalConnectionRequirements": {"SubnetId": net["subnet_a"], "SecurityGroupIdList": [net["sg"]],
                                           "AvailabilityZone": f"{REGION}a"}})
    glue.create_job(Name="synth-etl", Role=role["Arn"], Command={"Name": "glueetl", "ScriptLocation": "s3://x/y.py"},
                    Connections={"Connections": ["prod-jdbc"]})
    sfn = s.client("stepfunctions")
    definition = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": fn, "End": True}}}
    machine = sfn.create_state_machine(name="synth-flow", definition=json.dumps(definition),
                                       roleArn=role["Arn"])["stateMachineArn"]
    nb = s.client("sagemaker").create_notebook_instance(
        NotebookInstanceName="synth-nb", InstanceType="ml.t2.medium", RoleArn=role["Arn"],
        SubnetId=net["subnet_b"], SecurityGroupIds=[net["sg"]], DirectInternetAccess="Disabled")
    return {"account": s.client("sts").get_caller_identity()["Account"], "role": role["Arn"], "instance": instance,
            "snapshot": snap, "function": fn, "state_machine": machine, "notebook": nb["NotebookInstanceArn"],
            "vpc": net["vpc"], "subnet_a": net["subnet_a"], "subnet_b": net["subnet_b"], "sg": net["sg"]}


def build() -> dict[str, Any]:
    """Create the organization and both member accounts; return the ids tests assert on."""
    mgmt = boto3.Session(region_name=REGION)
    org = mgmt.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou_prod = org.create_organizational_unit(ParentId=root, Name="Production")["OrganizationalUnit"]["Id"]
    ou_syn = org.create_organizational_unit(ParentId=root, Name="Synthetic")["OrganizationalUnit"]["Id"]
    ou_gen = org.create_organizational_unit(ParentId=ou_syn, Name="Generators")["OrganizationalUnit"]["Id"]
    ids = {}
    for name, ou in (("production", ou_prod), ("synthetic", ou_gen)):
        acct = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)
        org.tag_resource(ResourceId=acct, Tags=[{"Key": "env", "Value": name}])
        ids[name] = acct
    scp = org.create_policy(Name="deny-leave", Type="SERVICE_CONTROL_POLICY", Description="",
                            Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}))
    scp_id = scp["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp_id, TargetId=ou_syn)
    org.attach_policy(PolicyId=scp_id, TargetId=ids["production"])
    prod = _production(_session(mgmt, ids["production"]), ids["synthetic"])
    synth = _synthetic(_session(mgmt, ids["synthetic"]), ids["production"])
    mgmt_account = mgmt.client("sts").get_caller_identity()["Account"]
    return {"management": mgmt_account, "root": root, "ou_prod": ou_prod, "ou_syn": ou_syn, "ou_gen": ou_gen,
            "scp": scp_id, "prod": prod, "synth": synth, **ids}
