"""Config loading (labels, forbid rules, severities) and the selector language."""

from __future__ import annotations

import networkx as nx
import pytest

from iamreach.config import Config, load_config
from iamreach.errors import ConfigError, SelectorError
from iamreach.model import schema_markdown
from iamreach.selectors import parse_selector, select


def _graph():
    G = nx.MultiDiGraph(accounts={
        "111111111111": {"name": "prod", "ou_path": ("r-1", "ou-prod"), "ou_names": ("Root", "Production")},
        "222222222222": {"name": "synthetic-data", "ou_path": ("r-1", "ou-syn"), "ou_names": ("Root", "Synthetic")},
    })
    G.add_node("arn:aws:s3:::phi-a", kind="s3_bucket", account="111111111111", labels=("phi",),
               tags={"DataClassification": "PHI"})
    G.add_node("arn:aws:iam::222222222222:role/gen", kind="role", account="222222222222", labels=("synthetic",),
               tags={"Workload": "synthetic-data"})
    G.add_node("internet", kind="internet", account=None, labels=(), tags={})
    return G


@pytest.mark.parametrize("selector, expected", [
    ("phi", {"arn:aws:s3:::phi-a"}),
    ("label:synthetic", {"arn:aws:iam::222222222222:role/gen"}),
    ("tag:Workload=synthetic*", {"arn:aws:iam::222222222222:role/gen"}),
    ("tag:DataClassification", {"arn:aws:s3:::phi-a"}),
    ("account:prod", {"arn:aws:s3:::phi-a"}),
    ("account:222222222222", {"arn:aws:iam::222222222222:role/gen"}),
    ("ou:ou-prod", {"arn:aws:s3:::phi-a"}),
    ("ou:/Root/Synthetic", {"arn:aws:iam::222222222222:role/gen"}),
    ("kind:role|s3_bucket", {"arn:aws:s3:::phi-a", "arn:aws:iam::222222222222:role/gen"}),
    ("id:internet", {"internet"}),
    ("arn:aws:s3:::phi-*", {"arn:aws:s3:::phi-a"}),
    ("arn:aws:s3:::PHI-*", set()),  # ARN globs are case-sensitive, like IAM resource matching
    ("kind:role & !synthetic", set()),
    ("phi, synthetic", {"arn:aws:s3:::phi-a", "arn:aws:iam::222222222222:role/gen"}),
])
def test_selector_matches(selector, expected):
    assert select(_graph(), selector) == expected


@pytest.mark.parametrize("bad", ["", "   ", "bogus:x", "tag:", "phi & "])
def test_selector_errors_are_clear(bad):
    with pytest.raises(SelectorError) as exc:
        parse_selector(bad, where="--from")
    assert "--from" in str(exc.value)


def test_default_config_forbids_synthetic_to_phi():
    cfg = Config.default()
    assert [(r.source, r.target) for r in cfg.forbid] == [("synthetic", "phi")]
    assert {"production", "synthetic", "phi"} <= set(cfg.labels)


def test_config_file_adds_labels_rules_and_severities(tmp_path):
    f = tmp_path / "iamreach.toml"
    f.write_text('[labels]\nsynthetic = ["account:222222222222"]\nsandbox = ["ou:/Root/Sandbox"]\n\n'
                 '[rules]\nforbid = [{ from = "sandbox", to = "phi" }]\n\n'
                 '[checks]\nseverities = { "IAMR-013" = "low" }\nexclude = ["IAMR-011"]\n')
    cfg = load_config(f)
    assert [s.text for s in cfg.labels["synthetic"]][-1] == "account:222222222222"
    assert cfg.forbid[0].source == "sandbox" and cfg.forbid[0].name == "sandbox-to-phi"
    assert cfg.severities == {"IAMR-013": "low"} and cfg.exclude_checks == ("IAMR-011",)


def test_pyproject_tool_table(tmp_path):
    f = tmp_path / "pyproject.toml"
    f.write_text('[project]\nname = "x"\n\n[tool.iamreach.labels]\nphi = ["tag:Sensitivity=high"]\n')
    cfg = load_config(f)
    assert "tag:Sensitivity=high" in [s.text for s in cfg.labels["phi"]]


@pytest.mark.parametrize("text, field", [
    ('[labels]\nphi = "tag:x=y"\nbad = [1]\n', "labels.bad"),
    ('[rules]\nforbid = [{ from = "nope", to = "phi" }]\n', "rules.forbid[0].from"),
    ('[checks]\nseverities = { X = "urgent" }\n', "checks.severities.X"),
    ('unknown_top = 1\n', "unknown_top"),
    ('[labels]\nphi = ["zzz:1"]\n', "labels.phi"),
])
def test_config_errors_name_key_and_line(tmp_path, text, field):
    f = tmp_path / "iamreach.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    msg = str(exc.value)
    assert str(f) in msg and field in msg and "line" in msg
    assert "\n" not in msg


def test_config_not_toml(tmp_path):
    f = tmp_path / "iamreach.toml"
    f.write_text("[labels\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)


def test_schema_doc_is_generated_from_model():
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
    assert doc.read_text() == schema_markdown() + "\n", "regenerate: python -m iamreach.model > docs/schema.md"
