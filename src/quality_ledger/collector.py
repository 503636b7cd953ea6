"""Python's cyclic garbage collector, paused while a batch of short-lived
objects is made and dropped (a chunk of a bulk import, a batch of a views
catch-up)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, back on (if it was on) after it.

    Deciding a chunk of commands or applying a batch of events allocates a
    few dozen small objects per item, nearly none of them in reference
    cycles (counting frees them), while thousands of long-lived objects
    (aggregates, rows) survive: the collector, run every 700 allocations,
    kept scanning them for nothing, a seventh of a bulk import's time and a
    tenth of a catch-up's. Paused, it runs once per block instead; whatever
    cyclic garbage a block makes waits until then. The switch is the
    process's: a thread running alongside collects less for that while too,
    which costs it nothing but memory that the next collection frees."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
