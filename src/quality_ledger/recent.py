"""The aggregates the writer decided on lately, brought up to date on every use.

A command loads the aggregates it names; loading replays the events since
the aggregate's last snapshot (half the interval on average, up to 49:
16 a command in the profile that found it, two fifths of a command's CPU,
more on a ledger encrypted at rest, where each is decrypted and
decompressed). The writer keeps what it loaded
and, on the next command, reads only what the store gained since: the
events after the version it holds, usually none or the one it wrote itself.

What this does not change:

- **Decisions see the store as it is.** Every use reads the store for
  events after the version held, in one query, as loading did; another
  process's writes are applied before the command decides, and the store's
  uniqueness refuses a command decided on anything older, as before.
- **Nothing cached is handed out.** A command gets a copy (the state is one
  frozen model, shared; the pending events are its own), so a command
  refused half-way leaves the cached aggregate as it was.
- **Reads are not served from here.** ``Ledger.get`` and ``history`` read
  the store, so what they answer is what the log holds.
- **Erasure.** ``forget`` empties it in the process that forgets. Another
  process holds what it loaded for at most :data:`~quality_ledger.privacy.keys.CACHE_SECONDS`
  (after that it loads afresh), the same while it trusts a key it read:
  docs/privacy.md, "What erasure cannot reach".

The events a command appends are stored rows from then on, so the next use
reads them back like any other writer's: a row altered in the store after
the cache read its aggregate is not read again (``verify()`` finds it).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.persistence import EventStore

from quality_ledger.domain.base import LedgerAggregate
from quality_ledger.privacy.keys import CACHE_SECONDS
from quality_ledger.snapshots import project

__all__ = ["MAX_RECENT", "RecentAggregates"]

MAX_RECENT = 1_000
"""Aggregates a writer keeps, least recently used dropped first."""


class _Entry:
    __slots__ = ("aggregate", "lock", "until")

    def __init__(self, aggregate: LedgerAggregate[Any], until: float) -> None:
        self.aggregate = aggregate
        self.until = until
        self.lock = threading.Lock()


class RecentAggregates:
    """The store's repository, with the aggregates lately loaded kept and
    fast-forwarded (see the module): what the writer decides against
    (``handlers.Aggregates``)."""

    def __init__(
        self,
        repository: Repository[UUID],
        *,
        keep: int = MAX_RECENT,
        seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self.keep = keep
        self.seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def event_store(self) -> EventStore[UUID]:
        return self.repository.event_store

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._entries or aggregate_id in self.repository

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate is held (``in`` also answers for the store)."""
        return aggregate_id in self._entries

    def get(self, aggregate_id: UUID) -> Any:
        """A copy of the aggregate at the store's latest version (``AggregateNotFoundError`` passes through)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(aggregate_id)
            if entry is not None:
                self._entries.move_to_end(aggregate_id)
        if entry is None or entry.until <= now:
            return self._load(aggregate_id, now)
        with entry.lock:
            held = entry.aggregate
            try:
                aggregate = project(held, self.repository.event_store.get(originator_id=aggregate_id, gt=held.version))
            except BaseException:
                self._drop(aggregate_id, entry)  # it may have applied some of them: load afresh next time
                raise
            return _copy(aggregate)

    def clear(self) -> None:
        """Forget every aggregate held (``forget`` calls it: what they hold may be erased)."""
        with self._lock:
            self._entries.clear()

    def _load(self, aggregate_id: UUID, now: float) -> Any:
        aggregate: LedgerAggregate[Any] = self.repository.get(aggregate_id)
        entry = _Entry(_copy(aggregate), now + self.seconds)
        with self._lock:
            self._entries[aggregate_id] = entry
            self._entries.move_to_end(aggregate_id)
            while len(self._entries) > self.keep:
                self._entries.popitem(last=False)
        return aggregate

    def _drop(self, aggregate_id: UUID, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(aggregate_id) is entry:
                del self._entries[aggregate_id]


def _copy(aggregate: LedgerAggregate[Any]) -> Any:
    """Another aggregate object at the same version: the same state (a frozen
    model, replaced, never changed, by ``evolve``), its own pending events."""
    copied = object.__new__(type(aggregate))
    copied.__dict__.update(aggregate.__dict__)
    copied.__dict__["_pending_events"] = []
    return copied
