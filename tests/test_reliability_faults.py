"""Faults during collection: the real ``iamreach collect`` subprocess behind a fault-injecting proxy.

The Meridian Health demo organization is built once per test process in a moto child process
(:func:`faults.demo_server`); each test collects it through :class:`faults.FaultProxy` with one
kind of fault and asserts that

* the collect finishes (exit 0) or stops with a clear one-line error (exit 2),
* every call whose last attempt failed is a recorded gap, and nothing else is (retries that
  later succeeded leave no gap),
* nothing partial is left at (or beside) the output path,
* ``iamreach paths`` and ``iamreach check`` answer UNKNOWN (exit 3 / an IAMR-014 finding and
  exit 1) for a question that is clean (exit 0) without the fault.

The question: can anything synthetic reach the production claims bucket? (Pattern 2's fixed twin:
no path in the clean collection.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from faults import (  # noqa: E402
    SIGINT_DEFAULT,
    Action,
    Call,
    FaultProxy,
    SeededFault,
    aws_env,
    clean_collect,
    gap_counter,
    hold,
    interrupt,
    on,
)

from iamreach import snapshot  # noqa: E402

IAMREACH = [sys.executable, "-m", "iamreach"]
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("reliability")]

#: calls the collector cannot do without (it stops with exit 2 when they fail; tested separately)
BOOTSTRAP = {("sts", "GetCallerIdentity"), ("organizations", "DescribeOrganization"),
             ("organizations", "ListAccounts")}


def _bootstrap(call: Call) -> bool:
    return (call.service, call.operation) in BOOTSTRAP


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    clean = clean_collect(str(tmp_path_factory.mktemp("clean")))
    assert clean.returncode == 0, clean.stderr
    server = clean.server
    claims = f"arn:aws:s3:::meridian-phi-claims-{server.org.production}"
    return {"server": server, "clean": clean.path, "claims": claims}


def _collect(demo, proxy: FaultProxy, out: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = aws_env(proxy.url)
    return subprocess.run([*IAMREACH, "collect", "--quiet", "-o", str(out), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _question(demo, snap: Path | str) -> tuple[int, dict]:
    """``paths`` exit code and JSON for synthetic -> the claims bucket."""
    proc = subprocess.run([*IAMREACH, "paths", str(snap), "--from", "synthetic", "--to", f"arn:{demo['claims'][4:]}",
                           "--format", "json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _gap_check(snap: Path | str) -> tuple[int, list[dict]]:
    """``check --checks IAMR-014`` exit code and findings."""
    proc = subprocess.run([*IAMREACH, "check", str(snap), "--checks", "IAMR-014", "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def _only_output(directory: Path, out: Path) -> None:
    """The output exists, owner-only, and no temporary file is left beside it."""
    assert sorted(p.name for p in directory.iterdir()) == [out.name]
    assert out.stat().st_mode & 0o777 == 0o600


def _assert_unknown(demo, snap: Path, inv) -> None:
    code, ps = _question(demo, snap)
    assert code == 3, "a gap could hide a path: the answer must be UNKNOWN (exit 3), not clean"
    assert ps["paths"] == [] and ps["unknown"], ps
    code, findings = _gap_check(snap)
    assert code == 1
    groups = {(g.account, g.region, g.service, g.api, g.error_code) for g in inv.gaps}
    assert len(findings) == len(groups)
    assert all(f["status"].upper() == "UNKNOWN" for f in findings), {f["status"] for f in findings}


def test_clean_baseline_answers_no_path_and_no_gap(demo):
    inv = snapshot.load(demo["clean"])
    assert inv.gaps == []
    assert _question(demo, demo["clean"])[0] == 0
    assert _gap_check(demo["clean"]) == (0, [])


def test_access_denied_on_a_seeded_tenth_of_calls(demo, tmp_path):
    server = demo["server"]
    out = tmp_path / "denied.json.gz"
    with FaultProxy(server.url) as proxy:
        proxy.reset([SeededFault(20260509, 0.10, "access_denied", server.names, spare=_bootstrap)])
        proc = _collect(demo, proxy, out, "--org")
        failed = proxy.failed_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    assert len(failed) >= 5
    assert gap_counter(inv.gaps) == failed
    assert {g.error_code for g in inv.gaps} <= {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
    _assert_unknown(demo, out, inv)


def test_throttling_storm_is_retried_and_leaves_gaps_only_where_retries_ran_out(demo, tmp_path):
    """A seeded 15% of the calls are throttled twice, then answered; ``kms:ListKeys`` in synthetic never is."""
    server = demo["server"]
    out = tmp_path / "throttled.json.gz"
    synthetic = server.org.synthetic
    with FaultProxy(server.url) as proxy:
        proxy.reset([
            on("kms", "ListKeys", account=synthetic, action=lambda c: Action.fault("throttling", c)),
            SeededFault(7, 0.15, "throttling", server.names, spare=_bootstrap, attempts=2),
        ])
        proc = _collect(demo, proxy, out, "--org", "--services", "iam,s3,kms", "--max-attempts", "3")
        failed, rescued = proxy.failed_calls(), proxy.rescued_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    assert rescued >= 5, "the storm must have hit calls that a retry rescued"
    assert failed == Counter({(synthetic, "us-east-1", "kms", "ListKeys", "error:ThrottlingException"): 1})
    assert gap_counter(inv.gaps) == failed
    _assert_unknown(demo, out, inv)


def test_server_errors_and_dropped_connections(demo, tmp_path):
    """500s and connections closed without an answer (what a read timeout looks like), some rescued."""
    server = demo["server"]
    out = tmp_path / "flaky.json.gz"
    with FaultProxy(server.url) as proxy:
        proxy.reset([
            SeededFault(11, 0.08, "internal", server.names, spare=_bootstrap),
            SeededFault(12, 0.08, "internal", server.names, spare=_bootstrap, attempts=1),
            _drop(SeededFault(13, 0.08, "internal", server.names, spare=_bootstrap)),
            _drop(SeededFault(14, 0.08, "internal", server.names, spare=_bootstrap, attempts=1)),
        ])
        proc = _collect(demo, proxy, out, "--org", "--services", "iam,s3,rds,kms,secretsmanager",
                        "--max-attempts", "2")
        failed, rescued = proxy.failed_calls(), proxy.rescued_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    assert rescued >= 1 and sum(failed.values()) >= 3
    assert {o for *_, o in failed} >= {"drop"}
    assert gap_counter(inv.gaps) == failed
    _assert_unknown(demo, out, inv)


def _drop(rule):
    """Turn a rule's error into a dropped connection."""
    def dropped(call: Call) -> Action | None:
        return Action("drop") if rule(call) is not None else None
    return dropped


def test_read_timeout_is_a_gap(demo, monkeypatch):
    """A real botocore read timeout (the proxy holds the answer longer than the client waits)."""
    import boto3
    from botocore.config import Config

    from iamreach.loaders.aws._common import Context

    server = demo["server"]
    with FaultProxy(server.url) as proxy:
        proxy.reset([on("kms", "ListKeys", action=lambda c: Action("delay", seconds=3.0))])
        for key, value in aws_env(proxy.url).items():
            monkeypatch.setenv(key, value)
        ctx = Context(session=boto3.Session(), account=server.org.management, region="us-east-1",
                      config=Config(read_timeout=1, connect_timeout=1, retries={"mode": "standard", "max_attempts": 1}))
        assert ctx.paginate("kms", "list_keys", "Keys") is None
    (gap,) = ctx.gaps
    assert (gap.service, gap.api, gap.error_code) == ("kms", "ListKeys", "ReadTimeoutError")


def test_member_whose_role_cannot_be_assumed(demo, tmp_path):
    server = demo["server"]
    synthetic = server.org.synthetic
    out = tmp_path / "noassume.json.gz"

    def deny_synthetic(call: Call) -> Action | None:
        if (call.service, call.operation) == ("sts", "AssumeRole") and f"%3A{synthetic}%3A" in call.params:
            return Action.fault("access_denied", call)
        return None

    with FaultProxy(server.url) as proxy:
        proxy.reset([deny_synthetic])
        proc = _collect(demo, proxy, out, "--org", "--services", "organizations,iam,s3")
        failed = proxy.failed_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    assert failed == Counter({(synthetic, None, "sts", "AssumeRole", "error:AccessDenied"): 1})
    assert gap_counter(inv.gaps) == failed
    (gap,) = inv.gaps
    assert gap.resource == f"arn:aws:iam::{synthetic}:role/OrganizationAccountAccessRole"
    assert not any(p.account == synthetic for p in inv.principals)
    _assert_unknown(demo, out, inv)


def test_region_not_enabled(demo, tmp_path):
    """Every call to eu-west-1 answers as AWS does for a region that is not enabled."""
    server = demo["server"]
    out = tmp_path / "region.json.gz"
    with FaultProxy(server.url) as proxy:
        proxy.reset([on(region="eu-west-1", action=lambda c: Action.fault("region_disabled", c))])
        proc = _collect(demo, proxy, out, "--org", "--regions", "us-east-1,eu-west-1",
                        "--services", "iam,s3,kms,lambda,secretsmanager")
        failed = proxy.failed_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    regional = {(a, r, s) for a, r, s, *_ in failed}
    assert regional == {(acct, "eu-west-1", svc) for acct in server.names
                        for svc in ("kms", "lambda", "secretsmanager")}
    assert gap_counter(inv.gaps) == failed
    _assert_unknown(demo, out, inv)


def test_service_the_endpoint_does_not_implement(demo, tmp_path):
    """Lake Formation answers an HTML 404 page (an endpoint without the service)."""
    server = demo["server"]
    out = tmp_path / "notimpl.json.gz"
    page = b"<!doctype html><html><body><h1>404 Not Found</h1></body></html>"
    with FaultProxy(server.url) as proxy:
        proxy.reset([on("lakeformation", action=lambda c: Action("error", code="404", status=404, body=page))])
        proc = _collect(demo, proxy, out, "--org", "--services", "iam,s3,lakeformation", "--max-attempts", "2")
        failed = proxy.failed_calls()
    assert proc.returncode == 0, proc.stderr
    _only_output(tmp_path, out)
    inv = snapshot.load(out)
    assert {(s, o) for _, _, s, o, _ in failed} == {("lakeformation", "ListPermissions")}
    assert sum(failed.values()) == 3  # one per account
    assert gap_counter(inv.gaps) == failed
    _assert_unknown(demo, out, inv)


def test_denied_listing_cannot_make_a_store_disappear(demo, tmp_path):
    """s3:ListBuckets denied in production: the claims bucket is unseen, so "no path" would be a lie."""
    server = demo["server"]
    out = tmp_path / "nolist.json.gz"
    with FaultProxy(server.url) as proxy:
        proxy.reset([on("s3", "ListBuckets", account=server.org.production,
                        action=lambda c: Action.fault("access_denied", c))])
        proc = _collect(demo, proxy, out, "--org", "--services", "iam,s3")
        failed = proxy.failed_calls()
    assert proc.returncode == 0, proc.stderr
    inv = snapshot.load(out)
    assert failed == Counter({(server.org.production, None, "s3", "ListBuckets", "error:AccessDenied"): 1})
    assert gap_counter(inv.gaps) == failed
    assert demo["claims"] not in {r.arn for r in inv.resources}
    _assert_unknown(demo, out, inv)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing(demo, tmp_path, sig):
    """The proxy holds one call for two minutes; the run is interrupted while it waits: exit 130
    within seconds (the held call is abandoned, not waited for), no file."""
    server = demo["server"]
    out = tmp_path / "interrupted.json.gz"
    held = threading.Event()
    with FaultProxy(server.url) as proxy:
        proxy.reset([on("glue", "GetJobs", action=hold(held, 120.0))])
        proc = subprocess.Popen([*SIGINT_DEFAULT, *IAMREACH, "collect", "--quiet", "--services", "iam,glue", "-o", str(out)],
                                env=aws_env(proxy.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not held.wait(0.1) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
        assert held.is_set(), "the collect never sent glue:GetJobs"
        err, elapsed = interrupt(proc, sig)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert elapsed < 10, f"exit took {elapsed:.1f} s after the signal"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("service,operation,extra", [
    ("sts", "GetCallerIdentity", ()),
    ("organizations", "ListAccounts", ("--org",)),
])
def test_bootstrap_denied_stops_with_a_clear_error(demo, tmp_path, service, operation, extra):
    server = demo["server"]
    out = tmp_path / "never.json.gz"
    with FaultProxy(server.url) as proxy:
        proxy.reset([on(service, operation, action=lambda c: Action.fault("access_denied", c))])
        proc = _collect(demo, proxy, out, "--services", "organizations,iam", *extra)
    assert proc.returncode == 2, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert line.startswith("iamreach: error:") and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_run(demo, tmp_path):
    """A collect that stops with an error leaves an earlier snapshot at the path untouched."""
    server = demo["server"]
    out = tmp_path / "keep.json.gz"
    original = Path(demo["clean"]).read_bytes()
    out.write_bytes(original)
    os.chmod(out, 0o600)
    with FaultProxy(server.url) as proxy:
        proxy.reset([on("sts", "GetCallerIdentity", action=lambda c: Action.fault("access_denied", c))])
        proc = _collect(demo, proxy, out)
    assert proc.returncode == 2
    assert out.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
