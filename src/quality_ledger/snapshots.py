"""Snapshots that cannot break reads: a stale or unreadable one is replayed around and replaced.

A snapshot is a cache kept apart from the hash-chained log, so ``verify()``
never looks at it; a snapshot written before a state model changed would
otherwise make ``get()`` fail on data the log holds perfectly well. Here
the latest snapshot is used only if it loads and was taken with the state
model the code has now (:meth:`Snapshot.is_current`, a fingerprint of the
model's schema). Otherwise the aggregate is replayed from its first event,
and the snapshot is overwritten, at its own version, by one taken from
that replay: the next read starts from it again. Overwriting at the same
version keeps the snapshots where the interval put them, and is one upsert
on each engine (the stores key snapshots by id and version, so a plain
insert would collide with the stale row).

Reading never fails because of a snapshot: a replacement that cannot be
written (a read-only file, a lost race with another process) is logged,
and the read answers from the replay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProjectorFunction, Repository, project_aggregate
from eventsourcing.persistence import AggregateRecorder, EventStore, StoredEvent
from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

from quality_ledger.domain.base import Snapshot

log = logging.getLogger(__name__)


class SnapshotStore(EventStore[UUID]):
    """The store of snapshots, which can also overwrite one in place."""

    def overwrite(self, snapshot: Snapshot) -> None:
        """Store ``snapshot``, replacing any snapshot at its id and version (atomically)."""
        stored = self.mapper.to_stored_event(snapshot)
        recorder = self.recorder
        if isinstance(recorder, ReplaceablePOPOAggregateRecorder):
            recorder.overwrite(stored)
        elif isinstance(recorder, SQLiteAggregateRecorder):
            _overwrite_sqlite(recorder, stored)
        elif _is_postgres(recorder):
            _overwrite_postgres(recorder, stored)
        else:  # pragma: no cover - the ledger builds only the three above
            msg = f"cannot overwrite a snapshot in {type(recorder).__name__}"
            raise TypeError(msg)


class ReplaceablePOPOAggregateRecorder(POPOAggregateRecorder):
    """The in-memory snapshot recorder, with the overwrite the others do in SQL."""

    def overwrite(self, stored: StoredEvent) -> None:
        with self._database_lock:
            index = self._stored_events_index[str(stored.originator_id)]
            position = index.get(stored.originator_version)
            if position is None:
                self._update_table([stored])
            else:
                self._stored_events[position] = stored


def _overwrite_sqlite(recorder: SQLiteAggregateRecorder, stored: StoredEvent) -> None:
    statement = f"INSERT OR REPLACE INTO {recorder.events_table_name} VALUES (?,?,?,?)"  # noqa: S608 - the recorder's own table name
    originator_id = stored.originator_id
    row = (
        originator_id.hex if isinstance(originator_id, UUID) else originator_id,
        stored.originator_version,
        stored.topic,
        stored.state,
    )
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement, row)


def _is_postgres(recorder: AggregateRecorder) -> bool:
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # the [postgres] extra is not installed: then no store is PostgreSQL
        return False
    return isinstance(recorder, PostgresAggregateRecorder)


def _overwrite_postgres(recorder: Any, stored: StoredEvent) -> None:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (originator_id, originator_version) "
        "DO UPDATE SET topic = EXCLUDED.topic, state = EXCLUDED.state"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    row = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, row)


class SnapshotRepository(Repository[UUID]):
    """eventsourcing's repository, trusting a snapshot only when it is current.

    eventsourcing's own ``_reconstruct_aggregate`` hands the latest snapshot
    to the projector as it is; this one checks it first and, if it is stale
    or unreadable, replays from the first event and writes a fresh snapshot
    at the stale one's version on the way.
    """

    def __init__(self, event_store: EventStore[UUID], *, snapshot_store: SnapshotStore) -> None:
        super().__init__(event_store, snapshot_store=snapshot_store)
        self.snapshots = snapshot_store
        self._unwritable: set[tuple[UUID, int]] = set()
        """Stale snapshots whose replacement failed once: not retried on every read."""
        self._together: tuple[bytes, bytes] | tuple[()] | None = None
        """The PostgreSQL statements of :meth:`read_together` (without and with
        a version bound), rendered once; empty where there are none; None until
        the first read."""

    def _reconstruct_aggregate(
        self, aggregate_id: UUID, version: int | None, projector_func: ProjectorFunction[Any, Any]
    ) -> Any:
        if projector_func is project_aggregate:
            projector_func = project
        read = self.read_together(aggregate_id, version)
        if read is None:
            rows = self.snapshots.recorder.select_events(aggregate_id, desc=True, limit=1, lte=version)
            if not rows:
                return self._replay(aggregate_id, version, projector_func, stale_at=None)
            row = rows[0]
            tail: Iterable[Any] | None = None
        else:
            latest, stored = read
            tail = map(self.event_store.mapper.to_domain_event, stored)
            if latest is None:
                aggregate = projector_func(None, tail)
                if aggregate is None:
                    msg = f"Aggregate {aggregate_id!r} version {version!r} not found."
                    raise AggregateNotFoundError(msg)
                return aggregate
            row = latest
        aggregate = self._load(row)
        if aggregate is None:
            return self._replay(aggregate_id, version, projector_func, stale_at=row.originator_version)
        if tail is None:
            tail = self.event_store.get(originator_id=aggregate_id, gt=row.originator_version, lte=version)
        return projector_func(aggregate, tail)

    def read_together(
        self, aggregate_id: UUID, version: int | None
    ) -> tuple[StoredEvent | None, list[StoredEvent]] | None:
        """The latest snapshot up to ``version`` and the events after it (all of
        them if there is none), read together: on SQLite in one transaction, on
        PostgreSQL in one statement, rather than one read for the snapshot and
        another for the events. None in memory, where two reads cost nothing."""
        events, snapshots = self.event_store.recorder, self.snapshots.recorder
        if isinstance(events, SQLiteAggregateRecorder):
            if isinstance(snapshots, SQLiteAggregateRecorder) and events.datastore is snapshots.datastore:
                return _read_sqlite(events, snapshots, aggregate_id, version)
            return None  # pragma: no cover - the ledger keeps both tables in one database
        if self._together is None:
            self._together = _postgres_statements(events, snapshots)
        if not self._together:
            return None
        return _read_postgres(events, self._together[version is not None], aggregate_id, version)

    def _load(self, row: StoredEvent) -> Any:
        """The aggregate the snapshot ``row`` holds, or None if it is stale or cannot be read."""
        where = f"snapshot of {row.originator_id} at version {row.originator_version}"
        try:
            snapshot = self.snapshots.mapper.to_domain_event(row)
            if not isinstance(snapshot, Snapshot):
                msg = f"{where} is a {type(snapshot).__name__}, not a snapshot"
                raise TypeError(msg)
            if not snapshot.is_current():
                log.info("%s was taken with another state model: replayed from the events and replaced", where)
                return None
            return snapshot.mutate(None)
        except Exception:  # a cache that fails to load for any reason is a cache miss, never an error
            log.warning("%s cannot be loaded: replayed from the events and replaced", where, exc_info=True)
            return None

    def _replay(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
        *,
        stale_at: int | None,
    ) -> Any:
        """Replay from the first event; on the way, replace the snapshot at ``stale_at``."""
        if stale_at is None:
            aggregate = projector_func(None, self.event_store.get(originator_id=aggregate_id, lte=version))
        else:
            head = projector_func(None, self.event_store.get(originator_id=aggregate_id, lte=stale_at))
            if head is not None and head.version == stale_at:
                self._replace(head)
            tail = self.event_store.get(originator_id=aggregate_id, gt=stale_at, lte=version)
            aggregate = projector_func(head, tail)
        if aggregate is None:
            msg = f"Aggregate {aggregate_id!r} version {version!r} not found."
            raise AggregateNotFoundError(msg)
        return aggregate

    def _replace(self, aggregate: Any) -> None:
        key = (aggregate.id, aggregate.version)
        if key in self._unwritable:
            return
        try:
            self.snapshots.overwrite(Snapshot.take(aggregate))
        except Exception:  # e.g. a read-only ledger: the read still answers, from the replay
            self._unwritable.add(key)
            log.warning(
                "stale snapshot of %s at version %d could not be replaced; reads replay its events",
                *key,
                exc_info=True,
            )


def _read_sqlite(
    events: SQLiteAggregateRecorder, snapshots: SQLiteAggregateRecorder, aggregate_id: UUID, version: int | None
) -> tuple[StoredEvent | None, list[StoredEvent]]:
    """The latest snapshot and the events after it, in one transaction: a
    third of the transactions of a command."""
    upto, bound = ("AND originator_version<=? ", [version]) if version is not None else ("", [])
    with events.datastore.transaction(commit=False) as c:
        c.execute(
            f"{snapshots.select_events_statement}{upto}ORDER BY originator_version DESC LIMIT 1",
            [aggregate_id.hex, *bound],
        )
        found = [_stored(snapshots, r) for r in c.fetchall()]
        after = found[0].originator_version if found else 0
        c.execute(
            f"{events.select_events_statement}AND originator_version>? {upto}ORDER BY originator_version ASC",
            [aggregate_id.hex, after, *bound],
        )
        return (found[0] if found else None), [_stored(events, r) for r in c.fetchall()]


def _postgres_statements(events: AggregateRecorder, snapshots: AggregateRecorder) -> tuple[bytes, bytes] | tuple[()]:
    """One statement for the latest snapshot and the events after it, without
    and with a version bound (parameters: id, [version,] id, [version]); empty
    unless the events are the ledger's PostgreSQL recorder's and the
    snapshots are in the same schema.

    The snapshot is the CTE ``s``; the events branch starts after its version
    (after 0, every event, when there is none). Rendered to bytes once:
    psycopg renders a composed query again on every execute."""
    if not (_is_postgres(events) and _is_postgres(snapshots)):
        return ()
    from psycopg.sql import SQL, Identifier

    from quality_ledger.audit.postgres import ChainedPostgresApplicationRecorder, rendered

    if not isinstance(events, ChainedPostgresApplicationRecorder):  # pragma: no cover - the ledger's store is chained
        return ()
    if events.datastore is not snapshots.datastore:  # type: ignore[attr-defined]  # pragma: no cover - one factory builds both
        return ()
    schema = Identifier(events.datastore.schema)
    statements = []
    for upto in (SQL(""), SQL(" AND originator_version <= %s")):
        statement = SQL(
            "WITH s AS (SELECT originator_version, topic, state FROM {schema}.{snapshots} "
            "WHERE originator_id = %s{upto} ORDER BY originator_version DESC LIMIT 1) "
            "SELECT true AS snapshot, originator_version, topic, state FROM s "
            "UNION ALL "
            "SELECT false, originator_version, topic, state FROM {schema}.{events} "
            "WHERE originator_id = %s AND originator_version > COALESCE((SELECT originator_version FROM s), 0){upto} "
            "ORDER BY snapshot DESC, originator_version"
        ).format(
            schema=schema,
            snapshots=Identifier(snapshots.events_table_name),  # type: ignore[attr-defined]
            events=Identifier(events.events_table_name),
            upto=upto,
        )
        statements.append(rendered(statement))
    return statements[0], statements[1]


def _read_postgres(
    events: Any, statement: bytes, aggregate_id: UUID, version: int | None
) -> tuple[StoredEvent | None, list[StoredEvent]]:
    """The latest snapshot and the events after it in one statement: one
    snapshot of the database, one round trip where there were two. ``events``
    is the ledger's PostgreSQL recorder, whose reads retry once after a lost
    connection and then report it."""
    params = [aggregate_id, aggregate_id] if version is None else [aggregate_id, version, aggregate_id, version]
    rows = events.select_rows(statement, params)
    stored = [
        StoredEvent(
            originator_id=aggregate_id,
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        for row in rows
    ]
    if rows and rows[0]["snapshot"]:
        return stored[0], stored[1:]
    return None, stored


def _stored(recorder: SQLiteAggregateRecorder, row: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=recorder.convert_originator_id(row["originator_id"]),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=row["state"],
    )


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its ``assert isinstance(event,
    CanMutateProtocol)`` per event: an ``isinstance`` against a runtime-checkable
    ``Protocol`` walks the protocol's attributes every time, about a third of the
    CPU of loading an aggregate and executing one command on it (profiled:
    48,000 checks in 2,000 commands). Every event here is a domain event of
    the ledger's own aggregates, decoded by its mapper, with ``mutate``."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
