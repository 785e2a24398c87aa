"""``iamreach import authdetails`` and ``iamreach merge`` through the real CLI (no AWS)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach import snapshot
from iamreach.inventory import Account, Gap, Inventory, Principal

IAMREACH = [sys.executable, "-m", "iamreach"]
DATA = Path(__file__).parent / "data" / "loaders" / "authdetails"
PROD, SYNTH = "222233334444", "555566667777"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*IAMREACH, *args], env=os.environ, capture_output=True, text=True, timeout=120)


def _import(tmp_path: Path, *extra: str, name: str = "auth.json") -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / name
    proc = _run("import", "authdetails", str(DATA / "prod.json"), str(DATA / "synth.json"), *extra, "-o", str(out))
    return proc, out


def test_import_two_accounts_with_scp_and_bucket_policy(tmp_path):
    proc, out = _import(tmp_path, "--scp", f"{SYNTH}={DATA / 'scp.json'}",
                        "--resource-policy", f"arn:aws:s3:::prod-phi@{PROD}={DATA / 'bucket-policy.json'}",
                        name="auth.json.gz")
    assert proc.returncode == 0, proc.stderr
    inv = snapshot.load(out)
    assert [a.id for a in inv.accounts] == [PROD, SYNTH]
    by = {p.arn: p for p in inv.principals}
    reader = by[f"arn:aws:iam::{PROD}:role/phi-reader"]
    assert reader.inline_policies["kms"]["Statement"][0]["Action"] == "kms:Decrypt"  # URL-encoded in the file
    assert reader.last_used == "2024-06-01T08:00:00+00:00"
    worker = by[f"arn:aws:iam::{SYNTH}:role/synthetic-worker"]
    assert worker.trust_policy["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert worker.instance_profile_arns == [f"arn:aws:iam::{SYNTH}:instance-profile/synthetic-worker"]
    assert by[f"arn:aws:iam::{SYNTH}:user/dev"].groups == [f"arn:aws:iam::{SYNTH}:group/engineers"]
    policies = {p.arn: p for p in inv.policies}
    assert policies["arn:aws:iam::aws:policy/ReadOnlyAccess"].account is None
    assert policies[f"arn:aws:iam::{PROD}:policy/phi-read"].name_source is None
    (scp,) = inv.org_policies
    assert scp.type == "SCP" and scp.targets == [SYNTH] and scp.document["Statement"][0]["Sid"] == "DenyLeave"
    (bucket,) = inv.resources
    assert (bucket.kind, bucket.account, bucket.policy["Statement"][0]["Sid"]) == ("s3_bucket", PROD, "Reader")
    assert inv.meta["source"] == "authdetails" and inv.gaps == []


def test_import_is_deterministic(tmp_path):
    (p1, a), (p2, b) = _import(tmp_path, name="a.json"), _import(tmp_path, name="b.json")
    assert p1.returncode == p2.returncode == 0
    strip = [line for line in a.read_bytes().splitlines() if b"collected_at" not in line]
    assert strip == [line for line in b.read_bytes().splitlines() if b"collected_at" not in line]


def test_scp_without_target_applies_to_every_imported_account(tmp_path):
    proc, out = _import(tmp_path, "--scp", str(DATA / "scp.json"))
    assert proc.returncode == 0, proc.stderr
    assert snapshot.load(out).org_policies[0].targets == [PROD, SYNTH]


@pytest.mark.parametrize(("files", "extra", "message"), [
    (["two-accounts.json"], [], "ARNs of several accounts"),
    (["scp.json"], [], "expected the JSON object of get-account-authorization-details"),
    (["missing.json"], [], "cannot read"),
    (["prod.json"], ["--resource-policy", "arn:aws:sqs:us-east-1:222233334444:q={d}/bucket-policy.json"],
     "cannot tell the resource kind"),
    (["prod.json", "synth.json"], ["--resource-policy", "arn:aws:s3:::b={d}/bucket-policy.json"], "ARN@ACCOUNT=FILE"),
    (["prod.json"], ["--resource-policy", "not-an-arn"], "expected ARN[@ACCOUNT]=FILE"),
    (["prod.json"], ["--scp", "{d}/prod.json"], "expected a policy document with a Statement"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, files, extra, message):
    out = tmp_path / "out.json"
    proc = _run("import", "authdetails", *[str(DATA / f) for f in files], *[e.format(d=DATA) for e in extra],
                "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, no stray temp file


def test_bad_json_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"RoleDetailList": [')
    proc = _run("import", "authdetails", str(bad), "-o", str(tmp_path / "o.json"))
    assert proc.returncode == 2 and proc.stderr.startswith(f"iamreach: error: {bad}: not valid JSON")


def _snap(path: Path, inv: Inventory, when: str) -> Path:
    snapshot.save(inv, path, collected_at=when)
    return path


def test_merge_joins_and_keeps_gaps(tmp_path):
    a = Inventory(accounts=[Account(id=PROD, name="prod", regions=["us-east-1"])],
                  principals=[Principal(arn=f"arn:aws:iam::{PROD}:role/r", kind="role", account=PROD, name="r")],
                  gaps=[Gap(service="s3", api="GetBucketPolicy", error_code="AccessDenied", account=PROD)],
                  meta={"source": "collect"})
    b = Inventory(accounts=[Account(id=PROD, regions=["eu-west-1"]), Account(id=SYNTH)],
                  principals=[Principal(arn=f"arn:aws:iam::{SYNTH}:role/s", kind="role", account=SYNTH, name="s")],
                  gaps=[Gap(service="kms", api="ListKeys", error_code="AccessDenied", account=SYNTH)],
                  meta={"source": "authdetails"})
    pa = _snap(tmp_path / "a.json", a, "2026-01-01T00:00:00Z")
    pb = _snap(tmp_path / "b.json.gz", b, "2026-02-01T00:00:00Z")
    out1, out2 = tmp_path / "m1.json", tmp_path / "m2.json"
    assert _run("merge", str(pa), str(pb), "-o", str(out1)).returncode == 0
    assert _run("merge", str(pa), str(pb), "-o", str(out2)).returncode == 0
    assert out1.read_bytes() == out2.read_bytes()  # deterministic, collected_at = the latest input's
    doc = json.loads(out1.read_bytes())
    assert doc["collected_at"] == "2026-02-01T00:00:00Z"
    inv = snapshot.load(out1)
    prod = inv.account(PROD)
    assert prod.name == "prod" and prod.regions == ["eu-west-1", "us-east-1"]  # field-wise account merge
    assert sorted((g.account, g.service) for g in inv.gaps) == [(PROD, "s3"), (SYNTH, "kms")]
    assert len(inv.principals) == 2 and inv.meta["sources"] == ["authdetails", "collect"]
    assert gzip.decompress(pb.read_bytes())  # the gzip input was read as such
