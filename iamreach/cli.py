"""The ``iamreach`` command line: one module per subcommand under :mod:`iamreach.commands`.

Each command module exposes ``register(subparsers)`` which adds its parser and sets
``func`` to a callable ``(args) -> int`` (the exit code). Exit codes: 0 clean, 1 finding /
path / denial (per command), 2 bad input or usage (every :class:`~iamreach.errors.IamreachError`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from iamreach.errors import IamreachError

__all__ = ["main", "build_parser", "COMMANDS"]

# Ordered: the order `iamreach --help` lists them in.
COMMANDS: tuple[str, ...] = (
    "simulate",
    "check",
    "collect", "import_", "merge",
    "render",
    "demo",
    "paths", "can",
    "diff",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iamreach",
        description="IAM and network reachability analyzer for AWS.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"iamreach.commands.{name}")
        module.register(sub)
    return parser


def _version() -> str:
    from iamreach import __version__

    return f"iamreach {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 already
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except IamreachError as exc:
        print(f"iamreach: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("iamreach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
