"""The ledger's privacy part: ``forget`` a data subject, and list what is
held about one (``personal_data``). docs/privacy.md is the guide.

Erasure is crypto-shredding. The personal fields of every event are sealed
under their subject's key (:mod:`quality_ledger.privacy`); ``forget``
records who erased whom and why, replaces the snapshots that held the
subject's values (replayed as the events will read), destroys the key,
rebuilds the views, and on SQLite rewrites the file (``VACUUM``) so that
no freed page keeps the old bytes. The log
itself does not change: its rows keep their ciphertext, the hash chain
covers it, and ``verify()`` holds.

What it cannot reach: events written before fields were sealed (their
values are plain text under the chain: counted, never changed), copies
made before (backups, exports, other services), and another process's
cached key for up to :data:`~quality_ledger.privacy.CACHE_SECONDS`.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.utils import resolve_topic
from pydantic import BaseModel

from quality_ledger.bounds import shown
from quality_ledger.domain.base import CreationEvent, DomainEvent, Snapshot
from quality_ledger.domain.values import MAX_TEXT, Actor, EventMeta, Frozen
from quality_ledger.erasures import Erasure, erasure_id
from quality_ledger.errors import (
    InvalidCommand,
    LedgerError,
    NotFound,
    PermissionDenied,
    ReadOnly,
    StoreUnavailable,
    ViewsOutdated,
)
from quality_ledger.eventlog import PAGE, EventLog
from quality_ledger.parts import Part, guarded
from quality_ledger.persistence import Location, is_store_error, sqlite_path
from quality_ledger.policy import ErasurePolicy
from quality_ledger.privacy import MAX_SUBJECT, normalised_subject, plan
from quality_ledger.privacy.fields import MARK
from quality_ledger.privacy.marks import FieldPlan, aggregate_subject, owner_of, subject_of
from quality_ledger.reading import event_name
from quality_ledger.writing import stamp, with_meta

log = logging.getLogger("quality_ledger.privacy")

__all__ = ["ForgetReport", "PersonalData", "PersonalItem", "Privacy"]

Step = Callable[[str], None]
"""Told what ``forget`` does next, in a few words (the CLI prints it)."""


class PersonalItem(Frozen):
    """One field of one event that holds the subject's data."""

    position: int
    aggregate_id: UUID
    version: int
    event: str
    recorded_at: datetime
    field: str
    """Its path in the event: ``person``, ``meta.user``."""
    value: str
    sealed: bool
    """Stored sealed under the subject's key (False: written before sealing, in plain text)."""


class PersonalData(Frozen):
    """What the ledger holds about one data subject: for a data-access request."""

    subject: str
    """The subject's id, normalised (``nominee:zhang min@xi'an cable works``)."""
    key_id: UUID | None
    """The subject's key id; None if no field of the subject is sealed (never, or forgotten)."""
    items: tuple[PersonalItem, ...]


class ForgetReport(Frozen):
    """What ``forget`` did."""

    kind: str
    key_id: UUID
    """The destroyed key's id, which the erasure record names."""
    linked_key_ids: tuple[UUID, ...] = ()
    """Keys of the aggregates created for the subject, destroyed with it (a nominee's commendation)."""
    position: int
    """Log position of the erasure record."""
    sealed_events: int
    """Events whose fields of the subject now read as erased."""
    legacy_events: int
    """Events written before sealing that still hold the subject's data in plain text."""
    snapshots_replaced: int
    """Snapshots that held the subject's values, replaced by ones taken as the events now read."""
    views_rebuilt: bool
    """True in every report: a ``forget`` whose views could not be rebuilt
    raises instead, saying the key is destroyed and the erasure recorded,
    and to run ``quality-ledger views rebuild`` (kept for the JSON output's readers)."""


def _checked_text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        msg = f"{name} must be non-blank text of at most {limit} characters, got {shown(value)}"
        raise InvalidCommand(msg)
    if any(ord(ch) < 32 and ch not in "\t\n" for ch in value):
        msg = f"{name} holds a control character"
        raise InvalidCommand(msg)
    return value.strip()


def checked_subject(subject: object) -> str:
    """``subject`` as a normalised subject id, or :class:`InvalidCommand` naming what is wrong."""
    kinds = personal_kinds()
    text = _checked_text("subject", subject, MAX_SUBJECT)
    kind, colon, rest = text.partition(":")
    if not colon or kind not in kinds or not rest.strip():
        known = ", ".join(f"'{k}:...'" for k in sorted(kinds))
        msg = f"subject must be a kind of data subject and who, one of {known}, got {shown(subject)}"
        raise InvalidCommand(msg)
    return normalised_subject(text)


@functools.cache
def personal_kinds() -> frozenset[str]:
    """Every kind of data subject some stored event class marks."""
    return frozenset(f.marker.kind for f in _stored_plans())


@functools.cache
def linked_kinds() -> frozenset[str]:
    """The kinds some stored class marks without ``by``: data of the subject
    an aggregate was created for, sealed under that aggregate's own key."""
    return frozenset(f.marker.kind for f in _stored_plans() if not f.marker.by)


class Privacy(Part):
    """``forget`` and ``personal_data`` (mixed into ``Ledger``)."""

    clock: Callable[[], datetime] | None
    as_of_position: int | None

    @guarded
    def personal_data(self, subject: str) -> PersonalData:
        """Every event field that holds ``subject``'s data, readable: for a
        data-access request (PIPL Art. 45, GDPR Art. 15). ``subject`` is a
        kind and who, ``"user:li.wei"`` or ``"nominee:Zhang Min@Xi'an Cable
        Works"`` (a nominee is her name at her employer); width, case and
        spacing do not matter. Reads the whole log once."""
        normalised = checked_subject(subject)
        held = _Held(self._log, normalised)
        items = tuple(i for _, _, found in held.walk() for i in found)
        return PersonalData(subject=normalised, key_id=held.subjects[normalised], items=items)

    @guarded
    def forget(self, subject: str, *, reason: str, actor: Actor, step: Step | None = None) -> ForgetReport:
        """Erase ``subject``: record who did it, when and on what legal basis
        (``reason``), destroy the subject's key, and remove the plain copies
        of its data beside the log (snapshots, views, freed pages). Afterwards
        every sealed field of the subject reads as ``"[erased]"`` everywhere;
        ``verify()`` still holds. Allowed to actors the policy's
        ``may_forget`` names (``DepartmentPolicy(privacy_officers=...)``).

        Raises :class:`NotFound` if no field of the subject is sealed here
        (never recorded, or forgotten already). docs/privacy.md says what
        erasure reaches and what it cannot."""
        tell = step or (lambda _: None)
        if self.location.read_only or self.as_of_position is not None:
            msg = "this ledger is open read-only or is a replay: it forgets nothing"
            raise ReadOnly(msg)
        normalised = checked_subject(subject)
        reason = _checked_text("reason", reason, MAX_TEXT)
        actor = Actor.checked(actor)
        kind = normalised.partition(":")[0]
        if not (isinstance(self.policy, ErasurePolicy) and self.policy.may_forget(actor, kind)):
            msg = (
                f"{actor.user} of {actor.department} may not erase a data subject: the ledger's policy "
                "names who may (DepartmentPolicy(privacy_officers=...))"
            )
            raise PermissionDenied(msg)
        keys = self._log.keys
        held = _Held(self._log, normalised)
        key_id = held.subjects[normalised]
        if key_id is None:
            plain = sum(1 for _ in held.walk())
            msg = f"no sealed data of {kind} subject {shown(subject)} is held here: " + (
                f"{plain} events written before sealing hold it in plain text, which forget cannot erase (docs/privacy.md)"
                if plain
                else "never recorded, or forgotten already"
            )
            raise NotFound(msg)
        if self.views.outdated is not None:  # checked before anything is read or destroyed: the views are rebuilt last
            raise ViewsOutdated(self.views.outdated)

        tell("finding the subject's events")
        aggregates: set[UUID] = set()
        values: set[str] = set()
        sealed = legacy = 0
        for _, event, items in held.walk():  # counted as it goes: a clerk's may be every event of the log
            aggregates.add(event.originator_id)
            values.update(item.value for item in items)
            if any(item.sealed for item in items):
                sealed += 1
            else:
                legacy += 1

        tell("recording the erasure")
        position = self._record(key_id, held.linked, kind, reason, actor, sealed, legacy)
        doomed = {key_id, *held.linked}
        tell("replacing snapshots")
        # Before the keys go: replayed as they will read (the doomed keys as if
        # destroyed), so a crash after this leaves no snapshot with the values.
        replaced = _replace_snapshots(self._log, aggregates, values, doomed)
        tell("destroying the key")
        for linked in held.linked_subjects:
            keys.destroy(linked)
        keys.destroy(normalised)
        self._log.recent.clear()  # aggregates decided on before: they may hold the values
        tell("rebuilding the views")
        try:
            self.views.rebuild()
            tell("scrubbing freed pages")
            _scrub(self.location, self.views.engine)
        except Exception as e:
            if not isinstance(e, LedgerError) and not is_store_error(e):
                raise
            msg = (
                f"the {kind} subject's key is destroyed and the erasure recorded at position {position}, "
                f"but the views still hold its data ({type(e).__name__}: {e}): run 'quality-ledger views rebuild'"
            )
            if isinstance(e, LedgerError):
                e.args = (msg,)
                raise
            raise StoreUnavailable(msg) from e
        log.info("forgot a %s subject: key %s destroyed, %d events sealed, %d legacy", kind, key_id, sealed, legacy)
        return ForgetReport(
            kind=kind,
            key_id=key_id,
            linked_key_ids=held.linked,
            position=position,
            sealed_events=sealed,
            legacy_events=legacy,
            snapshots_replaced=replaced,
            views_rebuilt=True,
        )

    def _record(
        self, key_id: UUID, linked: tuple[UUID, ...], kind: str, reason: str, actor: Actor, sealed: int, legacy: int
    ) -> int:
        """Record the erasure (once: a retried ``forget`` finds it); its position."""
        record_id = erasure_id(key_id)
        if self._log.exists(record_id):
            return _position_of(self._log, record_id)
        erasure = Erasure.record(
            key_id,
            linked_key_ids=linked,
            kind=kind,
            reason=reason,
            officer=f"{actor.user} ({actor.department})",
            sealed_events=sealed,
            legacy_events=legacy,
        )
        command_id = uuid4()
        meta = EventMeta(
            user=actor.user,
            department=actor.department,
            command="Forget",
            command_id=command_id,
            correlation_id=command_id,
        )
        now = stamp(self.clock)
        events = [with_meta(e, meta, now, {}) for e in erasure.collect_events()]
        return self._log.insert([self._log.encode(e) for e in events])[-1]


def _position_of(events: EventLog, aggregate_id: UUID) -> int:
    for notification in events.notifications():
        if notification.originator_id == aggregate_id:
            return notification.id
    raise NotFound(str(aggregate_id))  # pragma: no cover - exists() said it does


@functools.cache
def _class(topic: str) -> type | None:
    """The class a stored topic names; None for one this version cannot resolve
    (it holds nothing a scan can read: decoding says why elsewhere)."""
    try:
        found = resolve_topic(topic)
    except Exception:
        return None
    return found if isinstance(found, type) else None


class _Held:
    """What the log holds of one subject, read in one pass: the fields that
    name it, and those of the aggregates created for it (fields marked
    without ``by``, sealed under the aggregate's own key: a nominee's press
    titles), which the log holds only after the aggregate's creation event."""

    def __init__(self, events: EventLog, subject: str) -> None:
        self.events = events
        self.kind = subject.partition(":")[0]
        self.subjects: dict[str, UUID | None] = {subject: events.keys.key_id(subject)}
        self.linked_subjects: list[str] = []
        self.linked: tuple[UUID, ...] = ()
        """The key ids of :attr:`linked_subjects`, found as the walk goes."""
        self._links = self.kind in linked_kinds()

    def walk(self) -> Iterator[tuple[int, DomainEvent, list[PersonalItem]]]:
        """Every event holding the subject's data, with the fields that hold it, in log order."""
        for position, event, items in _scan(self.events, self.kind, self.subjects):
            linked = aggregate_subject(self.kind, event.originator_id)
            if self._links and isinstance(event, CreationEvent) and linked not in self.subjects:
                key_id = self.events.keys.key_id(linked)
                if key_id is not None:
                    self.subjects[linked] = key_id
                    self.linked_subjects.append(linked)
                    self.linked = (*self.linked, key_id)
            yield position, event, items


def _stored_plans() -> Iterator[FieldPlan]:
    from quality_ledger.names import STORED

    for cls in STORED.values():
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            yield from plan(cls)


def _scan(
    events: EventLog, kind: str, subjects: dict[str, UUID | None]
) -> Iterator[tuple[int, DomainEvent, list[PersonalItem]]]:
    """Every event holding data of ``subjects`` (of one ``kind``), with the fields that hold it.

    A row is decoded only if it can: one whose bytes name one of the
    subjects' keys, or one written before sealing (no sealed field at all)
    whose class marks fields of the kind."""
    needles: list[bytes] = []
    known = 0
    for notification in events.notifications(page=PAGE):
        if known != len(subjects):  # the caller added a subject as the walk went
            known = len(subjects)
            needles = [key_id.hex.encode() for key_id in subjects.values() if key_id is not None]
        state = events.plain(notification)
        if any(needle in state for needle in needles):
            pass
        elif MARK in state:
            continue
        else:
            cls = _class(notification.topic)
            if cls is None or not issubclass(cls, BaseModel) or not any(f.marker.kind == kind for f in plan(cls)):
                continue
        event = events.decode(notification, state)
        sealed = MARK in state
        found = [
            PersonalItem(
                position=notification.id,
                aggregate_id=event.originator_id,
                version=event.originator_version,
                event=event_name(event),
                recorded_at=event.timestamp,
                field=field.name,
                value=value,
                sealed=sealed,
            )
            for field in plan(type(event))
            if field.marker.kind == kind and (value := _value_of(event, field, subjects)) is not None
        ]
        if found:
            yield notification.id, event, found


def _value_of(event: BaseModel, field: FieldPlan, subjects: dict[str, UUID | None]) -> str | None:
    """The value of ``field`` in ``event`` if it is one of ``subjects``'s."""
    owner = owner_of(event, field)
    value = owner.__dict__.get(field.path[-1]) if owner is not None else None
    if not isinstance(value, str):
        return None
    return value if subject_of(event, owner, field) in subjects else None


def _replace_snapshots(events: EventLog, aggregates: set[UUID], values: set[str], doomed: set[UUID]) -> int:
    """Replace every snapshot of ``aggregates`` that holds one of ``values``
    with one replayed from the events as they read once the ``doomed`` keys
    are destroyed."""
    needles = [json.dumps(v, ensure_ascii=False)[1:-1].encode() for v in values if v]
    if not needles:
        return 0
    mapper = events.mapper_without(doomed)
    replaced = 0
    for aggregate_id in aggregates:
        for row in events.snapshots.recorder.select_events(aggregate_id):
            if not any(needle in events.plain(row) for needle in needles):
                continue
            aggregate: Any = None
            for stored in events.recorder.select_events(aggregate_id, lte=row.originator_version):
                aggregate = mapper.to_domain_event(stored).mutate(aggregate)
            if aggregate is not None:
                events.snapshots.overwrite(Snapshot.take(aggregate))
                replaced += 1
    return replaced


def _scrub(location: Location, views_engine: Any) -> None:
    """On SQLite, rewrite the ledger's file (and a separate views file) so
    that no freed page keeps a byte of what was deleted or replaced, and
    empty the write-ahead log. Nothing to do in memory; on PostgreSQL the
    rows are gone from every table (docs/privacy.md: its dead tuples)."""
    paths: list[str] = []
    if location.env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite" and (path := sqlite_path(location.url)):
        paths.append(path)
    url = getattr(views_engine, "url", None)
    database = getattr(url, "database", None)
    if url is not None and url.get_backend_name() == "sqlite" and database and database != ":memory:":
        paths.append(database)
    for path in dict.fromkeys(paths):
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA secure_delete=ON")
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
