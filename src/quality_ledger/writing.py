"""The ledger's writing part: a command, decided by its handler, stored
atomically with its metadata (and its idempotency record), then snapshots.

``Ledger.execute`` checks the caller's input and delegates here; this module
owns the path from a validated command to the stored rows (see
docs/architecture.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import PersistenceError

from quality_ledger import commands as c
from quality_ledger.command_records import CommandRecord, Receipt, record_id
from quality_ledger.domain.values import Actor, EventMeta
from quality_ledger.errors import ConcurrencyConflict, ConfigurationError, IdempotencyConflict, StoreUnavailable
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Changes, CommandContext
from quality_ledger.policy import Policy
from quality_ledger.reading import event_name

log = logging.getLogger("quality_ledger.ledger")
"""The ledger's logger, as before the split: services filter on its name."""

Clock = Callable[[], datetime]
"""Returns the instant to record as recorded-at (timezone-aware)."""

Handle = Callable[[c.Command, CommandContext], Changes]
"""Maps a command to aggregate methods (``Ledger.handle``, a test seam)."""


class Writer:
    """Records commands into one event log."""

    def __init__(self, events: EventLog) -> None:
        self.events = events

    def execute(
        self,
        handle: Handle,
        policy: Policy,
        clock: Clock | None,
        command: c.Command,
        actor: Actor,
        correlation_id: UUID | None,
    ) -> Receipt:
        """Record what a validated ``command`` decides, or raise and record nothing
        (the contract is ``Ledger.execute``'s). The handler, policy and clock
        are the ledger's at the time of the call (each may be replaced)."""
        key = command.idempotency_key
        if key is not None and (earlier := self.earlier_receipt(command, key)) is not None:
            return earlier

        changes = handle(command, CommandContext(self.events.repository, policy, actor))
        command_id = uuid4()
        meta = EventMeta(
            user=actor.user,
            department=actor.department,
            command=command.name,
            command_id=command_id,
            correlation_id=correlation_id or command_id,
            occurred_on=command.occurred_on,
        )
        now = stamp(clock)
        events = [
            with_meta(event, meta, now)
            for aggregate in (changes.primary, *changes.others)
            for event in aggregate.collect_events()
        ]
        receipt = Receipt(
            aggregate_id=changes.primary.id,
            version=changes.primary.version,
            events=tuple(event_name(e) for e in events),
            command_id=command_id,
            correlation_id=meta.correlation_id,
            idempotency_key=key,
        )
        if key is not None:
            record = CommandRecord.accept(key, command.fingerprint(), receipt)
            events.extend(with_meta(e, meta, now) for e in record.collect_events())
        try:
            self.events.save(*events)
        except StoreIntegrityError as e:
            if key is not None and (earlier := self.earlier_receipt(command, key)) is not None:
                return earlier  # lost a race with the same command: it counts once
            msg = f"{command.name}: another writer changed {changes.primary.kind} {changes.primary.id} first"
            raise ConcurrencyConflict(msg) from e
        except PersistenceError as e:
            msg = f"{command.name}: the store failed ({type(e).__name__}: {e}); outcome unknown, retry with the same idempotency key"
            raise StoreUnavailable(msg) from e
        self.snapshot(events)
        return receipt

    def snapshot(self, events: Sequence[Any]) -> None:
        """Snapshot each aggregate whose new version reached a multiple of the interval.

        Runs after the command has committed, so it must not raise: a caller
        who saw an error would retry and record the command twice. Snapshots
        are caches; a failed one is logged and the aggregate replays from its
        events until the next interval."""
        every = self.events.snapshot_every
        for event in events:
            if event.originator_version % every == 0:
                try:
                    self.events.take_snapshot(event.originator_id, version=event.originator_version)
                except Exception:
                    log.warning(
                        "snapshot of %s at version %d failed after the command committed; it stays unsnapshotted",
                        event.originator_id,
                        event.originator_version,
                        exc_info=True,
                    )

    def earlier_receipt(self, command: c.Command, key: str) -> Receipt | None:
        try:
            record: CommandRecord = self.events.repository.get(record_id(key))
        except AggregateNotFoundError:
            return None
        if record.state.fingerprint != command.fingerprint():
            msg = f"idempotency key {key!r} was used for a different command ({record.state.receipt.events})"
            raise IdempotencyConflict(msg)
        return record.state.receipt


def with_meta(event: Any, meta: EventMeta, now: datetime | None) -> Any:
    """The event as stored: metadata attached, recorded-at from the ledger's clock if it has one."""
    timestamp = now or event.timestamp
    occurred = meta.occurred_on if meta.occurred_on != timestamp.date() else None
    update = {"meta": meta.model_copy(update={"occurred_on": occurred}), "timestamp": timestamp}
    return event.model_copy(update=update)


def stamp(clock: Clock | None) -> datetime | None:
    """The recorded-at the clock gives (None: the wall clock, set by the event)."""
    if clock is None:
        return None
    now = clock()
    if not isinstance(now, datetime) or now.tzinfo is None:
        msg = f"the ledger's clock must return a timezone-aware datetime, got {now!r}"
        raise ConfigurationError(msg)
    return now
