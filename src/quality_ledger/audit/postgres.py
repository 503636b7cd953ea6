"""The PostgreSQL recorder with the hash chain (imported only when used, so
the package needs psycopg only for PostgreSQL).

An append takes eventsourcing's ``LOCK TABLE ... IN EXCLUSIVE MODE``, then
one statement inserts the events and returns, beside their notification
ids, the chain's last link as it stood (a CTE read in the same snapshot,
after the lock): the links follow without another round trip while the
lock is held.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.errors import LockNotAvailable, QueryCanceled
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from quality_ledger.audit.chain import CURRENT_FORMAT, FORMAT_TABLE, EventRow, Link, LinkRow, check_format, extend
from quality_ledger.audit.recorders import CHAIN_TABLE

DDL_LOCK = 0x51_4C_44_44_4C  # "QLDDL": the advisory lock key for creating the store's tables
WRITE_ATTEMPTS = 10
WRITE_RETRY_WAIT = 0.2
"""As eventsourcing's own retry of an insert (10 attempts, 0.2 s apart)."""
READ_ATTEMPTS = 2
"""Tries per read: after a lost connection, the pool is checked and the read tried once more."""
SCAN_ROWS = 5000
REGCLASS = SQL("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NULL AS {0}")
"""Whether a table (schema, name) is absent, as a boolean column named by the caller."""
"""Rows per round trip of the verifier's server-side cursors."""


def _read(method: Any, recorder: ChainedPostgresApplicationRecorder, *args: Any, **kwargs: Any) -> Any:
    """Call eventsourcing's read ``method`` without its own retry (10 attempts,
    each waiting up to ``connect_timeout`` for the pool: nearly a minute
    before a read reports a server that is down). Instead, after a failure
    the pool drops every connection the server no longer answers on (they
    all went when it did) and the read is tried once more: a server that is
    back is used at once, one that is still away is reported."""
    unwrapped: Callable[..., Any] = getattr(method, "__wrapped__", method)
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            return unwrapped(recorder, *args, **kwargs)
        except (InterfaceError, OperationalError):
            if attempt == READ_ATTEMPTS:
                raise
            with contextlib.suppress(Exception):  # the retry reports what is still wrong
                recorder.datastore.pool.check()
    raise AssertionError("unreachable")  # pragma: no cover


def _link(row: DictRow) -> Link:
    return Link(row["position"], row["notification_id"], bytes(row["digest"]), bytes(row["link"]))


def _timed_out(error: BaseException) -> bool:
    """The server cancelled the statement for a lock or statement timeout:
    trying again would only wait as long again behind the same writer."""
    cause = error.__cause__ or error
    return isinstance(cause, (LockNotAvailable, QueryCanceled))


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    statement_timeout: float = 30.0
    """Seconds one statement of an append may run while it holds the log's lock."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL UNIQUE, digest bytea NOT NULL, link bytea NOT NULL)"
            ).format(self.chain_table)
        )
        self.format_table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(FORMAT_TABLE))
        self.select_last_link = SQL("SELECT * FROM {0} ORDER BY position DESC LIMIT 1").format(self.chain_table)
        self.insert_links = SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s)").format(self.chain_table)
        # eventsourcing's "INSERT ... SELECT ... FROM unnest(%s) RETURNING
        # notification_id", with the last link read in the same statement.
        # The statement starts after LOCK TABLE was granted, so its snapshot
        # holds every earlier writer's links; ids are ordered as issued.
        self.insert_events_statement = SQL(
            "WITH last AS ({0}), inserted AS ({1}) "
            "SELECT inserted.notification_id, last.position AS last_position, last.notification_id AS last_id, "
            "last.digest AS last_digest, last.link AS last_link "
            "FROM inserted LEFT JOIN last ON true ORDER BY inserted.notification_id"
        ).format(self.select_last_link, self.insert_events_statement)
        self._chain_format: int | None = None
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        aggregate = (
            SQL("replace(originator_id::text, '-', '')")
            if self.datastore.originator_id_type == "uuid"
            else SQL("originator_id")
        )
        self.scan_links = SQL(
            "SELECT position, notification_id, digest, link FROM {0} WHERE position > %s ORDER BY position"
        ).format(self.chain_table)
        self.scan_events = SQL(
            "SELECT notification_id, {0}, originator_version, topic, state FROM {1} "
            "WHERE notification_id > %s ORDER BY notification_id"
        ).format(aggregate, events)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        result: Sequence[Notification] = _read(PostgresApplicationRecorder.select_notifications, self, *args, **kwargs)
        return result

    def max_notification_id(self) -> int | None:
        result: int | None = _read(PostgresApplicationRecorder.max_notification_id, self)
        return result

    def select_events(self, *args: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        result: Sequence[StoredEvent] = _read(PostgresApplicationRecorder.select_events, self, *args, **kwargs)
        return result

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        """eventsourcing's DDL (CREATE OR REPLACE FUNCTION, CREATE INDEX ...)
        runs on every open, and PostgreSQL refuses two such statements at once
        ("tuple concurrently updated"): services opening one ledger together
        take turns under a transaction-scoped advisory lock."""
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        # A chain table created now gets the current format, in the same
        # transaction; one that exists keeps what it has (none: format 1).
        curs.execute(REGCLASS.format(Identifier("new")), (self.datastore.schema, CHAIN_TABLE))
        row = curs.fetchone()
        super()._create_table(curs)
        if row is not None and row["new"]:
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {0} (format integer NOT NULL)").format(self.format_table))
            curs.execute(
                SQL("INSERT INTO {0} (format) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM {0})").format(
                    self.format_table
                ),
                (CURRENT_FORMAT,),
            )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing's insert, with its retries (a connection lost before
        the write) but none after a lock or statement timeout: a writer that
        waited ``lock_timeout`` behind a stuck one reports it then, not after
        ten more waits."""
        unwrapped: Callable[..., Sequence[int] | None] = getattr(
            PostgresApplicationRecorder.insert_events, "__wrapped__", PostgresApplicationRecorder.insert_events
        )
        if self._chain_format is None:  # read once, before the lock: a ledger's format never changes
            self._chain_format = self.chain_format()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return unwrapped(self, stored_events, **kwargs)
            except (InterfaceError, OperationalError) as e:
                if attempt == WRITE_ATTEMPTS or _timed_out(e):
                    raise
                time.sleep(WRITE_RETRY_WAIT)
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # First in the append's transaction (eventsourcing's hook), before the table lock.
        curs.execute(SQL("SET LOCAL statement_timeout = '{0}ms'").format(int(self.statement_timeout * 1000)))
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Still inside the insert's transaction, under its exclusive table
        # lock; the rows came back with the sync that checked the insert.
        rows = curs.fetchall()
        if len(rows) != len(stored_events):
            msg = f"Couldn't get all notification IDs (got {len(rows)}, expected {len(stored_events)})"
            raise ProgrammingError(msg)
        notification_ids = [row["notification_id"] for row in rows]
        if notification_ids:
            first = rows[0]
            last = (
                Link(first["last_position"], first["last_id"], bytes(first["last_digest"]), bytes(first["last_link"]))
                if first["last_position"] is not None
                else None
            )
            assert self._chain_format is not None  # read by insert_events
            links = extend(last, notification_ids, stored_events, self._chain_format)
            curs.executemany(self.insert_links, links)  # a Link is its row
        return notification_ids

    def select_links(self, start: int, limit: int) -> Sequence[Link]:
        result: Sequence[Link] = _read(ChainedPostgresApplicationRecorder._select_links, self, start, limit)
        return result

    def _select_links(self, start: int, limit: int) -> Sequence[Link]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT * FROM {0} WHERE position >= %s ORDER BY position LIMIT %s").format(self.chain_table),
                (start, limit),
            )
            return [_link(row) for row in curs.fetchall()]

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        notifications: Sequence[Notification] = self.select_notifications(start=start, limit=limit)
        return notifications

    def last_link(self) -> Link | None:
        result: Link | None = _read(ChainedPostgresApplicationRecorder._last_link, self)
        return result

    def chain_format(self) -> int:
        result: int = _read(ChainedPostgresApplicationRecorder._chain_format_now, self)
        return result

    def _chain_format_now(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(REGCLASS.format(Identifier("absent")), (self.datastore.schema, FORMAT_TABLE))
            row = curs.fetchone()
            if row is None or row["absent"]:
                return check_format([])
            curs.execute(SQL("SELECT format FROM {0}").format(self.format_table))
            return check_format([r["format"] for r in curs.fetchall()])

    @contextlib.contextmanager
    def read_chain(
        self, after_position: int, after_notification_id: int
    ) -> Iterator[tuple[Iterable[LinkRow], Iterable[EventRow]]]:
        # Two server-side cursors side by side in one read-only, repeatable
        # read transaction (one snapshot), fetched SCAN_ROWS rows a round
        # trip, as plain tuples; both walk a primary key from where they
        # start. Binary results: bytea arrives as it is stored rather than
        # hex-escaped text to decode (most of the read's cost otherwise).
        with self.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            with (
                conn.cursor(name="ql_verify_links", row_factory=tuple_row, binary=True) as links,
                conn.cursor(name="ql_verify_events", row_factory=tuple_row, binary=True) as events,
            ):
                links.itersize = events.itersize = SCAN_ROWS
                links.execute(self.scan_links, (after_position,))
                events.execute(self.scan_events, (after_notification_id,))
                yield links, events

    def _last_link(self) -> Link | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_last_link)
            row = curs.fetchone()
            return _link(row) if row else None
