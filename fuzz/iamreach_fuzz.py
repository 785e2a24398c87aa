"""Coverage-guided fuzzing of iamreach's input parsers with atheris (libFuzzer for Python).

Usage::

    .venv/bin/python fuzz/iamreach_fuzz.py TARGET [libFuzzer options] [CORPUS_DIR ...]

Targets: ``policy`` (parse_policy + evaluate), ``simulate`` (request validation + engine),
``snapshot`` (snapshot.loads), ``inventory`` (an inventory body sealed with a correct
content hash, then snapshot.loads and build_graph), ``plan`` (read_plan + strip_sensitive + apply_plan),
``config`` (load_config), ``wildcard`` (match_wildcard, with a time budget per input).

The only exception allowed out of a target is :class:`iamreach.errors.IamreachError`;
anything else is a crash libFuzzer reports (with the input saved as ``crash-<sha1>``).
See ``fuzz/README.md``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable

import atheris

with atheris.instrument_imports(include=["iamreach"]):  # not networkx, botocore...
    from iamreach.commands.simulate import simulate_requests
    from iamreach.config import load_config
    from iamreach.errors import IamreachError
    from iamreach.graph.builder import build_graph
    from iamreach.graph.policy import Request, evaluate, match_wildcard, parse_policy
    from iamreach.loaders.terraform import apply_plan
    from iamreach.loaders.terraform_plan import read_plan, strip_sensitive
    from iamreach.snapshot import content_hash, loads

__all__ = ["TARGETS", "main"]

_TMP = tempfile.mkdtemp(prefix="iamreach-fuzz-")


def _policy(data: bytes) -> None:
    try:
        policy = parse_policy(data)
    except IamreachError:
        return
    request = Request("arn:aws:iam::111122223333:role/r", "s3:GetObject", "arn:aws:s3:::b/k",
                      resource_account="111122223333")
    try:
        evaluate(request, identity_policies=[policy])
    except IamreachError:
        return


def _simulate(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return
    try:
        simulate_requests(doc, unknown_keys="conditional")
    except IamreachError:
        return


def _snapshot(data: bytes) -> None:
    try:
        loads(data, source="fuzz")
    except IamreachError:
        return


def _inventory(data: bytes) -> None:
    """The inventory body with a correct content hash, so mutations reach the record checks and the builder."""
    try:
        body = json.loads(data)
        doc = json.dumps({"schema_version": 1, "content_hash": content_hash(body) if isinstance(body, dict) else "",
                          "inventory": body}).encode()
    except (ValueError, RecursionError, TypeError):
        return
    try:
        inv, _ = loads(doc, source="fuzz")
        build_graph(inv)
    except IamreachError:
        return


def _plan(data: bytes) -> None:
    try:
        apply_plan(strip_sensitive(read_plan(data, source="fuzz")))
    except IamreachError:
        return


def _config(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = "pyproject.toml" if fdp.ConsumeBool() else "iamreach.toml"
    path = os.path.join(_TMP, name)
    with open(path, "wb") as fh:
        fh.write(fdp.ConsumeBytes(fdp.remaining_bytes()))
    try:
        load_config(path)
    except IamreachError:
        return


def _wildcard(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    pattern = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 4096))
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    start = time.process_time()  # CPU time: a loaded machine does not make a slow match
    match_wildcard(pattern, text, case_sensitive=fdp.ConsumeBool())
    if time.process_time() - start > 1.0:
        raise AssertionError(f"match_wildcard took over 1 s on a {len(pattern)}-char pattern")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "policy": _policy, "simulate": _simulate, "snapshot": _snapshot, "inventory": _inventory, "plan": _plan,
    "config": _config, "wildcard": _wildcard,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in TARGETS:
        print(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [CORPUS ...]", file=sys.stderr)
        return 2
    target = TARGETS[argv[1]]
    sys.setrecursionlimit(10_000)
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
