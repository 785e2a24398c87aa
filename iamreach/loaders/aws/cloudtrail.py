"""CloudTrail: trails (home region only), multi-region / organization flags, selectors, logging status."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Inventory, Resource
from iamreach.loaders.aws._common import Context, jsonable, tags_dict

__all__ = ["collect", "normalize", "GLOBAL"]

GLOBAL = False


def collect(ctx: Context) -> dict[str, Any]:
    """Raw CloudTrail responses for the trails whose home region is this region."""
    resp = ctx.call("cloudtrail", "describe_trails", includeShadowTrails=False)
    if resp is None:
        return {"trails": None}
    out = []
    for t in resp.get("trailList") or []:
        if t.get("HomeRegion") and t["HomeRegion"] != ctx.region:
            continue
        arn = t["TrailARN"]
        status = ctx.call("cloudtrail", "get_trail_status", resource=arn, Name=arn)
        selectors = ctx.call("cloudtrail", "get_event_selectors", resource=arn, TrailName=arn)
        out.append({**t, "Status": status, "Selectors": selectors})
    return jsonable({"trails": out})


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Trails as ``cloudtrail_trail`` resources."""
    inv = Inventory()
    for t in raw.get("trails") or []:
        status = t.get("Status")
        sel = t.get("Selectors") or {}
        inv.resources.append(Resource(
            arn=t["TrailARN"], kind="cloudtrail_trail", account=account, region=t.get("HomeRegion") or region,
            id=t["Name"], name=t["Name"], tags=tags_dict(t.get("Tags")), attributes={
                "home_region": t.get("HomeRegion") or region,
                "multi_region": bool(t.get("IsMultiRegionTrail")),
                "organization_trail": bool(t.get("IsOrganizationTrail")),
                "is_logging": None if not status else bool(status.get("IsLogging")),
                "s3_bucket": t.get("S3BucketName"),
                "event_selectors": sel.get("EventSelectors") or [],
                "advanced_event_selectors": sel.get("AdvancedEventSelectors") or []}))
    return inv.sort()
