"""IAMR-010: CloudTrail gaps in accounts that hold PHI stores or run synthetic workloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    account_root,
    as_list,
    attributes,
    environments,
    has_label,
    node_attrs,
    nodes,
    out_edges,
    roles_of,
    snippet,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.model import COMPUTE_KINDS, DATA_STORE_KINDS

__all__ = ["cloudtrail_gaps", "trail_selects"]

S3_OBJECT = "AWS::S3::Object"
LAMBDA_FUNCTION = "AWS::Lambda::Function"


def _classic_selects(selectors: list, rtype: str, probe: str) -> bool:
    service_prefix = "arn:aws:s3" if rtype == S3_OBJECT else "arn:aws:lambda"
    for sel in as_list(selectors):
        if not isinstance(sel, dict) or sel.get("ReadWriteType") == "None":
            continue
        for res in as_list(sel.get("DataResources")):
            if not isinstance(res, dict) or res.get("Type") != rtype:
                continue
            for value in as_list(res.get("Values")):
                v = str(value)
                if v in (service_prefix, f"{service_prefix}:::", f"{service_prefix}:") or probe.startswith(v):
                    return True
    return False


def _field_matches(fs: dict, value: str) -> bool:
    tests = {
        "Equals": lambda xs: value in xs,
        "StartsWith": lambda xs: any(value.startswith(x) for x in xs),
        "EndsWith": lambda xs: any(value.endswith(x) for x in xs),
        "NotEquals": lambda xs: value not in xs,
        "NotStartsWith": lambda xs: not any(value.startswith(x) for x in xs),
        "NotEndsWith": lambda xs: not any(value.endswith(x) for x in xs),
    }
    return all(test([str(x) for x in as_list(fs[op])]) for op, test in tests.items() if op in fs)


def _advanced_selects(selectors: list, rtype: str, probe: str) -> bool:
    for sel in as_list(selectors):
        if not isinstance(sel, dict):
            continue
        fields = {str(fs.get("Field")): fs for fs in as_list(sel.get("FieldSelectors")) if isinstance(fs, dict)}
        if "eventCategory" not in fields or not _field_matches(fields["eventCategory"], "Data"):
            continue
        if "resources.type" not in fields or not _field_matches(fields["resources.type"], rtype):
            continue
        if "resources.ARN" in fields and not _field_matches(fields["resources.ARN"], probe):
            continue
        return True
    return False


def trail_selects(attrs: dict, rtype: str, probe: str) -> bool:
    """Does a trail's classic or advanced event selectors log data events of ``probe``?

    ``probe`` is an S3 object ARN (``arn:aws:s3:::bucket/x``) or a Lambda function ARN.

    >>> adv = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
    ...        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ...        {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::phi/"]}]}]
    >>> trail_selects({"advanced_event_selectors": adv}, S3_OBJECT, "arn:aws:s3:::phi/x")
    True
    >>> trail_selects({"advanced_event_selectors": adv}, S3_OBJECT, "arn:aws:s3:::other/x")
    False
    """
    return (_classic_selects(attrs.get("event_selectors") or [], rtype, probe)
            or _advanced_selects(attrs.get("advanced_event_selectors") or [], rtype, probe))


def _accounts_of_interest(G: Any, env: Environments) -> dict[str, list[str]]:
    why: dict[str, list[str]] = defaultdict(list)
    for n, d in G.nodes(data=True):
        acct = d.get("account")
        if not acct:
            continue
        kind = str(d.get("kind"))
        if kind in {k.value for k in DATA_STORE_KINDS} and "phi" in (d.get("labels") or ()):
            why[acct].append(f"PHI store {n}")
        elif kind in {k.value for k in COMPUTE_KINDS} and env.is_synthetic(n):
            why[acct].append(f"synthetic workload {n}")
    return {a: sorted(v) for a, v in sorted(why.items())}


def _data_lambdas(G: Any, account: str, env: Environments) -> list[str]:
    """Functions in ``account`` that move data: synthetic ones, and ones whose role reads or writes a store."""
    stores = {k.value for k in DATA_STORE_KINDS}
    out = []
    for fn in nodes(G, "lambda_function"):
        if node_attrs(G, fn).get("account") != account:
            continue
        moves = any(str(node_attrs(G, v).get("kind")) in stores
                    for role in roles_of(G, fn) for _, v, _, _ in out_edges(G, role, ("reads", "writes")))
        if moves or env.is_synthetic(fn):
            out.append(fn)
    return out


def _trails_for(G: Any, account: str, trails: list[str]) -> list[str]:
    return [t for t in trails if node_attrs(G, t).get("account") == account
            or attributes(G, t).get("organization_trail") is True]


def _cloudtrail_gaps(G: Any, account: str) -> list[dict]:
    return [dict(g) for g in G.graph.get("gaps", ()) or ()
            if isinstance(g, dict) and g.get("service") == "cloudtrail" and g.get("account") in (None, account)]


_SELECTOR_SNIPPET = {
    "AdvancedEventSelectors": [{
        "Name": "PHI and data-moving functions",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [S3_OBJECT]},
        ],
    }, {
        "Name": "Lambda invocations",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [LAMBDA_FUNCTION]},
        ],
    }],
}


@check(
    id="IAMR-010",
    title="CloudTrail does not record what happens to PHI or synthetic workloads",
    severity="medium",
    categories=("logging", "cloudtrail", "detection"),
    kinds=("cloudtrail_trail", "account", "s3_bucket", "lambda_function"),
    rationale="""Accounts that hold PHI stores or run synthetic workloads need a logging,
    multi-region trail to answer "who touched the data"; management events alone do not show
    object reads, so PHI buckets need S3 data events (classic or advanced selectors) and the
    Lambda functions that move data need Lambda data events.""",
    remediation="""Create (or turn on) a multi-region trail, or an organization trail, and add
    advanced event selectors for S3 object and Lambda data events.""",
)
def cloudtrail_gaps(G: Any, config: Any) -> Iterator[Finding]:
    meta = cloudtrail_gaps.meta
    env = environments(G)
    trails = nodes(G, "cloudtrail_trail")
    for account, reasons in _accounts_of_interest(G, env).items():
        applicable = _trails_for(G, account, trails)
        gaps = _cloudtrail_gaps(G, account)
        status = "unknown" if gaps else "fail"
        logging = [t for t in applicable if attributes(G, t).get("is_logging") is True]
        multi = [t for t in logging if attributes(G, t).get("multi_region") is True]
        unknown_state = [t for t in applicable if attributes(G, t).get("is_logging") is None
                         and attributes(G, t).get("multi_region") is True]
        if not multi:
            state = "unknown" if (gaps or unknown_state) else "fail"
            yield meta.finding(
                status=state, resource=account_root(account), account=account,
                message=(f"Account {account_root(account)} ({'; '.join(reasons[:3])}) has no logging multi-region "
                         "CloudTrail trail" + (" that iamreach could see (collection gaps)" if state == "unknown" else "")),
                remediation=(f"Create a multi-region trail in account {account} (aws cloudtrail create-trail "
                             "--is-multi-region-trail --name org-audit --s3-bucket-name LOG-BUCKET; "
                             "aws cloudtrail start-logging --name org-audit) or an organization trail"),
                gaps=gaps, key=("multi-region",),
                evidence=[{"type": "attribute", "ref": t, "sid": None, "index": None,
                           "detail": f"multi_region={attributes(G, t).get('multi_region')}, "
                                     f"is_logging={attributes(G, t).get('is_logging')}"} for t in applicable],
            )
        yield from _data_events(G, meta, account, logging, status, gaps, env)


def _data_events(G: Any, meta: Any, account: str, logging: list[str], status: str, gaps: list[dict],
                 env: Environments) -> Iterator[Finding]:
    names = ", ".join(logging) or "none"
    for bucket in nodes(G, "s3_bucket", label="phi"):
        if node_attrs(G, bucket).get("account") != account:
            continue
        probe = f"{bucket}/object"
        if any(trail_selects(attributes(G, t), S3_OBJECT, probe) for t in logging):
            continue
        yield meta.finding(
            status=status, resource=bucket, account=account,
            message=f"No logging trail records S3 data events for PHI bucket {bucket} (logging trails: {names})",
            remediation=(f"Add an advanced event selector for {S3_OBJECT} data events on {bucket} to a logging "
                         "trail (aws cloudtrail put-event-selectors --advanced-event-selectors ...)"),
            snippet=snippet(_SELECTOR_SNIPPET["AdvancedEventSelectors"][0]),
            gaps=gaps, key=("s3-data-events",),
        )
    for fn in _data_lambdas(G, account, env):
        if any(trail_selects(attributes(G, t), LAMBDA_FUNCTION, fn) for t in logging):
            continue
        yield meta.finding(
            status=status, resource=fn, account=account,
            message=(f"No logging trail records Lambda data events (Invoke) for function {fn}, which "
                     f"{'is a synthetic workload' if has_label(G, fn, 'synthetic') or account in env.synthetic else 'moves data'}"
                     f" (logging trails: {names})"),
            remediation=(f"Add an advanced event selector for {LAMBDA_FUNCTION} data events covering {fn} "
                         "to a logging trail"),
            snippet=snippet(_SELECTOR_SNIPPET["AdvancedEventSelectors"][1]),
            gaps=gaps, key=("lambda-data-events",),
        )
