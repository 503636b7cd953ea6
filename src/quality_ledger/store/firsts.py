"""The first stored event of many aggregates, in one query.

A batch asks it once per chunk, before deciding it: which of the ids its
commands would create exist already, and which of its idempotency keys
were recorded (a key's record is one event, at version 1). Asked one
aggregate at a time, through the recorder's ``select_events``, that was a
query per command: a fifth of a bulk import on SQLite, more on a server.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteAggregateRecorder

GROUP = 500
"""Ids per statement: far below SQLite's bound on parameters (32,766 since 3.32, 999 before)."""


def first_events(recorder: AggregateRecorder, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
    """The stored event at version 1 of each of ``ids`` that has one."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    if isinstance(recorder, SQLiteAggregateRecorder):
        return _sqlite(recorder, unique)
    if _is_postgres(recorder):
        return _postgres(recorder, unique)
    found = {}  # the in-memory store: each lookup is a dict's
    for aggregate_id in unique:
        events = recorder.select_events(aggregate_id, lte=1)
        if events:
            found[aggregate_id] = events[0]
    return found


def _groups(ids: Sequence[UUID]) -> Iterator[Sequence[UUID]]:
    for start in range(0, len(ids), GROUP):
        yield ids[start : start + GROUP]


def _sqlite(recorder: SQLiteAggregateRecorder, ids: Sequence[UUID]) -> dict[UUID, StoredEvent]:
    found: dict[UUID, StoredEvent] = {}
    with recorder.datastore.transaction(commit=False) as cursor:
        for group in _groups(ids):
            by_hex = {i.hex: i for i in group}
            statement = (
                "SELECT originator_id, topic, state "  # noqa: S608 - the recorder's own table name, and placeholders
                f"FROM {recorder.events_table_name} "
                f"WHERE originator_version = 1 AND originator_id IN ({','.join('?' * len(group))})"
            )
            cursor.execute(statement, list(by_hex))
            for row in cursor.fetchall():
                aggregate_id = by_hex[row[0]]
                found[aggregate_id] = StoredEvent(aggregate_id, 1, row[1], row[2])
    return found


def _is_postgres(recorder: AggregateRecorder) -> bool:
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # the [postgres] extra is not installed: then no store is PostgreSQL
        return False
    return isinstance(recorder, PostgresAggregateRecorder)


def _postgres(recorder: Any, ids: Sequence[UUID]) -> dict[UUID, StoredEvent]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT originator_id, topic, state FROM {schema}.{table} "
        "WHERE originator_version = 1 AND originator_id = ANY(%s)"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    found: dict[UUID, StoredEvent] = {}
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        for group in _groups(ids):
            cursor.execute(statement, (list(group),))
            for row in cursor.fetchall():
                aggregate_id = UUID(str(row["originator_id"]))
                found[aggregate_id] = StoredEvent(aggregate_id, 1, row["topic"], bytes(row["state"]))
    return found
