"""End to end: the demo organization in moto -> ``iamreach collect`` -> ``iamreach check``.

Every planted pattern n of :mod:`iamreach.demo.org` must give an ``IAMR-00n`` finding naming its
target; every fixed twin must not. The report is also rendered in every format by the real CLI
and the SARIF is validated against the official schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from iamreach.analyses.report import Finding, Report

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("moto")]

IAMREACH = [sys.executable, "-m", "iamreach"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*IAMREACH, *args], cwd=cwd, env=os.environ, capture_output=True, text=True, timeout=600)


def _mentions(f: Finding, target: str) -> bool:
    if target in (f.resource, ) or target in f.message or target in f.remediation:
        return True
    if any(target in str(e.get("ref") or "") or target in str(e.get("detail") or "") for e in f.evidence):
        return True
    return any(target in p.nodes for p in f.paths)


@pytest.fixture
def demo(moto, tmp_path):
    from iamreach.demo import build_demo_org

    org = build_demo_org(region="us-east-1", endpoint_url=moto)
    snap = tmp_path / "demo.json.gz"
    proc = _cli("collect", "--org", "--regions", "us-east-1", "--quiet", "-o", snap.name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = _cli("check", snap.name, "--format", "json", "-o", "report.json", cwd=tmp_path)
    assert out.returncode == 1, out.stderr  # the demo leaks on purpose
    report = Report.from_dict(json.loads((tmp_path / "report.json").read_text()))
    return org, report, tmp_path, snap


def test_demo_planted_patterns_are_found_and_fixed_twins_are_not(demo, shared_dir):
    org, report, tmp, snap = demo
    problems = []
    for p in org.planted():
        cid = f"IAMR-{p.pattern:03d}"
        mine = [f for f in report.findings if f.check_id == cid]
        names = [t for t in (p.target, p.resources[0]) if t]
        if p.fixed:
            main = p.resources[0]
            bad = [f for f in mine if f.resource == main and f.status == "fail"]
            if bad:
                problems.append(f"{p.id} (fixed twin): {cid} reported {main}: {bad[0].message}")
        elif not any(_mentions(f, t) for f in mine for t in names):
            problems.append(f"{p.id}: no {cid} finding names {' or '.join(names)} ({len(mine)} {cid} finding(s))")
    assert not problems, "\n".join(problems)

    # the report in every format, through the real CLI, on the real snapshot
    schema = json.loads((shared_dir / "reference" / "sarif-schema-2.1.0.json").read_text())
    sarif = _cli("check", snap.name, "--format", "sarif", cwd=tmp)
    assert sarif.returncode == 1, sarif.stderr
    jsonschema.Draft7Validator(schema).validate(json.loads(sarif.stdout))
    for fmt in ("text", "markdown"):
        proc = _cli("check", snap.name, "--format", fmt, cwd=tmp)
        assert proc.returncode == 1 and proc.stdout, proc.stderr
    report_schema = json.loads((Path(__file__).resolve().parent.parent / "docs" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(report_schema).validate(json.loads((tmp / "report.json").read_text()))
    again = _cli("check", snap.name, "--format", "json", cwd=tmp)
    assert again.stdout == (tmp / "report.json").read_text()  # deterministic
    assert oct((tmp / "report.json").stat().st_mode & 0o777) == "0o600"
