"""The benchmark generator: size S is deterministic, follows the vocabulary, and loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iamreach import snapshot
from iamreach.model import RESOURCE_ATTRIBUTES, NodeKind

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small(gen, tmp_path_factory):
    """Size S written twice by the real command line, plus a 1 % variant."""
    out = tmp_path_factory.mktemp("gen")
    paths = {name: out / f"{name}.json.gz" for name in ("a", "b", "mut")}
    script = str(ROOT / "benchmarks" / "generate.py")
    for name, extra in (("a", []), ("b", []), ("mut", ["--mutate-percent", "1", "--base", str(out / "a.json.gz")])):
        proc = subprocess.run([sys.executable, script, "--size", "S", "--seed", "7", "-o", str(paths[name]), *extra],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    return paths


def test_size_s_is_byte_identical_for_the_same_seed(small):
    assert small["a"].read_bytes() == small["b"].read_bytes()


def test_another_seed_gives_another_org(gen):
    a = gen.generate(gen.SIZES["S"], seed=1)
    b = gen.generate(gen.SIZES["S"], seed=2)
    assert [p.arn for p in a.principals] != [p.arn for p in b.principals]


def test_size_s_loads_with_exact_counts_and_attribute_keys(small):
    inv = snapshot.load(small["a"])
    assert (len(inv.accounts), len(inv.principals), len(inv.resources)) == (1, 500, 500)
    assert len({p.arn for p in inv.principals}) == 500
    kinds = {r.kind for r in inv.resources}
    assert {"ec2_instance", "lambda_function", "glue_job", "sagemaker_notebook", "sfn_state_machine",
            "s3_bucket", "rds_instance", "rds_cluster", "dynamodb_table", "kms_key", "vpc",
            "security_group", "nacl", "route_table"} <= kinds
    for r in inv.resources:
        NodeKind(r.kind)
        assert sorted(r.attributes) == sorted(RESOURCE_ATTRIBUTES[r.kind]), r.kind


def test_size_s_carries_the_label_tags_and_policy_features(small, gen):
    inv = snapshot.load(small["a"])
    tags = [r.tags for r in inv.resources] + [p.tags for p in inv.principals]
    assert any(t.get("DataClassification") == "PHI" for t in tags)
    assert any(t.get("Workload") == "synthetic-data" for t in tags)
    docs = [p.document for p in inv.policies]
    docs += [d for p in inv.principals for d in p.inline_policies.values()]
    stmts = [s for d in docs for s in d["Statement"]]
    assert any("NotAction" in s for s in stmts)
    assert any("Condition" in s for s in stmts)
    assert any(s.get("Action") == "*" or s.get("Action") == ["*"] for s in stmts)
    assert any(p.permissions_boundary_arn for p in inv.principals)
    assert any(p.managed_policy_arns for p in inv.principals)
    assert inv.org_policies and inv.instance_profiles
    roles = {p.arn for p in inv.principals if p.kind == "role"}
    for r in inv.resources:
        role = r.attributes.get("role_arn")
        if role is not None:
            assert role in roles, f"{r.arn} runs as a role that does not exist"
    assert gen.count_statements(inv)["total"] > 4000


def test_mutation_changes_about_one_percent_of_policies(small, gen):
    base, mut = snapshot.load(small["a"]), snapshot.load(small["mut"])
    slots = gen._policy_slots(base)
    changed = sum(1 for (a, name), (b, _) in zip(slots, gen._policy_slots(mut), strict=True)
                  if (a.document if name is None else a.inline_policies[name])
                  != (b.document if name is None else b.inline_policies[name]))
    assert changed == round(len(slots) / 100)
    assert [p.arn for p in base.principals] == [p.arn for p in mut.principals]


def test_bad_arguments_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", "S",
                           "--base", str(tmp_path / "missing.json.gz"), "--mutate-percent", "1",
                           "-o", str(tmp_path / "x.json.gz")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "missing.json.gz" in proc.stderr
    assert not (tmp_path / "x.json.gz").exists()


def test_output_is_exactly_what_snapshot_save_writes_and_is_deterministic(gen, tmp_path):
    """``--size S --seed 1`` twice: the same bytes, and they are snapshot.save's bytes of generate()."""
    script = str(ROOT / "benchmarks" / "generate.py")
    outs = [tmp_path / "one.json.gz", tmp_path / "two.json.gz", tmp_path / "plain.json"]
    for out in outs:
        proc = subprocess.run([sys.executable, script, "--size", "S", "--seed", "1", "-o", str(out)],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    inv = gen.generate(gen.SIZES["S"], seed=1)
    saved = tmp_path / "saved.json.gz"
    snapshot.save(inv, saved, collected_at=gen.COLLECTED_AT)
    assert outs[0].read_bytes() == saved.read_bytes()
    assert outs[2].read_bytes() == snapshot.dumps(inv, collected_at=gen.COLLECTED_AT)
    loaded, header = snapshot.loads(outs[0].read_bytes())
    assert header["collected_at"] == gen.COLLECTED_AT
    assert snapshot.dumps(loaded, collected_at=gen.COLLECTED_AT) == outs[2].read_bytes()


def test_full_aws_access_is_attached_at_every_level(gen):
    """As AWS does: the root, every OU and every account carry FullAWSAccess (an SCP level without an
    Allow would deny everything below it)."""
    inv = gen.generate(gen.SizeSpec("custom", 6, 600, 600), seed=1)
    (full,) = [p for p in inv.org_policies if p.name == "FullAWSAccess"]
    levels = {u["id"] for u in inv.organization.units} | {a.id for a in inv.accounts}
    assert set(full.targets) == levels
    assert all(set(a.ou_path) <= levels for a in inv.accounts)
