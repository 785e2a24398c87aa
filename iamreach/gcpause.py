"""Pausing Python's cyclic garbage collector around bulk work.

Loading a snapshot and building the graph create millions of small objects that form no
reference cycles worth collecting before the work ends; the cyclic collector would walk them
again and again (on a 100,000-principal snapshot, ``orjson.loads`` alone takes 4 s with it off and
20-100 s with it on). Reference counting still frees everything as usual.

When the block leaves many new objects behind (a built graph), the collector runs once as it is
switched back on. Every object allocated while it was off is in the youngest generation; left
there, the next few automatic collections would each walk the whole graph again (first the young
generation, then the middle one, then a full collection once the old generation has grown by a
quarter), in the middle of whatever analysis runs next. One full collection moves the survivors
to the oldest generation at once, which is not walked again until the heap grows by a quarter.

Analyses over a built graph pause it too, without that collection (``collect=False``): their
adjacency tables and search state are hundreds of thousands of short-lived objects, enough to
trigger full collections that walk the whole graph (on a 4,000-principal organization, a third of
``check``'s time), and they are freed by reference counting when the analysis returns.

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

#: New objects left by a paused block above which the collector runs once when it is resumed.
BULK = 200_000


@contextlib.contextmanager
def paused_gc(collect: bool = True) -> Iterator[None]:
    """Switch the cyclic collector off for the block (nested uses are fine); ``collect``: run
    it once on resuming when the block left more than :data:`BULK` new objects behind."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
            if collect and gc.get_count()[0] > BULK:
                gc.collect()
