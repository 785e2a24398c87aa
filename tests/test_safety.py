"""Safety of the tool itself: read-only collection, no stored secrets or credentials, owner-only
files, and harmless rendering of hostile names.

The demo organization (tests/faults.py builds it once per test process in a moto child
process) plants a placeholder secret, ``not-a-real-secret``, in every place a secret can live
in the services collected: Lambda environment values, the Secrets Manager secret value, EC2
user data, the Glue JDBC connection password and the RDS master password given at creation.
It is collected once through the real ``iamreach collect --org`` with recognizable
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` values in the environment, and every output
of every command is searched for any of them (raw and base64-encoded).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from faults import CANARY_SECRET, CANARY_TOKEN, clean_collect  # noqa: E402

from iamreach.demo.builder import FAKE_SECRET  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IAMREACH = [sys.executable, "-m", "iamreach"]
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("reliability")]

HOSTILE = '<script>alert(1)</script>"{}<>|\\`<img src=x onerror="window.__pwned=1">`&amp;'
DOT = shutil.which("dot")


def _needles(*values: str) -> dict[str, bytes]:
    """Each value raw and in the three base64 alignments (user data travels base64-encoded)."""
    out = {}
    for v in values:
        raw = v.encode()
        out[v] = raw
        for shift in range(3):
            enc = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0:-4]
            out[f"base64[{shift}] of {v}"] = enc
    return out


SECRETS = _needles(FAKE_SECRET, CANARY_SECRET, CANARY_TOKEN)


def _leaks(data: bytes) -> list[str]:
    return [name for name, needle in SECRETS.items() if needle and needle in data]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    result = clean_collect(str(tmp_path_factory.mktemp("clean")))
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def reports(clean, tmp_path_factory):
    """Every report format of every command, written with -o; returns the output directory."""
    out = tmp_path_factory.mktemp("reports")
    snap = clean.path
    runs = [["check", snap, "--format", fmt, "-o", str(out / f"check.{ext}")]
            for fmt, ext in (("json", "json"), ("sarif", "sarif"), ("markdown", "md"), ("text", "txt"))]
    runs += [["paths", snap, "--from", "synthetic", "--to", "phi", "--format", fmt, "-o", str(out / f"paths.{ext}")]
             for fmt, ext in (("json", "json"), ("text", "txt"), ("markdown", "md"), ("dot", "dot"), ("svg", "svg"))]
    runs += [["render", snap, "--from", "synthetic", "--to", "phi", "-o", str(out / f"render.{ext}")]
             for ext in ("dot", "svg", "html")]
    runs += [["diff", snap, snap, "--format", "json", "-o", str(out / "diff.json")]]
    for argv in runs:
        proc = subprocess.run([*IAMREACH, *argv], capture_output=True, timeout=600)
        assert proc.returncode in (0, 1), (argv, proc.stderr.decode()[-2000:])
        assert not _leaks(proc.stdout + proc.stderr), argv
    return out


def test_collect_sends_only_read_operations(clean):
    """Every request the proxy saw during the whole demo-org collect is a List/Get/Describe."""
    from iamreach.loaders.aws import SERVICES
    from iamreach.loaders.collector import is_read_only

    writes = sorted(op for op in clean.operations if not is_read_only(op.split(":", 1)[1]))
    assert writes == []
    assert not any(op.endswith((":GetSecretValue", ":GetFunction", ":DescribeInstanceAttribute"))
                   for op in clean.operations)
    seen = {op.split(":", 1)[0] for op in clean.operations}
    assert set(SERVICES) <= seen, set(SERVICES) - seen


def test_the_planted_secrets_are_really_there(clean):
    """The demo organization holds the placeholder where each secret lives (the test is not vacuous)."""
    org = clean.server.org
    env = clean.server.env
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        prod, syn = org.session(org.production), org.session(org.synthetic)
        secrets = prod.client("secretsmanager", region_name=org.region)
        (secret,) = secrets.list_secrets()["SecretList"]
        assert secrets.get_secret_value(SecretId=secret["ARN"])["SecretString"].find(FAKE_SECRET) >= 0
        fn = syn.client("lambda", region_name=org.region).list_functions()["Functions"][0]
        assert FAKE_SECRET in fn["Environment"]["Variables"].values()
        ec2 = syn.client("ec2", region_name=org.region)
        found_user_data = False
        for res in ec2.describe_instances()["Reservations"]:
            for inst in res["Instances"]:
                attr = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
                value = attr.get("UserData", {}).get("Value")
                if value and FAKE_SECRET.encode() in base64.b64decode(value):
                    found_user_data = True
        assert found_user_data
        conns = syn.client("glue", region_name=org.region).get_connections(HidePassword=False)["ConnectionList"]
        assert any(c["ConnectionProperties"].get("PASSWORD") == FAKE_SECRET for c in conns)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_snapshot_holds_no_secret_and_no_credential(clean):
    data = gzip.decompress(Path(clean.path).read_bytes())
    assert _leaks(data) == []
    doc = json.loads(data)
    fns = [r for r in doc["inventory"]["resources"] if r["kind"] == "lambda_function"]
    assert fns and all("API_TOKEN" in r["attributes"]["environment_variable_names"] for r in fns
                       if r["name"] == "synthetic-data-generator")
    assert Path(clean.path).stat().st_mode & 0o777 == 0o600


def test_reports_hold_no_secret_and_no_credential(reports):
    files = sorted(reports.iterdir())
    assert len(files) == 13
    for path in files:
        assert _leaks(path.read_bytes()) == [], path.name


def test_every_output_file_is_owner_only(reports):
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in reports.iterdir()}
    assert set(modes.values()) == {"0o600"}, modes


# -- hostile names ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The golden snapshot with a role (on a synthetic -> phi path) and a tag value renamed to HOSTILE."""
    from iamreach.snapshot import content_hash

    text = (ROOT / "tests" / "golden" / "snapshot.json").read_text()
    text = text.replace("phi-reader", json.dumps(f"phi-{HOSTILE}")[1:-1])
    doc = json.loads(text)
    bucket = next(r for r in doc["inventory"]["resources"] if r["kind"] == "s3_bucket")
    bucket["tags"] = {**bucket.get("tags", {}), f"Owner{HOSTILE}": HOSTILE}
    doc["inventory"]["accounts"][0]["name"] = HOSTILE
    doc["content_hash"] = content_hash(doc["inventory"])
    out = tmp_path_factory.mktemp("hostile")
    snap = out / "hostile.json"
    snap.write_text(json.dumps(doc))
    files = {}
    for argv, name in (
        (["render", str(snap), "--from", "synthetic", "--to", "phi", "-o", str(out / "r.dot")], "r.dot"),
        (["render", str(snap), "--from", "synthetic", "--to", "phi", "-o", str(out / "r.svg")], "r.svg"),
        (["render", str(snap), "--from", "synthetic", "--to", "phi", "-o", str(out / "r.html")], "r.html"),
        (["render", str(snap), "-o", str(out / "all.html")], "all.html"),
        (["paths", str(snap), "--from", "synthetic", "--to", "phi", "--format", "dot", "-o", str(out / "p.dot")], "p.dot"),
        (["paths", str(snap), "--from", "synthetic", "--to", "phi", "--format", "svg", "-o", str(out / "p.svg")], "p.svg"),
        (["paths", str(snap), "--from", "synthetic", "--to", "phi", "--format", "markdown", "-o", str(out / "p.md")],
         "p.md"),
        (["check", str(snap), "--format", "markdown", "-o", str(out / "c.md")], "c.md"),
        (["check", str(snap), "--format", "sarif", "-o", str(out / "c.sarif")], "c.sarif"),
    ):
        proc = subprocess.run([*IAMREACH, *argv], capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), (argv, proc.stderr[-2000:])
        files[name] = out / name
    return files


@pytest.mark.parametrize("name", ["r.dot", "p.dot"])
def test_hostile_dot_compiles_to_a_harmless_svg(hostile, name, tmp_path):
    assert DOT, "Graphviz dot is missing (make graphviz)"
    svg = tmp_path / "out.svg"
    proc = subprocess.run([DOT, "-Tsvg", str(hostile[name]), "-o", str(svg)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    _assert_harmless_svg(svg.read_bytes())


@pytest.mark.parametrize("name", ["r.svg", "p.svg"])
def test_hostile_svg_is_well_formed_without_script(hostile, name):
    _assert_harmless_svg(hostile[name].read_bytes())


def _assert_harmless_svg(data: bytes) -> None:
    root = ET.fromstring(data)  # well-formed XML or this raises
    texts = []
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1].lower()
        assert local not in ("script", "foreignobject", "iframe", "object", "embed"), local
        for attr, value in el.attrib.items():
            assert not attr.rsplit("}", 1)[-1].lower().startswith("on"), (local, attr)
            assert not value.strip().lower().startswith("javascript:"), (local, attr, value)
        texts.append("".join(el.itertext()))
    assert any("<script>alert(1)</script>" in t for t in texts), "the name is shown as text, not dropped"


def test_hostile_markdown_has_no_live_html(hostile):
    """Outside code spans (where CommonMark shows HTML as text) no tag from a name survives."""
    for name in ("p.md", "c.md"):
        text = re.sub(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", hostile[name].read_text(), flags=re.S)
        assert "<script" not in text.lower() and "<img" not in text.lower(), (name, text[:3000])


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_hostile_sarif_is_valid_json_with_the_name_intact(hostile):
    doc = json.loads(hostile["c.sarif"].read_text())
    assert doc["runs"][0]["results"]
    assert any(HOSTILE in s for s in _strings(doc))


def test_hostile_html_runs_no_script_in_chromium(hostile, tmp_path):
    from test_html_chromium import CDP, CHROMIUM

    if CHROMIUM is None:
        pytest.fail("Debian chromium is missing (make chromium)")
    for name in ("r.html", "all.html"):
        text = hostile[name].read_text()
        assert len(re.findall(r"<script\b", text, re.I)) == 2, name  # iamreach's data block and its own code
    cdp = CDP(tmp_path / "profile")
    try:
        for name in ("r.html", "all.html"):
            cdp.open(hostile[name].as_uri())
            assert cdp.js("document.scripts.length") == 2
            assert cdp.js("typeof window.__pwned") == "undefined"
            assert cdp.js("document.querySelectorAll('img[onerror], [onload], [onclick]').length") == 0
            data = json.loads(cdp.js("document.getElementById('iamreach-data').textContent"))
            assert any(HOSTILE in s for s in _strings(data)), "the name is carried as data, not dropped"
            assert not [e for e in cdp.events if e.get("method") == "Page.javascriptDialogOpening"]
    finally:
        cdp.close()
