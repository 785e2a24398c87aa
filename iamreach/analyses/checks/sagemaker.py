"""IAMR-008: synthetic SageMaker notebooks that read production data, reach the internet directly,
or write to unencrypted buckets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamreach.analyses.checks._common import (
    attributes,
    edge_fix,
    environments,
    node_attrs,
    nodes,
    out_edges,
    principal_closure,
)
from iamreach.analyses.checks.registry import check
from iamreach.analyses.report import Finding
from iamreach.analyses.results import Hop, Path
from iamreach.model import DATA_STORE_KINDS

__all__ = ["sagemaker_notebook_risks"]


def _path(hops: tuple, last: tuple) -> Path:
    return Path(tuple(Hop.from_edge(u, v, d) for u, v, d in (*hops, last)))


@check(
    id="IAMR-008",
    title="Synthetic SageMaker notebook reads production data, has direct internet access or writes unencrypted",
    severity="high",
    categories=("sagemaker", "exfiltration", "encryption"),
    kinds=("sagemaker_notebook", "role", "s3_bucket"),
    rationale="""A notebook is an interactive shell with its role's rights. In the synthetic
    environment it must not read production data (directly or through roles it can assume),
    must not have direct internet access (an exfiltration channel outside the VPC's controls),
    and must not write to buckets without default encryption.""",
    remediation="""Scope the notebook role's policies away from production data, recreate the
    notebook with DirectInternetAccess = Disabled in a private subnet, and turn on default
    encryption (SSE-KMS) on the buckets it writes to.""",
)
def sagemaker_notebook_risks(G: Any, config: Any) -> Iterator[Finding]:
    meta = sagemaker_notebook_risks.meta
    env = environments(G)
    stores = {k.value for k in DATA_STORE_KINDS}
    hop_cache: dict[str, list] = {}  # principal -> its hop edges, shared by every notebook's closure
    data_edges: dict[str, list] = {}  # principal -> its reads / writes edges to data stores
    store_flags: dict[str, tuple[bool, bool]] = {}  # data store -> (production?, unencrypted bucket?)
    for nb in nodes(G, "sagemaker_notebook"):
        if not env.is_synthetic(nb):
            continue
        account = node_attrs(G, nb).get("account")
        name = str(node_attrs(G, nb).get("name") or nb.rsplit("/", 1)[-1])
        if attributes(G, nb).get("direct_internet_access") is True:
            yield meta.finding(
                resource=nb, account=account,
                message=f"Synthetic SageMaker notebook {nb} has direct internet access",
                remediation=(f"Recreate notebook {name} with DirectInternetAccess=Disabled in a private "
                             "subnet (the setting cannot be changed in place)"),
                evidence=[{"type": "attribute", "ref": nb, "sid": None, "index": None,
                           "detail": "DirectInternetAccess = Enabled"}],
                key=("internet",),
            )
        closure = principal_closure(G, [nb], cache=hop_cache)
        seen: set[tuple[str, str]] = set()  # the registry keeps a notebook's first finding per key
        for principal, hops in sorted(closure.items()):
            edges = data_edges.get(principal)
            if edges is None:  # its edges that can make a finding, classified once for every notebook:
                edges = data_edges[principal] = []  # reads of production data, writes to unencrypted buckets
                for u, v, _, data in out_edges(G, principal, ("reads", "writes")):
                    kind = str(node_attrs(G, v).get("kind"))
                    if kind in stores:
                        flags = store_flags.get(v)
                        if flags is None:  # (production?, a bucket without default encryption?)
                            flags = store_flags[v] = (
                                env.is_production(v),
                                kind == "s3_bucket" and attributes(G, v).get("encryption") is None and v in G
                                and node_attrs(G, v).get("record") is not None)
                        reads = str(data.get("kind")) == "reads"
                        if flags[0] if reads else flags[1]:
                            edges.append((u, v, data, kind, reads))
            for u, v, data, kind, reads in edges:  # each one a read of production data or an unencrypted write
                if reads and ("reads", v) not in seen:
                    seen.add(("reads", v))
                    yield meta.finding(
                        resource=nb, account=account,
                        message=f"Synthetic SageMaker notebook {nb} can read production {kind} {v} as {u}",
                        remediation=edge_fix(u, v, data),
                        evidence=tuple(data.get("evidence") or ()),
                        paths=[_path(hops, (u, v, data))],
                        key=("reads", v),
                    )
                elif not reads and ("unencrypted-write", v) not in seen:
                    seen.add(("unencrypted-write", v))
                    yield meta.finding(
                        resource=nb, account=account,
                        message=(f"Synthetic SageMaker notebook {nb} writes (as {u}) to bucket {v}, "
                                 "which has no default encryption configured"),
                        remediation=(f"Turn on default encryption for {v}: aws s3api put-bucket-encryption "
                                     f"--bucket {node_attrs(G, v).get('name') or v.rsplit(':', 1)[-1]} "
                                     "--server-side-encryption-configuration "
                                     "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\"}}]}'"),
                        evidence=tuple(data.get("evidence") or ()),
                        paths=[_path(hops, (u, v, data))],
                        key=("unencrypted-write", v),
                    )
