"""Same snapshot, same bytes: every report is identical across runs and across PYTHONHASHSEED values.

Two snapshots: the Meridian Health demo organization collected once per test process through the
real ``iamreach collect`` (:func:`faults.clean_collect`), and a generated organization from
``benchmarks/generate.py`` (size S) with a mutated twin for ``diff``.

For each snapshot, one child process per ``PYTHONHASHSEED`` value (0, 1, 2 and ``random``)
runs the CLI entry point (:func:`iamreach.cli.main`, what ``python -m iamreach`` runs) for
every command and format below, writing with ``-o``; the files must be byte-identical across
the four processes. Set iteration order, dict order built from sets, hash-based tie breaks and
thread scheduling would all show up here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from faults import clean_collect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("0", "1", "2", "random")
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("reliability")]

_DRIVER = """
import json, sys
from iamreach.cli import main
codes = [main(argv) for argv in json.loads(sys.argv[1])]
print(json.dumps(codes))
"""


def _commands(snap: Path, other: Path, out: Path, *, full: bool = True) -> list[list[str]]:
    """Every format on the demo organization; check, paths and diff as JSON on the larger generated one."""
    s, o = str(snap), str(other)
    if not full:
        return [["check", s, "--format", "json", "-o", str(out / "check.json")],
                ["paths", s, "--from", "synthetic", "--to", "phi", "--format", "json", "-o", str(out / "paths.json")],
                ["diff", s, o, "--format", "json", "-o", str(out / "diff.json")]]
    return [
        ["check", s, "--format", "json", "-o", str(out / "check.json")],
        ["check", s, "--format", "sarif", "-o", str(out / "check.sarif")],
        ["check", s, "--format", "markdown", "-o", str(out / "check.md")],
        ["check", s, "--format", "text", "-o", str(out / "check.txt")],
        ["paths", s, "--from", "synthetic", "--to", "phi", "--format", "json", "-o", str(out / "paths.json")],
        ["paths", s, "--from", "synthetic", "--to", "phi", "--format", "markdown", "-o", str(out / "paths.md")],
        ["paths", s, "--from", "synthetic", "--to", "phi", "--format", "dot", "-o", str(out / "paths.dot")],
        ["diff", s, o, "--format", "json", "-o", str(out / "diff.json")],
        ["diff", s, o, "--format", "markdown", "-o", str(out / "diff.md")],
        ["diff", s, o, "--format", "sarif", "-o", str(out / "diff.sarif")],
    ]


def _run_seed(seed: str, snap: Path, other: Path, out: Path, full: bool) -> list[int]:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(_commands(snap, other, out, full=full))],
                          env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_identical(snap: Path, other: Path, work: Path, *, full: bool = True) -> dict[str, bytes]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(lambda seed: _run_seed(seed, snap, other, work / f"seed-{seed}", full), SEEDS))
    assert all(c == codes[0] for c in codes), codes
    assert all(c in (0, 1, 3) for c in codes[0]), codes[0]
    first = work / f"seed-{SEEDS[0]}"
    outputs = {p.name: p.read_bytes() for p in sorted(first.iterdir())}
    assert len(outputs) == len(_commands(snap, other, first, full=full))
    for seed in SEEDS[1:]:
        for name, data in outputs.items():
            other_bytes = (work / f"seed-{seed}" / name).read_bytes()
            assert other_bytes == data, f"{name} differs between PYTHONHASHSEED={SEEDS[0]} and {seed}"
    return outputs


@pytest.fixture(scope="module")
def demo_snapshot(tmp_path_factory):
    clean = clean_collect(str(tmp_path_factory.mktemp("clean")))
    assert clean.returncode == 0, clean.stderr
    return Path(clean.path)


def _generate(out: Path, *extra: str) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", "S", "--seed", "5",
                           "-o", str(out), *extra], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_demo_org_reports_are_byte_identical_across_hash_seeds(demo_snapshot, tmp_path):
    twin = tmp_path / "demo-mutated.json.gz"
    _generate(twin, "--base", str(demo_snapshot), "--mutate-percent", "20")
    outputs = _assert_identical(demo_snapshot, twin, tmp_path)
    assert json.loads(outputs["check.json"])["findings"], "the demo organization has findings"
    assert json.loads(outputs["paths.json"])["paths"], "the demo organization has synthetic -> phi paths"


def test_generated_org_reports_are_byte_identical_across_hash_seeds(tmp_path):
    base, after = tmp_path / "gen.json.gz", tmp_path / "gen-mutated.json.gz"
    _generate(base)
    _generate(after, "--base", str(base), "--mutate-percent", "2")
    outputs = _assert_identical(base, after, tmp_path, full=False)
    assert json.loads(outputs["check.json"])["findings"]


def test_generated_snapshot_bytes_are_identical_across_hash_seeds(tmp_path):
    """The snapshot writer itself: the same generated inventory gives the same gzip bytes."""
    blobs = []
    for seed in SEEDS:
        out = tmp_path / f"gen-{seed}.json.gz"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", "S", "--seed", "9",
                               "-o", str(out)], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        blobs.append(out.read_bytes())
    assert all(b == blobs[0] for b in blobs)
