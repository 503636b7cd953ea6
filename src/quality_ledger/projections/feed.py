"""Feeding the views from the log, one batch per transaction, exactly once.

Each batch of notifications is applied to the views and the tracking position
advances in the same SQLAlchemy transaction; the position is read under a
lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on
PostgreSQL), so two runners never apply one event twice, a crash at any point
leaves views and position consistent, and a restart resumes where the last
commit left off. A batch that fails names the event at fault.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, select, update

from quality_ledger.collector import collector_paused
from quality_ledger.errors import ProjectionFailed, ViewsOutdated
from quality_ledger.projections import audit_trail, bulk
from quality_ledger.projections.bookkeeping import NAME
from quality_ledger.projections.dispatch import project
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.stored_rows import Stored, decoder, reader
from quality_ledger.projections.tables import tracking, views_schema

Fault = Callable[[str], None]
"""Test hook called at each step: before-write, after-write, before-commit, after-commit."""


class Feed:
    """What applies the log's events to the views of one database, at ``version``."""

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        version: str,
        *,
        batch_size: int,
        fault: Fault | None = None,
    ) -> None:
        self.engine = engine
        self.version = version
        self.batch_size = batch_size
        self.fault = fault
        self._read = reader(recorder)
        self._decode = decoder(mapper)
        self.bulk = False
        """Whether a long catch-up is under way (:meth:`drop_indexes` until :meth:`restore_indexes`)."""

    def next_batch(self, until: int | None, size: int | None = None) -> int:
        """:meth:`_next_batch` with the garbage collector paused (:func:`collector_paused`):
        the batch's objects are freed when it returns, before the collector is back on."""
        with collector_paused():
            return self._next_batch(until, size)

    def _next_batch(self, until: int | None, size: int | None) -> int:
        """Apply the next batch (``size`` events, by default :attr:`batch_size`)
        in one transaction, or raise ``ProjectionFailed`` naming the event
        that failed, with the views left as they were.

        Every step that can fail because of what the events hold is wrapped:
        decoding and handling each event, writing the rows (where the
        database may refuse a value) and committing. The ``fault`` hook's
        steps are not: they stand for the process dying, not for an event.
        """
        notifications: Sequence[Stored] = ()
        failure: Exception | None = None
        committing = False
        try:
            with self.engine.begin() as connection:
                position = read_position(connection, lock=True)
                if until is not None and position >= until:
                    return 0
                notifications = self._read(position + 1, size or self.batch_size, until)
                if not notifications:
                    return 0
                self._check_version(connection)
                bulk.checkpoint_every(connection, bulk.BULK_CHECKPOINT if self.bulk else bulk.DEFAULT_CHECKPOINT)
                rows = RowCache(connection)
                decode = self._decode
                record = audit_trail.recorder(rows)
                for notification in notifications:
                    try:  # what apply() does, written out: it runs once per event
                        domain_event = decode(notification)
                        record(domain_event, notification.id)
                        project(domain_event, rows, notification.id)
                    except Exception as e:
                        raise ProjectionFailed(notification.id, notification.topic, e) from e
                self._step("before-write")
                try:
                    rows.flush()
                except Exception as e:
                    failure = e
                    raise
                self._step("after-write")
                last = notifications[-1].id
                try:
                    connection.execute(update(tracking).where(tracking.c.name == NAME).values(position=last))
                except Exception as e:
                    failure = e
                    raise
                self._step("before-commit")
                committing = True
        except Exception as e:
            if failure is None and not committing:
                raise  # ProjectionFailed, a fault hook's crash, or the log could not be read
            raise self._failed(notifications, failure or e) from (failure or e)
        self._step("after-commit")
        return len(notifications)

    def _check_version(self, connection: Connection) -> None:
        """Never write rows of one version into views of another: a process
        running other code may have migrated the views since this one opened."""
        stored = connection.execute(select(views_schema.c.version).where(views_schema.c.name == NAME)).scalar()
        if stored != self.version:
            msg = (
                f"the views are now at version {stored} and this code builds {self.version}: "
                "nothing applied; reopen with the code that migrated them, or migrate them again"
            )
            raise ViewsOutdated(msg)

    def drop_indexes(self) -> None:
        """Drop the views' secondary indexes for a long catch-up
        (:mod:`.bulk`), in a transaction of their own."""
        with self.engine.begin() as connection:
            read_position(connection, lock=True)
            self._check_version(connection)
            bulk.drop(connection)
        self.bulk = True

    def restore_indexes(self) -> int:
        """Create again whatever secondary indexes are missing; how many.
        Nothing if the views are no longer at this code's version: another
        process migrated them, and their indexes are its own."""
        self.bulk = False
        with self.engine.begin() as connection:
            read_position(connection, lock=True)
            # Back at SQLite's default before this commit, which then copies the WAL the batches left.
            bulk.checkpoint_every(connection, bulk.DEFAULT_CHECKPOINT)
            stored = connection.execute(select(views_schema.c.version).where(views_schema.c.name == NAME)).scalar()
            return bulk.restore(connection) if stored == self.version else 0

    def apply(self, notification: Stored, rows: RowCache) -> None:
        """Decode one event and write what it changes into ``rows``: its
        audit-trail line and its view's rows."""
        domain_event: Any = self._decode(notification)
        audit_trail.record(domain_event, rows, notification.id)
        project(domain_event, rows, notification.id)

    def _failed(self, notifications: Sequence[Stored], cause: Exception) -> ProjectionFailed:
        """The database refused a batch's rows: name the event whose rows it refuses.

        A batch is written in a few bulk statements, so the error alone does
        not say which event is at fault. Apply the batch again, one event and
        one write at a time, in a transaction always rolled back; the first
        write refused names the event. If none is (the failure was not the
        events': a lost connection, a full disk), the whole batch is named.
        """
        culprit = None
        if len(notifications) > 1:
            with contextlib.suppress(Exception), self.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    for notification in notifications:
                        rows = RowCache(connection)
                        self.apply(notification, rows)
                        try:
                            rows.flush()
                        except Exception:
                            culprit = notification
                            break
                finally:
                    transaction.rollback()
        elif notifications:
            culprit = notifications[0]
        if culprit is not None:
            return ProjectionFailed(culprit.id, culprit.topic, cause)
        first, last = notifications[0].id, notifications[-1].id
        return ProjectionFailed(first, f"the batch of positions {first} to {last}", cause)

    def _step(self, name: str) -> None:
        if self.fault is not None:
            self.fault(name)


def read_position(connection: Connection, *, lock: bool = False) -> int:
    """The log position the views reflect; ``lock`` keeps other feeds out
    until this transaction ends (on PostgreSQL: the views' engine begins every
    SQLite transaction ``IMMEDIATE``, which already does)."""
    query = select(tracking.c.position).where(tracking.c.name == NAME)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return int(connection.execute(query).scalar_one())
