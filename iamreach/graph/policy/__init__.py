"""The exact, three-valued IAM policy engine.

Pure Python (no boto3, no networkx): parse and compile policy documents once
(:func:`parse_policy`), then :func:`evaluate` requests against any combination of identity
policies, a resource-based policy, permissions boundaries, a session policy, SCPs, RCPs and a
VPC endpoint policy, following AWS's documented evaluation logic. Answers are ALLOWED, DENIED
(explicit or implicit) or CONDITIONAL (in analysis mode, when unknown condition keys matter).

>>> from iamreach.graph.policy import Request, evaluate, parse_policy
>>> p = parse_policy({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*",
...                   "Resource": "arn:aws:s3:::b/*"}})
>>> evaluate(Request("arn:aws:iam::111122223333:user/a", "s3:GetObject", "arn:aws:s3:::b/k"),
...          identity_policies=[p]).decision.value
'allowed'
"""

from iamreach.errors import PolicyError
from iamreach.graph.policy.catalog import ActionCatalog, ActionInfo, ResourceType, default_catalog
from iamreach.graph.policy.document import (
    ConditionTerm,
    Policy,
    PolicyIndex,
    PrincipalSpec,
    Statement,
    parse_policy,
)
from iamreach.graph.policy.evaluate import (
    RCP_SERVICES,
    Decision,
    LowerKeys,
    PolicyLevel,
    PrincipalInfo,
    Request,
    Result,
    evaluate,
    principal_info,
)
from iamreach.graph.policy.variables import Context
from iamreach.graph.policy.wildcard import Arn, Glob, compile_glob, match_wildcard, parse_arn

__all__ = [
    "ActionCatalog",
    "ActionInfo",
    "Arn",
    "ConditionTerm",
    "Context",
    "Decision",
    "LowerKeys",
    "Glob",
    "Policy",
    "PolicyError",
    "PolicyIndex",
    "PolicyLevel",
    "PrincipalInfo",
    "PrincipalSpec",
    "RCP_SERVICES",
    "Request",
    "ResourceType",
    "Result",
    "Statement",
    "compile_glob",
    "default_catalog",
    "evaluate",
    "match_wildcard",
    "parse_arn",
    "parse_policy",
    "principal_info",
]
