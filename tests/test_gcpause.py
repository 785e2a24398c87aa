"""The cyclic collector around bulk work (iamreach.gcpause)."""

from __future__ import annotations

import gc

from iamreach.gcpause import BULK, KEEP, paused_gc


class _Node:
    """A weak-referenceable object that can sit in a reference cycle."""

    def __init__(self):
        self.me = self


def test_bulk_block_is_frozen_on_resume():
    keep = []
    with paused_gc():
        assert not gc.isenabled()
        keep.extend([i] for i in range(BULK + 50_000))  # lists are tracked by the collector
        assert gc.get_count()[0] > BULK
    assert gc.isenabled()
    assert gc.get_count()[0] < BULK // 10  # the young generation is empty again ...
    assert gc.get_freeze_count() >= BULK + 50_000  # ... because what the block left is frozen, not walked
    assert len(keep) == BULK + 50_000


def test_next_bulk_block_collects_what_an_earlier_one_froze():
    """A frozen object in a reference cycle that is dropped later is still freed: the next bulk
    block unfreezes and collects before it starts."""
    import weakref

    with paused_gc():
        node = _Node()
        ref = weakref.ref(node)
        keep = [[i] for i in range(BULK + 1)]
    assert gc.get_freeze_count() > BULK
    del node, keep
    gc.collect()
    assert ref() is not None  # frozen: a plain collection does not look at it
    with paused_gc():
        assert ref() is None  # unfrozen and collected on entry
        assert gc.get_freeze_count() == 0


def test_a_block_that_keeps_what_is_frozen_neither_unfreezes_nor_collects(monkeypatch):
    """``unfreeze=False`` (the update of a built graph): what earlier blocks froze stays frozen and
    no collection walks it; what the block leaves is frozen on resume as usual."""
    with paused_gc():
        keep = [[i] for i in range(BULK + 1)]
    frozen = gc.get_freeze_count()
    assert frozen > BULK
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(a) or 0)
    with paused_gc(unfreeze=False):
        assert gc.get_freeze_count() == frozen
        more = [[i] for i in range(BULK + 1)]
    assert collections == []
    assert gc.get_freeze_count() >= frozen + BULK
    monkeypatch.undo()
    with paused_gc():  # the next ordinary bulk block unfreezes and collects all of it
        assert gc.get_freeze_count() == 0
    assert len(keep) == len(more) == BULK + 1


def test_small_block_only_resumes_and_nested_blocks_keep_it_off():
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resume_leaves_a_disabled_collector_alone():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_analysis_block_resumes_without_collecting(monkeypatch):
    """``collect=False`` (analyses): the collector is off in the block and back on after it; it never
    collects or unfreezes, and freezes only what the block left beyond ``KEEP`` objects."""
    gc.unfreeze()
    calls = []
    for name in ("collect", "freeze", "unfreeze"):
        monkeypatch.setattr(gc, name, lambda *a, name=name: calls.append(name) or 0)
    keep = []
    with paused_gc(collect=False):
        assert not gc.isenabled()
        keep.extend([i] for i in range(KEEP // 2))
    assert gc.isenabled() and calls == []
    with paused_gc(collect=False):
        keep.extend([i] for i in range(KEEP + 5_000))
    assert gc.isenabled() and calls == ["freeze"]
    calls.clear()
    with paused_gc():
        keep.extend([i] for i in range(BULK + 50_000))
    assert calls == ["freeze"]  # the default freezes once after a bulk block


def test_checks_run_with_the_collector_paused():
    import networkx as nx

    from iamreach.analyses.checks.registry import Registry, check

    seen = []

    @check(id="TEST-901", title="probe", severity="low", categories=("test",), kinds=(), rationale="r",
           remediation="r")
    def probe(G, config):
        seen.append(gc.isenabled())
        return iter(())

    reg = Registry()
    reg.register(probe)
    reg.run(nx.MultiDiGraph(), None)
    assert seen == [False] and gc.isenabled()
