"""IAMR-005: production snapshots shared with / public to / restorable by synthetic accounts;
unencrypted snapshots of PHI stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    Environments,
    arn_account,
    attributes,
    environments,
    has_label,
    in_edges,
    node_attrs,
    nodes,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Hop, Path

__all__ = ["snapshot_exposure", "SNAPSHOT_KINDS"]

SNAPSHOT_KINDS = ("ebs_snapshot", "rds_snapshot", "rds_cluster_snapshot")


def _unshare_command(snap: str, kind: str, name: str, accounts: list[str]) -> str:
    ids = " ".join(accounts)
    if kind == "ebs_snapshot":
        if "all" in accounts:
            return (f"aws ec2 modify-snapshot-attribute --snapshot-id {name} --attribute createVolumePermission "
                    "--operation-type remove --group-names all")
        return (f"aws ec2 modify-snapshot-attribute --snapshot-id {name} --attribute createVolumePermission "
                f"--operation-type remove --user-ids {ids}")
    verb = "modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier" if kind == "rds_cluster_snapshot" \
        else "modify-db-snapshot-attribute --db-snapshot-identifier"
    return f"aws rds {verb} {name} --attribute-name restore --values-to-remove {ids}"


def _is_phi_snapshot(G: Any, snap: str) -> bool:
    if has_label(G, snap, "phi"):
        return True
    sources = {u for u, _, _, _ in in_edges(G, snap, ("snapshot_of",))}
    src = attributes(G, snap).get("source_arn")
    if src:
        sources.add(src)
    return any(has_label(G, s, "phi") for s in sources)


def _evidence(snap: str, detail: str) -> dict:
    return {"type": "snapshot_attribute", "ref": snap, "sid": None, "index": None, "detail": detail}


@check(
    id="IAMR-005",
    title="Production snapshot shared with, public to or restorable by a synthetic account; unencrypted PHI snapshot",
    severity="critical",
    categories=("snapshots", "rds", "ebs", "encryption", "cross-account"),
    kinds=SNAPSHOT_KINDS,
    rationale="""A snapshot is a full copy of a database or volume. Sharing a production
    snapshot with a synthetic account (or with everyone) lets that account restore the whole
    data set outside every production control. A PHI snapshot that is not encrypted cannot be
    protected by key policies at all.""",
    remediation="""Remove the synthetic account (or 'all') from the snapshot's restore /
    createVolumePermission attribute; copy unencrypted PHI snapshots with a customer managed KMS
    key and delete the unencrypted originals.""",
)
def snapshot_exposure(G: Any, config: Any) -> Iterator[Finding]:
    meta = snapshot_exposure.meta
    env = environments(G)
    for snap in nodes(G, SNAPSHOT_KINDS):
        attrs = attributes(G, snap)
        kind = str(node_attrs(G, snap).get("kind"))
        account = node_attrs(G, snap).get("account")
        name = str(node_attrs(G, snap).get("name") or snap.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        if env.is_production(snap):
            yield from _shared(G, meta, snap, kind, name, account, attrs, env)
        if attrs.get("encrypted") is False and _is_phi_snapshot(G, snap):  # the cheap test first
            yield meta.finding(
                resource=snap, account=account,
                message=f"Snapshot {snap} holds PHI and is not encrypted",
                remediation=(f"Copy {snap} with encryption under a customer managed KMS key "
                             f"(e.g. aws {'ec2 copy-snapshot --encrypted --kms-key-id KEY' if kind == 'ebs_snapshot' else 'rds copy-db-snapshot --kms-key-id KEY'}), "
                             "then delete the unencrypted snapshot"),
                evidence=[{"type": "attribute", "ref": snap, "sid": None, "index": None,
                           "detail": "encrypted = false"}],
                key=("unencrypted",),
            )


def _shared(G: Any, meta: Any, snap: str, kind: str, name: str, account: str | None, attrs: dict,
            env: Environments) -> Iterator[Finding]:
    shared = sorted(str(a) for a in attrs.get("shared_accounts") or ())
    bad = [a for a in shared if a == "all" or a in env.synthetic]
    if bad:
        who = "everyone (public)" if "all" in bad else f"synthetic account(s) {', '.join(bad)}"
        yield meta.finding(
            resource=snap, account=account,
            message=f"Production snapshot {snap} is shared with {who}",
            remediation=f"Stop sharing the snapshot: {_unshare_command(snap, kind, name, bad)}",
            evidence=[_evidence(snap, f"shared_accounts = {shared}")],
            key=("shared", *bad),
        )
    flagged = set(bad)
    for u, v, _, data in in_edges(G, snap, ("reads",)):
        acct = arn_account(u)
        if acct in flagged or "all" in flagged:
            continue
        if not env.names_synthetic(u):
            continue
        yield meta.finding(
            resource=snap, account=account,
            message=f"Production snapshot {snap} can be restored by synthetic {u}: {data.get('reason', '')}".rstrip(": "),
            remediation=("Remove the restore permission: "
                         + (_unshare_command(snap, kind, name, [acct]) if acct and acct != account
                            else f"scope the policy that lets {u} restore {snap}")),
            evidence=tuple(data.get("evidence") or ()),
            paths=[Path((Hop.from_edge(u, v, data),))],
            key=("restorable", u),
        )
