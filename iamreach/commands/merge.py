"""``iamreach merge``: join snapshots into one (deterministic; gaps kept)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``merge`` parser."""
    p = subparsers.add_parser("merge", help="join snapshots into one",
                              description="Join snapshots. Records with the same key (ARN, account id) are "
                                          "taken from the later file; accounts are merged field by field; "
                                          "every gap is kept.")
    p.add_argument("snapshots", nargs="+", metavar="SNAPSHOT", help="snapshot files (two or more)")
    p.add_argument("-o", "--output", required=True, help="merged snapshot path (.json or .json.gz)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load every input (verifying each), combine, save with the latest ``collected_at``."""
    from iamreach import snapshot
    from iamreach.errors import InputError, SnapshotError
    from iamreach.loaders.combine import combine

    if len(args.snapshots) < 2:
        raise InputError("expected at least two snapshots to merge", field="SNAPSHOT")
    parts, times = [], []
    for path in args.snapshots:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise SnapshotError(f"cannot read: {exc.strerror}", file=path) from None
        inv, header = snapshot.loads(data, source=path)
        parts.append(inv)
        times.append(str(header.get("collected_at") or ""))
    merged = combine(parts, meta={"source": "merge"})
    snapshot.save(merged, args.output, collected_at=max(times) or None)
    print(f"iamreach: wrote {args.output} ({len(merged.accounts)} account(s), {len(merged.gaps)} gaps)",
          file=sys.stderr)
    return 0
