"""Offline import: ``aws iam get-account-authorization-details`` JSON (one file per account).

The same :func:`iamreach.loaders.aws.iam.normalize` as the live collector reads the files.
Optional extras: SCP documents (``--scp [TARGET=]FILE``) and resource policies
(``--resource-policy ARN=FILE``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import orjson

from iamreach.errors import InputError
from iamreach.inventory import Account, Inventory, OrgPolicy, Resource
from iamreach.loaders.aws import iam
from iamreach.loaders.aws._common import parse_document
from iamreach.loaders.combine import combine
from iamreach.model import RESOURCE_ATTRIBUTES

__all__ = ["load_authdetails", "import_authdetails", "parse_scp_arg", "parse_resource_policy_arg",
           "empty_attributes", "kind_of_arn"]


def _read_json(path: str) -> object:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", file=path) from None


def _accounts_in(data: dict, path: str) -> str:
    found: set[str] = set()
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise InputError("expected a JSON array", file=path, field=key)
        for i, item in enumerate(items):
            arn = item.get("Arn") if isinstance(item, dict) else None
            if not isinstance(arn, str) or not arn.startswith("arn:"):
                raise InputError("expected an ARN string", file=path, field=f"{key}[{i}].Arn")
            acct = arn.split(":")[4] if arn.count(":") >= 5 else ""
            if acct and acct != "aws":
                found.add(acct)
    if len(found) != 1:
        what = "no account id in any ARN" if not found else f"ARNs of several accounts {sorted(found)}"
        raise InputError(f"{what}; expected one account per file", file=path)
    return found.pop()


def load_authdetails(path: str) -> Inventory:
    """One auth-details file as an inventory of one account."""
    data = _read_json(path)
    if not isinstance(data, dict) or not any(k in data for k in iam.AUTHDETAILS_KEYS):
        raise InputError(f"expected the JSON object of get-account-authorization-details with "
                         f"{', '.join(iam.AUTHDETAILS_KEYS)}", file=path)
    account = _accounts_in(data, path)
    try:
        inv = iam.normalize({"authdetails": data}, account)
    except KeyError as exc:
        raise InputError(f"a record misses the required key {exc}", file=path) from None
    except InputError as exc:
        raise exc.with_file(path) from None
    inv.accounts.append(Account(id=account))
    return inv


def parse_scp_arg(arg: str) -> tuple[str | None, str]:
    """``[TARGET=]FILE`` -> (target or None, file)."""
    if "=" in arg:
        target, path = arg.split("=", 1)
        if not target or not path:
            raise InputError(f"expected [TARGET=]FILE, got {arg!r}", field="--scp")
        return target, path
    return None, arg


def parse_resource_policy_arg(arg: str) -> tuple[str, str]:
    """``ARN[@ACCOUNT]=FILE`` -> (arn[@account], file). The split is at the last ``=``."""
    arn, sep, path = arg.rpartition("=")
    if not sep or not arn.startswith("arn:") or not path:
        raise InputError(f"expected ARN[@ACCOUNT]=FILE, got {arg!r}", field="--resource-policy")
    return arn, path


def kind_of_arn(arn: str) -> str | None:
    """The resource kind a policy-bearing ARN names, or None.

    >>> kind_of_arn("arn:aws:s3:::bucket"), kind_of_arn("arn:aws:kms:us-east-1:111122223333:key/k")
    ('s3_bucket', 'kms_key')
    """
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, rest = parts[2], parts[5]
    if service == "s3" and "/" not in rest:
        return "s3_bucket"
    table = {("kms", "key/"): "kms_key", ("secretsmanager", "secret:"): "secret",
             ("dynamodb", "table/"): "dynamodb_table", ("lambda", "function:"): "lambda_function"}
    for (svc, prefix), kind in table.items():
        if svc == service and rest.startswith(prefix):
            return kind
    return None


def empty_attributes(kind: str) -> dict:
    """Every attribute key of ``kind`` with its "unknown" value ([] for lists, else None)."""
    return {k: [] if desc.startswith("list") else None for k, desc in RESOURCE_ATTRIBUTES[kind].items()}


def _policy_file(path: str, what: str) -> dict:
    data = _read_json(path)
    if isinstance(data, dict) and isinstance(data.get("Policy"), dict | str) and "Statement" not in data:
        data = data["Policy"].get("Content", data["Policy"]) if isinstance(data["Policy"], dict) else data["Policy"]
    try:
        doc = parse_document(data, where=what)
    except ValueError as exc:
        raise InputError(str(exc), file=path) from None
    if not doc or "Statement" not in doc:
        raise InputError("expected a policy document with a Statement", file=path, field=what)
    return doc


def import_authdetails(files: Sequence[str], scps: Sequence[str] = (), resource_policies: Sequence[str] = ()
                       ) -> Inventory:
    """Build an inventory from auth-details files plus optional SCP and resource-policy files."""
    if not files:
        raise InputError("expected at least one get-account-authorization-details file", field="FILE")
    parts = [load_authdetails(f) for f in files]
    accounts = sorted({a.id for p in parts for a in p.accounts})
    extra = Inventory()
    for arg in scps:
        target, path = parse_scp_arg(arg)
        doc = _policy_file(path, "SCP")
        digest = hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
        extra.org_policies.append(OrgPolicy(id=f"p-file-{digest}", type="SCP", name=os.path.basename(path),
                                            document=doc, targets=[target] if target else list(accounts)))
    for arg in resource_policies:
        arn, path = parse_resource_policy_arg(arg)
        kind = kind_of_arn(arn)
        if kind is None:
            raise InputError(f"cannot tell the resource kind of {arn}; expected an S3 bucket, KMS key, secret, "
                             "DynamoDB table or Lambda function ARN", field="--resource-policy")
        arn, _, owner = arn.partition("@")
        account = arn.split(":")[4] or owner or (accounts[0] if len(accounts) == 1 else "")
        if not account:
            raise InputError(f"{arn} names no account and several accounts were imported; "
                             "write ARN@ACCOUNT=FILE", field="--resource-policy")
        region = arn.split(":")[3] or None
        name = arn.split(":", 5)[5].split("/", 1)[-1] if kind != "s3_bucket" else arn.split(":", 5)[5]
        extra.resources.append(Resource(arn=arn, kind=kind, account=account, region=region, id=name, name=name,
                                        policy=_policy_file(path, "resource policy"),
                                        attributes=empty_attributes(kind)))
    return combine([*parts, extra], meta={"source": "authdetails",
                                          "files": sorted(os.path.basename(f) for f in files)})
