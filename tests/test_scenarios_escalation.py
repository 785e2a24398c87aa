"""Every privilege-escalation method, end to end: moto account -> `iamreach collect` -> graph.

One account is built in the moto server with, for each method of the catalogue, an actor whose
policy grants exactly what the method needs, and a negative twin missing one of those actions.
The real collector runs as a subprocess; the test asserts that each actor has the method's
``escalates_to`` edge and that its twin has none. The catalogue is checked against the public
pathfinding.cloud catalogue in ../shared (every path id covered by a method).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml

from iamreach.graph.builder import build_graph
from iamreach.graph.policy import default_catalog
from iamreach.graph.tables import ESCALATION_METHODS, UNCOLLECTED_WORKLOAD_KINDS
from iamreach.model import account_node
from iamreach.snapshot import load

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


def _trust_service(svc):
    return _doc({"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"})


def _trust_aws(arn):
    return _doc({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"})


def _arn(kind, name):
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


class _World:
    """Builds the account and remembers, per method, the actor / twin / expected target."""

    def __init__(self):
        self.iam = boto3.client("iam", region_name=REGION)
        self.expect: dict[str, tuple[str, str, str]] = {}  # method id -> (actor, twin, target)

    def role(self, name, trust, policy=None):
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        if policy:
            self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
        return _arn("role", name)

    def user(self, name, policy=None):
        self.iam.create_user(UserName=name)
        if policy:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        return _arn("user", name)

    def pair(self, method, make, statements_full, statements_twin, target):
        actor = make(f"esc-{method.id}", _doc(*statements_full))
        twin = make(f"esc-{method.id}-twin", _doc(*statements_twin))
        self.expect[method.id] = (actor, twin, target)


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def _build(world: _World):
    iam = world.iam
    admin = _doc(_allow(["*"]))
    services = sorted({m.service for m in ESCALATION_METHODS if m.category == "passrole"})
    svc_role = {s: world.role(f"svc-{s.split('.')[0]}", _trust_service(s), admin) for s in services}
    # workloads running as privileged roles
    ec2_role = world.role("wl-ec2", _trust_service("ec2.amazonaws.com"), admin)
    iam.create_instance_profile(InstanceProfileName="wl-ec2")
    iam.add_role_to_instance_profile(InstanceProfileName="wl-ec2", RoleName="wl-ec2")
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                             IamInstanceProfile={"Name": "wl-ec2"})["Instances"][0]["InstanceId"]
    fn_role = world.role("wl-lambda", _trust_service("lambda.amazonaws.com"), admin)
    fn = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="wl-fn", Runtime="python3.12", Role=fn_role, Handler="index.handler",
        Code={"ZipFile": _zip()})["FunctionArn"]
    nb_role = world.role("wl-notebook", _trust_service("sagemaker.amazonaws.com"), admin)
    boto3.client("sagemaker", region_name=REGION).create_notebook_instance(
        NotebookInstanceName="wl-nb", InstanceType="ml.t3.medium", RoleArn=nb_role)
    glue_role = world.role("wl-glue", _trust_service("glue.amazonaws.com"), admin)
    boto3.client("glue", region_name=REGION).create_dev_endpoint(EndpointName="wl-dev", RoleArn=glue_role)
    workload = {
        "ec2_instance": (f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{inst}", ec2_role),
        "lambda_function": (fn, fn_role),
        "sagemaker_notebook": (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/wl-nb", nb_role),
        "glue_dev_endpoint": (f"arn:aws:glue:{REGION}:{ACCOUNT}:devEndpoint/wl-dev", glue_role),
    }
    # principals to take over / widen
    victim = world.user("victim")
    victim_role = world.role("victim-role", _trust_aws(f"arn:aws:iam::{ACCOUNT}:root"))
    iam.create_group(GroupName="admins")
    iam.put_group_policy(GroupName="admins", PolicyName="p", PolicyDocument=_doc(_allow(["iam:*"])))
    root = account_node(ACCOUNT)

    for m in ESCALATION_METHODS:
        acts = list(m.actions)
        if m.category == "passrole":
            role = svc_role[m.service]
            full = [_allow(["iam:PassRole"], role), _allow(acts)]
            twin = [_allow(["iam:PassRole"], role), _allow(acts[:-1] or ["s3:ListAllMyBuckets"])]
            world.pair(m, world.user, full, twin, role)
        elif m.category == "workload":
            if set(m.workload_kinds) <= UNCOLLECTED_WORKLOAD_KINDS:
                continue
            arn, role = workload[m.workload_kinds[0]]

            def grants(actions, arn=arn):
                # an action that does not apply to the workload (a lifecycle configuration ...) is
                # granted on its own resources, as a real policy would
                on_wl = [a for a in actions if default_catalog().arn_matches_type(a, arn) is not False]
                other = [a for a in actions if a not in on_wl]
                return ([_allow(on_wl, arn)] if on_wl else []) + ([_allow(other)] if other else [])

            world.pair(m, world.user, grants(acts), grants(acts[:-1] or ["s3:ListAllMyBuckets"]), role)
        elif m.category == "principal":
            if m.id == "principal-assumerole":
                continue  # sts:AssumeRole makes can_assume edges (tested in test_builder)
            target = victim if m.target_kind == "user" else victim_role
            world.pair(m, world.user, [_allow(acts, target)], [_allow(["iam:GetUser"], target)], target)
        elif m.category == "self":
            _self_method(world, m, root)
        elif m.category == "amplify":
            _amplify_method(world, m, root)


def _self_method(world: _World, m, root):
    iam = world.iam
    a = m.actions[0]
    name, twin_name = f"esc-{m.id}", f"esc-{m.id}-twin"
    if m.target_kind == "role":
        for n, ok in ((name, True), (twin_name, False)):
            world.role(n, _trust_aws(f"arn:aws:iam::{ACCOUNT}:root"),
                       _doc(_allow([a] if ok else ["iam:GetRole"], _arn("role", n))))
        world.expect[m.id] = (_arn("role", name), _arn("role", twin_name), root)
    elif m.target_kind == "user":
        for n, ok in ((name, True), (twin_name, False)):
            world.user(n, _doc(_allow([a] if ok else ["iam:GetUser"], _arn("user", n))))
        world.expect[m.id] = (_arn("user", name), _arn("user", twin_name), root)
    elif m.target_kind == "group":
        for n, ok in ((name, True), (twin_name, False)):
            world.user(n)
            iam.create_group(GroupName=f"g-{n}")
            iam.put_group_policy(GroupName=f"g-{n}", PolicyName="p",
                                 PolicyDocument=_doc(_allow([a] if ok else ["iam:GetGroup"], _arn("group", f"g-{n}"))))
            iam.add_user_to_group(GroupName=f"g-{n}", UserName=n)
        world.expect[m.id] = (_arn("user", name), _arn("user", twin_name), root)
    elif m.target_kind == "any_group":
        world.user(name, _doc(_allow([a], _arn("group", "admins"))))
        world.user(twin_name, _doc(_allow(["iam:GetGroup"], _arn("group", "admins"))))
        world.expect[m.id] = (_arn("user", name), _arn("user", twin_name), root)
    elif m.target_kind == "policy":
        for n, ok in ((name, True), (twin_name, False)):
            pol_arn = f"arn:aws:iam::{ACCOUNT}:policy/pol-{n}"
            iam.create_policy(PolicyName=f"pol-{n}", PolicyDocument=_doc(_allow([a] if ok else ["iam:GetPolicy"], pol_arn)))
            world.user(n)
            iam.attach_user_policy(UserName=n, PolicyArn=pol_arn)
        world.expect[m.id] = (_arn("user", name), _arn("user", twin_name), root)


def _amplify_method(world: _World, m, root):
    iam = world.iam
    a = m.actions[0]
    name, twin_name = f"esc-{m.id}", f"esc-{m.id}-twin"
    for n, ok in ((name, True), (twin_name, False)):
        actor = _arn("user", n)
        if m.target_kind in ("role", "role_policy"):
            target = world.role(f"amp-{n}", _trust_aws(actor))
            if m.target_kind == "role_policy":
                pol_arn = f"arn:aws:iam::{ACCOUNT}:policy/amp-{n}"
                iam.create_policy(PolicyName=f"amp-{n}", PolicyDocument=_doc(_allow(["s3:ListAllMyBuckets"])))
                iam.attach_role_policy(RoleName=f"amp-{n}", PolicyArn=pol_arn)
                resource = pol_arn
            else:
                resource = target
            world.user(n, _doc(_allow(["sts:AssumeRole"], target), _allow([a] if ok else ["iam:GetRole"], resource)))
        else:  # a user one can act as through CreateAccessKey
            target = world.user(f"amp-{n}")
            world.user(n, _doc(_allow(["iam:CreateAccessKey"], target), _allow([a] if ok else ["iam:GetUser"], target)))
        if n == name:
            world.expect[m.id] = (actor, _arn("user", twin_name), root)


@pytest.fixture(scope="module")
def escalation_world(moto_server, tmp_path_factory):
    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    os.environ.pop("AWS_PROFILE", None)
    try:
        urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
        world = _World()
        _build(world)
        out = tmp_path_factory.mktemp("esc") / "snap.json.gz"
        proc = subprocess.run([sys.executable, "-m", "iamreach", "collect", "-o", str(out), "--quiet",
                               "--regions", REGION], env=dict(os.environ), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        G = build_graph(load(out))
        yield world, G
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _methods_between(G, u, v):
    return {d.get("method") for _, w, d in G.out_edges(u, data=True) if w == v and d["kind"] == "escalates_to"}


MODELLED = [m for m in ESCALATION_METHODS
            if m.id != "principal-assumerole"
            and not (m.category == "workload" and set(m.workload_kinds) <= UNCOLLECTED_WORKLOAD_KINDS)]


@pytest.mark.parametrize("method", MODELLED, ids=lambda m: m.id)
def test_each_method_makes_its_edge_and_its_twin_does_not(escalation_world, method):
    world, G = escalation_world
    actor, twin, target = world.expect[method.id]
    assert method.id in _methods_between(G, actor, target), f"{actor} should escalate to {target} via {method.id}"
    assert method.id not in _methods_between(G, twin, target), f"twin {twin} must not escalate via {method.id}"
    edge = next(d for _, w, d in G.out_edges(actor, data=True) if w == target and d.get("method") == method.id)
    assert edge["evidence"][0]["type"] == "method" and edge["reason"]


def test_catalogue_covers_every_public_pathfinding_path(shared_dir: Path):
    files = sorted((shared_dir / "reference" / "pathfinding-cloud" / "paths").glob("*/*.yaml"))
    assert len(files) == 65
    covered = {c for m in ESCALATION_METHODS for c in m.covers}
    for f in files:
        data = yaml.safe_load(f.read_text())
        assert data["id"] in covered, f"{data['id']} ({data['name']}) has no method in iamreach.graph.tables"
        method = next(m for m in ESCALATION_METHODS if data["id"] in m.covers)
        required = {p["permission"].lower() for p in data["permissions"]["required"]}
        ours = {a.lower() for a in method.actions} | ({"iam:passrole"} if method.category == "passrole" else set())
        # every action we require is one the public path requires (ours may omit discovery-only reads)
        assert ours <= required | {"sts:assumerole", "iam:createaccesskey"}, (data["id"], ours, required)


def test_escalation_doc_is_generated_from_the_table():
    from iamreach.graph.tables import escalation_markdown

    doc = Path(__file__).resolve().parent.parent / "docs" / "escalation.md"
    assert doc.read_text() == escalation_markdown(), "regenerate: python -m iamreach.graph.tables > docs/escalation.md"
