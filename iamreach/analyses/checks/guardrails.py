"""IAMR-012: no SCP/RCP guardrail keeps the synthetic accounts out of production resources.

The SCPs on each synthetic account's path (root, OUs, account) and the RCPs on each production
account's path are evaluated with the policy engine for a representative production action per
resource kind, as an administrator of the synthetic account would request it (identity policy
``*:*``) against a resource policy that lets everyone in (what a future mistake would write): if
the organization policies allow any of them, no guardrail exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    account_root,
    environments,
    gaps_matching,
    has_label,
    node_attrs,
    nodes,
    snippet,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.errors import PolicyError
from iamreach.graph.policy import Decision, Request, evaluate, parse_policy

__all__ = ["scp_guardrail", "PROBES", "guardrail_scp"]

#: Representative production action per resource kind, and how to build the resource ARN.
PROBES: dict[str, tuple[str, str]] = {
    "s3_bucket": ("s3:GetObject", "{arn}/*"),
    "dynamodb_table": ("dynamodb:Scan", "{arn}"),
    "rds_instance": ("rds:CreateDBSnapshot", "{arn}"),
    "rds_cluster": ("rds:CreateDBClusterSnapshot", "{arn}"),
    "rds_snapshot": ("rds:RestoreDBInstanceFromDBSnapshot", "{arn}"),
    "rds_cluster_snapshot": ("rds:RestoreDBClusterFromSnapshot", "{arn}"),
    "ebs_snapshot": ("ec2:CreateVolume", "{arn}"),
    "secret": ("secretsmanager:GetSecretValue", "{arn}"),
    "kms_key": ("kms:Decrypt", "{arn}"),
    "role": ("sts:AssumeRole", "{arn}"),
}
_ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
#: Stands for "some day a resource policy lets the synthetic principal in": only the
#: organization policies are left to decide.
_OPEN_RESOURCE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                          "Action": "*", "Resource": "*"}]}


def guardrail_scp(production_accounts: list[str]) -> dict:
    """The SCP to attach to the synthetic OU: deny data actions on production accounts' resources."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenySyntheticToProduction",
            "Effect": "Deny",
            "Action": sorted({a for a, _ in PROBES.values()} | {"s3:*", "dynamodb:*", "rds-db:connect"}),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": sorted(production_accounts)}},
        }],
    }


def _levels(inv: Any, account: str, type_: str, parse: Any, unreadable: list[dict]) -> tuple[tuple, ...]:
    """Policies per level (root, OUs, account) of ``account``; unparseable ones go to ``unreadable``."""
    acct = inv.account(account) if inv is not None else None
    policies = [p for p in getattr(inv, "org_policies", ()) or () if p.type.upper() == type_]
    if acct is None or not acct.ou_path or not policies:
        return ()  # outside the organization, or this policy type is not enabled: no layer
    by_target: dict[str, list] = defaultdict(list)
    for p in policies:
        try:
            parsed = parse(p.document, source=p.arn or p.id, kind=type_.lower())
        except PolicyError as exc:
            unreadable.append({"service": "organizations", "api": "DescribePolicy", "error_code": "PolicyParseError",
                               "account": account, "region": None, "message": str(exc), "resource": p.arn or p.id})
            continue
        for t in p.targets:
            by_target[t].append(parsed)
    return tuple(tuple(by_target.get(t, ())) for t in [*acct.ou_path, account])


def _attached(inv: Any, accounts: list[str], type_: str) -> list[dict]:
    """Evidence: each org policy of ``type_`` attached on the path of one of ``accounts``."""
    out = {}
    for account in accounts:
        acct = inv.account(account) if inv is not None else None
        chain = [*(acct.ou_path if acct else ()), account]
        for p in getattr(inv, "org_policies", ()) or ():
            if p.type.upper() != type_:
                continue
            for t in p.targets:
                if t in chain:
                    out[(p.id, t)] = {"type": type_.lower(), "ref": p.arn or p.id, "sid": None, "index": None,
                                      "detail": f"{p.name or p.id} attached to {t}: evaluated, lets the probes below through"}
    return [out[k] for k in sorted(out)]


def _probes(G: Any, production: set[str]) -> list[tuple[str, str, str, str]]:
    """(account, action, resource ARN, node) per production account and resource kind: PHI first."""
    chosen: dict[tuple[str, str], str] = {}
    for n in nodes(G, PROBES):
        acct = node_attrs(G, n).get("account")
        if acct not in production:
            continue
        key = (acct, str(node_attrs(G, n).get("kind")))
        current = chosen.get(key)
        if current is None or (has_label(G, n, "phi") and not has_label(G, current, "phi")):
            chosen[key] = n
    out = []
    for (acct, kind), n in sorted(chosen.items()):
        action, template = PROBES[kind]
        out.append((acct, action, template.format(arn=n), n))
    return out


def _context(G: Any, principal: str, account: str, resource_account: str) -> dict:
    inv = G.graph.get("inventory")
    ctx: dict[str, Any] = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account,
                           "aws:PrincipalType": "AssumedRole", "aws:PrincipalIsAWSService": "false",
                           "aws:ResourceAccount": resource_account}
    org = getattr(inv, "organization", None)
    if org is not None:
        ctx["aws:PrincipalOrgID"] = org.id
        ctx["aws:ResourceOrgID"] = org.id
        acct = inv.account(account)
        if acct is not None and acct.ou_path:
            ctx["aws:PrincipalOrgPaths"] = ["/".join([org.id, *acct.ou_path]) + "/"]
    return ctx


@check(
    id="IAMR-012",
    title="No SCP/RCP guardrail denies the synthetic accounts access to production resources",
    severity="high",
    categories=("organizations", "scp", "rcp", "guardrail"),
    kinds=("account",),
    rationale="""IAM policies in the synthetic accounts can be changed by whoever administers
    them; only a service control policy on the synthetic OU (or a resource control policy on
    production) keeps a future mistake from opening production data. The check evaluates the
    SCPs and RCPs with the policy engine for a representative production action on each kind of
    production resource.""",
    remediation="""Attach an SCP to the synthetic OU that denies data actions when
    aws:ResourceAccount is a production account (snippet), or an RCP on production that denies
    principals outside the production OU paths.""",
)
def scp_guardrail(G: Any, config: Any) -> Iterator[Finding]:
    meta = scp_guardrail.meta
    inv = G.graph.get("inventory")
    env = environments(G)
    synthetic, production = sorted(env.synthetic), set(env.production)
    probes = _probes(G, production)
    if not synthetic or not probes:
        return
    admin = parse_policy(_ADMIN, source="iamreach:account-administrator")
    open_resource = parse_policy(_OPEN_RESOURCE, source="iamreach:open-resource-policy", kind="resource")
    org = getattr(inv, "organization", None)
    mgmt = org.management_account_id if org is not None else None
    for account in synthetic:
        unreadable: list[dict] = []
        gaps = gaps_matching(G, ("organizations",), account)
        principal = f"arn:aws:iam::{account}:role/iamreach-guardrail-probe"
        scps = _levels(inv, account, "SCP", parse_policy, unreadable)
        allowed = []
        for res_acct, action, resource, node in probes:
            if res_acct == account:
                continue
            rcps = _levels(inv, res_acct, "RCP", parse_policy, unreadable)
            ctx = _context(G, principal, account, res_acct)
            req = Request(principal=principal, action=action, resource=resource, resource_account=res_acct,
                          principal_account=account, context=ctx, unknown_keys="unknown",
                          known_keys=frozenset(ctx))
            result = evaluate(req, identity_policies=(admin,), resource_policy=open_resource, scps=scps, rcps=rcps,
                              principal_is_management_account=account == mgmt,
                              resource_in_management_account=res_acct == mgmt)
            if result.decision != Decision.DENIED:
                allowed.append((action, resource, node, result))
        if not allowed:
            continue
        ou = ""
        acct_rec = inv.account(account) if inv is not None else None
        if acct_rec is not None and acct_rec.ou_path:
            ou = acct_rec.ou_path[-1]
        where = f"organizational unit {ou}" if ou else f"account {account}"
        shown = "; ".join(f"{a} on {r}" for a, r, _, _ in allowed[:4]) + (" ..." if len(allowed) > 4 else "")
        note = ""
        if account == mgmt:
            note = " (it is the management account: SCPs never apply to it; move the workloads out)"
        elif not scps:
            note = " (the account is not placed in an organization tree iamreach collected)"
        yield meta.finding(
            status="unknown" if (gaps and not scps) or unreadable else "fail",
            resource=account_root(account), account=account,
            message=(f"No SCP/RCP guardrail stops synthetic account {account_root(account)} from production: "
                     f"the organization policies allow {shown}{note}"),
            remediation=(f"Attach the SCP in the snippet to {where} (aws organizations create-policy --type "
                         f"SERVICE_CONTROL_POLICY ...; aws organizations attach-policy --target-id {ou or account})"),
            snippet=snippet(guardrail_scp(sorted(production))),
            evidence=[*_attached(inv, [account], "SCP"),
                      *_attached(inv, sorted({a for a, _, _, _ in probes}), "RCP")]
            + [{"type": "probe", "ref": node, "sid": None, "index": None,
                       "detail": f"{action} on {resource}: {res.decision.value if hasattr(res.decision, 'value') else res.decision}"
                                 + (f" ({'; '.join(res.explanation[:2])})" if getattr(res, 'explanation', None) else "")}
                      for action, resource, node, res in allowed],
            gaps=[*gaps, *unreadable],
            key=("guardrail",),
        )
