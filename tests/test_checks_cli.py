"""``iamreach check`` as a subprocess: exit codes, threshold, --checks, --unknown-ok, -o, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "snapshot.json"


def _check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iamreach", "check", *args], cwd=cwd, env=os.environ,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    dest = tmp_path / "snap.json"
    shutil.copy(GOLDEN, dest)
    return dest


def _ids(proc) -> set[str]:
    return {f["check_id"] for f in json.loads(proc.stdout)["findings"]}


def test_threshold_checks_selection_and_output_file(snap: Path, tmp_path: Path):
    all_ = _check(snap.name, "--format", "json", cwd=tmp_path)
    assert all_.returncode == 1, all_.stderr
    doc = json.loads(all_.stdout)
    assert doc["input"]["uri"] == "snap.json" and doc["timestamp"] is None
    sev = {f["check_id"]: f["severity"] for f in doc["findings"]}
    assert sev.get("IAMR-013") == "high"
    only = _check(snap.name, "--format", "json", "--checks", "IAMR-013", cwd=tmp_path)
    assert _ids(only) == {"IAMR-013"} and only.returncode == 1
    above = _check(snap.name, "--format", "json", "--checks", "IAMR-013", "--severity-threshold", "critical",
                   cwd=tmp_path)
    assert above.returncode == 0 and _ids(above) == {"IAMR-013"}  # the report still lists it
    out = _check(snap.name, "--format", "sarif", "-o", "out/r.sarif", "--timestamp", "2026-01-01T00:00:00Z",
                 cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    written = tmp_path / "out" / "r.sarif"
    assert oct(written.stat().st_mode & 0o777) == "0o600"
    assert json.loads(written.read_text())["runs"][0]["invocations"][0]["endTimeUtc"] == "2026-01-01T00:00:00Z"


def test_config_overrides_severity_and_excludes(snap: Path, tmp_path: Path):
    cfg = tmp_path / "iamreach.toml"
    cfg.write_text('[checks]\nseverities = { IAMR-013 = "info" }\nexclude = ["IAMR-001", "IAMR-012"]\n')
    proc = _check(snap.name, "--format", "json", "--config", cfg.name, "--checks", "IAMR-013,IAMR-001",
                  "--severity-threshold", "low", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert {f["check_id"] for f in doc["findings"]} == {"IAMR-013"}
    assert {f["severity"] for f in doc["findings"]} == {"info"} and proc.returncode == 0


def test_unknown_findings_fail_unless_unknown_ok(snap: Path, tmp_path: Path):
    from iamreach.inventory import Gap
    from iamreach.snapshot import load, save

    inv = load(snap)
    inv.gaps.append(Gap(service="kms", api="ListKeys", error_code="AccessDenied", account=inv.accounts[1].id,
                        region="us-east-1"))
    save(inv, snap, collected_at="2026-01-01T00:00:00Z")
    proc = _check(snap.name, "--format", "json", "--checks", "IAMR-014", cwd=tmp_path)
    assert proc.returncode == 1 and {f["status"] for f in json.loads(proc.stdout)["findings"]} == {"unknown"}
    ok = _check(snap.name, "--format", "json", "--checks", "IAMR-014", "--unknown-ok", cwd=tmp_path)
    assert ok.returncode == 0


@pytest.mark.parametrize("args, needle", [
    (("--format", "xml"), "--format"),
    (("--checks", "IAMR-999"), "IAMR-999"),
    (("--severity-threshold", "urgent"), "urgent"),
])
def test_usage_errors_exit_2(snap: Path, tmp_path: Path, args, needle):
    proc = _check(snap.name, *args, cwd=tmp_path)
    assert proc.returncode == 2 and needle in proc.stderr and proc.stdout == ""


def test_bad_snapshot_exits_2_and_writes_nothing(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "inventory": ')
    proc = _check(bad.name, "-o", "r.txt", cwd=tmp_path)
    assert proc.returncode == 2 and "bad.json" in proc.stderr
    assert not (tmp_path / "r.txt").exists()


def test_terraform_locations_become_sarif_physical_locations(snap: Path, tmp_path: Path):
    from iamreach.snapshot import load, save

    inv = load(snap)
    sg = next(r.arn for r in inv.resources if r.kind == "security_group")
    inv.meta = {**inv.meta, "terraform": {"locations": {sg: {"terraform_address": "aws_security_group.bastion",
                                                             "module": None, "file": "infra/net.tf", "line": 12}}}}
    save(inv, snap, collected_at="2026-01-01T00:00:00Z")
    proc = _check(snap.name, "--format", "sarif", "--checks", "IAMR-013", cwd=tmp_path)
    (result,) = json.loads(proc.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "infra/net.tf"},
                                                          "region": {"startLine": 12}}
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == sg
