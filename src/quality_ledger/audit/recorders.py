"""eventsourcing's recorders with the hash chain added to their insert.

Each subclass writes the new links in the same transaction as the events
(the store's own lock already serialises writers: SQLite's write lock,
PostgreSQL's ``LOCK TABLE ... IN EXCLUSIVE MODE``, the in-memory recorder's
mutex), so a link exists exactly when its event does. They are plugged in
with eventsourcing's ``APPLICATION_RECORDER_TOPIC`` setting.

A chain table created here comes with its format (``ql_chain_format``,
:data:`~quality_ledger.audit.chain.CURRENT_FORMAT`) in the same transaction;
a chain table that exists without one is format 1 and stays so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from quality_ledger.audit.chain import (
    CURRENT_FORMAT,
    FORMAT_TABLE,
    EventRow,
    Link,
    LinkRow,
    check_format,
    extend,
)
from quality_ledger.errors import ReadOnly

CHAIN_TABLE = "ql_chain"
CREATE_CHAIN = (
    "CREATE TABLE IF NOT EXISTS ql_chain (position INTEGER PRIMARY KEY, "
    "notification_id INTEGER NOT NULL UNIQUE, digest BLOB NOT NULL, link BLOB NOT NULL)"
)
CREATE_FORMAT = "CREATE TABLE IF NOT EXISTS ql_chain_format (format INTEGER NOT NULL)"
INSERT_FORMAT = "INSERT INTO ql_chain_format (format) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM ql_chain_format)"
TABLE_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
SELECT_FORMAT = "SELECT format FROM ql_chain_format"
SELECT_LAST = "SELECT * FROM ql_chain ORDER BY position DESC LIMIT 1"
SELECT_FROM = "SELECT * FROM ql_chain WHERE position >= ? ORDER BY position LIMIT ?"
INSERT_LINKS = "INSERT INTO ql_chain VALUES (?,?,?,?)"
SELECT_RAW = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
    "WHERE rowid >= ? ORDER BY rowid LIMIT ?"
)
SCAN_LINKS = "SELECT position, notification_id, digest, link FROM ql_chain WHERE position > ? ORDER BY position"
SCAN_EVENTS = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events WHERE rowid > ? ORDER BY rowid"
)


class ChainedPOPOApplicationRecorder(POPOApplicationRecorder):
    def __init__(self, chain_format: int = CURRENT_FORMAT) -> None:
        super().__init__()
        self._links: list[Link] = []
        self._chain_format = check_format([chain_format])

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super()._update_table(stored_events, **kwargs)
        if notification_ids:
            self._links.extend(extend(self.last_link(), notification_ids, stored_events, self._chain_format))
        return notification_ids

    def select_links(self, start: int, limit: int) -> Sequence[Link]:
        first = max(start, 1) - 1  # positions are dense from 1
        with self._database_lock:
            return self._links[first : first + limit]

    def last_link(self) -> Link | None:
        return self._links[-1] if self._links else None

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        return self.select_notifications(start=start, limit=limit)

    def chain_format(self) -> int:
        return self._chain_format

    @contextmanager
    def read_chain(
        self, after_position: int, after_notification_id: int
    ) -> Iterator[tuple[Iterable[LinkRow], Iterable[EventRow]]]:
        with self._database_lock:  # a snapshot: the lists only grow
            links = self._links[max(after_position, 0) :]
            events = self._stored_events[max(after_notification_id, 0) :]
        first = max(after_notification_id, 0) + 1
        yield (
            links,
            ((n, _hex(e.originator_id), e.originator_version, e.topic, e.state) for n, e in enumerate(events, first)),
        )


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    _chain_format: int | None = None
    """The format this recorder writes, read once (a ledger's format never changes)."""

    @property
    def read_only(self) -> bool:
        """Opened read-only (``quality_ledger.persistence.locate`` chose a
        ``mode=ro`` URI: a read-only file or directory, or ``?mode=ro``)."""
        return "mode=ro" in self.datastore.pool.db_name

    def refuse_if_read_only(self) -> None:
        """Raise :class:`ReadOnly` if opened read-only: before a transaction
        begins, naming why, rather than SQLite's "attempt to write a readonly
        database" from inside one (the events' insert, a subject's new key)."""
        if self.read_only:
            path = unquote(self.datastore.pool.db_name.removeprefix("file:").split("?", 1)[0])
            msg = f"the ledger at {path} is open read-only (a read-only file or directory, or mode=ro): it records nothing"
            raise ReadOnly(msg)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self.refuse_if_read_only()
        return super().insert_events(stored_events, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            CREATE_CHAIN,
        ]

    def _create_table(self, c: SQLiteCursor) -> None:
        """A chain table created now gets the current format in the same
        transaction; one that exists keeps what it has (none: format 1)."""
        c.execute(TABLE_EXISTS, (CHAIN_TABLE,))
        new = c.fetchone() is None
        super()._create_table(c)
        if new:
            c.execute(CREATE_FORMAT)
            c.execute(INSERT_FORMAT, (CURRENT_FORMAT,))

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if notification_ids:
            if self._chain_format is None:
                self._chain_format = _read_format(c)
            c.execute(SELECT_LAST)
            last = c.fetchone()
            links = extend(_link(last) if last else None, notification_ids, stored_events, self._chain_format)
            c.executemany(INSERT_LINKS, links)  # a Link is its row
        return notification_ids

    def select_links(self, start: int, limit: int) -> Sequence[Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_FROM, (start, limit))
            return [_link(row) for row in c.fetchall()]

    def last_link(self) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_LAST)
            row = c.fetchone()
            return _link(row) if row else None

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        # Ids stay hex strings: converting 10^5 of them to UUID and back is
        # a third of what verifying costs.
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_RAW, (start, limit))
            return [Notification(r[1], r[2], r[3], r[4], r[0]) for r in c.fetchall()]

    def chain_format(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            return _read_format(c)

    @contextmanager
    def read_chain(
        self, after_position: int, after_notification_id: int
    ) -> Iterator[tuple[Iterable[LinkRow], Iterable[EventRow]]]:
        # Two statements stepped side by side on one connection, in one read
        # transaction (one snapshot), rows as plain tuples: both walk a
        # primary key (position, rowid) from where they start.
        with self.datastore.transaction(commit=False) as c:
            connection: sqlite3.Connection = c.sqlite_cursor.connection
            links, events = connection.cursor(), connection.cursor()
            links.row_factory = events.row_factory = None
            try:
                yield (
                    links.execute(SCAN_LINKS, (after_position,)),
                    events.execute(SCAN_EVENTS, (after_notification_id,)),
                )
            finally:
                links.close()
                events.close()


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def _read_format(c: SQLiteCursor) -> int:
    c.execute(TABLE_EXISTS, (FORMAT_TABLE,))
    if c.fetchone() is None:
        return check_format([])
    c.execute(SELECT_FORMAT)
    return check_format([row[0] for row in c.fetchall()])


def _link(row: Any) -> Link:
    return Link(row[0], row[1], bytes(row[2]), bytes(row[3]))
