"""End to end: a 3-account organization in moto, collected by the real ``iamreach collect --org`` CLI.

The organization (tests/data/loaders/org_scenario.py) has a management account, a production
account with PHI stores and a synthetic-data account. The module builds it once (the tests
share that state, hence one xdist group) and collects it twice through the CLI.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from iamreach import snapshot

sys.path.insert(0, str(Path(__file__).parent / "data" / "loaders"))
import org_scenario  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from faults import SIGINT_DEFAULT  # noqa: E402

IAMREACH = [sys.executable, "-m", "iamreach"]
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("loaders_org")]


@pytest.fixture(scope="module")
def org(moto_server, tmp_path_factory):
    """Reset moto, build the organization, collect it twice; yield ids, paths and the CLI results."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        ids = org_scenario.build()
        out = tmp_path_factory.mktemp("collect")
        runs = []
        for name in ("a.json.gz", "b.json.gz"):
            proc = subprocess.run([*IAMREACH, "collect", "--org", "-o", str(out / name)], env=os.environ,
                                  capture_output=True, text=True, timeout=300)
            runs.append(proc)
        yield {"ids": ids, "dir": out, "runs": runs, "env": dict(os.environ)}


def _inv(org):
    return snapshot.load(org["dir"] / "a.json.gz")


def test_cli_collect_succeeds_with_summary(org):
    for proc in org["runs"]:
        assert proc.returncode == 0, proc.stderr
        assert "no gaps" in proc.stderr and "wrote" in proc.stderr
    assert (org["dir"] / "a.json.gz").stat().st_mode & 0o777 == 0o600


def test_organization_accounts_and_scps(org):
    inv, ids = _inv(org), org["ids"]
    assert inv.organization.management_account_id == ids["management"]
    accounts = {a.id: a for a in inv.accounts}
    assert set(accounts) == {ids["management"], ids["production"], ids["synthetic"]}
    assert accounts[ids["management"]].is_management
    assert accounts[ids["synthetic"]].ou_path == [ids["root"], ids["ou_syn"], ids["ou_gen"]]
    assert accounts[ids["production"]].name == "production"
    assert all(a.regions == ["us-east-1"] for a in inv.accounts)
    scp = next(p for p in inv.org_policies if p.id == ids["scp"])
    assert scp.type == "SCP" and scp.targets == sorted([ids["ou_syn"], ids["production"]])
    assert inv.meta["source"] == "collect" and inv.meta["org_mode"] is True


def test_roles_policies_and_resources(org):
    inv, ids = _inv(org), org["ids"]
    prod, synth = ids["prod"], ids["synth"]
    roles = {p.arn: p for p in inv.principals}
    reader = roles[prod["role"]]
    assert reader.trust_policy["Statement"][0]["Principal"]["AWS"] == synth["role"]
    assert reader.inline_policies["kms"]["Statement"][0]["Action"] == "kms:Decrypt"
    assert {p.arn for p in inv.policies} >= set(reader.managed_policy_arns)
    worker = roles[synth["role"]]
    assert worker.inline_policies["hop"]["Statement"][0]["Resource"] == prod["role"]
    res = {r.arn: r for r in inv.resources}
    bucket = res["arn:aws:s3:::prod-phi"]
    assert bucket.account == ids["production"] and bucket.policy["Statement"][0]["Principal"]["AWS"] == prod["role"]
    cluster = res[prod["cluster"]]
    assert cluster.attributes["security_group_ids"] == [prod["db_sg"]] and cluster.attributes["iam_auth"]
    key = res[prod["key"]]
    assert any(s.get("Sid") == "Reader" for s in key.policy["Statement"])
    db_sg = next(r for r in inv.resources if r.id == prod["db_sg"])
    assert any(ref["group_id"] == prod["app_sg"] for rule in db_sg.attributes["ingress"] for ref in rule["sg_refs"])
    fn = res[synth["function"]]
    assert fn.attributes["environment_variable_names"] == ["DB_TOKEN"]
    assert fn.attributes["vpc_id"] == synth["vpc"]  # from the subnet, not moto's fixed VpcId
    inst = res[f"arn:aws:ec2:us-east-1:{ids['synthetic']}:instance/{synth['instance']}"]
    assert inst.attributes["instance_profile_arn"].endswith("instance-profile/synthetic-worker")
    snaps = [r for r in inv.resources if r.kind == "ebs_snapshot"]
    assert [s.id for s in snaps] == [synth["snapshot"]]  # moto's AMI snapshots filtered out by owner id
    secret = res[prod["secret"]]
    assert secret.attributes["unlocks"] == [prod["cluster"]]
    assert res[prod["trail"]].attributes["is_logging"] is True
    assert res[synth["state_machine"]].attributes["resource_arns"] == [synth["function"]]


def test_no_planted_secret_anywhere_in_the_snapshot(org):
    data = gzip.decompress((org["dir"] / "a.json.gz").read_bytes())
    for what, value in org_scenario.PLANTED.items():
        assert value.encode() not in data, what
    assert b"planted-db-pw" not in data


def test_two_collects_identical_apart_from_collected_at(org):
    """Same state -> same bytes, except ``collected_at`` and one real change the collection makes itself.

    ``sts:AssumeRole`` into a member account updates RoleLastUsed of OrganizationAccountAccessRole
    (as AWS does), so the second collect sees a newer ``last_used`` on exactly those roles.
    """
    raw_a = gzip.decompress((org["dir"] / "a.json.gz").read_bytes()).splitlines()
    raw_b = gzip.decompress((org["dir"] / "b.json.gz").read_bytes()).splitlines()
    differ = [(x, y) for x, y in zip(raw_a, raw_b, strict=True) if x != y]
    keys = sorted({x.split(b":")[0].strip() for x, _ in differ})
    assert keys == [b'"collected_at"', b'"content_hash"', b'"last_used"']
    invs = [snapshot.load(org["dir"] / name) for name in ("a.json.gz", "b.json.gz")]
    changed = set()
    for inv in invs:
        for p in inv.principals:
            if p.name == "OrganizationAccountAccessRole":
                changed.add(p.arn)
                p.last_used = None
    assert len(changed) == 2  # the two member accounts the collector assumed into
    assert snapshot.dumps(invs[0], collected_at="x") == snapshot.dumps(invs[1], collected_at="x")


def test_snapshot_validates_against_the_shipped_schema(org):
    import jsonschema

    from iamreach.loaders.schema import load_schema

    doc = json.loads(gzip.decompress((org["dir"] / "a.json.gz").read_bytes()))
    jsonschema.validate(doc, load_schema())
    doc["inventory"]["resources"][0]["attributes"]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema())


def test_collect_is_read_only(org, monkeypatch):
    """Hook botocore's before-call on every client during a full in-process collection."""
    import botocore.session

    from iamreach.loaders.collector import CollectOptions, collect, is_read_only

    for key, value in org["env"].items():
        monkeypatch.setenv(key, value)
    seen: set[str] = set()
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-call", lambda model, **_: seen.add(
            f"{client.meta.service_model.service_name}:{model.name}"))
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    inv = collect(CollectOptions(org=True))
    assert len(inv.accounts) == 3
    writes = sorted(op for op in seen if not is_read_only(op.split(":", 1)[1]))
    assert writes == []
    assert "sts:AssumeRole" in seen and "iam:GetAccountAuthorizationDetails" in seen
    assert not any(op.endswith(":GetSecretValue") for op in seen)


def test_failed_calls_become_gaps_and_a_summary(org, tmp_path):
    """A service whose endpoint does not answer: gaps in the snapshot, a summary on stderr, exit 0."""
    env = {**org["env"], "AWS_ENDPOINT_URL_LAKEFORMATION": "http://127.0.0.1:9"}
    out = tmp_path / "gaps.json"
    proc = subprocess.run([*IAMREACH, "collect", "--services", "iam,lakeformation", "--max-attempts", "1",
                           "-o", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    inv = snapshot.load(out)
    gaps = [(g.service, g.api, g.error_code, g.account, g.region) for g in inv.gaps]
    assert gaps == [("lakeformation", "ListPermissions", "EndpointConnectionError", org["ids"]["management"],
                     "us-east-1")]
    assert "lakeformation:ListPermissions  EndpointConnectionError  x1" in proc.stderr
    assert inv.principals == [] or all(p.account == org["ids"]["management"] for p in inv.principals)


def test_api_moto_lacks_is_a_gap_not_a_crash(org, monkeypatch):
    """moto 5.2 does not implement glue:GetResourcePolicies: it answers HTML 500, which must become a gap."""
    import boto3
    from botocore.config import Config

    from iamreach.loaders.aws._common import Context

    for key, value in org["env"].items():
        monkeypatch.setenv(key, value)
    ctx = Context(session=boto3.Session(), account=org["ids"]["management"], region="us-east-1",
                  config=Config(retries={"mode": "standard", "max_attempts": 1}))
    assert ctx.call("glue", "get_resource_policies") is None
    (gap,) = ctx.gaps
    assert (gap.service, gap.api, gap.error_code) == ("glue", "GetResourcePolicies", "500")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_collect_leaves_no_file(org, tmp_path, sig):
    out = tmp_path / "interrupted.json.gz"
    proc = subprocess.Popen([*SIGINT_DEFAULT, *IAMREACH, "collect", "--org", "--max-workers", "2", "-o", str(out)],
                            env=org["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait until the worker pool runs (more than one thread): the collection is under way
    deadline = time.monotonic() + 120
    while proc.poll() is None and len(os.listdir(f"/proc/{proc.pid}/task")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the collection finished before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list(tmp_path.iterdir()) == []  # neither the output nor a stray temp file


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_does_not_wait_for_calls_in_flight(org, tmp_path, sig):
    """A call the endpoint holds for two minutes: the interrupted run exits within seconds, exit 130, no file."""
    sys.path.insert(0, str(Path(__file__).parent))
    from faults import FaultProxy, hold, interrupt, on

    out = tmp_path / "held.json.gz"
    held = threading.Event()
    with FaultProxy(org["env"]["AWS_ENDPOINT_URL"]) as proxy:
        proxy.reset([on("iam", "GetAccountAuthorizationDetails", action=hold(held, 120.0))])
        env = {**org["env"], "AWS_ENDPOINT_URL": proxy.url}
        proc = subprocess.Popen([*SIGINT_DEFAULT, *IAMREACH, "collect", "--quiet", "--services", "iam,kms", "-o", str(out)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not held.wait(0.05) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
        assert held.is_set(), "the collect never sent iam:GetAccountAuthorizationDetails"
        time.sleep(0.5)  # the other units finish; only the held call is in flight
        err, elapsed = interrupt(proc, sig)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert elapsed < 10, f"exit took {elapsed:.1f} s after the signal"
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary file


def test_org_accounts_filter(org, tmp_path):
    ids = org["ids"]
    out = tmp_path / "prod.json"
    proc = subprocess.run([*IAMREACH, "collect", "--org", "--accounts", ids["production"], "--services", "iam,s3",
                           "--quiet", "-o", str(out)], env=org["env"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    inv = snapshot.load(out)
    assert {p.account for p in inv.principals} == {ids["production"]}
    assert {r.account for r in inv.resources} == {ids["production"]}
    accounts = {a.id: a for a in inv.accounts}  # the organization's facts cover every account ...
    assert set(accounts) == {ids["management"], ids["production"], ids["synthetic"]}
    assert accounts[ids["production"]].regions == ["us-east-1"]  # ... only one was collected
    assert accounts[ids["synthetic"]].regions == [] and inv.meta["accounts"] == [ids["production"]]
    bad = subprocess.run([*IAMREACH, "collect", "--org", "--accounts", "999999999999", "-o", str(tmp_path / "x")],
                         env=org["env"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "not active members" in bad.stderr
