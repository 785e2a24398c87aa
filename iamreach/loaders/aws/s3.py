"""S3: buckets with policy, Block Public Access (bucket and account), ownership, ACL, encryption, tags."""

from __future__ import annotations

from typing import Any

from iamreach.inventory import Account, Inventory, Resource
from iamreach.loaders.aws._common import ABSENT, Context, jsonable, parse_document, tags_dict

__all__ = ["collect", "normalize", "GLOBAL", "kms_arn"]

GLOBAL = True
_BPA_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _get(ctx: Context, api: str, bucket: str, absent: tuple[str, ...] = ()) -> Any:
    resp = ctx.call("s3", api, resource=f"arn:aws:s3:::{bucket}", absent=absent, Bucket=bucket)
    return resp if resp is not ABSENT else {}


def collect(ctx: Context) -> dict[str, Any]:
    """Raw S3 responses for every bucket of the account (and the account-level BPA)."""
    account_bpa = ctx.call("s3control", "get_public_access_block", AccountId=ctx.account,
                           absent=("NoSuchPublicAccessBlockConfiguration",))
    listed = ctx.call("s3", "list_buckets")
    buckets = []
    for b in (listed or {}).get("Buckets") or []:
        name = b["Name"]
        buckets.append({
            "Name": name,
            "Location": _get(ctx, "get_bucket_location", name),
            "Policy": _get(ctx, "get_bucket_policy", name, ("NoSuchBucketPolicy",)),
            "PublicAccessBlock": _get(ctx, "get_public_access_block", name,
                                      ("NoSuchPublicAccessBlockConfiguration",)),
            "OwnershipControls": _get(ctx, "get_bucket_ownership_controls", name,
                                      ("OwnershipControlsNotFoundError",)),
            "Acl": _get(ctx, "get_bucket_acl", name),
            "Encryption": _get(ctx, "get_bucket_encryption", name,
                               ("ServerSideEncryptionConfigurationNotFoundError",)),
            "Tagging": _get(ctx, "get_bucket_tagging", name, ("NoSuchTagSet",)),
        })
    return jsonable({"account_public_access_block": {} if account_bpa is ABSENT else account_bpa,
                     "buckets": buckets if listed else None})


def kms_arn(key: str | None, account: str, region: str | None) -> str | None:
    """A KMS key reference (id, alias name, ARN) as an ARN.

    >>> kms_arn("1234abcd-12ab-34cd-56ef-1234567890ab", "111122223333", "us-east-1")
    'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    >>> kms_arn("alias/aws/s3", "111122223333", "us-east-1")
    'arn:aws:kms:us-east-1:111122223333:alias/aws/s3'
    """
    if not key:
        return None
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:aws:kms:{region}:{account}:{key}"
    return f"arn:aws:kms:{region}:{account}:key/{key}"


def _bpa(resp: dict | None) -> dict[str, bool] | None:
    conf = (resp or {}).get("PublicAccessBlockConfiguration")
    if not conf:
        return None
    return {flag: bool(conf.get(flag)) for flag in _BPA_FLAGS}


def _region(location: dict | None) -> str | None:
    if location is None or "LocationConstraint" not in location and not location:
        return None
    loc = location.get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)


def _grants(acl: dict | None) -> list[dict] | None:
    if not acl:
        return None
    out = []
    for g in acl.get("Grants") or []:
        grantee = g.get("Grantee") or {}
        gtype = grantee.get("Type")
        ident = grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress")
        out.append({"grantee_type": gtype, "grantee": ident, "permission": g.get("Permission")})
    return sorted(out, key=lambda g: (str(g["grantee_type"]), str(g["grantee"]), str(g["permission"])))


def _encryption(resp: dict | None, account: str, region: str | None) -> dict | None:
    rules = ((resp or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default:
            return {"algorithm": default.get("SSEAlgorithm"),
                    "kms_key_arn": kms_arn(default.get("KMSMasterKeyID"), account, region)}
    return None


def normalize(raw: dict[str, Any], account: str, region: str | None = None) -> Inventory:
    """Buckets as ``s3_bucket`` resources, and the account-level BPA on the Account record."""
    inv = Inventory()
    if raw.get("account_public_access_block") is not None:
        inv.accounts.append(Account(id=account, s3_public_access_block=_bpa(raw["account_public_access_block"])))
    for b in raw.get("buckets") or []:
        name = b["Name"]
        bregion = _region(b.get("Location"))
        ownership = ((b.get("OwnershipControls") or {}).get("OwnershipControls") or {}).get("Rules") or []
        policy_text = (b.get("Policy") or {}).get("Policy")
        inv.resources.append(Resource(
            arn=f"arn:aws:s3:::{name}", kind="s3_bucket", account=account, region=bregion, id=name, name=name,
            tags=tags_dict((b.get("Tagging") or {}).get("TagSet")),
            policy=parse_document(policy_text, where=f"s3 bucket {name} policy") if policy_text else None,
            attributes={
                "public_access_block": _bpa(b.get("PublicAccessBlock")),
                "ownership": ownership[0].get("ObjectOwnership") if ownership else None,
                "acl_grants": _grants(b.get("Acl")) or [],
                "encryption": _encryption(b.get("Encryption"), account, bregion),
            }))
    return inv.sort()
