"""IAMR-009: a KMS key used by both environments, or a production key synthetic principals can decrypt with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    attributes,
    edge_fix,
    environments,
    in_edges,
    node_attrs,
    nodes,
    out_edges,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Hop, Path

__all__ = ["kms_cross_environment", "key_users"]


def _key_refs(attrs: dict) -> list[str]:
    refs = [attrs.get("kms_key_arn"), attrs.get("kms_key_id")]
    enc = attrs.get("encryption")
    if isinstance(enc, dict):
        refs.append(enc.get("kms_key_arn"))
    return [str(r) for r in refs if r]


def key_users(G: Any) -> dict[str, set[str]]:
    """``{key ARN: nodes whose data it encrypts}`` from attributes and ``unlocks`` edges."""
    keys = nodes(G, "kms_key")
    by_id = {k.rsplit("/", 1)[-1]: k for k in keys}
    users: dict[str, set[str]] = defaultdict(set)
    for n, d in G.nodes(data=True):
        rec = d.get("record")
        attrs = getattr(rec, "attributes", None)
        if not isinstance(attrs, dict):
            continue
        for ref in _key_refs(attrs):
            key = ref if ref in G else by_id.get(ref.rsplit("/", 1)[-1])
            if key and key != n:
                users[key].add(n)
    for key in keys:
        for _, v, _, _ in out_edges(G, key, ("unlocks",)):
            users[key].add(v)
    return users


@check(
    id="IAMR-009",
    title="KMS key shared by synthetic and production, or production key decryptable by synthetic principals",
    severity="high",
    categories=("kms", "encryption", "cross-environment"),
    kinds=("kms_key",),
    rationale="""Encryption only separates environments when each has its own keys: a key used
    for both synthetic and production data, or a production key whose key policy or grants let
    a synthetic principal call kms:Decrypt, turns any copy of production ciphertext into
    plaintext for synthetic workloads.""",
    remediation="""Give the synthetic environment its own customer managed keys; remove the
    synthetic principals from the production key policy and revoke their grants.""",
)
def kms_cross_environment(G: Any, config: Any) -> Iterator[Finding]:
    meta = kms_cross_environment.meta
    env = environments(G)
    users = key_users(G)
    for key in nodes(G, "kms_key"):
        account = node_attrs(G, key).get("account")
        used = sorted(users.get(key, ()))
        syn_users = [n for n in used if env.is_synthetic(n)]
        prod_users = [n for n in used if env.is_production(n)]
        if syn_users and prod_users:
            yield meta.finding(
                resource=key, account=account,
                message=(f"KMS key {key} encrypts both synthetic ({', '.join(syn_users[:3])}) and "
                         f"production ({', '.join(prod_users[:3])}) data"),
                remediation=(f"Create a separate customer managed key for the synthetic data and re-encrypt "
                             f"{', '.join(syn_users)} with it"),
                evidence=[{"type": "attribute", "ref": n, "sid": None, "index": None,
                           "detail": f"encrypted with {key}"} for n in (*syn_users, *prod_users)],
                key=("shared",),
            )
        if not env.is_production(key):
            continue
        seen: set[str] = set()
        for u, v, _, data in in_edges(G, key, ("decrypts",)):
            if not env.names_synthetic(u):
                continue
            seen.add(u)
            yield meta.finding(
                resource=key, account=account,
                message=f"Synthetic {u} can decrypt with production KMS key {key}: {data.get('reason', '')}".rstrip(": "),
                remediation=edge_fix(u, v, data),
                evidence=tuple(data.get("evidence") or ()),
                paths=[Path((Hop.from_edge(u, v, data),))],
                key=("decrypt", u),
            )
        yield from _grants(G, meta, key, account, env, seen)


def _grants(G: Any, meta: Any, key: str, account: str | None, env: Environments,
            seen: set[str]) -> Iterator[Finding]:
    for grant in attributes(G, key).get("grants") or ():
        grantee = str(grant.get("grantee_principal") or "")
        ops = [str(o) for o in grant.get("operations") or ()]
        if not any(o in ("Decrypt", "ReEncryptFrom", "CreateGrant") for o in ops):
            continue
        if grantee in seen or not env.names_synthetic(grantee):
            continue
        gid = str(grant.get("grant_id") or "")
        key_id = key.rsplit("/", 1)[-1]
        yield meta.finding(
            resource=key, account=account,
            message=f"Grant {gid} on production KMS key {key} lets synthetic {grantee} {', '.join(ops)}",
            remediation=f"Revoke the grant: aws kms revoke-grant --key-id {key_id} --grant-id {gid}",
            evidence=[{"type": "kms_grant", "ref": key, "sid": gid, "index": None,
                       "detail": f"grantee {grantee}, operations {ops}"}],
            key=("grant", gid),
        )
