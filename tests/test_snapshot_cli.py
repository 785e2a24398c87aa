"""Bad snapshots through the CLI (``iamreach merge``): one clear line, exit 2, nothing written."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach import snapshot
from iamreach.inventory import Account, Inventory

IAMREACH = [sys.executable, "-m", "iamreach"]


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.json"
    snapshot.save(Inventory(accounts=[Account(id="111122223333", name="prod")]), path, collected_at="t")
    return path


def _corrupt(kind: str, good: Path, tmp_path: Path) -> Path:
    data = good.read_bytes()
    bad = tmp_path / f"bad-{kind}.json"
    if kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-gzip":
        bad = tmp_path / "bad.json.gz"
        bad.write_bytes(gzip.compress(data)[:40])
    elif kind == "edited":
        bad.write_bytes(data.replace(b'"prod"', b'"hacked"'))
    elif kind == "version":
        doc = json.loads(data)
        doc["schema_version"] = 999
        bad.write_bytes(json.dumps(doc).encode())
    elif kind == "garbage":
        bad.write_bytes(b"\x00\x01not json")
    elif kind == "missing":
        pass
    return bad


@pytest.mark.parametrize(("kind", "message"), [
    ("truncated", "not valid JSON"),
    ("truncated-gzip", "corrupt or truncated gzip data"),
    ("edited", "content_hash: content hash does not match"),
    ("version", "schema_version: schema_version 999 is not supported"),
    ("garbage", "not valid JSON"),
    ("missing", "cannot read"),
])
def test_bad_snapshot_is_one_line_exit_2(good, tmp_path, kind, message):
    bad = _corrupt(kind, good, tmp_path)
    out = tmp_path / "merged.json"
    proc = subprocess.run([*IAMREACH, "merge", str(good), str(bad), "-o", str(out)], env=os.environ,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"iamreach: error: {bad}: ") and message in lines[0], lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merged")]


def test_merge_needs_two_inputs(good, tmp_path):
    proc = subprocess.run([*IAMREACH, "merge", str(good), "-o", str(tmp_path / "m.json")], env=os.environ,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "expected at least two snapshots" in proc.stderr
