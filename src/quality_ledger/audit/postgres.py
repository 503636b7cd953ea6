"""The PostgreSQL recorder with the hash chain (imported only when used, so
the package needs psycopg only for PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from quality_ledger.audit.chain import Link, extend
from quality_ledger.audit.recorders import CHAIN_TABLE

DDL_LOCK = 0x51_4C_44_44_4C  # "QLDDL": the advisory lock key for creating the store's tables


def _link(row: DictRow) -> Link:
    return Link(row["position"], row["notification_id"], bytes(row["digest"]), bytes(row["link"]))


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL UNIQUE, digest bytea NOT NULL, link bytea NOT NULL)"
            ).format(self.chain_table)
        )
        self.select_last_link = SQL("SELECT * FROM {0} ORDER BY position DESC LIMIT 1").format(self.chain_table)
        self.insert_links = SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s)").format(self.chain_table)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        """eventsourcing's DDL (CREATE OR REPLACE FUNCTION, CREATE INDEX ...)
        runs on every open, and PostgreSQL refuses two such statements at once
        ("tuple concurrently updated"): services opening one ledger together
        take turns under a transaction-scoped advisory lock."""
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        super()._create_table(curs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Still inside the insert's transaction, under its exclusive table lock.
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if notification_ids:
            curs.execute(self.select_last_link)
            last = curs.fetchone()
            links = extend(_link(last) if last else None, notification_ids, stored_events)
            curs.executemany(self.insert_links, links)  # a Link is its row
        return notification_ids

    def select_links(self, start: int, limit: int) -> Sequence[Link]:
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
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_last_link)
            row = curs.fetchone()
            return _link(row) if row else None
