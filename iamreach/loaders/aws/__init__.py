"""Live AWS loaders: one module per service, each with ``collect(ctx)`` and ``normalize(raw, account, region)``.

:data:`SERVICES` is the one ordered mapping of service name -> module. Global services
(``GLOBAL = True``: Organizations, IAM, S3) run once per account; the others once per region.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["SERVICES", "service_module", "GLOBAL_SERVICES", "REGIONAL_SERVICES"]

#: service name -> module name under iamreach.loaders.aws, in collection order
SERVICES: dict[str, str] = {
    "organizations": "organizations",
    "iam": "iam",
    "s3": "s3",
    "kms": "kms",
    "ec2": "ec2",
    "rds": "rds",
    "lambda": "lambda_",
    "glue": "glue",
    "sagemaker": "sagemaker",
    "stepfunctions": "stepfunctions",
    "secretsmanager": "secretsmanager",
    "dynamodb": "dynamodb",
    "cloudtrail": "cloudtrail",
    "lakeformation": "lakeformation",
}
GLOBAL_SERVICES = ("organizations", "iam", "s3")
REGIONAL_SERVICES = tuple(s for s in SERVICES if s not in GLOBAL_SERVICES)


def service_module(name: str) -> ModuleType:
    """The loader module of service ``name`` (a key of :data:`SERVICES`)."""
    return importlib.import_module(f"iamreach.loaders.aws.{SERVICES[name]}")
