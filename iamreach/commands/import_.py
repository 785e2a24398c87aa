"""``iamreach import``: build a snapshot from offline files.

Subcommands: ``authdetails`` (AWS CLI ``get-account-authorization-details`` JSON). Other
importers plug in without editing this file: a module ``iamreach.loaders.<name>`` exposing
``register_import(subparsers)`` adds its own subcommand (see :data:`IMPORTERS`), e.g.
``iamreach.loaders.terraform.register_import`` for ``iamreach import terraform``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

__all__ = ["register", "run_authdetails", "IMPORTERS"]

#: loader modules that may add an ``import`` subcommand via ``register_import(subparsers)``
IMPORTERS: tuple[str, ...] = ("iamreach.loaders.terraform",)


def register(subparsers: Any) -> None:
    """Add the ``import`` parser and its subcommands."""
    p = subparsers.add_parser("import", help="build a snapshot from offline files",
                              description="Build a snapshot from offline files (no AWS calls).")
    sub = p.add_subparsers(dest="import_kind", metavar="KIND")
    a = sub.add_parser("authdetails", help="from `aws iam get-account-authorization-details` JSON",
                       description="Build a snapshot from `aws iam get-account-authorization-details` output, "
                                   "one file per account (the account id is read from the ARNs).")
    a.add_argument("files", nargs="+", metavar="FILE", help="auth-details JSON file(s)")
    a.add_argument("--scp", action="append", default=[], metavar="[TARGET=]FILE",
                   help="an SCP document; attached to TARGET (account / OU / root id) or to every imported account")
    a.add_argument("--resource-policy", action="append", default=[], metavar="ARN[@ACCOUNT]=FILE",
                   help="a resource policy (S3 bucket, KMS key, secret, DynamoDB table, Lambda function); "
                        "@ACCOUNT names the owner of an S3 bucket when several accounts are imported")
    a.add_argument("-o", "--output", required=True, help="snapshot path (.json or .json.gz)")
    a.set_defaults(func=run_authdetails)
    for name in IMPORTERS:
        _plug(name, sub)
    p.set_defaults(func=lambda args: _usage(p))


def _plug(module_name: str, sub: Any) -> None:
    """Let ``module_name`` add its own subcommand when it exists and exposes ``register_import``."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:  # the module exists but is broken: say so loudly
            raise
        return
    hook = getattr(module, "register_import", None)
    if hook is not None:
        hook(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_authdetails(args: argparse.Namespace) -> int:
    """Import auth-details files and save the snapshot."""
    from iamreach import snapshot
    from iamreach.loaders.authdetails import import_authdetails

    inv = import_authdetails(args.files, args.scp, args.resource_policy)
    snapshot.save(inv, args.output)
    print(f"iamreach: wrote {args.output} ({len(inv.accounts)} account(s), {len(inv.principals)} principals, "
          f"{len(inv.gaps)} gaps)", file=sys.stderr)
    return 0
