"""The cyclic collector around bulk work (iamreach.gcpause)."""

from __future__ import annotations

import gc

from iamreach.gcpause import BULK, paused_gc


def test_bulk_block_is_collected_once_on_resume():
    keep = []
    with paused_gc():
        assert not gc.isenabled()
        keep.extend([i] for i in range(BULK + 50_000))  # lists are tracked by the collector
        assert gc.get_count()[0] > BULK
    assert gc.isenabled()
    assert gc.get_count()[0] < BULK // 10  # one collection ran: the young generation is empty again
    assert len(keep) == BULK + 50_000


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
