"""The bulk path: many commands decided in order, recorded a chunk at a time.

A historical campaign loaded with one ``execute`` per command spends two
thirds of its time committing. ``Ledger.execute_many`` decides each command
exactly as ``execute`` does (validation, authorization, rules, idempotency,
metadata) but against aggregates it keeps loaded, so a command sees what
the earlier ones of its batch decided, and it stores a chunk of commands in
one transaction. Each chunk is all or nothing: a refused command leaves its
chunk unrecorded and the chunks before it recorded, and says where to
resume. The input is read lazily and the aggregates kept between chunks
are bounded, so a million commands run in flat memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import EventStore, PersistenceError, StoredEvent
from eventsourcing.persistence import IntegrityError as StoreIntegrityError

from quality_ledger import commands as c
from quality_ledger.bounds import CHUNK_BYTES
from quality_ledger.collector import collector_paused
from quality_ledger.command_records import CommandRecord, record_id
from quality_ledger.domain.base import LedgerAggregate, Snapshot
from quality_ledger.domain.campaign import Campaign, unsaved_children
from quality_ledger.domain.values import Frozen
from quality_ledger.errors import (
    BatchRefused,
    ConcurrencyConflict,
    ConfigurationError,
    IntegrityError,
    InvalidCommand,
    LedgerError,
    StoreUnavailable,
)
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Aggregates
from quality_ledger.persistence import is_store_error
from quality_ledger.policy import Policy
from quality_ledger.receipts import Receipt
from quality_ledger.store.firsts import first_events
from quality_ledger.writing import Clock, Handle, KnownActors, Writer, decide, same_command, validated

log = logging.getLogger("quality_ledger.ledger")

__all__ = ["BatchReceipts", "BatchSummary"]


class BatchSummary(Frozen):
    """What a batch recorded so far (``execute_many`` returns the final one;
    ``progress`` gets one after each chunk)."""

    commands: int = 0
    """Commands taken from the input and decided (repeats included)."""
    repeated: int = 0
    """Of those, commands whose idempotency key was already recorded: they
    recorded nothing and gave the first receipt back."""
    events: int = 0
    """Events appended to the log, idempotency records included (what
    ``Ledger.position()`` grew by, when no other writer is at work)."""
    chunks: int = 0
    """Transactions committed."""
    first_position: int | None = None
    """Log position of the first event recorded; None while nothing was."""
    last_position: int | None = None
    """Log position of the last event recorded: with ``verify(since=...)``,
    where a checkpoint taken after the batch starts."""


Progress = Callable[[BatchSummary], None]
"""Called after each chunk is recorded, with the summary so far."""

Pair = tuple[c.Command, Any]
"""A command and the actor who issues it."""


class BatchAggregates:
    """The aggregates a batch has loaded, in front of the store's repository.

    Those loaded or changed by the chunk being decided are held until the
    chunk is stored (the store does not have their new events yet); then they
    join the aggregates kept between chunks, of which at most ``keep`` stay,
    least recently used evicted first (the store has all they hold, so an
    evicted one is simply loaded again).
    """

    def __init__(self, repository: Aggregates, exists: Callable[[UUID], bool], keep: int) -> None:
        self.repository = repository
        self.exists = exists
        self.keep = keep
        self._kept: OrderedDict[UUID, LedgerAggregate[Any]] = OrderedDict()
        self._chunk: dict[UUID, LedgerAggregate[Any]] = {}
        self.absent: set[UUID] = set()
        """Ids the store was found not to hold when the chunk was read
        (:meth:`BatchReceipts._look_ahead`): asked whether they exist, the
        batch answers without a query of its own."""

    def get(self, aggregate_id: UUID) -> Any:
        aggregate = self._chunk.get(aggregate_id)
        if aggregate is None:
            aggregate = self._kept.pop(aggregate_id, None)
            if aggregate is None:
                aggregate = self.repository.get(aggregate_id)  # AggregateNotFoundError passes through
            self._chunk[aggregate_id] = aggregate
        return aggregate

    @property
    def event_store(self) -> EventStore[UUID]:
        """The stored events only: what the chunk decided is on the aggregates it holds
        (a campaign remembers the children it added until the store has them)."""
        return self.repository.event_store

    def loaded(self, aggregate_id: UUID) -> LedgerAggregate[Any] | None:
        """The aggregate if the batch holds it, without asking the store."""
        found = self._chunk.get(aggregate_id)
        return found if found is not None else self._kept.get(aggregate_id)

    def __contains__(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._chunk or aggregate_id in self._kept:
            return True
        return aggregate_id not in self.absent and self.exists(aggregate_id)

    def __len__(self) -> int:
        return len(self._chunk) + len(self._kept)

    def changed(self, aggregates: Iterable[LedgerAggregate[Any]]) -> None:
        """Aggregates a command created or changed: the next commands see them."""
        for aggregate in aggregates:
            self._chunk[aggregate.id] = aggregate

    def stored(self) -> None:
        """The chunk is stored: keep its aggregates, within the bound."""
        for aggregate_id, aggregate in self._chunk.items():
            if isinstance(aggregate, Campaign):
                # The store has the children it added now: let it forget them, or a
                # campaign a long import keeps loaded holds every one of them.
                unsaved_children(aggregate, aggregate.version)
            self._kept[aggregate_id] = aggregate
            self._kept.move_to_end(aggregate_id)
        self._chunk.clear()
        while len(self._kept) > self.keep:
            self._kept.popitem(last=False)


class _Chunk:
    """One transaction's worth of decided commands."""

    def __init__(self, start: int) -> None:
        self.start = start
        """Index of its first command: where to resume if it is not stored."""
        self.receipts: list[Receipt] = []
        self.rows: list[StoredEvent] = []
        self.events: list[Any] = []
        self.bytes = 0
        self.repeated = 0
        self.snapshots: list[Snapshot] = []
        """Taken from the aggregates as the chunk decided them, stored once it is."""
        self.unsnapshotted: list[Any] = []
        """Events due a snapshot that a later event of their command moved past:
        taken from the store once the chunk is stored, as ``execute`` does."""


NOT_REFUSALS = (IntegrityError, StoreUnavailable, ConcurrencyConflict, ConfigurationError)
"""Errors that say nothing about the command: a damaged or unreachable
store, a misconfigured ledger. They stop the batch as themselves, not as a
:class:`BatchRefused` (the CLI's exit codes tell them apart)."""


class BatchReceipts(Iterator[Receipt]):
    """The receipts of a batch, one per command in input order, each given
    once its chunk is recorded; ``summary`` says what was recorded so far.

    Iterating drives the batch: a chunk is decided and stored when its first
    receipt is asked for. A caller who stops early leaves recorded every
    chunk whose first receipt it was given, all of that chunk included. An
    interrupt (Ctrl-C) ends the batch as itself, and ``summary`` then says
    exactly what was recorded: a chunk whose commit it met is counted if the
    store holds it (:meth:`_settle`), so ``summary.commands`` is where to resume.
    """

    def __init__(
        self,
        writer: Writer,
        pairs: Iterable[Pair],
        *,
        handle: Handle,
        policy: Policy,
        clock: Clock | None,
        correlation_id: UUID | None,
        chunk_size: int,
        keep: int,
        failure: Callable[[Exception], LedgerError],
        progress: Progress | None = None,
    ) -> None:
        try:
            self._pairs = iter(pairs)
        except TypeError:
            msg = f"execute_many takes an iterable of (command, actor) pairs, not {type(pairs).__name__}"
            raise InvalidCommand(msg) from None
        self._writer = writer
        self._log: EventLog = writer.events
        self._handle = handle
        self._policy = policy
        self._clock = clock
        self._correlation_id = correlation_id
        self._chunk_size = chunk_size
        self._failure = failure
        self._progress = progress
        self.aggregates = BatchAggregates(self._log.repository, self._log.exists, keep)
        self._actors: KnownActors = {}
        self._ahead: deque[object] = deque()
        """Pairs read from the input but not yet decided: at most a chunk."""
        self._unreadable: Exception | None = None
        """What the input raised when read ahead: raised when its turn comes."""
        self._recorded: dict[UUID, StoredEvent | None] = {}
        """The idempotency records of the keys read ahead, as the store held
        them when the chunk was read (None: not recorded)."""
        self.summary = BatchSummary()
        self._floor: int | None = None
        """The log's position before this batch's latest chunk was stored:
        where :meth:`_settle` looks for the chunk after an interrupt."""
        self._receipts = self._run()

    def __next__(self) -> Receipt:
        return next(self._receipts)

    def drain(self) -> BatchSummary:
        """Record every command; the summary of what was."""
        for _ in self._receipts:
            pass
        return self.summary

    def _run(self) -> Iterator[Receipt]:
        index = 0
        while True:
            chunk = _Chunk(index)
            # A chunk that fails ends the batch, and its aggregates (which
            # a refused command may have changed half-way) go with it.
            with collector_paused():
                index = self._decide_chunk(chunk)
            if not chunk.receipts:
                return
            counted = self.summary
            try:
                self._count(chunk, self._store(chunk, index))
            except BaseException as e:
                if not isinstance(e, Exception) and self.summary is counted:  # Ctrl-C: it may have committed
                    self._settle(chunk)
                raise
            self.aggregates.stored()
            self._snapshot(chunk)
            if self._progress is not None:
                self._progress(self.summary)
            yield from chunk.receipts

    def _decide_chunk(self, chunk: _Chunk) -> int:
        """Decide commands into ``chunk`` until it is full or the input ends;
        the index of the next command."""
        index = chunk.start
        try:
            self._look_ahead()
        except Exception as e:  # the store's, as in _decide: the input's own wait for their turn
            if is_store_error(e):
                raise self._stopped(self._failure(e), index, chunk.start) from e
            raise
        while len(chunk.receipts) < self._chunk_size and chunk.bytes < CHUNK_BYTES:
            if not self._ahead:
                if self._unreadable is not None:
                    raise self._unreadable
                break
            pair = self._ahead.popleft()
            try:
                self._decide(chunk, pair)
            except LedgerError as e:
                if isinstance(e, NOT_REFUSALS):
                    raise self._stopped(e, index, chunk.start) from e
                raise BatchRefused(index, _name(pair), e, chunk.start) from e
            except Exception as e:
                if is_store_error(e):
                    raise self._stopped(self._failure(e), index, chunk.start) from e
                raise
            index += 1
        return index

    def _look_ahead(self) -> None:
        """Read the input up to a chunk ahead, then ask the store in one query
        what deciding it would otherwise ask command by command: whether the
        ids its commands create exist, and which of its idempotency keys
        were recorded. Nothing is validated here (each command is, in its
        turn): an unexpected item just adds nothing to ask."""
        while len(self._ahead) < self._chunk_size and self._unreadable is None:
            try:
                self._ahead.append(next(self._pairs))
            except StopIteration:
                break
            except Exception as e:  # the input's own error, raised in its turn (after the pairs before it)
                self._unreadable = e
        keys: dict[UUID, None] = {}
        created: dict[UUID, None] = {}
        for pair in self._ahead:
            command = pair[0] if isinstance(pair, tuple) and pair else None
            if not isinstance(command, c.Command):
                continue
            key = command.idempotency_key
            if isinstance(key, str):
                keys[record_id(key)] = None
            new_id = getattr(type(command), "new_id", None)  # on the class: a model's own __getattr__ is slow to say no
            if callable(new_id):
                try:
                    created[new_id(command)] = None
                except Exception:  # noqa: S112 - an invalid command: its own turn says why
                    continue
        stored = first_events(self._log.recorder, [*keys, *created])
        self._recorded = {rid: stored.get(rid) for rid in keys}
        self.aggregates.absent = {i for i in created if i not in stored}

    def _decide(self, chunk: _Chunk, pair: object) -> None:
        if not isinstance(pair, tuple) or len(pair) != 2:  # a pair
            msg = f"not a (command, actor) pair: {type(pair).__name__}"
            raise InvalidCommand(msg)
        command, actor = validated(*pair, self._actors)
        key = command.idempotency_key
        if key is not None and (earlier := self._earlier(command, key)) is not None:
            chunk.receipts.append(earlier)
            chunk.repeated += 1
            return
        decision = decide(
            self._handle, self.aggregates, self._policy, self._clock, command, actor, self._correlation_id
        )
        self.aggregates.changed(decision.changed)
        rows = [self._log.encode(e) for e in decision.events]
        chunk.rows.extend(rows)
        chunk.bytes += sum(len(row.state) for row in rows)
        chunk.events.extend(decision.events)
        chunk.receipts.append(decision.receipt)
        every = self._log.snapshot_every
        for event in decision.events:
            if event.originator_version % every == 0:
                self._snapshot_now(chunk, event, decision.changed)

    @staticmethod
    def _snapshot_now(chunk: _Chunk, event: Any, changed: tuple[LedgerAggregate[Any], ...]) -> None:
        """Snapshot the aggregate ``event`` brought to a multiple of the
        interval from the state the batch holds, if it is still at the
        event's version (it is unless the same command gave it another event
        after); else from the store once the chunk is stored. The state held
        is the one the store would give (the same events applied, the
        timestamps the store records, see ``writing.restamp``): loading it
        again to snapshot it was a twentieth of a batch."""
        for aggregate in changed:
            if aggregate.id == event.originator_id:
                if aggregate.version == event.originator_version:
                    chunk.snapshots.append(Snapshot.take(aggregate))
                    return
                break
        chunk.unsnapshotted.append(event)

    def _snapshot(self, chunk: _Chunk) -> None:
        """Store the chunk's snapshots, after the chunk itself: like
        ``Writer.snapshot``, never raising (a snapshot is a cache; the
        chunk is recorded whatever becomes of it)."""
        try:
            if chunk.snapshots:
                self._log.snapshots.put(chunk.snapshots)
        except Exception:  # one of them, say, stored already by another process: the others one by one
            for snapshot in chunk.snapshots:
                try:
                    self._log.snapshots.put([snapshot])
                except Exception:
                    log.warning(
                        "snapshot of %s at version %d failed after its chunk committed; it stays unsnapshotted",
                        snapshot.originator_id,
                        snapshot.originator_version,
                        exc_info=True,
                    )
        self._writer.snapshot(chunk.unsnapshotted)

    def _earlier(self, command: c.Command, key: str) -> Receipt | None:
        """The receipt of the command recorded before under ``key`` (by this
        batch or in the store), if any: as ``execute`` finds it, but from
        the record's one event, read with the chunk's others when it was
        read ahead (one query per key took a third of a keyed batch)."""
        rid = record_id(key)
        record = self.aggregates.loaded(rid)
        if isinstance(record, CommandRecord):
            return same_command(command, key, record.state.fingerprint, record.state.receipt)
        if rid in self._recorded:
            row = self._recorded[rid]
            stored = [self._log.decode(row)] if row is not None else []
        else:  # pragma: no cover - every key was read ahead (validation keeps a key as it is)
            stored = self._log.history(rid)
        if not stored:
            return None
        accepted = stored[0]
        if not isinstance(accepted, CommandRecord.Accepted):
            msg = f"the idempotency record of {key!r} is a {type(accepted).__name__}"
            raise IntegrityError(msg)
        return same_command(command, key, accepted.fingerprint, accepted.receipt)

    def _store(self, chunk: _Chunk, end: int) -> list[int]:
        """Store the chunk's rows in one transaction; their positions."""
        if not chunk.rows:
            return []
        where = f"commands {chunk.start}-{end - 1}"
        try:
            if self._floor is None:
                self._floor = self._log.position()
            return self._log.insert(chunk.rows)
        except StoreIntegrityError as e:
            msg = (
                f"{where}: another writer recorded on one of their aggregates (or idempotency keys) first; "
                f"none of them was recorded: run the batch again from command {chunk.start}"
            )
            raise ConcurrencyConflict(msg) from e
        except PersistenceError as e:
            msg = (
                f"{where}: the store failed ({type(e).__name__}: {e}); outcome unknown: "
                f"run the batch again from command {chunk.start} with the same idempotency keys"
            )
            raise StoreUnavailable(msg) from e
        except Exception as e:
            if is_store_error(e):
                raise self._stopped(self._failure(e), end - 1, chunk.start) from e
            raise

    def _count(self, chunk: _Chunk, positions: list[int]) -> None:
        before = self.summary
        self.summary = before.model_copy(
            update={
                "commands": before.commands + len(chunk.receipts),
                "repeated": before.repeated + chunk.repeated,
                "events": before.events + len(chunk.rows),
                "chunks": before.chunks + (1 if chunk.rows else 0),
                "first_position": before.first_position or (positions[0] if positions else None),
                "last_position": positions[-1] if positions else before.last_position,
            }
        )
        if positions:
            self._floor = positions[-1]

    def _settle(self, chunk: _Chunk) -> None:
        """After an interrupt (Ctrl-C) while ``chunk`` was stored or counted:
        make ``summary`` say whether it was recorded. Python raises the
        interrupt at the next line it runs, which may come after the commit
        (the signal arrived during it) but before the chunk was counted;
        then the store holds its rows, found after the position the log had
        before it, and they are counted. If the store cannot say, the
        summary stays as it was and a warning says the chunk's fate is unknown."""
        if not chunk.rows or self._floor is None:  # nothing to store, or interrupted before the insert began
            return
        try:
            positions = self._find(chunk, self._floor)
        except Exception:
            log.warning(
                "interrupted while a chunk was stored, and the store cannot say whether it was: "
                "commands from %d on may be recorded; with idempotency keys, run the batch again from there",
                self.summary.commands,
                exc_info=True,
            )
            return
        if positions:
            self._count(chunk, positions)

    def _find(self, chunk: _Chunk, floor: int) -> list[int]:
        """The positions of ``chunk``'s rows if the store holds them, exactly as
        written, one after another after position ``floor``; else none."""
        rows = chunk.rows
        found: list[int] = []
        for notification in self._log.notifications(floor + 1):
            row = rows[len(found)]
            same = (
                notification.originator_id == row.originator_id
                and notification.originator_version == row.originator_version
                and notification.state == row.state
            )
            if same:
                found.append(notification.id)
                if len(found) == len(rows):
                    return found
            elif found:  # the chunk is stored in one transaction: its rows are not interleaved with others
                return []
        return []

    @staticmethod
    def _stopped(error: LedgerError, index: int, start: int) -> LedgerError:
        """``error``, its message saying where the batch stopped and what it did not record."""
        error.args = (f"batch stopped at command {index}, none recorded from command {start} on: {error}",)
        return error


def _name(pair: object) -> str:
    """The command's class name, for a refusal's message, whatever ``pair`` is."""
    command = pair[0] if isinstance(pair, tuple) and pair else pair
    return type(command).__name__
