"""Down-convert a ``terraform show -json`` plan (format 1.x) to the old format "0.1" shape.

Terraform 0.12 - 0.15 emitted ``"format_version": "0.1"`` (0.2 for 1.0/1.1) with the same
structure minus keys added later. Current Terraform only writes 1.2, so the 0.1 fixture is made
from the 1.2 one by dropping those keys and renaming the version:

- top level: ``timestamp`` (1.5), ``applyable``/``complete``/``errored`` (1.8), ``checks`` (1.5),
  ``relevant_attributes`` (1.2), ``resource_drift`` (1.0);
- resource changes: ``importing``/``generated_config`` (1.5), ``action_reason`` (1.2),
  ``before_identity``/``after_identity`` (1.12), ``replace_paths`` (1.2), ``previous_address`` (1.1);
- plan sensitivity markers ``before_sensitive``/``after_sensitive`` and state ``sensitive_values``
  are kept (0.15 already had them).

Usage: ``python downconvert.py IN.json OUT.json``.
"""

import json
import sys

TOP = ("timestamp", "applyable", "complete", "errored", "checks", "relevant_attributes", "resource_drift")
CHANGE = ("importing", "generated_config", "before_identity", "after_identity", "replace_paths")
RC = ("action_reason", "previous_address")


def convert(plan: dict) -> dict:
    out = {k: v for k, v in plan.items() if k not in TOP}
    out["format_version"] = "0.1"
    if "prior_state" in out:
        out["prior_state"] = dict(out["prior_state"], format_version="0.1")
    rcs = []
    for rc in out.get("resource_changes", []):
        rc = {k: v for k, v in rc.items() if k not in RC}
        rc["change"] = {k: v for k, v in rc["change"].items() if k not in CHANGE}
        rcs.append(rc)
    out["resource_changes"] = rcs
    return out


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        data = json.load(fh)
    with open(sys.argv[2], "w") as fh:
        json.dump(convert(data), fh, indent=1, sort_keys=True)
        fh.write("\n")
