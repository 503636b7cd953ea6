"""The ledger's writing part: a command, decided by its handler, stored
atomically with its metadata (and its idempotency record), then snapshots.

``Ledger.execute`` checks the caller's input and delegates here; this module
owns the path from a validated command to the stored rows (see
docs/architecture.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import PersistenceError

from quality_ledger import commands as c
from quality_ledger.command_records import CommandRecord, Receipt, record_id
from quality_ledger.domain.base import CreationEvent, LedgerAggregate
from quality_ledger.domain.values import Actor, EventMeta
from quality_ledger.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    IdempotencyConflict,
    InvalidCommand,
    LedgerError,
    StoreUnavailable,
)
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Aggregates, Changes, CommandContext
from quality_ledger.policy import Policy
from quality_ledger.reading import event_name

log = logging.getLogger("quality_ledger.ledger")
"""The ledger's logger, as before the split: services filter on its name."""

Clock = Callable[[], datetime]
"""Returns the instant to record as recorded-at (timezone-aware)."""

Handle = Callable[[c.Command, CommandContext], Changes]
"""Maps a command to aggregate methods (``Ledger.handle``, a test seam)."""


@dataclass(frozen=True)
class Decision:
    """What one command decided, not yet stored: its receipt, its events as
    they will be stored (metadata attached, the idempotency record's too),
    and every aggregate it changed (a batch keeps them for the next command)."""

    receipt: Receipt
    events: list[Any]
    changed: tuple[LedgerAggregate[Any], ...]


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
        repository = self.events.recent  # the store's aggregates, those lately decided on kept
        key = command.idempotency_key
        # A key is looked up only when the command does not go through: the command
        # record's id derives from the key, so the store refuses a second record
        # (and, with it, the whole command) by itself. A repeat either decides again
        # and is refused by the store, or is refused by a rule (it was done already);
        # both return the first receipt below. The first use of a key costs no read.
        try:
            decision = decide(handle, repository, policy, clock, command, actor, correlation_id)
        except LedgerError:
            if key is not None and (earlier := earlier_receipt(repository, command, key)) is not None:
                return earlier
            raise
        try:
            self.events.insert([self.events.encode(e) for e in decision.events])
        except StoreIntegrityError as e:
            if key is not None and (earlier := earlier_receipt(repository, command, key)) is not None:
                return earlier  # lost a race with the same command: it counts once
            primary = decision.changed[0]
            msg = f"{command.name}: another writer changed {primary.kind} {primary.id} first"
            raise ConcurrencyConflict(msg) from e
        except PersistenceError as e:
            msg = f"{command.name}: the store failed ({type(e).__name__}: {e}); outcome unknown, retry with the same idempotency key"
            raise StoreUnavailable(msg) from e
        self.snapshot(decision.events)
        return decision.receipt

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


def validated(command: object, actor: object, known: KnownActors | None = None) -> tuple[c.Command, Actor]:
    """``command`` and ``actor`` validated once more, whoever built them: a
    model built with ``model_construct`` (or copied with an update) skipped
    validation, and whatever enters the log is validated here. Raises
    :class:`InvalidCommand`.

    ``known`` remembers actors already validated, by their field values: a
    batch names the same few actors thousands of times, and checking a user
    name character by character is a tenth of deciding a command."""
    if not isinstance(command, c.Command):
        msg = f"not a command: {type(command).__name__}"
        raise InvalidCommand(msg)
    # The field values as they are, not dumped first: commands hold no
    # nested models (whose dump would be validated afresh), so both validate
    # the same values, and dumping was a quarter of it.
    return type(command)(**command.__dict__), _checked_actor(actor, known)


KnownActors = dict[tuple[object, ...], Actor]
"""Actors validated before, keyed by their field values and the values' types."""

MAX_KNOWN_ACTORS = 1_000
"""Actors a batch remembers as validated; forgotten all at once beyond (a bound, not an LRU: few batches get near it)."""


_ACTOR_FIELDS = tuple(Actor.model_fields)
"""Read once: pydantic works the mapping out afresh at each access."""


def _checked_actor(actor: object, known: KnownActors | None) -> Actor:
    if known is None or not isinstance(actor, Actor):
        return Actor.checked(actor)
    values = [getattr(actor, name, None) for name in _ACTOR_FIELDS]
    key = (*values, *map(type, values))
    try:
        found = known.get(key)
    except TypeError:  # an unhashable field value (only model_construct makes one): validation says what
        return Actor.checked(actor)
    if found is None:
        found = Actor.checked(actor)
        if len(known) >= MAX_KNOWN_ACTORS:
            known.clear()
        known[key] = found
    return found


def decide(
    handle: Handle,
    aggregates: Aggregates,
    policy: Policy,
    clock: Clock | None,
    command: c.Command,
    actor: Actor,
    correlation_id: UUID | None,
) -> Decision:
    """What a validated ``command`` decides against ``aggregates``, with the
    metadata every event carries; raises (a refusal) and changes nothing
    stored. The aggregates it loads are changed in place: a caller that
    goes on after a refusal must load them afresh."""
    changes = handle(command, CommandContext(aggregates, policy, actor))
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
    changed: tuple[LedgerAggregate[Any], ...] = (changes.primary, *changes.others)
    metas: dict[date | None, EventMeta] = {}
    events = [with_meta(event, meta, now, metas) for aggregate in changed for event in aggregate.collect_events()]
    if now is not None:
        restamp(changed, events, now)
    key = command.idempotency_key
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
        events.extend(with_meta(e, meta, now, metas) for e in record.collect_events())
        if now is not None:
            restamp((record,), events, now)
        changed = (*changed, record)
    return Decision(receipt, events, changed)


def restamp(aggregates: Sequence[LedgerAggregate[Any]], events: Sequence[Any], now: datetime) -> None:
    """Give ``aggregates`` the recorded-at the ledger's clock gave their new
    ``events`` (:func:`with_meta`), as they will have when loaded from the
    store: a batch keeps them for its next commands, and snapshots them."""
    created = {e.originator_id for e in events if isinstance(e, CreationEvent)}
    for aggregate in aggregates:
        if aggregate.id in created:
            aggregate.__dict__["_created_on"] = now
        aggregate.modified_on = now


def earlier_receipt(aggregates: Aggregates, command: c.Command, key: str) -> Receipt | None:
    """The receipt of the command first recorded under ``key``, or None if
    none was; raises :class:`IdempotencyConflict` if that was another command."""
    try:
        record: CommandRecord = aggregates.get(record_id(key))
    except AggregateNotFoundError:
        return None
    return same_command(command, key, record.state.fingerprint, record.state.receipt)


def same_command(command: c.Command, key: str, fingerprint: str, receipt: Receipt) -> Receipt:
    """``receipt``, recorded under ``key`` for a command with ``fingerprint``,
    if that was ``command``; else :class:`IdempotencyConflict`."""
    if fingerprint != command.fingerprint():
        msg = f"idempotency key {key!r} was used for a different command ({receipt.events})"
        raise IdempotencyConflict(msg)
    return receipt


def with_meta(event: Any, meta: EventMeta, now: datetime | None, metas: dict[date | None, EventMeta]) -> Any:
    """The event as stored: metadata attached, recorded-at from the ledger's clock if it has one.

    ``metas`` holds the command's metadata per business date already made:
    a command's events share one (copying it per event cost a few percent).

    The event is changed in place, not copied (a copy cost as much as
    making the event): the command's aggregate method made it a moment ago
    and ``collect_events`` took it from its aggregate, so nothing reads it
    before it is stored but a campaign's list of the children it added,
    which reads only the child's id. The values are those ``model_copy``
    set before, unvalidated there too: an ``EventMeta`` and a
    timezone-aware datetime."""
    timestamp = now or event.timestamp
    occurred = meta.occurred_on if meta.occurred_on != timestamp.date() else None
    stored = metas.get(occurred)
    if stored is None:  # the command's own metadata where the date stays (a copy cost 1-2 us a command)
        stored = metas[occurred] = meta if occurred == meta.occurred_on else meta.replaced(occurred_on=occurred)
    event.__dict__["meta"] = stored
    event.__dict__["timestamp"] = timestamp
    event.__pydantic_fields_set__.update(_STAMPED)
    return event


_STAMPED = ("meta", "timestamp")
"""The fields :func:`with_meta` sets."""


def stamp(clock: Clock | None) -> datetime | None:
    """The recorded-at the clock gives (None: the wall clock, set by the event)."""
    if clock is None:
        return None
    now = clock()
    if not isinstance(now, datetime) or now.tzinfo is None:
        msg = f"the ledger's clock must return a timezone-aware datetime, got {now!r}"
        raise ConfigurationError(msg)
    return now
