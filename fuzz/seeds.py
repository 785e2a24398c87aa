"""Write seed corpora for ``fuzz/iamreach_fuzz.py`` from files already in the repository.

Usage::

    .venv/bin/python fuzz/seeds.py /tmp/iamreach-corpus      # creates one folder per target
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

__all__ = ["main", "write_seeds"]

ROOT = Path(__file__).resolve().parent.parent


def _put(folder: Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def _policies(doc: object) -> list[dict]:
    """Every dict with a Statement key, anywhere in ``doc``."""
    found: list[dict] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "Statement" in node:
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def write_seeds(out: Path) -> dict[str, int]:
    """Fill ``out/<target>/`` with seeds; return the count per target."""
    golden = ROOT / "tests" / "golden" / "snapshot.json"
    snapshot = json.loads(golden.read_bytes())
    _put(out / "snapshot", golden.read_bytes())
    _put(out / "inventory", json.dumps(snapshot["inventory"]).encode())
    for policy in _policies(snapshot)[:200]:
        raw = json.dumps(policy, sort_keys=True).encode()
        _put(out / "policy", raw)
        _put(out / "simulate", json.dumps({"principal": "arn:aws:iam::111122223333:role/r", "action": "s3:GetObject",
                                           "resource": "arn:aws:s3:::b/k", "identity_policies": [policy]}).encode())
    for plan in sorted((ROOT / "tests" / "data" / "terraform").glob("*.plan*.json")):
        _put(out / "plan", plan.read_bytes())
    for toml in (b'[labels]\nphi = ["tag:DataClassification=PHI"]\n[[rules.forbid]]\nfrom = "synthetic"\nto = "phi"\n',
                 b'[tool.iamreach.checks.severities]\n"IAMR-001" = "critical"\n'):
        _put(out / "config", b"\x00" + toml)  # first byte: iamreach.toml / pyproject.toml choice
        _put(out / "config", b"\x01" + toml)
    _put(out / "wildcard", b"\x10\x00arn:aws:s3:::*/?x*arn:aws:s3:::bucket/key/x")
    return {p.name: len(list(p.iterdir())) for p in sorted(out.iterdir())}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT_DIR", file=sys.stderr)
        return 2
    for target, n in write_seeds(Path(argv[1])).items():
        print(f"{target}: {n} seed(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
