"""Sharded graph build on a real LocalCluster gives exactly the graph of the local build."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from iamreach.graph.builder import build_graph

pytest.importorskip("distributed", reason="the scale extra is not installed")

from iamreach.scale.dask_build import build_graph_distributed  # noqa: E402
from iamreach.scale.dask_collect import dask_client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _generate():
    spec = importlib.util.spec_from_file_location("bench_generate_scale", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module.generate(module.SizeSpec("custom", 3, 90, 120), seed=3)


def _shape(G):
    nodes = [(n, {k: v for k, v in d.items() if k != "record"}) for n, d in G.nodes(data=True)]
    return nodes, list(G.edges(keys=True, data=True)), G.graph["gaps"]


def test_sharded_build_equals_local_build():
    inv = _generate()
    local = build_graph(inv)
    assert local.number_of_edges() > 100
    with dask_client(workers=2, threads_per_worker=1) as client:
        sharded = build_graph_distributed(inv, client=client, min_principals=0, shards=3)
        small = build_graph_distributed(inv, client=client)  # below the threshold: local
    assert _shape(sharded) == _shape(local)  # same nodes, edges, data and insertion order
    assert _shape(small) == _shape(local)
    assert sharded.graph["authorizer"] is not None
