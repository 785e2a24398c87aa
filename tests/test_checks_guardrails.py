"""IAMR-012: SCP/RCP guardrails evaluated with the policy engine on a small organization."""

from __future__ import annotations

import json

from test_checks_support import PROD, SYN, Kit, root, run

from iamreach.analyses.checks.guardrails import guardrail_scp, scp_guardrail
from iamreach.inventory import Organization, OrgPolicy

MGMT = "999999999999"
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _org(*extra: OrgPolicy) -> Kit:
    k = Kit()
    k.account(MGMT, ou_path=("r-root",))
    k.account(PROD, "production", ou_path=("r-root", "ou-prod"))
    k.account(SYN, "synthetic", ou_path=("r-root", "ou-syn"))
    k.inv.organization = Organization(id="o-test", management_account_id=MGMT, root_id="r-root",
                                      units=[{"id": "ou-prod", "name": "Production", "parent_id": "r-root"},
                                             {"id": "ou-syn", "name": "Synthetic", "parent_id": "r-root"}])
    k.inv.org_policies.append(OrgPolicy(id="p-full", type="SCP", name="FullAWSAccess", document=FULL,
                                        targets=["r-root", "ou-prod", "ou-syn", MGMT, PROD, SYN], aws_managed=True))
    k.inv.org_policies.extend(extra)
    k.bucket("phi-claims", PROD, "phi")
    k.resource(f"arn:aws:dynamodb:us-east-1:{PROD}:table/patients", "dynamodb_table", PROD, "phi")
    k.role("prod-reader", PROD)
    return k


def test_012_fails_without_a_guardrail_and_suggests_the_scp():
    k = _org(OrgPolicy(id="p-deny-leave", type="SCP", name="no-leave", targets=["ou-syn"], document={
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization",
                                                "Resource": "*"}]}))
    (f,) = run(scp_guardrail, k.G)
    assert f.resource == root(SYN) and f.status == "fail" and root(SYN) in f.message
    assert "s3:GetObject" in f.message and "--target-id ou-syn" in f.remediation
    scp = json.loads(f.snippet)
    assert scp["Statement"][0]["Effect"] == "Deny"
    assert scp["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"] == [PROD]


def test_012_passes_once_the_suggested_scp_is_attached():
    k = _org(OrgPolicy(id="p-guard", type="SCP", name="guard", targets=["ou-syn"], document=guardrail_scp([PROD])))
    assert run(scp_guardrail, k.G) == []


def test_012_passes_with_an_rcp_on_production_that_denies_synthetic_principals():
    rcp = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": ["s3:*", "dynamodb:*", "sts:*", "kms:*", "secretsmanager:*"],
        "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": [SYN]}}}]}
    full_rcp = OrgPolicy(id="p-rcp-full", type="RCP", name="RCPFullAWSAccess", targets=["r-root", "ou-prod", PROD],
                         document={"Version": "2012-10-17", "Statement": [
                             {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
    k = _org(full_rcp, OrgPolicy(id="p-rcp", type="RCP", name="deny-synth", targets=["ou-prod"], document=rcp))
    assert run(scp_guardrail, k.G) == []


def test_012_unknown_without_organization_data():
    k = Kit()
    k.account(PROD, "production")
    k.account(SYN, "synthetic")
    k.bucket("phi-claims", PROD, "phi")
    k.gap("organizations", "ListPolicies", account=SYN)
    (f,) = run(scp_guardrail, k.G)
    assert f.status == "unknown" and f.gaps
