"""``iamreach import terraform``: real `terraform show -json` plans (format 1.2 and 0.1) onto baselines.

The fixtures in tests/data/terraform were made by ``regen.sh`` (Terraform 1.11.4, hashicorp/aws
5.100.0, moto): ``baseline.plan.json`` creates the baseline from an empty state, ``change.plan.json``
is the change under review on top of the applied baseline, ``change.plan.v0.1.json`` is its
down-conversion to the old format 0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamreach.errors import InputError, PlanError
from iamreach.inventory import Inventory
from iamreach.loaders.terraform import (
    PLACEHOLDER_ACCOUNT,
    SUPPORTED_TYPES,
    apply_plan,
    load_plan,
    terraform_location,
)
from iamreach.loaders.terraform_plan import UNKNOWN_CONDITION_KEY, read_plan, strip_sensitive

DATA = Path(__file__).parent / "data" / "terraform"
ACCOUNT = "123456789012"
SECRETS = ("planted-db-password-3f9c", "planted-env-secret-value", "planted-user-data-secret")
IAMREACH = [sys.executable, "-m", "iamreach"]


@pytest.fixture(scope="module")
def baseline() -> Inventory:
    return apply_plan(load_plan(str(DATA / "baseline.plan.json")), account=ACCOUNT).after


@pytest.fixture(scope="module")
def change(baseline):
    return apply_plan(load_plan(str(DATA / "change.plan.json")), baseline, tf_dir=str(DATA / "change"),
                      source="change.plan.json")


def _principal(inv: Inventory, name: str):
    return next(p for p in inv.principals if p.name == name)


def _resource(inv: Inventory, kind: str, name: str):
    return next(r for r in inv.resources if r.kind == kind and (r.name == name or r.id == name))


def test_fixtures_are_real_terraform_output():
    versions = json.loads((DATA / "terraform-version.json").read_text())
    assert versions["terraform_version"].startswith("1.")
    plan = json.loads((DATA / "change.plan.json").read_text())
    assert plan["format_version"] == "1.2"
    assert json.loads((DATA / "change.plan.v0.1.json").read_text())["format_version"] == "0.1"
    assert {"create", "update", "delete", "no-op"} <= {a for rc in plan["resource_changes"]
                                                      for a in rc["change"]["actions"]}


def test_supported_types_cover_the_issue():
    wanted = {"aws_iam_role", "aws_iam_role_policy", "aws_iam_policy", "aws_iam_role_policy_attachment",
              "aws_iam_user", "aws_iam_user_policy", "aws_iam_user_group_membership", "aws_iam_group_membership",
              "aws_iam_group", "aws_iam_group_policy", "aws_iam_instance_profile", "aws_s3_bucket",
              "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_kms_key", "aws_security_group",
              "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
              "aws_db_instance", "aws_rds_cluster", "aws_db_snapshot", "aws_lambda_function", "aws_instance",
              "aws_organizations_policy", "aws_organizations_policy_attachment"}
    assert wanted <= set(SUPPORTED_TYPES)


def test_baseline_plan_creates_records_with_provisional_arns(baseline):
    role = _principal(baseline, "synthetic-etl")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/synthetic-etl"
    assert role.trust_policy["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    provisional = {p["address"] for p in baseline.meta["terraform"]["provisional"]}
    assert {"aws_iam_role.synthetic_etl", "aws_s3_bucket.phi", "aws_security_group.db"} <= provisional
    # the rendered data source json (known at plan time) is the trust policy
    assert role.tags == {"Workload": "synthetic-data"}


def test_change_plan_applies_creates_updates_deletes_and_replaces(change):
    after, before = change.after, change.before
    names = {p.name for p in after.principals}
    assert "phi-reader-v2" in names and "phi-reader" not in names  # replace (create_before_destroy)
    assert "phi-reader" in {p.name for p in before.principals}
    role = _principal(after, "synthetic-etl")
    assert role.inline_policies["read-phi"]["Statement"][0]["Resource"] == "arn:aws:s3:::prod-phi-records/*"
    assert "logs" in role.inline_policies
    # the deleted attachment and policy are gone after, present before
    assert role.managed_policy_arns == []
    assert _principal(before, "synthetic-etl").managed_policy_arns == [f"arn:aws:iam::{ACCOUNT}:policy/synthetic-read"]
    assert not after.policies and before.policies
    # updated security group + a new SG-to-SG ingress rule
    db_sg = _resource(after, "security_group", "phi-db")
    cidrs = [r["cidrs"] for r in db_sg.attributes["ingress"]]
    assert ["10.0.0.0/16"] in cidrs
    app_sg = _resource(after, "security_group", "synthetic-app")
    refs = [ref["group_id"] for r in db_sg.attributes["ingress"] for ref in r["sg_refs"]]
    assert refs == [app_sg.id]
    assert ["10.9.0.0/16"] in [r["cidrs"] for r in _resource(before, "security_group", "phi-db").attributes["ingress"]]
    # deleted public access block
    assert _resource(before, "s3_bucket", "prod-phi-records").attributes["public_access_block"]["BlockPublicPolicy"]
    assert _resource(after, "s3_bucket", "prod-phi-records").attributes["public_access_block"] is None


def test_change_plan_new_workloads_snapshots_and_scps(change):
    after = change.after
    inst = next(r for r in after.resources if r.kind == "ec2_instance")
    profile = next(p for p in after.instance_profiles if p.arn == inst.attributes["instance_profile_arn"])
    assert profile.role_arns == [_principal(after, "synthetic-etl").arn]
    assert inst.tags["Workload"] == "synthetic-data"
    snap = _resource(after, "rds_snapshot", "prod-phi-manual")
    assert snap.attributes["shared_accounts"] == ["444455556666"]
    assert snap.attributes["source_arn"] == _resource(after, "rds_instance", "prod-phi-db").arn
    assert snap.tags.get("DataClassification") == "PHI"
    cluster = _resource(after, "rds_cluster", "phi-analytics")
    assert cluster.attributes["port"] == 5432
    (scp,) = after.org_policies
    assert scp.type == "SCP" and scp.targets == [ACCOUNT]
    assert scp.document["Statement"][0]["Action"] == "organizations:LeaveOrganization"
    fn = _resource(after, "lambda_function", "synthetic-etl")
    assert fn.attributes["environment_variable_names"] == ["API_TOKEN"]
    assert fn.attributes["role_arn"] == _principal(after, "synthetic-etl").arn


def test_unknown_values_are_conditional_wildcards_never_absent(change):
    role = _principal(change.after, "synthetic-etl")
    (stmt,) = role.inline_policies["scratch"]["Statement"]
    assert stmt["Resource"] == ["*"] and set(stmt["Action"]) == {"s3:GetObject", "s3:PutObject"}
    assert stmt["Condition"]["Bool"] == {UNKNOWN_CONDITION_KEY: "true"}
    unknown = {(u["address"], u["attribute"]) for u in change.meta["unknown_values"]}
    assert ("aws_iam_role_policy.synthetic_scratch", "policy") in unknown
    provisional = {p["address"]: p["arn"] for p in change.meta["provisional"]}
    assert provisional["aws_s3_bucket.scratch"].startswith("arn:aws:s3:::synthetic-scratch-")
    assert provisional["module.etl.aws_iam_role.this"] == f"arn:aws:iam::{ACCOUNT}:role/etl-batch"


def test_unknown_document_without_data_source_is_allow_all_conditional():
    plan = {"format_version": "1.2", "resource_changes": [
        {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "mode": "managed",
         "change": {"actions": ["create"], "before": None, "after": {"name": "r"},
                    "after_unknown": {"assume_role_policy": True, "arn": True}}},
        {"address": "aws_iam_role_policy.p", "type": "aws_iam_role_policy", "name": "p", "mode": "managed",
         "change": {"actions": ["create"], "before": None, "after": {"name": "p", "role": "r"},
                    "after_unknown": {"policy": True}}}]}
    result = apply_plan(plan)
    role = result.after.principals[0]
    assert role.account == PLACEHOLDER_ACCOUNT and result.meta["account_source"] == "placeholder"
    for doc in (role.trust_policy, role.inline_policies["p"]):
        (stmt,) = doc["Statement"]
        assert stmt["Effect"] == "Allow" and stmt["Action"] == "*" and stmt["Resource"] == "*"
        assert stmt["Condition"] == {"Bool": {UNKNOWN_CONDITION_KEY: "true"}}
    assert role.trust_policy["Statement"][0]["Principal"] == {"AWS": "*"}


def test_format_01_gives_the_same_inventory(baseline, change):
    old = apply_plan(load_plan(str(DATA / "change.plan.v0.1.json")), baseline, tf_dir=str(DATA / "change"),
                     source="change.plan.json")
    assert old.meta["plan"]["format_version"] == "0.1"
    strip = lambda inv: {k: v for k, v in inv.to_dict().items() if k != "meta"}  # noqa: E731
    assert strip(old.after) == strip(change.after)
    assert strip(old.before) == strip(change.before)


def test_unsupported_types_are_listed(change):
    assert change.meta["unsupported"] == [{"address": "aws_sns_topic.alerts", "type": "aws_sns_topic",
                                           "mode": "managed", "actions": ["create"]}]


def test_locations_point_at_address_module_file_and_line(change):
    after = change.after
    etl = _principal(after, "etl-batch")
    loc = terraform_location(after, etl.arn)
    assert loc["terraform_address"] == "module.etl.aws_iam_role.this" and loc["module"] == "module.etl"
    assert loc["file"].endswith("modules/etl/main.tf")
    lines = Path(loc["file"]).read_text().splitlines()
    assert lines[loc["line"] - 1].startswith('resource "aws_iam_role" "this"')
    role = _principal(after, "synthetic-etl")
    contributors = {c["terraform_address"]: c for c in terraform_location(after, role.arn)["contributors"]}
    phi = contributors["aws_iam_role_policy.synthetic_phi"]
    assert Path(phi["file"]).name == "changes.tf"
    assert Path(phi["file"]).read_text().splitlines()[phi["line"] - 1].startswith('resource "aws_iam_role_policy"')
    bucket = _resource(after, "s3_bucket", "prod-phi-records")
    assert bucket.attributes["_terraform"]["terraform_address"] == "aws_s3_bucket.phi"
    assert terraform_location(after, "arn:aws:s3:::not-from-terraform") is None


def test_applying_the_plan_to_its_before_state_gives_the_same_after(change):
    again = apply_plan(load_plan(str(DATA / "change.plan.json")), change.before, tf_dir=str(DATA / "change"))
    strip = lambda inv: {k: v for k, v in inv.to_dict().items() if k != "meta"}  # noqa: E731
    assert strip(again.after) == strip(change.after)


def test_sensitive_values_are_stripped_before_anything_reads_the_plan():
    raw = (DATA / "change.plan.json").read_bytes()
    assert b"planted-db-password-3f9c" in raw  # the fixture really carries the secret
    stripped = strip_sensitive(read_plan(raw))
    text = json.dumps(stripped)
    for secret in SECRETS:
        assert secret not in text
    paths = {(p["address"], p["path"]) for p in stripped["_sensitive_paths"]}
    assert ("aws_db_instance.phi", "password") in paths and ("aws_rds_cluster.analytics", "master_password") in paths


@pytest.mark.e2e
def test_cli_import_never_writes_or_prints_secrets(tmp_path):
    base = tmp_path / "base.json"
    after = tmp_path / "after.json.gz"
    before = tmp_path / "before.json"
    run = lambda *a: subprocess.run([*IAMREACH, "import", "terraform", *a], capture_output=True,  # noqa: E731
                                    text=True, env=os.environ, timeout=120)
    first = run(str(DATA / "baseline.plan.json"), "-o", str(base), "--account", ACCOUNT)
    assert first.returncode == 0, first.stderr
    second = run(str(DATA / "change.plan.json"), "--base", str(base), "-o", str(after), "--before-output",
                 str(before), "--tf-dir", str(DATA / "change"))
    assert second.returncode == 0, second.stderr
    assert "aws_sns_topic.alerts" in second.stderr and "unsupported" in second.stderr
    import gzip

    blobs = [base.read_text(), gzip.decompress(after.read_bytes()).decode(), before.read_text(),
             first.stdout, first.stderr, second.stdout, second.stderr]
    for blob in blobs:
        for secret in SECRETS:
            assert secret not in blob
    assert oct(after.stat().st_mode & 0o777) == "0o600"
    from iamreach import snapshot

    inv = snapshot.load(after)
    assert inv.meta["terraform"]["unsupported"][0]["address"] == "aws_sns_topic.alerts"


@pytest.mark.e2e
def test_cli_import_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "plan.json"
    out = tmp_path / "out.json"
    for content, expect in ((b"{not json", "not valid JSON"), (b'{"format_version": "9.9"}', "format_version"),
                            (b'{"format_version": "1.2", "resource_changes": {}}', "resource_changes")):
        bad.write_bytes(content)
        proc = subprocess.run([*IAMREACH, "import", "terraform", str(bad), "-o", str(out)], capture_output=True,
                              text=True, env=os.environ, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert str(bad) in proc.stderr and expect in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert not out.exists()


def test_bad_plans_name_the_field():
    with pytest.raises(PlanError, match="resource_changes\\[0\\].change"):
        read_plan(b'{"format_version": "1.2", "resource_changes": [{"address": "a.b", "type": "a", "change": 1}]}')
    with pytest.raises(PlanError, match="format_version"):
        read_plan(b"[]" if False else b'{"format_version": 2}')
    with pytest.raises(InputError, match="--account"):
        apply_plan({"format_version": "1.2", "resource_changes": []}, account="12")
    with pytest.raises(PlanError, match="aws_iam_role.r"):
        apply_plan({"format_version": "1.2", "resource_changes": [
            {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r",
             "change": {"actions": ["create"], "before": None, "after": {"name": "r", "assume_role_policy": "{"}}}]})


def test_counted_module_instances_resolve_references_inside_their_module():
    def rc(address, type_, after, unknown):
        return {"address": address, "module_address": 'module.m["a"]', "type": type_, "mode": "managed",
                "name": address.split(".")[-1], "change": {"actions": ["create"], "before": None, "after": after,
                                                           "after_unknown": unknown}}
    plan = {"format_version": "1.2", "resource_changes": [
        rc('module.m["a"].aws_iam_role.r', "aws_iam_role",
           {"name": "role-a", "path": "/", "assume_role_policy": '{"Statement": []}'}, {"arn": True}),
        rc('module.m["a"].aws_iam_role_policy.p', "aws_iam_role_policy",
           {"name": "p", "policy": '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'},
           {"role": True})],
        "configuration": {"root_module": {"module_calls": {"m": {"source": "./m", "module": {"resources": [
            {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "mode": "managed",
             "expressions": {"name": {"references": ["each.key"]}}},
            {"address": "aws_iam_role_policy.p", "type": "aws_iam_role_policy", "name": "p", "mode": "managed",
             "expressions": {"role": {"references": ["aws_iam_role.r.id", "aws_iam_role.r"]},
                             "policy": {"constant_value": "x"}}}]}}}}}}
    result = apply_plan(plan, account="111122223333")
    (role,) = result.after.principals
    assert role.arn == "arn:aws:iam::111122223333:role/role-a" and "p" in role.inline_policies
    assert not result.meta["unresolved"]


def test_configured_role_blocks_unknown_until_apply_stay_conservative():
    plan = {"format_version": "1.2", "resource_changes": [
        {"address": "aws_iam_policy.p", "type": "aws_iam_policy", "name": "p", "mode": "managed",
         "change": {"actions": ["create"], "before": None,
                    "after": {"name": "p", "path": "/", "policy": '{"Statement": [{"Effect": "Allow", '
                                                                  '"Action": "kms:Decrypt", "Resource": "*"}]}'},
                    "after_unknown": {"arn": True}}},
        {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "mode": "managed",
         "change": {"actions": ["create"], "before": None,
                    "after": {"name": "r", "path": "/", "assume_role_policy": '{"Statement": []}',
                              "inline_policy": [{"name": "inline"}]},
                    "after_unknown": {"arn": True, "managed_policy_arns": True,
                                      "inline_policy": [{"policy": True}]}}}],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_iam_policy.p", "type": "aws_iam_policy", "name": "p", "mode": "managed",
             "expressions": {"name": {}, "policy": {}}},
            {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "mode": "managed",
             "expressions": {"managed_policy_arns": {"references": ["aws_iam_policy.p.arn", "aws_iam_policy.p"]},
                             "inline_policy": [{"name": {}, "policy": {"references": ["var.doc"]}}]}}]}}}
    result = apply_plan(plan, account="111122223333")
    (role,) = result.after.principals
    assert role.managed_policy_arns == ["arn:aws:iam::111122223333:policy/p"]
    assert [p.arn for p in result.after.policies] == role.managed_policy_arns
    (stmt,) = role.inline_policies["inline"]["Statement"]
    assert stmt["Condition"] == {"Bool": {UNKNOWN_CONDITION_KEY: "true"}} and stmt["Action"] == "*"


def test_data_source_statements_render_known_parts_and_guard_unknown_ones():
    from iamreach.loaders.terraform_plan import document_from_statements

    values = {"statement": [{"effect": "Allow", "actions": ["sts:AssumeRole"], "resources": None,
                             "principals": [{"type": "AWS", "identifiers": [None, "arn:aws:iam::1:root"]}],
                             "condition": [{"test": "StringEquals", "variable": "sts:ExternalId", "values": ["x"]}]},
                            {"effect": "Deny", "not_actions": ["s3:*"], "resources": ["*"]}]}
    unknown = {"json": True, "statement": [{"principals": [{"identifiers": [True, False]}]}, {}]}
    doc = document_from_statements(values, unknown)
    first, second = doc["Statement"]
    assert first["Principal"] == {"AWS": ["*", "arn:aws:iam::1:root"]}
    assert first["Condition"] == {"StringEquals": {"sts:ExternalId": ["x"]}, "Bool": {UNKNOWN_CONDITION_KEY: "true"}}
    assert second == {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": ["*"]}
    assert document_from_statements({"statement": [], "source_policy_documents": ["{}"]}, {}) is None


@pytest.mark.e2e
def test_cli_import_reads_stdin_and_rejects_a_bad_base_or_tf_dir(tmp_path):
    out = tmp_path / "after.json"
    plan = (DATA / "change.plan.json").read_bytes()
    ok = subprocess.run([*IAMREACH, "import", "terraform", "-", "-o", str(out)], input=plan, capture_output=True,
                        env=os.environ, timeout=120)
    assert ok.returncode == 0, ok.stderr
    from iamreach import snapshot

    inv = snapshot.load(out)
    assert inv.meta["terraform"]["account"] == ACCOUNT and inv.meta["terraform"]["account_source"] == "plan ARNs"
    bad_base = tmp_path / "base.json"
    bad_base.write_text("{}")
    for args, expect in ((["--base", str(bad_base)], str(bad_base)), (["--tf-dir", str(tmp_path / "nope")], "--tf-dir")):
        out2 = tmp_path / "never.json"
        proc = subprocess.run([*IAMREACH, "import", "terraform", str(DATA / "change.plan.json"), "-o", str(out2), *args],
                              capture_output=True, text=True, env=os.environ, timeout=120)
        assert proc.returncode == 2 and expect in proc.stderr, proc.stderr
        assert not out2.exists()


def test_glue_stepfunctions_sagemaker_secrets_and_tables():
    role = "arn:aws:iam::111122223333:role/synthetic-etl"

    def rc(type_, name, after, unknown=None):
        return {"address": f"{type_}.{name}", "type": type_, "name": name, "mode": "managed",
                "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown or {}}}
    definition = json.dumps({"States": {"Read": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                                                 "Parameters": {"JobName": "etl"}}}})
    plan = {"format_version": "1.2", "resource_changes": [
        rc("aws_glue_job", "etl", {"name": "etl", "role_arn": role, "connections": ["phi-jdbc"]}, {"arn": True}),
        rc("aws_sfn_state_machine", "flow", {"name": "flow", "role_arn": role, "definition": definition,
                                             "logging_configuration": [{"level": "ALL", "log_destination": "arn:aws:logs:us-east-1:111122223333:log-group:x:*"}],
                                             "tracing_configuration": [{"enabled": True}]}),
        rc("aws_sagemaker_notebook_instance", "nb", {"name": "nb", "role_arn": role, "direct_internet_access": "Enabled",
                                                     "security_groups": []}),
        rc("aws_secretsmanager_secret", "db", {"name": "phi-db-credentials"}, {"arn": True}),
        rc("aws_secretsmanager_secret_policy", "db", {"block_public_policy": True}, {"secret_arn": True, "policy": True}),
        rc("aws_dynamodb_table", "t", {"name": "t", "server_side_encryption": [{"enabled": False}]}),
        rc("aws_glue_catalog_database", "db", {"name": "db"})],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_secretsmanager_secret_policy.db", "type": "aws_secretsmanager_secret_policy", "name": "db",
             "mode": "managed", "expressions": {"secret_arn": {"references": ["aws_secretsmanager_secret.db.arn",
                                                                               "aws_secretsmanager_secret.db"]},
                                                "policy": {"references": ["var.policy"]}}}]}}}
    result = apply_plan(plan, account="111122223333")
    kinds = {r.kind: r for r in result.after.resources}
    assert kinds["glue_job"].attributes == {**kinds["glue_job"].attributes, "role_arn": role, "connections": ["phi-jdbc"]}
    sfn = kinds["sfn_state_machine"].attributes
    assert sfn["logging_level"] == "ALL" and sfn["tracing_enabled"] and sfn["resource_arns"] == [
        "arn:aws:states:::glue:startJobRun.sync"]
    assert kinds["sagemaker_notebook"].attributes["direct_internet_access"] is True
    secret = kinds["secret"]
    assert secret.arn == "arn:aws:secretsmanager:us-east-1:111122223333:secret:phi-db-credentials"
    assert secret.policy["Statement"][0]["Condition"] == {"Bool": {UNKNOWN_CONDITION_KEY: "true"}}
    assert kinds["dynamodb_table"].attributes["kms_key_arn"] is None
    assert [u["type"] for u in result.meta["unsupported"]] == ["aws_glue_catalog_database"]
