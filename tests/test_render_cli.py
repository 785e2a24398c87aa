"""``iamreach render`` end to end: a real snapshot, the real graph builder, the CLI as a subprocess."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from iamreach import snapshot
from iamreach.inventory import Account, Inventory, Principal, Resource

IAMREACH = [sys.executable, "-m", "iamreach"]
SYN, PROD = "222233334444", "111122223333"
HOSTILE = "<script>alert(1)</script>"
SYN_ROLE = f"arn:aws:iam::{SYN}:role/gen"
PROD_ROLE = f"arn:aws:iam::{PROD}:role/reader"
LAMBDA = f"arn:aws:lambda:us-east-1:{SYN}:function:gen"
BUCKET = "arn:aws:s3:::phi-claims"


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def small_inventory() -> Inventory:
    """A synthetic Lambda whose role assumes a production role that reads a PHI bucket."""
    inv = Inventory()
    inv.accounts = [Account(id=SYN, name="synthetic-data", tags={"Environment": "synthetic"}),
                    Account(id=PROD, name="production", tags={"Environment": "production"})]
    inv.principals = [
        Principal(arn=SYN_ROLE, kind="role", account=SYN, name="gen",
                  trust_policy=_doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}),
                  inline_policies={"assume": _doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Resource": PROD_ROLE})}),
        Principal(arn=PROD_ROLE, kind="role", account=PROD, name="reader", tags={"Owner": HOSTILE},
                  trust_policy=_doc({"Effect": "Allow", "Principal": {"AWS": SYN_ROLE}, "Action": "sts:AssumeRole"}),
                  inline_policies={"read": _doc({"Sid": "ReadPhi", "Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": f"{BUCKET}/*"})}),
    ]
    inv.resources = [
        Resource(arn=LAMBDA, kind="lambda_function", account=SYN, region="us-east-1", name="gen",
                 attributes={"role_arn": SYN_ROLE, "vpc_id": None, "subnet_ids": [], "security_group_ids": [],
                             "environment_variable_names": [], "runtime": "python3.12"}),
        Resource(arn=BUCKET, kind="s3_bucket", account=PROD, name="phi-claims",
                 tags={"DataClassification": "PHI", "Note": HOSTILE},
                 attributes={"public_access_block": None, "ownership": None, "acl_grants": [], "encryption": None}),
    ]
    return inv


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "snap.json.gz"
    snapshot.save(small_inventory(), path)
    return path


def _render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*IAMREACH, "render", *args], capture_output=True, text=True, timeout=120)


def test_render_paths_svg(snap, tmp_path):
    out = tmp_path / "paths.svg"
    res = _render(str(snap), "--from", "synthetic", "--to", "phi", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}" in res.stderr
    root = ET.fromstring(out.read_bytes())
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for arn in (LAMBDA, SYN_ROLE, PROD_ROLE, BUCKET):
        assert arn in text
    assert "s3:GetObject" in text and "sts:AssumeRole" in text
    assert out.stat().st_mode & 0o777 == 0o600


def test_render_around_png_dot_and_html(snap, tmp_path):
    png = tmp_path / "around.png"
    res = _render(str(snap), "--around", PROD_ROLE, "--hops", "1", "-o", str(png))
    assert res.returncode == 0, res.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    dot = tmp_path / "around.dot"
    assert _render(str(snap), "--around", PROD_ROLE, "--hops", "1", "-o", str(dot)).returncode == 0
    src = dot.read_text()
    assert PROD_ROLE in src and SYN_ROLE in src and BUCKET in src and LAMBDA not in src
    page = tmp_path / "all.html"
    res = _render(str(snap), "-o", str(page))
    assert res.returncode == 0, res.stderr
    html_text = page.read_text()
    assert 'type="application/json" id="iamreach-data"' in html_text
    assert HOSTILE not in html_text and "\\u003cscript\\u003e" in html_text


def test_render_bad_input_exits_2(snap, tmp_path):
    cases = [
        (["--around", "arn:aws:iam::1:role/none", "-o", str(tmp_path / "x.svg")], "no node"),
        (["--from", "synthetic", "-o", str(tmp_path / "x.svg")], "--from and --to go together"),
        (["-o", str(tmp_path / "x.jpg")], "unsupported output extension"),
        (["--from", "bogus:x", "--to", "phi", "-o", str(tmp_path / "x.svg")], "unknown selector type"),
    ]
    for args, message in cases:
        res = _render(str(snap), *args)
        assert res.returncode == 2, (args, res.stderr)
        assert message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert not list(tmp_path.iterdir())


def test_render_without_graphviz_says_how_to_install(snap, tmp_path):
    import os

    env = {**os.environ, "PATH": str(tmp_path)}
    out = tmp_path / "x.svg"
    res = subprocess.run([*IAMREACH, "render", str(snap), "-o", str(out)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 2
    assert "apt-get install -y graphviz" in res.stderr
    assert not out.exists()


def test_render_no_path_and_overview(snap, tmp_path):
    out = tmp_path / "none.svg"
    res = _render(str(snap), "--from", "phi", "--to", "synthetic", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "no path from 'phi' to 'synthetic'" in res.stderr
    ET.fromstring(out.read_bytes())  # an empty but valid picture
    over = tmp_path / "over.dot"
    res = _render(str(snap), "--max-nodes", "2", "-o", str(over))
    assert res.returncode == 0, res.stderr
    assert "overview of" in res.stderr
    assert over.read_text().count('class="group') >= 2
