"""Helpers shared by the command modules: loading a snapshot + config into a graph, output."""

from __future__ import annotations

import sys

from iamreach.errors import InputError

__all__ = ["load_graph", "write_output", "add_snapshot_args", "parse_context"]


def add_snapshot_args(parser) -> None:
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot file (.json or .json.gz)")
    parser.add_argument("--config", metavar="FILE", help="iamreach.toml or pyproject.toml with [tool.iamreach]")


def load_graph(args):
    """(inventory, config, graph) from ``args.snapshot`` and ``args.config``."""
    from iamreach.config import load_config
    from iamreach.graph.builder import build_graph
    from iamreach.snapshot import load

    config = load_config(getattr(args, "config", None))
    inv = load(args.snapshot)
    return inv, config, build_graph(inv, config)


def write_output(text: str | bytes, path: str | None) -> None:
    """Write to ``path`` atomically (mode 0600), or to stdout when ``path`` is None or ``-``."""
    if path in (None, "-"):
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
            if text and not text.endswith("\n"):
                sys.stdout.write("\n")
        sys.stdout.flush()
        return
    from iamreach.fileio import atomic_write_bytes

    data = text.encode("utf-8") if isinstance(text, str) else text
    atomic_write_bytes(path, data)


def parse_context(items: list[str] | None) -> dict:
    """``KEY=VALUE`` pairs (repeatable; a repeated key becomes a list) -> request context."""
    ctx: dict = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InputError(f"expected KEY=VALUE, got {item!r}", field="--context")
        key = key.strip()
        if key in ctx:
            prev = ctx[key]
            ctx[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            ctx[key] = value
    return ctx
