"""The event-log port: the one object that holds the store.

Everything that touches stored events goes through :class:`EventLog`: the
ledger's writing and reading parts, the audit tools (verify, export,
replay) and the tests that plant rows no command would write. It wraps
eventsourcing's ``Application`` (kept private, so a service cannot bypass
commands by saving aggregates) and names what its users need: pages of
notifications, raw rows, the hash chain, the position, decoding, saving,
snapshots. The ports' users depend on this module, never on ``Ledger``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    JSONTranscoder,
    Mapper,
    Notification,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType

from quality_ledger.audit.chain import ChainedRecorder
from quality_ledger.domain.base import DomainEvent, Snapshot
from quality_ledger.errors import ConfigurationError
from quality_ledger.guarantees import check_store, refuse_overrides
from quality_ledger.persistence import PydanticMapper, application_recorder, snapshot_recorder
from quality_ledger.privacy import FieldCipher, KeyStore, key_store_for
from quality_ledger.privacy.at_rest import check_at_rest
from quality_ledger.privacy.keys import WithoutKeys
from quality_ledger.recent import RecentAggregates
from quality_ledger.snapshots import SnapshotRepository, SnapshotStore
from quality_ledger.store.mapper import ReplayMapper

PAGE = 1000
"""Notifications read per query when walking the log."""


class _Store(Application[UUID]):
    """eventsourcing's application, with our mapper, recorders and snapshots."""

    name = "quality_ledger"
    is_snapshotting_enabled = True
    snapshot_class = Snapshot
    snapshot_every = 50
    """Take a snapshot when an aggregate's version reaches a multiple of this."""

    def __init__(
        self, env: Mapping[str, str], encryption_key: bytes | None = None, key_store: KeyStore | None = None
    ) -> None:
        refuse_overrides(os.environ)
        super().__init__(env=env)
        try:
            check_store(self.recorder, self.mapper)
            mapper = cast(PydanticMapper, self.mapper)
            if key_store is not None:
                missing = [
                    m for m in ("key_for", "key", "key_id", "destroy") if not callable(getattr(key_store, m, None))
                ]
                if missing:
                    msg = f"key_store must be a quality_ledger.privacy.KeyStore: {type(key_store).__name__} lacks {', '.join(missing)}"
                    raise ConfigurationError(msg)
            mapper.privacy = FieldCipher(key_store if key_store is not None else key_store_for(self.recorder))
            mapper.at_rest = check_at_rest(self.recorder, encryption_key)
        except BaseException:
            self.close()
            raise

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The settings the ledger chose, and nothing from ``os.environ``
        (eventsourcing would merge it in: see :mod:`quality_ledger.guarantees`)."""
        settings = dict(type(self).env)
        settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        settings.update(env or {})
        return Environment(name, settings)

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JSONTranscoder())

    def construct_recorder(self) -> ApplicationRecorder:
        return application_recorder(self.factory, self.env)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """eventsourcing's snapshot table, in a store that can also overwrite a
        stale snapshot (see :mod:`quality_ledger.snapshots`)."""
        return SnapshotStore(mapper=self.mapper, recorder=snapshot_recorder(self.factory, self.env))

    def construct_repository(self) -> Repository[UUID]:
        """A repository that loads a snapshot only if it fits today's state
        model, else replays and replaces it: a snapshot never breaks a read."""
        snapshots = cast(SnapshotStore, self.snapshots)  # always on (construct_env), built above
        replaying = EventStore(mapper=ReplayMapper(cast(PydanticMapper, self.mapper)), recorder=self.recorder)
        return SnapshotRepository(replaying, snapshot_store=snapshots)


class _HasLog(Protocol):
    _log: EventLog


class EventLog:
    """The stored events of one ledger, and what may be done with them.

    Internal: services execute commands; the audit tools, the replays and
    the tests use this port (``EventLog.of(ledger)``) instead of reaching
    into the ledger.
    """

    def __init__(
        self, env: Mapping[str, str], encryption_key: bytes | None = None, key_store: KeyStore | None = None
    ) -> None:
        self._app = _Store(env=env, encryption_key=encryption_key, key_store=key_store)
        self.recent = RecentAggregates(self._app.repository)
        """The aggregates commands were lately decided against, kept and brought up
        to date on every use (:mod:`quality_ledger.recent`): the writer's, not the readers'."""

    @staticmethod
    def of(ledger: object) -> EventLog:
        """The event log behind ``ledger`` (a ``Ledger``; typed loosely so this
        module never imports the application layer)."""
        return cast(_HasLog, ledger)._log

    def close(self) -> None:
        self._app.close()

    @property
    def snapshot_every(self) -> int:
        """Snapshot an aggregate when its version reaches a multiple of this (tests change it)."""
        return self._app.snapshot_every

    @snapshot_every.setter
    def snapshot_every(self, every: int) -> None:
        self._app.snapshot_every = every

    # Parts ------------------------------------------------------------------------

    @property
    def recorder(self) -> ApplicationRecorder:
        """The application recorder: notifications, raw inserts, and the chain."""
        return self._app.recorder

    @property
    def chain(self) -> ChainedRecorder:
        """The recorder seen as the keeper of the hash chain (checked at open)."""
        return cast(ChainedRecorder, self._app.recorder)

    @property
    def mapper(self) -> Mapper[UUID]:
        return self._app.mapper

    @property
    def keys(self) -> KeyStore:
        """The data subjects' keys (:mod:`quality_ledger.privacy.keys`)."""
        return self.privacy.keys

    @property
    def privacy(self) -> FieldCipher:
        """What seals and opens personal fields (:mod:`quality_ledger.privacy.fields`)."""
        cipher = cast(PydanticMapper, self._app.mapper).privacy
        assert cipher is not None  # set in _Store.__init__
        return cipher

    def mapper_without(self, destroyed: set[UUID]) -> PydanticMapper:
        """A mapper that reads rows as they will read once the keys
        ``destroyed`` are: ``forget`` replaces snapshots with it before it
        destroys them."""
        own = cast(PydanticMapper, self._app.mapper)
        mapper = PydanticMapper(transcoder=own.transcoder)
        mapper.at_rest = own.at_rest
        mapper.privacy = FieldCipher(WithoutKeys(self.keys, destroyed))
        return mapper

    def share_keys(self, other: EventLog) -> None:
        """Read (and write) personal fields with ``other``'s keys: a replay's
        scratch copy of a log holds its rows, not its key table."""
        cast(PydanticMapper, self._app.mapper).privacy = other.privacy

    @property
    def repository(self) -> Repository[UUID]:
        """Aggregates, loaded through snapshots where they fit."""
        return self._app.repository

    @property
    def aggregate_events(self) -> EventStore[UUID]:
        """Events per aggregate (for a repository that ignores snapshots)."""
        return self._app.events

    @property
    def snapshots(self) -> SnapshotStore:
        return cast(SnapshotStore, self._app.snapshots)

    # Reading ----------------------------------------------------------------------

    def position(self) -> int:
        """The position of the last stored event (0 for an empty log)."""
        return self._app.recorder.max_notification_id() or 0

    def notifications(self, start: int = 1, until: int | None = None, page: int = PAGE) -> Iterator[Notification]:
        """Stored rows in commit order from ``start`` up to ``until`` (default:
        the end), undecoded, read ``page`` at a time."""
        while until is None or start <= until:
            rows = self._app.recorder.select_notifications(start=start, limit=page, stop=until)
            yield from rows
            if len(rows) < page:
                return
            start = rows[-1].id + 1

    def plain(self, row: StoredEvent) -> bytes:
        """A row's JSON as written (opened first in a ledger encrypted at rest)."""
        return cast(PydanticMapper, self._app.mapper).plain(row)

    def decode(self, row: StoredEvent, plain: bytes | None = None) -> DomainEvent:
        """The event ``row`` holds (``plain``: its JSON, if :meth:`plain` gave it already)."""
        return cast(DomainEvent, cast(PydanticMapper, self._app.mapper).decode(row, plain=plain))

    def events(self, start: int = 1, page: int = PAGE) -> Iterator[tuple[int, DomainEvent]]:
        """Every stored event from ``start`` in commit order, decoded, with its position."""
        for n in self.notifications(start, page=page):
            yield n.id, self.decode(n)

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether any event of ``aggregate_id`` is stored: one indexed query,
        where loading it would also look for a snapshot and decode."""
        return bool(self._app.recorder.select_events(aggregate_id, limit=1))

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        """Every stored event of one aggregate, oldest first."""
        return [cast(DomainEvent, e) for e in self._app.events.get(aggregate_id)]

    # Writing ----------------------------------------------------------------------

    def save(self, *events: Any) -> None:
        """Store events atomically (no rule is checked here: commands check them)."""
        self._app.save(*events)

    def encode(self, event: Any) -> StoredEvent:
        """An event as its stored row, for :meth:`insert` (a batch encodes as it decides)."""
        return self._app.mapper.to_stored_event(event)

    def insert(self, rows: Sequence[StoredEvent]) -> list[int]:
        """Store rows exactly as given, atomically (a replay copying another
        log, a batch's chunk); their log positions, in order.

        Unlike :meth:`save` this skips eventsourcing's per-event protocol
        checks, a fifth of a bulk save's time."""
        return list(self._app.recorder.insert_events(rows) or ())

    def take_snapshot(self, aggregate_id: UUID, version: int) -> None:
        self._app.take_snapshot(aggregate_id, version=version)
