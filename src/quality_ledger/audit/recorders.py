"""eventsourcing's recorders with the hash chain added to their insert.

Each subclass writes the new links in the same transaction as the events
(the store's own lock already serialises writers: SQLite's write lock,
PostgreSQL's ``LOCK TABLE ... IN EXCLUSIVE MODE``, the in-memory recorder's
mutex), so a link exists exactly when its event does. They are plugged in
with eventsourcing's ``APPLICATION_RECORDER_TOPIC`` setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from quality_ledger.audit.chain import Link, extend
from quality_ledger.errors import ReadOnly

CHAIN_TABLE = "ql_chain"
CREATE_CHAIN = (
    "CREATE TABLE IF NOT EXISTS ql_chain (position INTEGER PRIMARY KEY, "
    "notification_id INTEGER NOT NULL UNIQUE, digest BLOB NOT NULL, link BLOB NOT NULL)"
)
SELECT_LAST = "SELECT * FROM ql_chain ORDER BY position DESC LIMIT 1"
SELECT_FROM = "SELECT * FROM ql_chain WHERE position >= ? ORDER BY position LIMIT ?"
INSERT_LINKS = "INSERT INTO ql_chain VALUES (?,?,?,?)"
SELECT_RAW = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
    "WHERE rowid >= ? ORDER BY rowid LIMIT ?"
)


class ChainedPOPOApplicationRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._links: list[Link] = []

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super()._update_table(stored_events, **kwargs)
        if notification_ids:
            self._links.extend(extend(self.last_link(), notification_ids, stored_events))
        return notification_ids

    def select_links(self, start: int, limit: int) -> Sequence[Link]:
        first = max(start, 1) - 1  # positions are dense from 1
        with self._database_lock:
            return self._links[first : first + limit]

    def last_link(self) -> Link | None:
        return self._links[-1] if self._links else None

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        return self.select_notifications(start=start, limit=limit)


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    @property
    def read_only(self) -> bool:
        """Opened read-only (``quality_ledger.persistence.locate`` chose a
        ``mode=ro`` URI: a read-only file or directory, or ``?mode=ro``)."""
        return "mode=ro" in self.datastore.pool.db_name

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # Refused before a transaction begins, naming why, rather than
        # SQLite's "attempt to write a readonly database" from inside one.
        if self.read_only:
            path = unquote(self.datastore.pool.db_name.removeprefix("file:").split("?", 1)[0])
            msg = f"the ledger at {path} is open read-only (a read-only file or directory, or mode=ro): it records nothing"
            raise ReadOnly(msg)
        return super().insert_events(stored_events, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            CREATE_CHAIN,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if notification_ids:
            c.execute(SELECT_LAST)
            last = c.fetchone()
            links = extend(_link(last) if last else None, notification_ids, stored_events)
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


def _link(row: Any) -> Link:
    return Link(row[0], row[1], bytes(row[2]), bytes(row[3]))
