"""The generated snapshot JSON Schema: up to date, shipped, and it says what a snapshot may hold."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from iamreach import snapshot
from iamreach.inventory import Gap, Inventory, LakeFormationPermission, Resource
from iamreach.loaders.authdetails import empty_attributes
from iamreach.loaders.schema import build_schema, load_schema, main, schema_bytes
from iamreach.model import RESOURCE_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_files_are_generated_and_fresh():
    assert main(["--check", "--root", str(ROOT)]) == 0, "run: python -m iamreach.loaders.schema"
    assert (ROOT / "docs" / "snapshot.schema.json").read_bytes() == schema_bytes()
    assert load_schema() == build_schema()
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_check_reports_stale_files(tmp_path):
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0


def _doc(inv: Inventory) -> dict:
    return json.loads(snapshot.dumps(inv, collected_at="2026-01-01T00:00:00Z"))


def test_every_resource_kind_validates_with_its_attributes():
    inv = Inventory(resources=[Resource(arn=f"arn:aws:x:::{k}", kind=k, account="111122223333",
                                        attributes=empty_attributes(k)) for k in RESOURCE_ATTRIBUTES],
                    gaps=[Gap(service="s3", api="GetBucketPolicy", error_code="AccessDenied")],
                    lakeformation_permissions=[LakeFormationPermission(account="111122223333", principal="p")])
    doc = _doc(inv)
    jsonschema.validate(doc, load_schema())
    doc["inventory"]["resources"][0]["attributes"]["_terraform"] = {"address": "x"}  # loader-private key
    jsonschema.validate(doc, load_schema())


@pytest.mark.parametrize("mutate", [
    lambda d: d["inventory"]["resources"][0]["attributes"].pop("role_arn"),
    lambda d: d["inventory"]["resources"][0].__setitem__("kind", "spaceship"),
    lambda d: d["inventory"]["gaps"][0].__setitem__("service", 3),
    lambda d: d.__setitem__("schema_version", 2),
    lambda d: d["inventory"].__setitem__("extra", []),
])
def test_schema_rejects_what_the_loader_would_reject(mutate):
    inv = Inventory(resources=[Resource(arn="arn:aws:lambda:us-east-1:111122223333:function:f",
                                        kind="lambda_function", account="111122223333",
                                        attributes=empty_attributes("lambda_function"))],
                    gaps=[Gap(service="s3", api="GetBucketPolicy", error_code="AccessDenied")])
    doc = _doc(inv)
    jsonschema.validate(doc, load_schema())
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema())
