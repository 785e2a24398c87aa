"""``iamreach simulate``: the request-file contract (docs/cli.md, "iamreach simulate")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach.cli import main

ACC = "111122223333"
ALICE = f"arn:aws:iam::{ACC}:user/alice"
READ = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::b/*"}]}
VPC_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                                    "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]}


def _req(**extra):
    return {"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_account": ACC, **extra}


def _run(tmp_path, payload, *args, capsys):
    path = tmp_path / "req.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    code = main(["simulate", str(path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_single_allowed_request(tmp_path, capsys):
    code, out, err = _run(tmp_path, _req(identity_policies=[READ]), capsys=capsys)
    assert code == 0 and err == ""
    body = json.loads(out)
    assert body["decision"] == "allowed" and body["denial"] is None and body["conditions"] == []
    assert body["explanation"][0] == "identity: allowed by identity_policies[0] statement 'Read' (#0)"


def test_array_in_order_exit_1_when_any_denied(tmp_path, capsys):
    reqs = [_req(identity_policies=[READ]), _req(), _req(identity_policies=[READ], scps=[[{"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}], []])]
    code, out, _ = _run(tmp_path, reqs, capsys=capsys)
    body = json.loads(out)
    assert code == 1 and isinstance(body, list)
    assert [b["decision"] for b in body] == ["allowed", "denied", "denied"]
    assert [b["denial"] for b in body] == [None, "implicit", "implicit"]
    assert any("scp level 2" in line for line in body[2]["explanation"])


def test_unknown_keys_modes(tmp_path, capsys):
    code, out, _ = _run(tmp_path, _req(identity_policies=[VPC_ONLY]), capsys=capsys)
    assert code == 1 and json.loads(out)["decision"] == "denied"
    code, out, _ = _run(tmp_path, _req(identity_policies=[VPC_ONLY]), "--unknown-keys", "conditional", capsys=capsys)
    body = json.loads(out)
    assert code == 1 and body["decision"] == "conditional"
    assert body["conditions"] == [{"effect": "Allow", "operator": "StringEquals", "key": "aws:SourceVpc",
                                   "values": ["vpc-1"], "source": "identity_policies[0]", "sid": None, "negated": False}]
    code, out, _ = _run(tmp_path, _req(identity_policies=[VPC_ONLY], context={"aws:SourceVpc": "vpc-1"}),
                        "--unknown-keys", "conditional", capsys=capsys)
    assert code == 0 and json.loads(out)["decision"] == "allowed"


def test_text_format(tmp_path, capsys):
    code, out, _ = _run(tmp_path, [_req(identity_policies=[READ]), _req(identity_policies=[VPC_ONLY])], "--format", "text",
                        "--unknown-keys", "conditional", capsys=capsys)
    assert code == 1
    assert out.startswith(f"[0] ALLOWED: {ALICE} -> s3:GetObject on arn:aws:s3:::b/k")
    assert "[1] CONDITIONAL" in out and "? if StringEquals aws:SourceVpc [vpc-1]  [Allow in identity_policies[0]]" in out


def test_all_layers_and_extension_flags(tmp_path, capsys):
    other = "arn:aws:iam::444455556666:user/x"
    req = {
        "principal": other, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_account": ACC,
        "context": {"aws:SourceIp": "203.0.113.7", "aws:TagKeys": ["a", "b"]},
        "identity_policies": [READ],
        "resource_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
                                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},
        "permission_boundaries": [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}],
        "session_policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        "scps": [[{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]],
        "rcps": [[{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                                 {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                                  "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}]],
        "vpc_endpoint_policy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
        "principal_is_management_account": False, "resource_in_management_account": False,
        "principal_is_service_linked_role": False,
    }
    code, out, _ = _run(tmp_path, req, capsys=capsys)
    assert code == 0, out
    req["context"]["aws:SourceIp"] = "198.51.100.1"
    code, out, _ = _run(tmp_path, req, capsys=capsys)
    body = json.loads(out)
    assert code == 1 and body["denial"] == "explicit" and "rcp level 1" in body["explanation"][0]


@pytest.mark.parametrize(
    "payload,expected",
    [
        ("{nope", "req.json: not valid JSON"),
        ("5", "req.json: expected a request object or a JSON array"),
        (json.dumps([_req(), _req(identity_policies=[{"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}])]),
         'req.json: [1].identity_policies[0].Statement[0].Effect: expected "Allow" or "Deny"'),
        (json.dumps(_req(extra=1)), "req.json: extra: unknown request key 'extra'"),
        (json.dumps({"principal": ALICE, "action": "s3:GetObject"}), "req.json: resource: missing"),
        (json.dumps(_req(context=[1])), "req.json: context: expected an object"),
        (json.dumps(_req(context={"k": {"x": 1}})), "req.json: context.k: expected a string"),
        (json.dumps(_req(scps=[{"Statement": []}])), "req.json: scps: expected a list of levels"),
        (json.dumps(_req(resource_policy={"Statement": [{"Effect": "Allow", "Action": "*"}]})),
         "req.json: resource_policy.Statement[0].Principal: a resource policy statement needs Principal"),
        (json.dumps(_req(principal_is_management_account="yes")), "req.json: principal_is_management_account: expected true"),
    ],
)
def test_bad_input_exit_2_one_line(tmp_path, capsys, payload, expected):
    path = tmp_path / "req.json"
    path.write_text(payload)
    code = main(["simulate", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("iamreach: error: ")
    assert err.strip().replace(str(tmp_path) + "/", "").startswith(f"iamreach: error: {expected}"), err


def test_missing_file_is_exit_2(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_stdin_via_subprocess():
    exe = Path(sys.executable).with_name("iamreach")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from iamreach.cli import main; sys.exit(main())"]
    proc = subprocess.run([*cmd, "simulate", "-"], input=json.dumps([_req(identity_policies=[READ])]),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["decision"] == "allowed"
    proc = subprocess.run([*cmd, "simulate", "-"], input="[", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("iamreach: error: -: not valid JSON")
