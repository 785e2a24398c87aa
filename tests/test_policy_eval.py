"""The evaluation logic, rule by rule, as AWS documents it.

References (IAM User Guide unless noted): "Policy evaluation logic", "Cross-account policy
evaluation logic", "Permissions boundaries for IAM entities" (evaluating with resource-based
policies), "Session policies", "Service control policies" and "Resource control policies"
(AWS Organizations User Guide), "Key policies in AWS KMS" (KMS Developer Guide), "IAM JSON
policy elements: Principal / NotPrincipal / NotAction / NotResource", "Policy variables",
and the 2022 change to role trust policies (a role assuming itself).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from iamreach.graph.policy import Decision, PolicyLevel, Request, evaluate, parse_policy

ACC = "111122223333"
OTHER = "444455556666"
ALICE = f"arn:aws:iam::{ACC}:user/alice"
BOB = f"arn:aws:iam::{ACC}:user/bob"
ROLE = f"arn:aws:iam::{ACC}:role/team/R"
SESSION = f"arn:aws:sts::{ACC}:assumed-role/R/s1"
X_USER = f"arn:aws:iam::{OTHER}:user/xavier"
X_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/XR/s"
X_ROLE = f"arn:aws:iam::{OTHER}:role/XR"
BUCKET = "arn:aws:s3:::b"
OBJ = "arn:aws:s3:::b/k"
TARGET_ROLE = f"arn:aws:iam::{ACC}:role/Target"
KEY = f"arn:aws:kms:us-east-1:{ACC}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
A, D, C = Decision.ALLOWED, Decision.DENIED, Decision.CONDITIONAL


def st(effect="Allow", action="*", resource="*", **extra):
    s = {"Effect": effect, "Action": action}
    if resource is not None:
        s["Resource"] = resource
    s.update(extra)
    return s


def pol(*statements, kind="identity", source=None, version="2012-10-17"):
    doc = {"Statement": list(statements)}
    if version:
        doc["Version"] = version
    return parse_policy(doc, source=source or f"{kind}-policy", kind=kind)


def allow(action="*", resource="*", **extra):
    return pol(st("Allow", action, resource, **extra))


def deny(action="*", resource="*", **extra):
    return pol(st("Deny", action, resource, **extra))


def rpol(*statements, kind="resource"):
    return pol(*statements, kind=kind, source=f"{kind}-policy")


def ev(principal, action, resource, *, ctx=None, unknown=False, resource_account=None, **kw):
    req = Request(principal, action, resource, resource_account=resource_account, context=ctx or {},
                  unknown_keys="unknown" if unknown else "absent")
    return evaluate(req, **kw)


FULL = allow()
S3_READ = allow("s3:GetObject", f"{BUCKET}/*")
SCP_ALL = pol(st(), kind="scp", source="FullAWSAccess")
TRUST_ACCOUNT = rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": f"arn:aws:iam::{ACC}:root"}))


# Each row: (documented rule, principal, action, resource, keyword arguments, expected, denial, explanation snippet)
CASES = [
    # --- default and explicit deny --------------------------------------------------------------
    ("implicit deny by default: no policy at all", ALICE, "s3:GetObject", OBJ, {}, D, "implicit", "no statement allows"),
    ("an identity-based Allow grants", ALICE, "s3:GetObject", OBJ, {"identity_policies": [S3_READ]}, A, None,
     "identity: allowed by"),
    ("explicit deny in an identity policy overrides any allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL, deny("s3:*")]}, D, "explicit", "identity: explicit deny"),
    ("explicit deny in the resource policy overrides an identity allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_policy": rpol(st("Deny", "s3:*", f"{BUCKET}/*", Principal="*"))},
     D, "explicit", "resource policy: explicit deny"),
    ("explicit deny in an SCP overrides allows", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[SCP_ALL, pol(st("Deny", "s3:*"), kind="scp")]]}, D, "explicit", "scp level 1"),
    ("explicit deny in a permissions boundary", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "permission_boundaries": [pol(st(), st("Deny", "s3:*"), kind="boundary")]},
     D, "explicit", "permission boundary: explicit deny"),
    ("explicit deny in a session policy", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "session_policy": pol(st("Deny", "s3:*"), kind="session")}, D, "explicit",
     "session policy: explicit deny"),
    ("explicit deny in a VPC endpoint policy", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "vpc_endpoint_policy": rpol(st(Principal="*"), st("Deny", "s3:GetObject", Principal="*"),
                                                                kind="vpce")}, D, "explicit", "vpc endpoint policy"),
    ("a deny that does not match the resource does not apply", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL, deny("s3:*", "arn:aws:s3:::other/*")]}, A, None, None),
    # --- SCPs ----------------------------------------------------------------------------------
    ("SCPs: every level root->account must allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[SCP_ALL], [pol(st(action="s3:*"), kind="scp")], [SCP_ALL]]}, A, None,
     "scp level 2"),
    ("SCPs: a level that does not allow denies (implicit)", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[SCP_ALL], [pol(st(action="ec2:*"), kind="scp")]]}, D, "implicit",
     "scp level 2: no statement allows s3:GetObject (implicit deny)"),
    ("SCPs: one policy of a level allowing is enough", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[pol(st(action="ec2:*"), kind="scp"), pol(st(action="s3:Get*"), kind="scp")]]},
     A, None, None),
    ("SCPs: an empty level denies", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[SCP_ALL], []]}, D, "implicit", "no policies attached"),
    ("SCPs never grant: identity must still allow", ALICE, "s3:GetObject", OBJ, {"scps": [[SCP_ALL]]}, D, "implicit",
     "identity: no statement allows"),
    ("SCPs: labelled levels name the OU in explanations", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [PolicyLevel((SCP_ALL,), "r-root"), PolicyLevel((), "ou-abcd")]}, D,
     "implicit", "scp level 2 (ou-abcd): no policies attached"),
    ("SCPs do not affect the management account", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[pol(st(action="ec2:*"), kind="scp")]],
      "principal_is_management_account": True}, A, None, "scp: not applied (management account)"),
    ("SCPs do not affect service-linked roles", f"arn:aws:sts::{ACC}:assumed-role/AWSServiceRoleForX/s", "s3:GetObject",
     OBJ, {"identity_policies": [FULL], "scps": [[deny()]], "principal_is_service_linked_role": True}, A, None, None),
    ("SCPs do not affect service-linked roles (detected from the role path)",
     f"arn:aws:iam::{ACC}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX", "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[pol(st("Deny"), kind="scp")]]}, A, None, None),
    ("SCPs do not restrict AWS service principals", "cloudtrail.amazonaws.com", "s3:PutObject", OBJ,
     {"resource_policy": rpol(st(action="s3:PutObject", resource=f"{BUCKET}/*", Principal={"Service": "cloudtrail.amazonaws.com"})),
      "scps": [[pol(st("Deny"), kind="scp")]]}, A, None, None),
    ("SCP deny applies to the member account's root user", f"arn:aws:iam::{ACC}:root", "s3:GetObject", OBJ,
     {"scps": [[SCP_ALL, pol(st("Deny", "s3:*"), kind="scp")]]}, D, "explicit", None),
    ("root user: full access in its own account absent SCPs", f"arn:aws:iam::{ACC}:root", "s3:GetObject", OBJ,
     {}, A, None, "root user"),
    # --- RCPs ----------------------------------------------------------------------------------
    ("RCP deny restricts access to member-account resources", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": X_USER})),
      "rcps": [[pol(st(Principal="*"), st("Deny", "s3:*", Principal="*", Condition={"StringNotEquals": {"aws:PrincipalAccount": ACC}}),
                    kind="rcp")]]}, D, "explicit", "rcp level 1"),
    ("RCPs: every level must allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "rcps": [[pol(st(Principal="*"), kind="rcp")], []]}, D, "implicit", "rcp level 2"),
    ("RCPs do not apply to resources in the management account", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC, "resource_in_management_account": True,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": X_USER})),
      "rcps": [[pol(st("Deny", Principal="*"), kind="rcp")]]}, A, None, "rcp: not applied"),
    ("RCPs do not restrict AWS service principals", "cloudtrail.amazonaws.com", "s3:PutObject", OBJ,
     {"resource_policy": rpol(st(action="s3:PutObject", resource=f"{BUCKET}/*", Principal={"Service": "cloudtrail.amazonaws.com"})),
      "rcps": [[pol(st("Deny", Principal="*"), kind="rcp")]]}, A, None, None),
    ("RCPs only govern the services that support them", ALICE, "lambda:InvokeFunction",
     f"arn:aws:lambda:us-east-1:{ACC}:function:f", {"identity_policies": [FULL], "rcps": [[pol(st("Deny", Principal="*"), kind="rcp")]]},
     A, None, None),
    ("RCPs never grant", ALICE, "s3:GetObject", OBJ, {"rcps": [[pol(st(Principal="*"), kind="rcp")]]}, D, "implicit", None),
    # --- permissions boundaries ---------------------------------------------------------------
    ("boundary: effective permissions are the intersection", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "permission_boundaries": [pol(st(action="ec2:*"), kind="boundary")]}, D, "implicit",
     "permission boundary (boundary-policy): missing allow"),
    ("boundary: allowed when both allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [S3_READ], "permission_boundaries": [pol(st(action="s3:*"), kind="boundary")]}, A, None, None),
    ("boundary alone never grants", ALICE, "s3:GetObject", OBJ,
     {"permission_boundaries": [pol(st(action="s3:*"), kind="boundary")]}, D, "implicit", None),
    ("boundary: an implicit deny does not limit a resource policy naming the user ARN", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ALICE})),
      "permission_boundaries": [pol(st(action="ec2:*"), kind="boundary")]}, A, None, "names the principal directly"),
    ("boundary: an implicit deny does not limit a resource policy naming the role session ARN", SESSION, "s3:GetObject",
     OBJ, {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": SESSION})),
           "permission_boundaries": [pol(st(action="ec2:*"), kind="boundary")]}, A, None, None),
    ("boundary: an implicit deny limits a resource policy naming the role ARN", SESSION, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ROLE})),
      "permission_boundaries": [pol(st(action="ec2:*"), kind="boundary")]}, D, "implicit", "names the role ARN"),
    ("boundary: resource policy naming the role ARN works when the boundary allows", SESSION, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ROLE})),
      "permission_boundaries": [pol(st(action="s3:*"), kind="boundary")]}, A, None, None),
    ("boundary: every boundary given must allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "permission_boundaries": [pol(st(action="s3:*"), kind="boundary"),
                                                            pol(st(action="ec2:*"), kind="boundary", source="B2")]},
     D, "implicit", "permission boundary (B2): missing allow"),
    # --- session policies ----------------------------------------------------------------------
    ("session policy: intersection with identity policies", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "session_policy": pol(st(action="ec2:*"), kind="session")}, D, "implicit",
     "session policy: missing allow"),
    ("session policy: allowed when both allow", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "session_policy": pol(st(action="s3:*"), kind="session")}, A, None, None),
    ("session policy does not limit a resource policy naming the session ARN", SESSION, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": SESSION})),
      "session_policy": pol(st(action="ec2:*"), kind="session")}, A, None, None),
    ("session policy limits a resource policy naming the role ARN", SESSION, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ROLE})),
      "session_policy": pol(st(action="ec2:*"), kind="session")}, D, "implicit", None),
    # --- same account: resource-based policies -------------------------------------------------
    ("same account: resource policy naming the user grants without identity allow", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ALICE}))}, A, None, None),
    ("same account: naming another user does not grant", BOB, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ALICE}))}, D,
     "implicit", "resource policy: no statement allows"),
    ("same account: naming the account root delegates to IAM (not a grant)", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{ACC}:root"}))},
     D, "implicit", "identity: no statement allows"),
    ("same account: naming the account id delegates to IAM (not a grant)", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ACC}))}, D, "implicit", None),
    ("same account: delegation plus identity allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [S3_READ],
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ACC}))}, A, None, None),
    ("same account: Principal * grants without identity allow", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal="*"))}, A, None, None),
    ("same account: {AWS: *} is the same as *", ALICE, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": "*"}))}, A, None, None),
    ("same account: identity allow alone suffices (union)", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [S3_READ], "resource_policy": rpol(st(action="s3:PutObject", resource=f"{BUCKET}/*", Principal="*"))},
     A, None, None),
    ("resource policy naming the role ARN matches its sessions (path dropped in session ARN)", SESSION, "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ROLE}))}, A, None, None),
    # --- cross account -------------------------------------------------------------------------
    ("cross-account: identity allow without resource policy is denied", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC}, D, "implicit", "cross-account"),
    ("cross-account: resource allow without identity allow is denied", X_USER, "s3:GetObject", OBJ,
     {"resource_account": ACC,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": X_USER}))}, D, "implicit",
     "identity: no statement allows"),
    ("cross-account: both allow", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": X_USER}))}, A, None, None),
    ("cross-account: resource policy naming the principal's account + identity allow", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}))},
     A, None, "names the account"),
    ("cross-account: naming another account does not match", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC,
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ACC}))}, D, "implicit", None),
    ("cross-account: Principal * still needs the identity side", X_USER, "s3:GetObject", OBJ,
     {"resource_account": ACC, "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal="*"))},
     D, "implicit", None),
    ("cross-account: boundary still limits the identity side", X_USER, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_account": ACC, "permission_boundaries": [pol(st(action="ec2:*"), kind="boundary")],
      "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": X_USER}))}, D, "implicit", None),
    ("cross-account: account taken from the resource ARN", X_USER, "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACC}:q",
     {"identity_policies": [FULL]}, D, "implicit", "cross-account"),
    # --- role trust policies -------------------------------------------------------------------
    ("trust: naming the user lets it assume the role without identity allow (same account)", ALICE, "sts:AssumeRole",
     TARGET_ROLE, {"resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": ALICE}), kind="trust")},
     A, None, None),
    ("trust: delegation to the account needs an identity allow", ALICE, "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": TRUST_ACCOUNT}, D, "implicit", "trust policy must allow"),
    ("trust: delegation to the account plus identity allow", ALICE, "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": TRUST_ACCOUNT, "identity_policies": [allow("sts:AssumeRole", TARGET_ROLE)]}, A, None, None),
    ("trust: required even in the same account (no trust policy: denied)", ALICE, "sts:AssumeRole", TARGET_ROLE,
     {"identity_policies": [FULL]}, D, "implicit", "no trust policy given"),
    ("trust: an IAM allow cannot override a trust policy that names someone else", ALICE, "sts:AssumeRole", TARGET_ROLE,
     {"identity_policies": [FULL],
      "resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": BOB}), kind="trust")}, D,
     "implicit", None),
    ("trust: service principal", "lambda.amazonaws.com", "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"Service": "lambda.amazonaws.com"}),
                              kind="trust")}, A, None, None),
    ("trust: another service principal is not matched", "ec2.amazonaws.com", "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"Service": ["lambda.amazonaws.com"]}),
                              kind="trust")}, D, "implicit", None),
    ("trust: cross-account session matched by role ARN, identity allow needed", X_SESSION, "sts:AssumeRole", TARGET_ROLE,
     {"identity_policies": [allow("sts:AssumeRole", TARGET_ROLE)],
      "resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": X_ROLE}), kind="trust")},
     A, None, None),
    ("trust: cross-account without identity allow", X_SESSION, "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": X_ROLE}), kind="trust")},
     D, "implicit", None),
    ("trust: a role may not assume itself through account delegation (2022 change)",
     f"arn:aws:sts::{ACC}:assumed-role/Target/s", "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": TRUST_ACCOUNT, "identity_policies": [FULL]}, D, "implicit", "assume itself"),
    ("trust: a role may assume itself when its trust names it", f"arn:aws:sts::{ACC}:assumed-role/Target/s",
     "sts:AssumeRole", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRole", resource=None, Principal={"AWS": TARGET_ROLE}), kind="trust"),
      "identity_policies": [FULL]}, A, None, None),
    ("trust: web identity federation", "cognito-identity.amazonaws.com", "sts:AssumeRoleWithWebIdentity", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRoleWithWebIdentity", resource=None,
                                 Principal={"Federated": "cognito-identity.amazonaws.com"},
                                 Condition={"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}}),
                              kind="trust"), "ctx": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}}, A, None, None),
    ("trust: SAML federation via provider ARN", f"arn:aws:iam::{ACC}:saml-provider/Okta", "sts:AssumeRoleWithSAML",
     TARGET_ROLE, {"resource_policy": rpol(st(action="sts:AssumeRoleWithSAML", resource=None,
                                              Principal={"Federated": f"arn:aws:iam::{ACC}:saml-provider/Okta"}), kind="trust")},
     A, None, None),
    ("trust: a federated provider is not an AWS principal", "cognito-identity.amazonaws.com",
     "sts:AssumeRoleWithWebIdentity", TARGET_ROLE,
     {"resource_policy": rpol(st(action="sts:AssumeRoleWithWebIdentity", resource=None,
                                 Principal={"Service": "cognito-identity.amazonaws.com"}), kind="trust")}, D, "implicit", None),
    ("trust: sts:TagSession must be allowed by the trust policy too", ALICE, "sts:TagSession", TARGET_ROLE,
     {"resource_policy": TRUST_ACCOUNT, "identity_policies": [FULL]}, D, "implicit", "trust policy must allow"),
    ("trust: sts:TagSession allowed by trust (delegation) and identity", ALICE, "sts:TagSession", TARGET_ROLE,
     {"resource_policy": rpol(st(action=["sts:AssumeRole", "sts:TagSession"], resource=None,
                                 Principal={"AWS": f"arn:aws:iam::{ACC}:root"}), kind="trust"),
      "identity_policies": [FULL]}, A, None, None),
    # --- KMS key policies ----------------------------------------------------------------------
    ("KMS: key policy delegating to the account + IAM allow", ALICE, "kms:Decrypt", KEY,
     {"identity_policies": [allow("kms:Decrypt")],
      "resource_policy": rpol(st(action="kms:*", Principal={"AWS": f"arn:aws:iam::{ACC}:root"}))}, A, None, None),
    ("KMS: delegation without IAM allow", ALICE, "kms:Decrypt", KEY,
     {"resource_policy": rpol(st(action="kms:*", Principal={"AWS": f"arn:aws:iam::{ACC}:root"}))}, D, "implicit", None),
    ("KMS: IAM allow does not count when the key policy does not delegate", ALICE, "kms:Decrypt", KEY,
     {"identity_policies": [FULL], "resource_policy": rpol(st(action="kms:*", Principal={"AWS": BOB}))}, D, "implicit",
     "key policy must allow"),
    ("KMS: no key policy given", ALICE, "kms:Decrypt", KEY, {"identity_policies": [FULL]}, D, "implicit", "no key policy"),
    ("KMS: key policy naming the user grants without IAM allow", ALICE, "kms:Decrypt", KEY,
     {"resource_policy": rpol(st(action="kms:Decrypt", Principal={"AWS": ALICE}))}, A, None, None),
    ("KMS: resource_policy_required=False overrides inference", ALICE, "kms:Decrypt", KEY,
     {"identity_policies": [FULL], "resource_policy_required": False}, A, None, None),
    ("KMS: kms:CallerAccount is the caller's account (same account: the key's condition holds)", ALICE, "kms:Decrypt",
     KEY, {"resource_policy": rpol(st(action="kms:Decrypt", Principal={"AWS": "*"},
                                      Condition={"StringEquals": {"kms:CallerAccount": ACC}})), "unknown": True},
     A, None, None),
    ("KMS: kms:CallerAccount is known in analysis mode (another account's caller is denied, not conditional)",
     X_USER, "kms:Decrypt", KEY,
     {"identity_policies": [FULL], "resource_policy": rpol(st(action="kms:Decrypt", Principal={"AWS": "*"},
                                                            Condition={"StringEquals": {"kms:CallerAccount": ACC}})),
      "unknown": True}, D, "implicit", None),
    ("KMS: kms:CallerAccount is only set on KMS requests", ALICE, "s3:GetObject", OBJ,
     {"resource_account": ACC, "resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": "*"},
                                                          Condition={"StringEquals": {"kms:CallerAccount": ACC}}))},
     D, "implicit", None),
    # --- NotAction / NotResource / NotPrincipal ------------------------------------------------
    ("NotAction Allow grants everything else", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]}, A, None, None),
    ("NotAction Allow does not grant the listed action", ALICE, "iam:CreateUser", f"arn:aws:iam::{ACC}:user/x",
     {"identity_policies": [pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]}, D, "implicit", None),
    ("NotAction Deny denies everything but the listed actions", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL, pol({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})]}, D, "explicit", None),
    ("NotResource Allow", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})]}, A, None, None),
    ("NotResource Allow excludes the listed resources", ALICE, "s3:GetObject", "arn:aws:s3:::secret/k",
     {"identity_policies": [pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})]}, D,
     "implicit", None),
    ("NotPrincipal Deny applies to principals not listed", BOB, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_policy": rpol({"Effect": "Deny", "NotPrincipal": {"AWS": ALICE},
                                                             "Action": "s3:*", "Resource": f"{BUCKET}/*"})}, D, "explicit", None),
    ("NotPrincipal Deny spares a listed user (with its account listed)", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_policy": rpol({"Effect": "Deny", "NotPrincipal": {"AWS": [ALICE, ACC]},
                                                             "Action": "s3:*", "Resource": f"{BUCKET}/*"})}, A, None, None),
    ("NotPrincipal Deny: listing only the role ARN does not spare its sessions", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_policy": rpol({"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE]},
                                                             "Action": "s3:*", "Resource": f"{BUCKET}/*"})}, D, "explicit", None),
    ("NotPrincipal Deny: session ARN, role ARN and account listed spare the session", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "resource_policy": rpol({"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE, SESSION, ACC]},
                                                             "Action": "s3:*", "Resource": f"{BUCKET}/*"})}, A, None, None),
    # --- anonymous -----------------------------------------------------------------------------
    ("anonymous: a public bucket policy grants", "anonymous", "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal="*"))}, A, None, None),
    ("anonymous: no public grant, denied", "anonymous", "s3:GetObject", OBJ,
     {"resource_policy": rpol(st(action="s3:GetObject", resource=f"{BUCKET}/*", Principal={"AWS": ACC}))}, D, "implicit", None),
    ("anonymous: identity policies do not apply", "anonymous", "s3:GetObject", OBJ, {"identity_policies": [FULL]}, D,
     "implicit", "not applicable"),
    # --- VPC endpoint policies -----------------------------------------------------------------
    ("VPC endpoint policy must allow when present", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "vpc_endpoint_policy": rpol(st(action="s3:PutObject", Principal="*"), kind="vpce")},
     D, "implicit", "vpc endpoint policy"),
    ("VPC endpoint policy allowing", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "vpc_endpoint_policy": rpol(st(action="s3:*", Principal="*"), kind="vpce")}, A, None, None),
    # --- action -> resource type applicability -------------------------------------------------
    ("s3:GetObject does not apply to a bucket ARN", ALICE, "s3:GetObject", BUCKET, {"identity_policies": [FULL]}, D,
     "implicit", "s3:GetObject does not apply to resource type bucket"),
    ("s3:ListBucket does not apply to an object ARN", ALICE, "s3:ListBucket", OBJ, {"identity_policies": [FULL]}, D,
     "implicit", "s3:ListBucket does not apply to resource type object"),
    ("s3:ListBucket on the bucket ARN", ALICE, "s3:ListBucket", BUCKET, {"identity_policies": [allow("s3:ListBucket", BUCKET)]},
     A, None, None),
    ("actions without resource types apply to *", ALICE, "s3:ListAllMyBuckets", "*", {"identity_policies": [FULL]}, A, None, None),
    ("actions without resource types need Resource * in the policy", ALICE, "iam:ListRoles", f"arn:aws:iam::{ACC}:role/x",
     {"identity_policies": [allow("iam:ListRoles", f"arn:aws:iam::{ACC}:role/*")]}, D, "implicit", 'evaluated against resource "*"'),
    ("an action does not apply to another service's resources", ALICE, "s3:GetObject",
     f"arn:aws:dynamodb:us-east-1:{ACC}:table/t", {"identity_policies": [FULL]}, D, "implicit", "does not apply"),
    ("unknown actions are still evaluated", ALICE, "newsvc:DoThing", "arn:aws:newsvc:us-east-1:1:x/y",
     {"identity_policies": [allow("newsvc:*")], "resource_account": ACC}, A, None, "not in the action catalogue"),
    # --- case sensitivity ----------------------------------------------------------------------
    ("actions are case-insensitive", ALICE, "S3:getobject", OBJ, {"identity_policies": [allow("s3:GETOBJECT", f"{BUCKET}/*")]},
     A, None, None),
    ("resources are case-sensitive", ALICE, "s3:GetObject", OBJ, {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::B/*")]},
     D, "implicit", None),
    ("wildcards cross ':' and '/' in resources", ALICE, "s3:GetObject", "arn:aws:s3:::b/x/y/z",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b*z")]}, A, None, None),
    # --- policy variables ----------------------------------------------------------------------
    ("variables: ${aws:username} in Resource", ALICE, "s3:GetObject", "arn:aws:s3:::b/alice/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*")]}, A, None, None),
    ("variables: another user's folder", ALICE, "s3:GetObject", "arn:aws:s3:::b/bob/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*")]}, D, "implicit", None),
    ("variables: literal under Version 2008-10-17", ALICE, "s3:GetObject", "arn:aws:s3:::b/alice/x",
     {"identity_policies": [pol(st(action="s3:GetObject", resource="arn:aws:s3:::b/${aws:username}/*"), version="2008-10-17")]},
     D, "implicit", None),
    ("variables: literal when Version is missing", ALICE, "s3:GetObject", "arn:aws:s3:::b/${aws:username}/x",
     {"identity_policies": [pol(st(action="s3:GetObject", resource="arn:aws:s3:::b/${aws:username}/*"), version=None)]},
     A, None, None),
    ("variables: unresolvable (aws:username absent for a role session) matches nothing", SESSION, "s3:GetObject",
     "arn:aws:s3:::b/x", {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}*")]}, D, "implicit", None),
    ("variables: default value", SESSION, "s3:GetObject", "arn:aws:s3:::b/guest/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:username, 'guest'}/*")]}, A, None, None),
    ("variables: principal tag from the context", SESSION, "s3:GetObject", "arn:aws:s3:::b/data/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*")],
      "ctx": {"aws:PrincipalTag/team": "data"}}, A, None, None),
    ("variables: ${*} is a literal star in Resource", ALICE, "s3:GetObject", "arn:aws:s3:::b/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${*}")]}, D, "implicit", None),
    ("variables: unknown key in analysis mode is conditional", SESSION, "s3:GetObject", "arn:aws:s3:::b/data/x",
     {"identity_policies": [allow("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*")], "unknown": True},
     C, None, None),
    ("SCP admin exemption by aws:PrincipalArn works for role sessions (derived role ARN)", SESSION, "s3:GetObject", OBJ,
     {"identity_policies": [FULL], "scps": [[SCP_ALL, pol(st("Deny", "s3:*", Condition={"ArnNotLike": {
         "aws:PrincipalArn": f"arn:aws:iam::{ACC}:role/R"}}), kind="scp")]]}, A, None, None),
    ("variables: ${aws:PrincipalAccount} is derived from the principal", ALICE, "sqs:SendMessage",
     f"arn:aws:sqs:us-east-1:{ACC}:q", {"identity_policies": [allow("sqs:*", "arn:aws:sqs:*:${aws:PrincipalAccount}:*")]},
     A, None, None),
    # --- three-valued --------------------------------------------------------------------------
    ("three-valued: Allow over an unknown key is conditional", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [allow("s3:*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})], "unknown": True},
     C, None, "only if its conditions hold"),
    ("three-valued: the same key given is exact", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [allow("s3:*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})], "unknown": True,
      "ctx": {"aws:SourceVpc": "vpc-2"}}, D, "implicit", None),
    ("three-valued: a Deny over an unknown key makes an allowed answer conditional", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [FULL, deny("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
      "unknown": True}, C, None, "unless its conditions are false"),
    ("three-valued: an unknown Deny cannot make an implicit deny explicit", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [deny("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})], "unknown": True},
     D, "implicit", None),
    ("three-valued: a certain deny wins over unknowns", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [allow("s3:*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}), deny("s3:*")],
      "unknown": True}, D, "explicit", None),
    ("complete mode: a key not given is absent (no conditional answers)", ALICE, "s3:GetObject", OBJ,
     {"identity_policies": [allow("s3:*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})]}, D, "implicit", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_documented_rule(case):
    rule, principal, action, resource, kwargs, decision, denial, snippet = case
    kwargs = dict(kwargs)
    res = ev(principal, action, resource, ctx=kwargs.pop("ctx", None), unknown=kwargs.pop("unknown", False),
             resource_account=kwargs.pop("resource_account", None), **kwargs)
    assert res.decision == decision, (rule, res.explanation)
    assert res.denial == denial, (rule, res.explanation)
    if decision != Decision.CONDITIONAL:
        assert res.conditions == ()
    if snippet:
        assert any(snippet in line for line in res.explanation), (rule, res.explanation)
    assert res.explanation, rule


def test_conditional_terms_are_listed_with_their_origin():
    p = pol({"Sid": "VpcOnly", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}}}, source="arn:aws:iam::1:policy/P")
    d = pol({"Sid": "NoMfaNoGo", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}, source="DenyPolicy")
    res = ev(ALICE, "s3:GetObject", OBJ, identity_policies=[p, d], unknown=True)
    assert res.decision == C and res.denial is None
    terms = [t.to_dict() for t in res.conditions]
    assert {"effect": "Allow", "operator": "StringEquals", "key": "aws:SourceVpc", "values": ["vpc-1", "vpc-2"],
            "source": "arn:aws:iam::1:policy/P", "sid": "VpcOnly", "negated": False} in terms
    assert {"effect": "Deny", "operator": "BoolIfExists", "key": "aws:MultiFactorAuthPresent", "values": ["false"],
            "source": "DenyPolicy", "sid": "NoMfaNoGo", "negated": True} in terms
    out = res.to_dict()
    assert out["decision"] == "conditional" and out["denial"] is None and json.dumps(out)
    # Terms read as mappings too (the graph builder stores dict(term)).
    assert dict(res.conditions[0])["key"] in ("aws:SourceVpc", "aws:MultiFactorAuthPresent")


def test_known_keys_make_missing_keys_absent_in_unknown_mode():
    p = allow("s3:*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    req = Request(ALICE, "s3:GetObject", OBJ, unknown_keys="unknown", known_keys=frozenset({"aws:SourceVpc"}))
    assert evaluate(req, identity_policies=[p]).decision == D


def test_explanation_names_policy_and_statement():
    p = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Other", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Sid": "ReadAll", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}, source="arn:aws:iam::1:policy/P")
    res = ev(ALICE, "s3:GetObject", OBJ, identity_policies=[p])
    assert res.explanation[0] == "identity: allowed by arn:aws:iam::1:policy/P statement 'ReadAll' (#1)"
    d = rpol(st("Allow", "s3:*", f"{BUCKET}/*", Principal="*"), st("Deny", "s3:GetObject", f"{BUCKET}/*", Principal="*"))
    res = ev(ALICE, "s3:GetObject", OBJ, resource_policy=d)
    assert res.explanation == ("resource policy: explicit deny by resource-policy statement #1",)


def test_an_allowing_statement_explains_every_request_it_allows_alike():
    """The identity-only answer is one immutable Result per (allowing statement, note): requests it
    allows on other resources, and actions with a note (no resource-level permissions), each read
    their own statement and note."""
    p = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Get", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
        {"Sid": "List", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}, source="P")
    a = ev(ALICE, "s3:GetObject", OBJ, identity_policies=[p])
    b = ev(ALICE, "s3:GetObject", f"{BUCKET}/other", identity_policies=[p])
    assert a == b and a.explanation[0] == "identity: allowed by P statement 'Get' (#0)"
    assert a.explanation[1:] == ("resource account unknown: treated as the principal's account",)
    mine = ev(ALICE, "s3:GetObject", OBJ, resource_account=ACC, identity_policies=[p])
    assert mine.explanation == ("identity: allowed by P statement 'Get' (#0)",)  # no note
    listed = ev(ALICE, "s3:ListAllMyBuckets", BUCKET, resource_account=ACC, identity_policies=[p])
    assert listed.explanation == ("identity: allowed by P statement 'List' (#1)",  # the note is its own
                                  's3:ListAllMyBuckets supports no resource-level permissions: evaluated '
                                  'against resource "*"')
    assert ev(ALICE, "s3:GetObject", OBJ, identity_policies=[p]).explanation == a.explanation


def test_url_encoded_documents_evaluate_like_json():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}]}
    encoded = quote(json.dumps(doc), safe="")
    p = parse_policy(encoded)
    assert ev(ALICE, "s3:GetObject", OBJ, identity_policies=[p]).decision == A
    assert parse_policy(json.dumps(doc).encode()).statements[0].actions == ("s3:GetObject",)


def test_request_derives_principal_account():
    r = Request(SESSION, "s3:GetObject", OBJ)
    assert r.effective_principal_account() == ACC
    assert Request("lambda.amazonaws.com", "sts:AssumeRole", TARGET_ROLE).effective_principal_account() is None
    with pytest.raises(Exception, match="absent"):
        Request(ALICE, "s3:GetObject", OBJ, unknown_keys="maybe")


def test_public_building_blocks_for_the_graph_builder():
    assert Request(SESSION, "s3:GetObject", OBJ).principal_account == ACC
    assert Request(SESSION, "s3:GetObject", OBJ, principal_account=OTHER).principal_account == OTHER
    p = pol(st(action="s3:GetObject", resource="arn:aws:s3:::b/${aws:username}/*"))
    s = p.statements[0]
    assert s.effect == "Allow" and s.matches_action("s3:getobject")
    assert s.matches_resource("arn:aws:s3:::b/alice/k", {"aws:username": "alice"}) is True
    assert s.matches_resource("arn:aws:s3:::b/alice/k", {"aws:username": "bob"}) is False


def test_result_reads_as_the_named_tuple_it_always_was():
    """Explanations are formatted when first read; everything that reads a Result sees the strings."""
    import copy
    import pickle

    from iamreach.graph.policy import Result

    scps = [PolicyLevel((SCP_ALL,), "root"), PolicyLevel((pol(st(), kind="scp", source="OU"),), "ou")]
    for kwargs in ({"identity_policies": [allow("s3:*")], "scps": scps},  # the lean path
                   {"identity_policies": [allow("s3:*")], "resource_policy": rpol(st(Principal="*"))},  # general
                   {"identity_policies": [deny("s3:*")], "scps": scps}):  # explicit deny
        res = ev(ALICE, "s3:GetObject", OBJ, **kwargs)
        lines = res.explanation
        assert isinstance(lines, tuple) and lines and all(isinstance(x, str) for x in lines)
        assert res.explanation is lines  # formatted once
        decision, denial, conditions, explanation = res
        assert (decision, denial, conditions, explanation) == tuple(res) == (res[0], res[1], res[2], res[3])
        assert res[-1] == lines and res[1:] == (denial, conditions, lines) and len(res) == 4
        same = Result(decision, denial, conditions, lines)
        assert res == same and hash(res) == hash(same) and not res != same
        assert repr(res) == repr(same) and repr(res).startswith("Result(decision=")
        assert pickle.loads(pickle.dumps(res)) == res and copy.copy(res) == res
        assert res._asdict()["explanation"] == lines and res._replace(denial="x").explanation == lines
        assert res.to_dict()["explanation"] == list(lines)


def test_trust_and_key_policies_are_required_even_without_a_resource_policy_given():
    role = f"arn:aws:iam::{ACC}:role/app/R"
    scps = [PolicyLevel((SCP_ALL,), "root")]
    res = evaluate(Request(role, "sts:AssumeRole", role), identity_policies=[allow("sts:AssumeRole")], scps=scps)
    assert res.decision == D and res.denial == "implicit"
    assert any("requires the trust policy to allow" in line for line in res.explanation), res.explanation
    assert any("a role may assume itself only when" in line for line in res.explanation), res.explanation
    key = f"arn:aws:kms:us-east-1:{ACC}:key/k"
    res = evaluate(Request(ALICE, "kms:Decrypt", key), identity_policies=[allow("kms:*")])
    assert res.decision == D and any("requires the key policy to allow" in line for line in res.explanation)
    res = evaluate(Request(ALICE, "kms:Decrypt", key), identity_policies=[allow("kms:*")], resource_policy_required=False)
    assert res.decision == A


def test_the_per_pair_facts_come_out_as_the_catalogue_says():
    """What the action and the resource alone decide (the resource type check, the effective
    resource, the accounts, whether a trust / key policy is required, RCP scope) is computed for
    a new (action, resource) pair from a per-action and a per-resource record; it must equal what
    ``ActionCatalog.check`` and the ARN give, for catalogued actions with and without resource
    types, uncatalogued ones, ``*``, ARNs of other services and types, and strings that are no ARN."""
    import importlib

    from iamreach.graph.policy.catalog import default_catalog

    ev = importlib.import_module("iamreach.graph.policy.evaluate")
    cat = default_catalog()
    actions = ["sts:assumerole", "sts:tagsession", "kms:decrypt", "kms:listkeys", "kms:createkey", "s3:getobject",
               "s3:listallmybuckets", "s3:putbucketpolicy", "iam:passrole", "iam:createuser", "ec2:runinstances",
               "ec2:describeinstances", "dynamodb:getitem", "secretsmanager:getsecretvalue", "lambda:invokefunction",
               "sqs:sendmessage", "logs:putlogevents", "rds:describedbinstances", "glue:getjob", "s3:notanaction",
               "nosuchservice:do", "iam:*"]
    actions += sorted(a.lower() for a in cat.expand("kms:*"))[:40] + sorted(a.lower() for a in cat.expand("s3:*"))[:60]
    resources = ["*", OBJ, BUCKET, ROLE, X_ROLE, f"arn:aws:iam::{ACC}:role/aws-service-role/ops.amazonaws.com/AWSServiceRole",
                 f"arn:aws:iam::{ACC}:user/alice", f"arn:aws:kms:us-east-1:{ACC}:key/1234",
                 f"arn:aws:kms:us-east-1:{ACC}:alias/a", f"arn:aws:ec2:us-east-1:{ACC}:instance/i-1",
                 f"arn:aws:dynamodb:us-east-1:{OTHER}:table/t", f"arn:aws:secretsmanager:us-east-1:{ACC}:secret:s-AbC",
                 f"arn:aws:lambda:us-east-1:{ACC}:function:f", f"arn:aws:sqs:us-east-1:{ACC}:q",
                 f"arn:aws:rds:us-east-1:{ACC}:db:prod", f"arn:aws:s3:::{ACC}-bucket/role/key/x",
                 f"arn:aws:iam::{ACC}:root", "arn:aws:s3:::b/k:role/x", "not-an-arn", "arn:aws:unknownsvc:::thing"]
    kinds = set()
    for act in actions:
        act = ev.canonical_action(act)
        for resource in resources:
            want = ev._facts(cat, act, resource)
            assert ev._default_facts(act, resource) == want, (act, resource)
            kinds.add((want[0], want[5], want[6]))
    # the cases reach every answer of the type check and both values of required / rcp
    assert {k[0] for k in kinds} == {True, False, None}
    assert {k[1] for k in kinds} == {True, False} and {k[2] for k in kinds} == {True, False}
