"""The four report formats: schema validity (JSON schema, SARIF 2.1.0), GitHub needs, escaping,
determinism, colour only on request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from test_checks_support import PROD, SYN, Kit, ev

from iamreach.analyses.checks import default_registry
from iamreach.analyses.report import Report
from iamreach.config import Config
from iamreach.errors import InputError
from iamreach.formatters import json_, markdown, sarif, text
from iamreach.formatters.registry import FORMATS, get_formatter

ROOT = Path(__file__).resolve().parent.parent
#: checks that run on the small graph (IAMR-012 needs an organization to evaluate)
IDS = [f"IAMR-{i:03d}" for i in (1, 2, 4, 6, 13, 14)]


def sample_graph(reverse: bool = False):
    k = Kit()
    k.account(PROD, "production")
    k.account(SYN, "synthetic")
    role = k.role("synth-fn-role", SYN)
    fn = k.workload("lambda_function", 'gen"|<x>`', SYN, role)
    prod = k.role("prod-reader", PROD, trust={"Statement": [{"Sid": "Synth", "Effect": "Allow", "Action": "sts:AssumeRole",
                                                             "Principal": {"AWS": f"arn:aws:iam::{SYN}:root"}}]})
    bucket = k.bucket("phi-claims", PROD, "phi", policy={"Statement": [
        {"Sid": "Seed", "Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::phi-claims/*"}]})
    db = k.resource(f"arn:aws:rds:us-east-1:{PROD}:db:patients", "rds_instance", PROD, "phi")
    edges = [
        (role, prod, "can_assume", {"actions": ("sts:AssumeRole",), "evidence": (ev("trust_policy", prod, sid="Synth"),)}),
        (prod, bucket, "reads", {"actions": ("s3:GetObject",), "evidence": (ev("identity_policy", "p", sid="R"),)}),
        (fn, db, "can_connect", {"ports": ("tcp/5432",), "evidence": (ev("sg_rule", "sgr-1", index=None),)}),
    ]
    for u, v, kind, data in (reversed(edges) if reverse else edges):
        k.edge(u, v, kind, **data)
    k.gap("kms", "ListKeys", account=PROD)
    return k.G


def sample_report(reverse: bool = False) -> Report:
    G = sample_graph(reverse)
    return default_registry().run(G, Config.default(), ids=IDS, tool_version="0.1.0",
                                  input={"uri": "snapshots/demo snap.json", "kind": "snapshot", "source": None})


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report()


def test_registry_is_one_dict_and_rejects_unknown_formats():
    assert sorted(FORMATS) == ["json", "markdown", "sarif", "text"]
    for name in FORMATS:
        assert callable(get_formatter(name).render)
    with pytest.raises(InputError, match="unknown format"):
        get_formatter("xml")


def test_sample_report_has_fail_and_unknown_findings(report):
    assert {f.status for f in report.findings} == {"fail", "unknown"}
    assert any(f.paths for f in report.findings)


def test_json_validates_against_the_documented_schema(report):
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(json_.render(report))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["schema"] == "iamreach-report/1" and doc["timestamp"] is None
    assert Report.from_dict(doc) == report


def test_sarif_validates_and_carries_what_github_needs(report, shared_dir):
    schema = json.loads((shared_dir / "reference" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(sarif.render(report))
    jsonschema.Draft7Validator(schema).validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == IDS
    for r in rules:
        float(r["properties"]["security-severity"])
        assert isinstance(r["properties"]["security-severity"], str) and r["properties"]["tags"]
    assert run["results"]
    for res in run["results"]:
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "snapshots/demo%20snap.json"
        arn = loc["logicalLocations"][0]["fullyQualifiedName"]
        assert arn in res["message"]["text"]
        assert re.fullmatch(r"[0-9a-f]{64}", res["partialFingerprints"]["iamreachFinding/v1"])
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    flows = [r for r in run["results"] if r.get("codeFlows")]
    assert flows
    for res in flows:
        locs = res["codeFlows"][0]["threadFlows"][0]["locations"]
        names = [loc["location"]["logicalLocations"][0]["fullyQualifiedName"] for loc in locs]
        assert len(names) >= 2 and all(loc["location"]["message"]["text"] for loc in locs)


def test_sarif_fingerprints_are_stable_between_runs():
    a = json.loads(sarif.render(sample_report()))
    b = json.loads(sarif.render(sample_report(reverse=True)))
    fp = lambda d: [r["partialFingerprints"] for r in d["runs"][0]["results"]]  # noqa: E731
    assert fp(a) == fp(b)


def test_finding_location_becomes_the_physical_location(report):
    from dataclasses import replace

    from iamreach.analyses.report import Location

    f = replace(report.findings[0], location=Location("infra/main.tf", 42))
    doc = json.loads(sarif.render(replace(report, findings=(f,))))
    phys = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert phys == {"artifactLocation": {"uri": "infra/main.tf"}, "region": {"startLine": 42}}


def test_same_input_gives_byte_identical_output():
    for name in FORMATS:
        fmt = get_formatter(name)
        assert fmt.render(sample_report()) == fmt.render(sample_report(reverse=True)), name


def test_text_groups_by_severity_without_colour_unless_asked(report):
    out = text.render(report)
    assert "\x1b[" not in out
    assert out.index("CRITICAL (") < out.index("HIGH (") < out.index("MEDIUM (")
    assert "--can_assume-->" in out and "fix:" in out
    assert "\x1b[" in text.render(report, color=True)


def test_markdown_summary_table_and_escaped_mermaid(report):
    out = markdown.render(report)
    assert out.startswith("## iamreach check:")
    assert "| Severity | Fail | Unknown |" in out and "### Findings" in out
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("flowchart LR")
    for line in block.splitlines()[1:]:
        labels = re.findall(r'"([^"]*)"', line)
        assert labels, line
        assert all(not set(lbl) & set('<>`|') for lbl in labels), line
    # the weird function name appears only escaped, in the table too
    for row in out.splitlines():
        if row.startswith("| ") and "gen" in row:
            assert '|<x>' not in row and "&lt;x&gt;" in row


def test_markdown_mermaid_escapes_node_names():
    from iamreach.analyses.results import Hop
    from iamreach.analyses.results import Path as P

    p = P((Hop('a"]; click n0 "http://x', "b<script>", "reads"),))
    out = markdown.mermaid(p)
    assert "<script>" not in out and 'a"]' not in out and "#quot;" in out


def test_empty_report_renders_in_every_format():
    empty = Report(input={"uri": "s.json"})
    for name in FORMATS:
        assert get_formatter(name).render(empty)
    assert "no findings" in markdown.render(empty)


def test_markdown_fits_a_pull_request_comment():
    from iamreach.analyses.report import Finding

    many = tuple(Finding(check_id="IAMR-013", title="t", status="fail", severity="high",
                         resource=f"arn:aws:s3:::bucket-{i:04d}", account=None, message="m" * 400,
                         remediation="r" * 400) for i in range(400))
    out = markdown.render(Report(findings=many))
    assert len(out) <= markdown.MAX_CHARS and "more (see the JSON or SARIF report)" in out
