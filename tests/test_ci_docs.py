"""The CI recipes of docs/ci.md really work: their shell steps run against the committed plans.

Both YAML documents are extracted from the Markdown and parsed; every ``run:`` step of the
GitHub workflow (``uses:`` steps are the platform's, skipped) and every ``before_script`` /
``script`` line of the GitLab jobs run in order in a scratch workspace, with ``terraform``
replaced by a stub that prints a committed ``terraform show -json`` fixture and ``pip`` by a
no-op (iamreach is already installed here). Terraform itself is never needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML parses the CI documents (installed with moto)")

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ci.md"
DATA = ROOT / "tests" / "data" / "terraform"
SARIF_SCHEMA = ROOT.parent / "shared" / "reference" / "sarif-schema-2.1.0.json"

pytestmark = pytest.mark.e2e


def _yaml_blocks() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(m) for m in re.findall(r"^```yaml\n(.*?)^```", text, flags=re.M | re.S)]


def _github() -> dict:
    (doc,) = [d for d in _yaml_blocks() if isinstance(d, dict) and "jobs" in d]
    return doc


def _gitlab() -> dict:
    (doc,) = [d for d in _yaml_blocks() if isinstance(d, dict) and "stages" in d]
    return doc


def _noop_plan(path: Path) -> None:
    """The fixture plan turned into one that changes nothing (after = before, creates dropped)."""
    plan = json.loads((DATA / "change.plan.json").read_text())
    changes = []
    for rc in plan["resource_changes"]:
        change = rc["change"]
        if change.get("before") is None:
            continue
        change.update(actions=["no-op"], after=change["before"], after_unknown={},
                      after_sensitive=change.get("before_sensitive", {}))
        changes.append(rc)
    plan["resource_changes"] = changes
    path.write_text(json.dumps(plan))


@pytest.fixture
def workspace(tmp_path):
    """A repository checkout: infra/ holds the .tf files; stubs for terraform and pip on PATH."""
    ws = tmp_path / "repo"
    shutil.copytree(DATA / "change", ws / "infra")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "terraform").write_text(
        "#!/bin/sh\n# test stub: `terraform show -json PLAN` prints the fixture, the rest succeeds\n"
        'for a in "$@"; do [ "$a" = show ] && exec cat "$IAMREACH_TEST_PLAN"; done\nexit 0\n')
    (stubs / "pip").write_text("#!/bin/sh\nexit 0\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(stubs), str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    env["IAMREACH_TEST_PLAN"] = str(DATA / "change.plan.json")
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV"):
        env[name] = str(tmp_path / name.lower())
        Path(env[name]).write_text("")
    return ws, env


def _bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _outputs(env: dict) -> dict[str, str]:
    lines = Path(env["GITHUB_OUTPUT"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _condition(expr: str | None, failed: bool, outputs: dict[str, dict[str, str]]) -> bool:
    """The few GitHub ``if:`` forms the workflow uses."""
    if expr is None:
        return not failed
    expr = expr.strip()
    if expr == "always()":
        return True
    if expr == "failure()":
        return failed
    m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)\s*==\s*'([^']*)'", expr)
    if m is None:
        raise AssertionError(f"docs/ci.md uses an if: this test does not understand: {expr}")
    return outputs.get(m.group(1), {}).get(m.group(2)) == m.group(3) and not failed


def _run_github(ws: Path, env: dict) -> list[tuple[str, int | None, str]]:
    """Run every job's run: steps; (step name, exit code or None when skipped, stderr)."""
    workflow = _github()
    assert workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    results = []
    for job in workflow["jobs"].values():
        failed = False
        outputs: dict[str, dict[str, str]] = {}
        for step in job["steps"]:
            name = step.get("name") or step.get("uses") or step.get("run", "")[:30]
            if "run" not in step:
                assert "uses" in step
                continue
            if not _condition(step.get("if"), failed, outputs):
                results.append((name, None, ""))
                continue
            Path(env["GITHUB_OUTPUT"]).write_text("")
            proc = _bash(step["run"], ws, env)
            if step.get("id"):
                outputs[step["id"]] = _outputs(env)
            results.append((name, proc.returncode, proc.stderr))
            failed = failed or (proc.returncode != 0 and not step.get("continue-on-error"))
    return results


def _check_sarif(path: Path) -> dict:
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    return doc


def test_ci_doc_has_both_recipes_with_the_required_steps():
    gh = _github()
    steps = next(iter(gh["jobs"].values()))["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)
    runs = "\n".join(s.get("run", "") for s in steps)
    for needle in ("terraform -chdir=infra show -json", "iamreach import terraform", "iamreach diff",
                   "GITHUB_STEP_SUMMARY", "--format sarif"):
        assert needle in runs
    gl = _gitlab()
    assert gl["stages"] == ["plan", "gate"]
    assert "iamreach diff" in "\n".join(gl["iamreach-gate"]["script"])


def test_github_workflow_fails_the_gate_on_a_forbidden_change(workspace):
    ws, env = workspace
    results = _run_github(ws, env)
    by_name = {name: (code, err) for name, code, err in results}
    for name in ("Install iamreach", "Terraform plan", "Apply the plan to the baseline", "Reachability diff"):
        assert by_name[name][0] == 0, f"{name}: {by_name[name][1]}"
    assert by_name["Fail when the change opens a forbidden path"][0] == 1
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "iamreach reachability diff" in summary and "Opened" in summary
    sarif = _check_sarif(ws / "iamreach.sarif")
    opened = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "IAMR-D01"]
    assert opened
    located = {(loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"]["region"]["startLine"])
               for r in opened for loc in r["locations"]}
    uri, line = next((u, n) for u, n in sorted(located) if u == "infra/changes.tf")
    assert (ws / uri).read_text().splitlines()[line - 1].startswith('resource "aws_iam_role_policy" "synthetic_phi"')
    for secret in ("planted-db-password-3f9c", "planted-env-secret-value"):
        for f in (ws / "iamreach.sarif", Path(env["GITHUB_STEP_SUMMARY"])):
            assert secret not in f.read_text()


def test_github_workflow_passes_when_nothing_opens(workspace, tmp_path):
    ws, env = workspace
    _noop_plan(tmp_path / "noop.json")
    env["IAMREACH_TEST_PLAN"] = str(tmp_path / "noop.json")
    results = _run_github(ws, env)
    by_name = {name: code for name, code, _ in results}
    assert by_name["Reachability diff"] == 0
    assert by_name["Fail when the change opens a forbidden path"] is None  # skipped
    sarif = _check_sarif(ws / "iamreach.sarif")
    assert not [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "IAMR-D01"]
    assert ":white_check_mark:" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def _run_gitlab(ws: Path, env: dict) -> dict[str, subprocess.CompletedProcess]:
    pipeline = _gitlab()
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "script" in v}
    out = {}
    for stage in pipeline["stages"]:
        for name, job in jobs.items():
            if job.get("stage") != stage:
                continue
            script = "\n".join([*job.get("before_script", []), *job["script"]])
            out[name] = _bash(script, ws, env)
    return out


def test_gitlab_pipeline_fails_on_a_forbidden_change_and_keeps_the_reports(workspace):
    ws, env = workspace
    jobs = _run_gitlab(ws, env)
    assert jobs["terraform-plan"].returncode == 0, jobs["terraform-plan"].stderr
    gate = jobs["iamreach-gate"]
    assert gate.returncode == 1, gate.stderr
    assert "iamreach reachability diff" in gate.stdout
    for artifact in _gitlab()["iamreach-gate"]["artifacts"]["paths"]:
        assert (ws / artifact).is_file()
    _check_sarif(ws / "iamreach.sarif")


def test_gitlab_pipeline_passes_when_nothing_opens(workspace, tmp_path):
    ws, env = workspace
    _noop_plan(tmp_path / "noop.json")
    env["IAMREACH_TEST_PLAN"] = str(tmp_path / "noop.json")
    jobs = _run_gitlab(ws, env)
    assert jobs["iamreach-gate"].returncode == 0, jobs["iamreach-gate"].stderr
