"""The PostgreSQL recorder with the hash chain (imported only when used, so
the package needs psycopg only for PostgreSQL).

An append takes eventsourcing's ``LOCK TABLE ... IN EXCLUSIVE MODE``, then
one statement inserts the events and returns, beside their notification
ids, the chain's last link as it stood (a CTE read in the same snapshot,
after the lock): the links follow without another round trip while the
lock is held. The whole append is one transaction in two round trips (the
statements up to the insert; the links and the commit), pipelined, where
eventsourcing's own insert waits for the server five times (after BEGIN,
after the insert, and three times as psycopg's transaction and pipeline
close around the COMMIT).
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
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composable, Identifier

from quality_ledger.audit.chain import CURRENT_FORMAT, FORMAT_TABLE, EventRow, Link, LinkRow, check_format, extend
from quality_ledger.audit.recorders import CHAIN_TABLE

DDL_LOCK = 0x51_4C_44_44_4C  # "QLDDL": the advisory lock key for creating the store's tables
WRITE_ATTEMPTS = 10
WRITE_RETRY_WAIT = 0.2
"""As eventsourcing's own retry of an insert (10 attempts, 0.2 s apart)."""
READ_ATTEMPTS = 2
"""Tries per read: after a lost connection, the pool is checked and the read tried once more."""
SCAN_ROWS = 5000
"""Rows per round trip of the verifier's server-side cursors."""
REGCLASS = "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NULL AS absent"
"""Whether a table (schema, name) is absent."""


def table_absent(curs: Any, schema: str | None, table: str) -> bool:
    """Whether ``table`` is absent from ``schema`` (the search path's first, if None)."""
    curs.execute(REGCLASS, (schema or "public", table))
    row = curs.fetchone()
    return row is None or bool(row["absent"])


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


def rendered(statement: Composable) -> bytes:
    """A composed statement as the bytes psycopg would send (identifiers
    quoted without a connection: the schema and table names are text)."""
    return statement.as_string(None).encode()


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
        self.insert_links = rendered(
            SQL("INSERT INTO {0} SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[])").format(
                self.chain_table
            )
        )
        """The links of an append, one statement whatever their number (columns as arrays)."""
        # eventsourcing's "INSERT ... SELECT ... FROM unnest(%s) RETURNING
        # notification_id", with the last link read in the same statement.
        # The statement starts after LOCK TABLE was granted, so its snapshot
        # holds every earlier writer's links; ids are ordered as issued. The
        # events come as four arrays, one per column, rather than one array
        # of eventsourcing's composite type: psycopg sends those in its C
        # code, where a composite is written out as text in Python.
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        insert_events = SQL(
            "WITH last AS ({0}), inserted AS ("
            "INSERT INTO {1} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{2}[], %s::bigint[], %s::text[], %s::bytea[]) RETURNING notification_id) "
            "SELECT inserted.notification_id, last.position AS last_position, last.notification_id AS last_id, "
            "last.digest AS last_digest, last.link AS last_link "
            "FROM inserted LEFT JOIN last ON true ORDER BY inserted.notification_id"
        ).format(
            self.select_last_link,
            events,
            SQL(self.datastore.originator_id_type),  # "uuid" or "text": the datastore refuses others
        )
        # The statements of an append (:meth:`_append`), rendered
        # once: psycopg renders a composed query again on every execute.
        self.append_events = rendered(insert_events)
        self.lock_table = rendered(SQL("LOCK TABLE {0} IN EXCLUSIVE MODE").format(events))
        self.begin_append = (
            b"SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true), pg_notify(%s, '')"
        )
        """Both timeouts of an append, and the notification eventsourcing's
        NOTIFY queues (delivered at commit, as that one), in one statement
        where eventsourcing sends two and the statement timeout was a third."""
        self._chain_format: int | None = None
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
        new = table_absent(curs, self.datastore.schema, CHAIN_TABLE)
        super()._create_table(curs)
        if new:
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {0} (format integer NOT NULL)").format(self.format_table))
            curs.execute(
                SQL("INSERT INTO {0} (format) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM {0})").format(
                    self.format_table
                ),
                (CURRENT_FORMAT,),
            )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append ``stored_events`` with their links, atomically; their
        notification ids. Retried as eventsourcing retries its insert (a
        connection lost before the write), but not after a lock or statement
        timeout: a writer that waited ``lock_timeout`` behind a stuck one
        reports it then, not after ten more waits."""
        if not stored_events:
            return None
        if self._chain_format is None:  # read once, before the lock: a ledger's format never changes
            self._chain_format = self.chain_format()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return self._append(stored_events)
            except (InterfaceError, OperationalError) as e:
                if attempt == WRITE_ATTEMPTS or _timed_out(e):
                    raise
                time.sleep(WRITE_RETRY_WAIT)
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        # eventsourcing's transaction (SET LOCAL lock_timeout, LOCK TABLE, NOTIFY,
        # the insert, COMMIT), with the chain's links and the statement timeout,
        # sent as two pipelined batches: the client waits twice, once while it
        # holds the lock. BEGIN and COMMIT are statements of those batches (the
        # pool's connections are in autocommit) rather than psycopg's
        # transaction(), which syncs on entry and twice more on exit.
        settings = (f"{self.datastore.lock_timeout}s", f"{int(self.statement_timeout * 1000)}ms", self.channel_name)
        columns = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.cursor() as curs, conn.cursor() as appended:
                    curs.execute(b"BEGIN")
                    curs.execute(self.begin_append, settings, prepare=True)
                    curs.execute(self.lock_table, prepare=True)
                    appended.execute(self.append_events, columns, prepare=True)
                    pipeline.sync()  # the first wait: an error (a version taken, a timeout) is raised here
                    notification_ids, links = self._links(appended.fetchall(), stored_events)
                    link_columns = [list(column) for column in zip(*links, strict=True)]  # lists: psycopg's arrays
                    curs.execute(self.insert_links, link_columns, prepare=True)
                    curs.execute(b"COMMIT")
                # The second wait, as the pipeline ends: the links written, committed.
            except BaseException:
                if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                    with contextlib.suppress(Exception):  # a broken connection is the pool's to drop
                        conn.rollback()
                raise
        return notification_ids

    def _links(self, rows: Sequence[DictRow], stored_events: Sequence[StoredEvent]) -> tuple[list[int], list[Link]]:
        """The notification ids the insert returned, and the links that follow
        the chain's last link as the same statement read it."""
        if len(rows) != len(stored_events):
            msg = f"Couldn't get all notification IDs (got {len(rows)}, expected {len(stored_events)})"
            raise ProgrammingError(msg)
        notification_ids = [row["notification_id"] for row in rows]
        first = rows[0]
        last = (
            Link(first["last_position"], first["last_id"], bytes(first["last_digest"]), bytes(first["last_link"]))
            if first["last_position"] is not None
            else None
        )
        assert self._chain_format is not None  # read by insert_events
        return notification_ids, extend(last, notification_ids, stored_events, self._chain_format)

    def select_rows(self, statement: bytes, params: Sequence[Any]) -> list[DictRow]:
        """The rows of a read-only ``statement`` (prepared: one a command runs
        every time), with the recorder's reads' retry: the aggregate read
        that takes a snapshot and the events after it in one statement."""
        result: list[DictRow] = _read(ChainedPostgresApplicationRecorder._select_rows, self, statement, params)
        return result

    def _select_rows(self, statement: bytes, params: Sequence[Any]) -> list[DictRow]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return curs.fetchall()

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
            if table_absent(curs, self.datastore.schema, FORMAT_TABLE):
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
