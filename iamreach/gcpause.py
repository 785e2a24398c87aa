"""Pausing Python's cyclic garbage collector around bulk work.

Loading a snapshot and building the graph create millions of small objects that form no
reference cycles worth collecting before the work ends; the cyclic collector would walk them
again and again (on a 100,000-principal snapshot, ``orjson.loads`` alone takes 4 s with it off and
20-100 s with it on). Reference counting still frees everything as usual.

When a bulk block (``collect=True``) leaves many new objects behind (a built graph), they are
*frozen* as the collector is switched back on (:func:`gc.freeze`): moved out of the generations
the collector walks. Left in the youngest generation, the next few automatic collections would
each walk the whole graph again (first the young generation, then the middle one, then a full
collection once the old generation has grown by a quarter), in the middle of whatever analysis
runs next; a full collection on resuming walks it once, which cost 6 % of a graph build (9 s of
M's 150 s). A build leaves almost no cyclic garbage (10 unreachable objects on a 1,500-principal
organization), so nothing is lost by not looking for it then.

Frozen objects are never examined by the collector, so a frozen graph that is later dropped
(a notebook rebuilding its graph; ``diff`` building two) would never have its reference cycles
freed. The next bulk block therefore starts by unfreezing what earlier blocks froze and running one
full collection: the cost of a collection moves from the end of every bulk block to the start of
the next one, which a command that loads once and builds once pays only for the small snapshot.

Updating a built graph in place (``diff`` of an identity-only change) pauses it with
``unfreeze=False``: the graph it works on is in use, so a full collection there would walk all of
it to find nothing (5 s of a 14 s update on M).

Analyses over a built graph pause it too, without the first step (``collect=False``): their
adjacency tables and search state are hundreds of thousands of short-lived objects, enough to
trigger full collections that walk the whole graph (on a 4,000-principal organization, a third of
``check``'s time), and they are freed by reference counting when the analysis returns. What an
analysis returns (L's forbidden-label paths: 44,000 objects) is frozen as well when it is more than
:data:`KEEP` objects: the first collections after the block would otherwise walk all of it, twice
(0.04-0.09 s of that query's 0.9 s). Freezing takes whatever else the collector had not looked at
yet, such as a graph dropped just before (a built graph and its builder refer to each other):
like a frozen graph that is dropped, it is freed by the next bulk block.

>>> import gc
>>> with paused_gc():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]

#: New objects left by a paused bulk block above which they are frozen when it resumes.
BULK = 200_000
#: The same for an analysis block (``collect=False``).
KEEP = 10_000


@contextlib.contextmanager
def paused_gc(collect: bool = True, *, unfreeze: bool = True) -> Iterator[None]:
    """Switch the cyclic collector off for the block (nested uses are fine: only the outermost
    acts). ``collect``: first collect what earlier bulk blocks froze (unfreeze, one full
    collection; ``unfreeze=False`` skips that step, for a block that works on what they left, such
    as the update of a built graph, which is still in use), and on resuming freeze the objects left
    when there are more than :data:`BULK` new ones (:data:`KEEP` for an analysis block, which does
    not collect first)."""
    was = gc.isenabled()
    gc.disable()
    if was and collect and unfreeze and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    try:
        yield
    finally:
        if was:
            if gc.get_count()[0] > (BULK if collect else KEEP):
                gc.freeze()
            gc.enable()
