"""Terraform plan input: apply a ``terraform show -json`` plan onto a baseline snapshot.

``iamreach import terraform PLAN.json [--base SNAPSHOT] -o AFTER [--before-output BEFORE]``
reads the plan, strips every secret first (:func:`~iamreach.loaders.terraform_plan.strip_sensitive`),
then edits a copy of the baseline inventory (empty without ``--base``):

1. primary records the plan deletes or replaces are removed (by their ``before`` ARN);
2. primary, then dependent records are asserted from the planned ``after`` values;
3. attachments that change (inline policies, bucket policies, SG rules, memberships ...) are
   retracted from their ``before`` values, then every attachment's ``after`` is asserted.

The *before* inventory (``--before-output``) is the baseline with every ``before`` value
asserted: diffing it against the *after* inventory shows what the plan changes even when no
collected baseline exists.

Values unknown until apply are never read as absent (see :mod:`iamreach.loaders.terraform_types`);
they are listed in ``inventory.meta["terraform"]["unknown_values"]``. Records the plan creates
get provisional ARNs from their names or addresses, in the account given by ``--account``, else
the baseline's only account, else the account found in the plan's ARNs, else the placeholder
``000000000000`` (:data:`PLACEHOLDER_ACCOUNT`). Resource types without a converter are listed
in ``meta["terraform"]["unsupported"]`` and on stderr, never dropped silently.

Examples
--------
>>> plan = {"format_version": "1.2", "resource_changes": [{
...     "address": "aws_iam_role.etl", "mode": "managed", "type": "aws_iam_role", "name": "etl",
...     "change": {"actions": ["create"], "before": None,
...                "after": {"name": "etl", "path": "/", "assume_role_policy": None},
...                "after_unknown": {"arn": True, "assume_role_policy": True}}}]}
>>> result = apply_plan(plan, account="111122223333")
>>> [p.arn for p in result.after.principals]
['arn:aws:iam::111122223333:role/etl']
>>> terraform_location(result.after, "arn:aws:iam::111122223333:role/etl")["terraform_address"]
'aws_iam_role.etl'
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamreach.errors import InputError, PlanError
from iamreach.inventory import Account, Inventory
from iamreach.loaders.terraform_plan import Plan, TfChange, read_plan, strip_sensitive
from iamreach.loaders.terraform_types import (
    ATTACHMENT,
    CONVERTERS,
    DEPENDENT,
    PRIMARY,
    Ctx,
    Notes,
)

__all__ = [
    "PLACEHOLDER_ACCOUNT",
    "DEFAULT_REGION",
    "SUPPORTED_TYPES",
    "TerraformImport",
    "apply_plan",
    "load_plan",
    "terraform_location",
    "register_import",
    "run_import",
]

#: Account of created records when neither ``--account``, the baseline nor the plan names one.
PLACEHOLDER_ACCOUNT = "000000000000"
#: Region when neither ``--region``, the provider configuration nor the plan's ARNs give one.
DEFAULT_REGION = "us-east-1"
#: Terraform resource types the importer models.
SUPPORTED_TYPES: tuple[str, ...] = tuple(sorted(CONVERTERS))
#: Data sources that only feed other resources' values (rendered documents are read from them).
_FEEDER_DATA = frozenset({"aws_iam_policy_document", "aws_caller_identity", "aws_region", "aws_partition",
                          "aws_iam_role", "aws_iam_policy", "aws_s3_bucket", "aws_kms_key", "aws_vpc",
                          "aws_subnet", "aws_security_group", "aws_ami", "aws_availability_zones"})
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


@dataclass
class TerraformImport:
    """The result of applying a plan: the inventories before and after, and what was noted."""

    before: Inventory
    after: Inventory
    meta: dict[str, Any]

    @property
    def unsupported(self) -> list[dict]:
        return self.meta["unsupported"]


def load_plan(path: str) -> dict:
    """Read and validate a plan JSON file (``-`` for stdin); secrets are stripped at once."""
    from iamreach.fileio import read_input_bytes

    try:
        data = read_input_bytes(path)
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}", file=path) from exc
    plan = read_plan(data, source=path)
    try:
        return strip_sensitive(plan)
    except RecursionError as exc:
        raise PlanError("values are nested too deeply to be a Terraform plan", file=path) from exc


def _plan_accounts(plan: Plan) -> list[str]:
    found: set[str] = set()
    for res in plan.prior.values():
        for key in ("arn", "owner_id"):
            value = res.values.get(key)
            if isinstance(value, str):
                m = _ACCOUNT_IN_ARN.match(value)
                if m:
                    found.add(m.group(1))
                elif key == "owner_id" and value.isdigit() and len(value) == 12:
                    found.add(value)
    return sorted(found)


def _choose_account(account: str | None, base: Inventory, plan: Plan) -> tuple[str, str]:
    if account:
        if not (account.isdigit() and len(account) == 12):
            raise InputError(f"expected a 12-digit account id, got {account!r}", field="--account")
        return account, "--account"
    if len(base.accounts) == 1:
        return base.accounts[0].id, "baseline"
    found = _plan_accounts(plan)
    if len(found) == 1:
        return found[0], "plan ARNs"
    return PLACEHOLDER_ACCOUNT, "placeholder"


def _choose_region(region: str | None, plan: Plan) -> tuple[str, str]:
    if region:
        return region, "--region"
    providers = ((plan.raw.get("configuration") or {}).get("provider_config") or {})
    for conf in providers.values():
        expr = ((conf or {}).get("expressions") or {}).get("region") or {}
        if isinstance(expr, dict) and isinstance(expr.get("constant_value"), str):
            return expr["constant_value"], "provider configuration"
    for res in plan.prior.values():
        arn = res.values.get("arn")
        if isinstance(arn, str) and arn.count(":") >= 5 and arn.split(":")[3]:
            return arn.split(":")[3], "plan ARNs"
    return DEFAULT_REGION, "default"


def _scan_tf(tf_dir: str | None, plan: Plan) -> dict[tuple[str | None, str], tuple[str, int]]:
    """(module, config address) -> (file relative to ``tf_dir``, line) of each resource block."""
    if not tf_dir:
        return {}
    root = Path(tf_dir)
    if not root.is_dir():
        raise InputError(f"not a directory: {tf_dir}", field="--tf-dir")
    block = re.compile(r'^\s*(resource|data)\s+"([A-Za-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"')
    places: dict[tuple[str | None, str], tuple[str, int]] = {}
    for module, source in plan.module_sources.items():
        directory = (root / source).resolve() if not source.startswith(("/", "git::", "http")) else None
        if directory is None or not directory.is_dir():
            continue
        for tf in sorted(directory.glob("*.tf")):
            try:
                lines = tf.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            try:  # as the user named it: `--tf-dir infra` gives infra/main.tf (repository-relative in CI)
                rel = (root / tf.relative_to(root.resolve())).as_posix()
            except ValueError:
                rel = tf.as_posix()
            for n, line in enumerate(lines, 1):
                m = block.match(line)
                if m:
                    addr = f"{'data.' if m.group(1) == 'data' else ''}{m.group(2)}.{m.group(3)}"
                    places.setdefault((module, addr), (rel, n))
    return places


def _run(ctx: Ctx, changes: list[TfChange], phase: str, side: str) -> None:
    for change in changes:
        conv = CONVERTERS.get(change.type)
        res = getattr(change, side)
        if conv is None or conv.phase != phase or res is None:
            continue
        conv.add(ctx, res)


def _retract(ctx: Ctx, changes: list[TfChange], phases: tuple[str, ...], actions: frozenset[str]) -> None:
    for change in changes:
        conv = CONVERTERS.get(change.type)
        if conv is None or conv.phase not in phases or change.before is None or change.action not in actions:
            continue
        conv.remove(ctx, change.before)


def _ensure_account(ctx: Ctx, account: str) -> None:
    if account not in ctx.accounts:
        ctx.accounts[account] = Account(id=account, regions=[ctx.region])


def apply_plan(plan: dict, base: Inventory | None = None, *, account: str | None = None,
               region: str | None = None, tf_dir: str | None = None,
               source: str | None = None) -> TerraformImport:
    """Apply a plan (a dict from ``terraform show -json``) onto ``base``; return before/after.

    See :func:`_apply_plan` for the parameters. A plan whose ``configuration``,
    ``planned_values`` or ``prior_state`` is not shaped as Terraform writes it gives a
    :class:`~iamreach.errors.PlanError` naming the file, never a crash.
    """
    try:
        return _apply_plan(plan, base, account=account, region=region, tf_dir=tf_dir, source=source)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        if isinstance(exc, PlanError):
            raise
        raise PlanError("the plan's structure is not what `terraform show -json` writes "
                        f"({type(exc).__name__}: {exc}); regenerate it with terraform show -json",
                        file=source or "plan") from exc


def _apply_plan(plan: dict, base: Inventory | None = None, *, account: str | None = None,
               region: str | None = None, tf_dir: str | None = None,
               source: str | None = None) -> TerraformImport:
    """Apply a plan (a dict from ``terraform show -json``) onto ``base``; return before/after.

    Parameters
    ----------
    plan : dict
        The plan JSON. Secrets are stripped first if :func:`load_plan` did not already.
    base : Inventory, optional
        The baseline (a collected snapshot); empty when omitted. It is not modified.
    account, region : str, optional
        Account and region of the records the plan creates (see the module docstring).
    tf_dir : str, optional
        Directory of the root module's ``*.tf`` files: findings then carry file and line.
    source : str, optional
        Plan file name, recorded in the metadata.
    """
    if "_sensitive_paths" not in plan:
        plan = strip_sensitive(plan)
    base = base if base is not None else Inventory()
    parsed = Plan(plan)
    acct, acct_source = _choose_account(account, base, parsed)
    reg, reg_source = _choose_region(region, parsed)
    places = _scan_tf(tf_dir, parsed)
    notes = Notes.new()
    managed = [c for c in parsed.changes if c.mode == "managed"]

    before = Ctx(copy.deepcopy(base), parsed, acct, reg, notes, places)
    for phase in (PRIMARY, DEPENDENT, ATTACHMENT):
        _run(before, managed, phase, "before")

    after = Ctx(copy.deepcopy(base), parsed, acct, reg, notes, places)
    _retract(after, managed, (PRIMARY, DEPENDENT), frozenset({"delete", "replace"}))
    _run(after, managed, PRIMARY, "after")
    _run(after, managed, DEPENDENT, "after")
    _retract(after, managed, (ATTACHMENT,), frozenset({"delete", "replace", "update", "create"}))
    _run(after, managed, ATTACHMENT, "after")

    unsupported = {}
    for change in parsed.changes:
        if change.type in CONVERTERS or (change.mode == "data" and change.type in _FEEDER_DATA):
            continue
        unsupported[change.address] = {"address": change.address, "type": change.type, "mode": change.mode,
                                       "actions": list(change.actions)}
    meta = {
        "plan": {"file": source, "format_version": parsed.format_version,
                 "terraform_version": parsed.terraform_version},
        "account": acct, "account_source": acct_source, "region": reg, "region_source": reg_source,
        "changes": [{"address": c.address, "type": c.type, "actions": list(c.actions)}
                    for c in sorted(parsed.changes, key=lambda c: c.address)],
        "unsupported": [unsupported[k] for k in sorted(unsupported)],
        "unknown_values": [notes.unknown_values[k] for k in sorted(notes.unknown_values)],
        "provisional": [notes.provisional[k] for k in sorted(notes.provisional)],
        "unresolved": [notes.unresolved[k] for k in sorted(notes.unresolved)],
        "sensitive_paths": parsed.sensitive_paths,
        "locations": {k: notes.locations[k] for k in sorted(notes.locations)},
        "contributors": {k: sorted(v) for k, v in sorted(notes.contributors.items())},
        "addresses": {k: notes.addresses[k] for k in sorted(notes.addresses)},
        "policy_sources": {k: notes.policy_sources[k] for k in sorted(notes.policy_sources)},
    }
    results = []
    for ctx, side in ((before, "before"), (after, "after")):
        _ensure_account(ctx, acct)
        inv = ctx.inventory()
        sources = {*base.meta.get("sources", []), base.meta.get("source"), "terraform"} - {None}
        inv.meta = {**base.meta, "sources": sorted(sources), "terraform": {**meta, "side": side}}
        results.append(inv)
    return TerraformImport(before=results[0], after=results[1], meta=meta)


def terraform_location(inv: Inventory, arn: str) -> dict | None:
    """Where in Terraform a record comes from: ``{terraform_address, module, file, line, contributors}``.

    ``file``/``line`` are None unless the import was given ``--tf-dir``. ``contributors`` lists
    the locations (same keys) of attachments that edit the record: inline policies, policy
    attachments, rules ... None when the record did not come from a plan.
    """
    tf = inv.meta.get("terraform") if isinstance(inv.meta, dict) else None
    if not isinstance(tf, dict):
        return None
    loc = (tf.get("locations") or {}).get(arn)
    addresses = tf.get("addresses") or {}
    contributors = (tf.get("contributors") or {}).get(arn) or []
    if loc is None and not contributors:
        return None
    out = dict(loc) if loc else dict(addresses.get(contributors[0]) or {
        "terraform_address": contributors[0], "module": None, "file": None, "line": None})
    out["contributors"] = [dict(addresses.get(a) or {"terraform_address": a, "module": None, "file": None,
                                                     "line": None}) for a in contributors]
    return out


# -- CLI --------------------------------------------------------------------------------------
def register_import(subparsers: Any) -> None:
    """Add the ``terraform`` subcommand to ``iamreach import``."""
    p = subparsers.add_parser(
        "terraform", help="apply a `terraform show -json` plan onto a baseline snapshot",
        description="Apply the changes of a Terraform plan (`terraform show -json PLANFILE`) onto a baseline "
                    "snapshot and write the resulting snapshot. Values known only after apply are treated "
                    "conservatively (conditional wildcards); secrets are never stored.")
    p.add_argument("plan", metavar="PLAN.json", help="plan JSON (`terraform show -json tfplan > plan.json`), - for stdin")
    p.add_argument("--base", metavar="SNAPSHOT", help="baseline snapshot (default: empty)")
    p.add_argument("-o", "--output", required=True, metavar="AFTER", help="snapshot to write (after the plan)")
    p.add_argument("--before-output", metavar="BEFORE",
                   help="also write the baseline with the plan's prior state applied (for `iamreach diff`)")
    p.add_argument("--account", metavar="ID", help="account of the records the plan creates")
    p.add_argument("--region", metavar="REGION", help="region of the records the plan creates")
    p.add_argument("--tf-dir", metavar="DIR", help="root module directory: findings get file and line")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    """``iamreach import terraform``: exit 0, or 2 on bad input."""
    from iamreach import snapshot

    plan = load_plan(args.plan)
    base = snapshot.load(args.base) if args.base else None
    result = apply_plan(plan, base, account=args.account, region=args.region, tf_dir=args.tf_dir,
                        source=args.plan)
    if args.before_output:
        snapshot.save(result.before, args.before_output)
    snapshot.save(result.after, args.output)
    meta = result.meta
    for item in meta["unsupported"]:
        print(f"iamreach: terraform: unsupported resource type {item['type']} ({item['address']}): not modelled",
              file=sys.stderr)
    print(f"iamreach: wrote {args.output} ({len(meta['changes'])} planned change(s), "
          f"{len(meta['unknown_values'])} value(s) unknown until apply, {len(meta['unsupported'])} unsupported; "
          f"account {meta['account']} from {meta['account_source']})", file=sys.stderr)
    return 0
