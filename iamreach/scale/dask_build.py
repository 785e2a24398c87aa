"""Graph building with the data-access phase sharded over a Dask cluster — only where it pays.

The builder's costliest phase on large organizations is the data-access edges (every actor's
``reads`` / ``writes`` / ``administers`` / ``decrypts`` decisions: 56 % of the build of
``benchmarks/generate.py`` size M, see ``docs/performance.md``). Each actor's edges depend only on
the inventory and that actor, so the phase splits cleanly by actor.

Each worker builds the graph up to that phase itself (from the inventory, shipped once per
worker), computes the access edges of one contiguous slice of the actors, and stops. The driver
builds the graph as :func:`iamreach.graph.builder.build_graph` does; when it reaches the access
phase it waits for the slices and inserts their nodes, edges and gaps in actor order — the same
insertion order as a local build — then carries on with the remaining phases. The result is
the graph ``build_graph`` returns (``tests/test_scale_build.py`` compares them).

Below :data:`MIN_PRINCIPALS` principals the build stays local: the workers repeat the setup
phases (parsing every policy), which costs more than the sharding saves on small inventories.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from iamreach.config import Config
from iamreach.graph import builder as _builder
from iamreach.inventory import Inventory

__all__ = ["build_graph_distributed", "MIN_PRINCIPALS", "shard_access_edges"]

#: below this many principals a local build is faster (measured: docs/performance.md, Scale-out)
MIN_PRINCIPALS = 5000


class _Stop(Exception):
    """Raised by a shard builder once its access edges are computed: the later phases are the driver's."""


class _ShardBuilder(_builder._Builder):
    """Builds up to the access phase, then computes the access edges of slice ``index`` of ``count`` only."""

    def __init__(self, inv: Inventory, config: Config, index: int, count: int):
        super().__init__(inv, config)
        self._slice = (index, count)
        self.result: dict[str, Any] = {}

    def _access_edges(self) -> None:
        G = self.G
        nodes_before = set(G.nodes)
        edges_before = set(G.edges(keys=True))
        gaps_before = len(G.graph["gaps"])
        index, count = self._slice
        everyone = self.actors
        items = list(everyone.items())
        self.actors = dict(items[len(items) * index // count:len(items) * (index + 1) // count])
        try:
            super()._access_edges()
        finally:
            self.actors = everyone
        self.result = {
            "nodes": [(n, d) for n, d in G.nodes(data=True) if n not in nodes_before],
            "edges": [(u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True) if (u, v, k) not in edges_before],
            "gaps": G.graph["gaps"][gaps_before:],
        }
        raise _Stop


def shard_access_edges(inv: Inventory, config: Config, index: int, count: int) -> dict[str, Any]:
    """Runs on a worker: the nodes, edges (in insertion order) and gaps the access phase adds for
    contiguous actor slice ``index`` of ``count``."""
    b = _ShardBuilder(inv, config, index, count)
    try:
        b.build()
    except _Stop:
        return b.result
    raise RuntimeError("the builder finished without reaching its access-edge phase")


class _DriverBuilder(_builder._Builder):
    """A local build whose access phase is replaced by the workers' slices."""

    def __init__(self, inv: Inventory, config: Config, futures: list[Any]):
        super().__init__(inv, config)
        self._futures = futures

    def _access_edges(self) -> None:
        from distributed import wait

        wait(self._futures)
        G = self.G
        for fut in self._futures:
            part = fut.result()  # a failed slice raises here: no partial graph is ever returned
            for n, d in part["nodes"]:
                if n not in G:
                    G.add_node(n, **d)
            for u, v, k, d in part["edges"]:
                G.add_edge(u, v, key=k, **d)
            G.graph["gaps"].extend(part["gaps"])


def build_graph_distributed(inv: Inventory, config: Config | None = None, *, client: Any,
                            shards: int | None = None, min_principals: int = MIN_PRINCIPALS) -> nx.MultiDiGraph:
    """:func:`~iamreach.graph.builder.build_graph`, with the access phase sharded over ``client``'s workers.

    Parameters
    ----------
    inv : Inventory
    config : Config, optional
    client : distributed.Client
        A connected client.
    shards : int, optional
        Number of actor slices (default: the number of workers).
    min_principals : int
        Build locally below this many principals (where the cluster does not pay).

    Returns
    -------
    networkx.MultiDiGraph
        The graph ``build_graph(inv, config)`` returns.
    """
    cfg = config or Config.default()
    if len(inv.principals) < min_principals:
        return _builder.build_graph(inv, cfg)
    n = shards or max(1, len(client.scheduler_info().get("workers", {})))
    inv_f, cfg_f = client.scatter([inv, cfg], broadcast=True)
    futures = [client.submit(shard_access_edges, inv_f, cfg_f, i, n, pure=False, retries=1) for i in range(n)]
    try:
        return _DriverBuilder(inv, cfg, futures).build()
    finally:
        client.cancel(futures)
