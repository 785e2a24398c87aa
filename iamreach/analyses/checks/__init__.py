"""The checks of ``iamreach check`` (issue #5): one small module per check or family.

Use :func:`default_registry` to get the registry of every built-in check; nothing is
registered at import time and no client is created.

Examples
--------
>>> reg = default_registry()
>>> reg.ids()[:3]
('IAMR-001', 'IAMR-002', 'IAMR-003')
>>> len(reg)
14
"""

from __future__ import annotations

import importlib

from iamreach.analyses.checks.registry import Check, CheckMeta, Registry, check, parse_check_ids

__all__ = ["Check", "CheckMeta", "Registry", "check", "default_registry", "parse_check_ids", "CHECK_MODULES"]

#: (module, check attribute) of every built-in check, in id order.
CHECK_MODULES: tuple[tuple[str, str], ...] = (
    ("forbidden", "forbidden_path"),
    ("s3", "bucket_policy_synthetic_read"),
    ("datastores", "workload_role_database_access"),
    ("trust", "synthetic_trust"),
    ("snapshots", "snapshot_exposure"),
    ("network", "synthetic_network_access"),
    ("glue", "glue_jdbc_to_production"),
    ("sagemaker", "sagemaker_notebook_risks"),
    ("kms", "kms_cross_environment"),
    ("cloudtrail", "cloudtrail_gaps"),
    ("stepfunctions", "stepfunctions_observability"),
    ("guardrails", "scp_guardrail"),
    ("config_rules", "config_rule_equivalents"),
    ("gaps", "collection_gaps"),
)


def default_registry() -> Registry:
    """A new :class:`Registry` holding every built-in check (IAMR-001 ... IAMR-014)."""
    registry = Registry()
    for module, attr in CHECK_MODULES:
        mod = importlib.import_module(f"iamreach.analyses.checks.{module}")
        registry.register(getattr(mod, attr))
    return registry
