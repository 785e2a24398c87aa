"""Distributed collection on a real Dask ``LocalCluster`` (process workers, 127.0.0.1) against moto.

The 3-account organization of ``tests/data/loaders/org_scenario.py`` is built once; a cluster of
two process workers is started once for the module. Workers inherit the environment at start:
the moto endpoint and a distinctive base secret key, which must never travel in a task's
arguments or result.
"""

from __future__ import annotations

import difflib
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from iamreach import snapshot
from iamreach.inventory import Gap
from iamreach.loaders import collector
from iamreach.loaders.aws import SERVICES
from iamreach.loaders.collector import CollectOptions, collect

pytest.importorskip("distributed", reason="the scale extra is not installed")

from iamreach.scale.dask_collect import (  # noqa: E402
    TaskResult,
    TaskSpec,
    collect_distributed,
    dask_client,
    plan_tasks,
    run_task,
)

sys.path.insert(0, str(Path(__file__).parent / "data" / "loaders"))
import org_scenario  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("scale_collect")]

IAMREACH = [sys.executable, "-m", "iamreach"]
BASE_SECRET = "iamreach-scale-base-secret-4b1d"
STAMP = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def org(moto_server):
    """Reset moto, build the organization, start a 2-worker local cluster; yield (ids, client)."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        ids = org_scenario.build()
        with dask_client(workers=2, threads_per_worker=2) as client:
            expected = snapshot.dumps(collect(CollectOptions(org=True)), collected_at=STAMP)
            yield {"ids": ids, "client": client, "expected": expected}


def _dump(inv) -> bytes:
    return snapshot.dumps(inv, collected_at=STAMP)


def _same_state(inv, expected: bytes) -> bool:
    """Byte-identical to ``expected``, apart from one change collecting makes itself.

    ``sts:AssumeRole`` updates RoleLastUsed of the assumed role (in AWS and in moto), so a later
    collect sees a newer ``last_used`` on the member accounts' OrganizationAccountAccessRole;
    those lines, and the hash over them, are the only ones allowed to differ.
    """
    got = _dump(inv)
    changed = [line for line in difflib.unified_diff(expected.decode().splitlines(), got.decode().splitlines(),
                                                     "expected", "got", n=0, lineterm="")
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert {line[1:].split(":")[0].strip() for line in changed} <= {'"content_hash"', '"last_used"'}, \
        "\n".join(changed[:40])
    invs = [inv, snapshot.loads(expected)[0]]
    for one in invs:
        for p in one.principals:
            if p.name == "OrganizationAccountAccessRole":
                p.last_used = None
    return _dump(invs[0]) == _dump(invs[1])


def test_cluster_snapshot_is_byte_identical_to_single_process(org, tmp_path):
    done: list[tuple[int, int]] = []
    inv = collect_distributed(CollectOptions(org=True), client=org["client"],
                              progress=lambda d, t, label: done.append((d, t)))
    assert _same_state(inv, org["expected"])
    assert {a.id for a in inv.accounts} == {org["ids"]["management"], org["ids"]["production"],
                                           org["ids"]["synthetic"]}
    assert done and done[-1][0] == done[-1][1] == len(done)
    # several tasks per account: global services apart, regional services per region
    assert done[-1][1] == 3 * 3


def test_tasks_are_planned_per_account_region_and_global_service():
    opts = CollectOptions(org=True)
    tasks = plan_tasks(["111111111111", "222222222222"], ["eu-west-1", "us-east-1"],
                       ["organizations", "iam", "s3", "ec2", "rds"], caller="111111111111", home="us-east-1",
                       options=opts)
    assert [(t.account, t.region, t.services) for t in tasks] == [
        ("111111111111", "us-east-1", ("iam",)), ("111111111111", "us-east-1", ("s3",)),
        ("222222222222", "us-east-1", ("iam",)), ("222222222222", "us-east-1", ("s3",)),
        ("111111111111", "eu-west-1", ("ec2", "rds")), ("111111111111", "us-east-1", ("ec2", "rds")),
        ("222222222222", "eu-west-1", ("ec2", "rds")), ("222222222222", "us-east-1", ("ec2", "rds"))]
    # the caller's own account uses the caller's credentials; members are assumed by the task
    assert {t.assume_role for t in tasks if t.account == "111111111111"} == {None}
    assert {t.assume_role for t in tasks if t.account == "222222222222"} == {"OrganizationAccountAccessRole"}


def test_no_credential_travels_in_task_arguments_or_results(org, tmp_path):
    outbox = tmp_path / "wire"
    outbox.mkdir()

    def recording(spec: TaskSpec) -> TaskResult:  # runs on the worker; writes what dask moved
        result = run_task(spec)
        name = f"{spec.account}-{spec.region}-{'-'.join(spec.services)}"
        (outbox / f"{name}.args").write_bytes(pickle.dumps(spec))
        (outbox / f"{name}.result").write_bytes(pickle.dumps(result))
        return result

    inv = collect_distributed(CollectOptions(org=True), client=org["client"], runner=recording)
    assert _same_state(inv, org["expected"])
    files = sorted(outbox.iterdir())
    assert len(files) == 2 * 9
    members = {org["ids"]["production"], org["ids"]["synthetic"]}
    assumed = [f for f in files if f.suffix == ".args" and f.name.split("-")[0] in members]
    assert assumed and all(pickle.loads(f.read_bytes()).assume_role for f in assumed)
    leak = re.compile(rb"ASIA[A-Z0-9]{8,}|SecretAccessKey|SessionToken|aws_secret_access_key|"
                      + re.escape(BASE_SECRET.encode()))
    for f in files:
        assert not leak.search(f.read_bytes()), f"credential material in {f.name}"


def test_worker_killed_mid_task_is_retried_into_a_complete_snapshot(org, tmp_path):
    marker = str(tmp_path / "killed-once")
    target = org["ids"]["production"]

    def dies_once(spec: TaskSpec) -> TaskResult:  # the first production IAM task kills its worker
        if spec.account == target and spec.services == ("iam",):
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return run_task(spec)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(9)
        return run_task(spec)

    inv = collect_distributed(CollectOptions(org=True), client=org["client"], runner=dies_once)
    assert Path(marker).exists(), "the fault was not injected"
    assert _same_state(inv, org["expected"])
    assert not [g for g in inv.gaps if g.api == "collect"]


class _Handed:
    """A future as ``as_completed`` hands it over, whose worker then dies or whose task ended otherwise.

    A real cluster cannot be made to lose a worker in the instant between ``as_completed``
    yielding a finished future and the driver reading it (CI once hit it by chance: a task's
    data became a "collect" gap), so the driver's reading is tested on this stand-in.
    """

    def __init__(self, key: str, outcome):
        self.key, self.status, self._outcome = key, "finished", outcome

    def result(self):
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def exception(self):  # as distributed's: waits, then None for a task that did not raise
        return self._outcome if isinstance(self._outcome, BaseException) else None


def test_future_lost_after_it_finished_is_awaited_not_read_as_a_failure(monkeypatch):
    import concurrent.futures

    import distributed

    from iamreach.scale import dask_collect

    specs = [TaskSpec("111111111111", "us-east-1", (svc,), "us-east-1") for svc in ("iam", "s3", "ec2")]
    outcomes = {"iam": TaskResult(specs[0]), "s3": ConnectionResetError("gone"),
                "ec2": concurrent.futures.CancelledError()}

    class Client:
        def submit(self, fn, spec, *, key, retries, pure):
            return _Handed(key, outcomes[spec.services[0]])

        def cancel(self, futures):
            raise AssertionError("nothing failed in the driver")

    def as_completed(futures):
        for f in futures:  # each finished; by the time the driver reads it, its worker has died
            f.status = "lost" if not isinstance(f._outcome, concurrent.futures.CancelledError) else "cancelled"
            yield f

    monkeypatch.setattr(distributed, "as_completed", as_completed)
    seen = []
    got = dask_collect._execute(Client(), specs, run_task, 0, lambda d, t, label: seen.append(d))
    assert got[0] is outcomes["iam"]
    assert isinstance(got[1], ConnectionResetError)
    assert isinstance(got[2], RuntimeError) and "cancelled" in str(got[2])
    assert seen == [1, 2, 3]


def test_task_failing_past_its_retries_becomes_gaps_not_a_hole(org, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    target = org["ids"]["production"]

    def s3_breaks(spec: TaskSpec) -> TaskResult:
        if spec.account == target and spec.services == ("s3",):
            (calls / os.urandom(6).hex()).touch()
            raise ConnectionResetError("worker lost its network")
        return run_task(spec)

    inv = collect_distributed(CollectOptions(org=True), client=org["client"], runner=s3_breaks, retries=1)
    assert len(list(calls.iterdir())) == 2  # the first try and one retry
    gaps = [g for g in inv.gaps if g.api == "collect"]
    assert [(g.service, g.account, g.region, g.error_code) for g in gaps] == [
        ("s3", target, None, "ConnectionResetError")]
    assert "worker lost its network" in (gaps[0].message or "")
    # everything else is there: the same records as the full collect, minus the production buckets
    full = snapshot.loads(org["expected"])[0]
    lost = {r.arn for r in full.resources if r.kind == "s3_bucket" and r.account == target}
    assert lost
    assert {r.arn for r in inv.resources} == {r.arn for r in full.resources} - lost
    path = tmp_path / "partial.json.gz"
    snapshot.save(inv, path)
    assert [g.error_code for g in snapshot.load(path).gaps if g.api == "collect"] == ["ConnectionResetError"]


def _refused(account: str, role: str) -> Gap:
    """The gap the collector records when STS refuses AssumeRole (moto assumes any role, AWS does not)."""
    return Gap(service="sts", api="AssumeRole", error_code="AccessDenied", account=account,
               message="not authorized to perform sts:AssumeRole", resource=f"arn:aws:iam::{account}:role/{role}")


def test_refused_assume_role_is_a_gap_and_the_account_is_not_collected(org, monkeypatch):
    refused = org["ids"]["synthetic"]

    def sts_refuses(spec: TaskSpec) -> TaskResult:  # as run_task does when _assume returns a gap
        if spec.account == refused:
            return TaskResult(spec, assume_gap=_refused(spec.account, spec.assume_role or ""))
        return run_task(spec)

    opts = CollectOptions(org=True, services=["organizations", "iam", "ec2"])
    inv = collect_distributed(opts, client=org["client"], runner=sts_refuses)
    real_assume = collector.member_session
    monkeypatch.setattr(collector, "member_session", lambda session, account, role, home, config: (
        (None, _refused(account, role)) if account == refused else real_assume(session, account, role, home, config)))
    local = collect(opts)
    assert [(g.api, g.account) for g in inv.gaps if g.service == "sts"] == [("AssumeRole", refused)]
    assert refused not in inv.meta["accounts"] and len(inv.meta["accounts"]) == 2
    assert not [g for g in inv.gaps if g.api == "collect"]
    assert _same_state(inv, _dump(local))


def test_task_whose_worker_keeps_dying_becomes_killedworker_gaps(org, monkeypatch):
    target = org["ids"]["synthetic"]
    # the scheduler runs in this process (LocalCluster): give up after the first worker death
    monkeypatch.setattr(org["client"].cluster.scheduler, "allowed_failures", 0)

    def always_dies(spec: TaskSpec) -> TaskResult:
        if spec.account == target and spec.services == ("iam",):
            os._exit(9)
        return run_task(spec)

    opts = CollectOptions(org=True, services=["organizations", "iam", "s3"])
    inv = collect_distributed(opts, client=org["client"], runner=always_dies)
    gaps = {(g.service, g.account): g.error_code for g in inv.gaps if g.api == "collect"}
    assert gaps[("iam", target)] == "KilledWorker"
    # tasks that shared the dying worker may be lost with it: each is a gap too, never a hole
    assert set(gaps.values()) == {"KilledWorker"}
    assert not [p for p in inv.principals if p.account == target]
    full = snapshot.loads(org["expected"])[0]
    for acct in {p.account for p in full.principals}:  # every account with IAM data: its data or a gap
        assert ("iam", acct) in gaps or [p for p in inv.principals if p.account == acct]
    org["client"].wait_for_workers(2, timeout=60)


def test_existing_scheduler_by_address(org):
    opts = CollectOptions(org=True, services=["organizations", "iam"])
    address = org["client"].scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    inv = collect_distributed(opts, scheduler=address)
    assert _same_state(inv, _dump(collect(opts)))


def test_cluster_options_are_checked():
    from iamreach.errors import InputError

    opts = CollectOptions()
    with pytest.raises(InputError, match="exactly one"):
        collect_distributed(opts)
    with pytest.raises(InputError, match="exactly one"):
        collect_distributed(opts, scheduler="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(InputError, match="positive"):
        collect_distributed(opts, workers=0)
    with pytest.raises(InputError, match="tcp://HOST:PORT"):
        collect_distributed(opts, scheduler="127.0.0.1:8786")


def test_cli_collect_with_workers_writes_the_single_process_snapshot(org, tmp_path):
    out = tmp_path / "d.json.gz"
    proc = subprocess.run([*IAMREACH, "collect", "--org", "--workers", "2", "-o", str(out)], env=os.environ,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr
    assert _same_state(snapshot.load(out), org["expected"])
    assert out.stat().st_mode & 0o777 == 0o600


def test_cli_collect_interrupted_mid_run_leaves_no_file(org, tmp_path):
    out = tmp_path / "d.json.gz"
    proc = subprocess.Popen([*IAMREACH, "collect", "--org", "--workers", "2", "--quiet", "-o", str(out)],
                            env=os.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # the cluster is starting or the tasks are running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert list(tmp_path.iterdir()) == []  # no snapshot, no temporary file


def test_cli_collect_cluster_options_are_checked(org, tmp_path):
    out = tmp_path / "d.json.gz"
    proc = subprocess.run([*IAMREACH, "collect", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "-o", str(out)],
                          env=os.environ, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "exactly one" in proc.stderr and not out.exists()


def test_dask_collect_imports_only_public_names():
    """The cluster path uses the collector through its public API, nothing private."""
    import ast
    import importlib

    from iamreach.scale import dask_collect

    tree = ast.parse(Path(dask_collect.__file__).read_text())
    imported = [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("iamreach") for alias in node.names]
    assert ("iamreach.loaders.collector", "run_collection") in imported
    for module, name in imported:
        assert not name.startswith("_"), f"{module}.{name} is private"
        assert name in importlib.import_module(module).__all__, f"{module}.{name} is not in __all__"


def test_run_collection_joins_any_executor_the_same_way(org):
    """A plain sequential executor through the public driver gives the thread pool's snapshot."""
    seen: list[str] = []

    def sequential(plan: collector.CollectionPlan, progress) -> collector.Collected:
        sessions = {a: plan.session if a == plan.caller else
                    collector.member_session(plan.session, a, plan.options.assume_role, plan.home, plan.config)[0]
                    for a in plan.members}
        units = plan.units(sessions)
        seen.extend(u.label for u in units)
        return collector.Collected(accounts=list(sessions),
                                   results=[collector.run_unit(u, sessions[u.account], plan.config) for u in units])

    inv = collector.run_collection(CollectOptions(org=True), sequential)
    assert _same_state(inv, org["expected"])
    # every service but Organizations (read once by the driver), once per account
    assert len(seen) == 3 * (len(SERVICES) - 1) and len(set(seen)) == len(seen)


def test_tasks_cover_exactly_the_collector_units_in_order():
    accounts, regions = ["111111111111", "222222222222"], ["eu-west-1", "us-east-1"]
    services = ["organizations", "iam", "s3", "ec2", "rds", "kms"]
    tasks = plan_tasks(accounts, regions, services, caller=accounts[0], home="us-east-1",
                       options=CollectOptions(org=True))
    flat = [(t.account, t.region, s) for t in tasks for s in t.services]
    units = collector.plan_units(accounts, regions, services, "us-east-1")
    assert flat == [(u.account, u.region, u.service) for u in units]
    assert [u.service for u in units[:2]] == ["iam", "s3"] and "organizations" not in flat[0]
