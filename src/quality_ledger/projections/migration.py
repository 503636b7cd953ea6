"""Blue/green migration of the SQL views: rebuilt beside the live ones, swapped in at once.

``create_all`` never alters an existing table, so views made by other code
are never changed in place. Instead every view is built again from the
first event into tables of the same shape under other names (``ql_x__next``),
while readers keep reading the live ones; then one transaction catches the
new tables up to the head, checks them, drops the old tables and renames the
new ones to the public names, with the tracking position and the views'
version (SQLite and PostgreSQL both have transactional DDL). A plain-SQL
reader therefore only ever finds complete tables under the public names:
the old ones before that commit, the new ones after it.

One migration at a time: a lease row (``ql_views_migration``) names the
migrating process and is renewed in every batch's transaction, which first
checks that the lease is still its own (:mod:`.migration_lease`). A process
that dies leaves the lease to expire; the next migration drops what it left.

The new tables and the swap's DDL are in :mod:`.green_tables`, the views'
version and position in :mod:`.bookkeeping`; this module holds the steps.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import ProjectionFailed

# The ``X as X`` imports re-export what this module held before the split, for its importers.
from quality_ledger.projections.bookkeeping import NAME as NAME
from quality_ledger.projections.bookkeeping import Outdated as Outdated
from quality_ledger.projections.bookkeeping import ViewsState, read_state, serialise, upsert
from quality_ledger.projections.bookkeeping import create as create
from quality_ledger.projections.green_tables import (
    GREEN,
    check,
    create_green,
    drop_green,
    lock_live,
    lock_not_available,
    put_in_place,
)
from quality_ledger.projections.green_tables import SUFFIX as SUFFIX
from quality_ledger.projections.green_tables import SWAP_LOCK_TIMEOUT_MS as SWAP_LOCK_TIMEOUT_MS
from quality_ledger.projections.migration_lease import LEASE as LEASE
from quality_ledger.projections.migration_lease import Lease
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.stored_rows import Stored, reader
from quality_ledger.projections.tables import tracking, views_schema

POLL = 0.2
"""Seconds between two looks at another process's migration."""
SWAP_PATIENCE = 120.0
"""Seconds the swap keeps trying to get its locks before giving up."""

Apply = Callable[[Stored, RowCache], None]


class MigrationReport(Frozen):
    """What :meth:`Views.migrate` did."""

    migrated: bool
    """False when the views were already at this code's version (and not forced)."""
    from_version: str | None
    """The version the views had (None: none recorded, as quality_ledger 0.1.0 wrote them)."""
    to_version: str
    position: int
    """The log position the views reflect after the swap."""
    applied: int
    """Events applied to the new tables."""
    swap_attempts: int
    """Transactions the swap took: more than one when, on PostgreSQL, it stepped back for readers."""
    seconds: float


class Migration:
    """One blue/green migration of one database's views (see the module's docstring)."""

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        apply: Apply,
        version: str,
        *,
        batch_size: int,
        lock: AbstractContextManager[object],
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self._read = reader(recorder)
        self.apply = apply
        self.version = version
        self.batch_size = batch_size
        self.lock = lock
        self.lease = Lease()
        self.postgres = engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.lock, self.engine.begin() as connection:
            yield connection

    def run(self, *, force: bool = False, progress: Callable[[int, int], None] | None = None) -> MigrationReport:
        started = time.monotonic()
        claimed = self._claim(force=force)
        if isinstance(claimed, ViewsState):  # nothing to do: already at this version
            return MigrationReport(
                migrated=False,
                from_version=claimed.stored,
                to_version=self.version,
                position=claimed.position or 0,
                applied=0,
                swap_attempts=0,
                seconds=time.monotonic() - started,
            )
        try:
            self._prepare()
            applied = self._build(progress)
            applied, position, attempts = self._swap(applied)
        except BaseException:
            self._abandon()
            raise
        if progress is not None:
            progress(applied, applied)
        return MigrationReport(
            migrated=True,
            from_version=claimed,
            to_version=self.version,
            position=position,
            applied=applied,
            swap_attempts=attempts,
            seconds=time.monotonic() - started,
        )

    # Steps ---------------------------------------------------------------------

    def _claim(self, *, force: bool) -> ViewsState | str | None:
        """Take the lease, waiting for another process's migration to end;
        the state if there is nothing to do, else the version being replaced."""
        while True:
            with self._begin() as connection:
                serialise(connection)
                if self.lease.free(connection):
                    state = read_state(connection)
                    if not force and state.current(self.version):
                        return state
                    self.lease.take(connection, self.version)
                    return state.stored
            time.sleep(POLL)

    def _prepare(self) -> None:
        """Empty new tables, whatever a migration that died left behind."""
        with self._begin() as connection:
            self.lease.hold(connection)
            drop_green(connection)
            create_green(connection)

    def _build(self, progress: Callable[[int, int], None] | None) -> int:
        """Fill the new tables from the first event, one batch per transaction,
        while readers read the live views and writers keep appending; how many
        events were applied (the swap applies the rest)."""
        total = self.recorder.max_notification_id() or 0
        applied = 0
        while True:
            began = time.monotonic()
            with self._begin() as connection:
                count, _ = self._apply_batch(connection, self.lease.hold(connection))
            applied += count
            if progress is not None and count:
                progress(applied, max(total, applied))
            if count < self.batch_size:
                return applied
            if not self.postgres:
                # SQLite has one writer and no fair queue: a waiting reader or
                # appender retries on its own schedule and would rarely find the
                # lock free between two batches. Leave it free as long as a batch
                # held it (the build takes twice as long; nobody waits long).
                time.sleep(time.monotonic() - began)

    def _apply_batch(self, connection: Connection, position: int) -> tuple[int, int]:
        notifications: Sequence[Stored] = self._read(position + 1, self.batch_size, None)
        if not notifications:
            return 0, position
        rows = RowCache(connection, GREEN)
        for notification in notifications:
            try:
                self.apply(notification, rows)
            except Exception as e:
                raise ProjectionFailed(notification.id, notification.topic, e) from e
        first, last = notifications[0].id, notifications[-1].id
        try:
            rows.flush()
        except Exception as e:
            raise ProjectionFailed(first, f"the batch of positions {first} to {last}", e) from e
        self.lease.advance(connection, last)
        return len(notifications), last

    def _swap(self, applied: int) -> tuple[int, int, int]:
        """Catch the new tables up to the head, check them and put them under
        the public names, in one transaction; on PostgreSQL, step back and try
        again while readers hold the old tables. Events applied, position, attempts."""
        deadline = time.monotonic() + SWAP_PATIENCE
        attempts = 0
        while True:
            attempts += 1
            try:
                with self._begin() as connection:
                    return (*self._swap_in(connection, applied), attempts)
            except OperationalError as e:
                if not (self.postgres and lock_not_available(e)) or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.02, 0.2))  # noqa: S311  # a jitter, not a secret

    def _swap_in(self, connection: Connection, applied: int) -> tuple[int, int]:
        # The tracking row first: every catch-up takes it, so none is half-way
        # through the old tables from here on (and none starts until the commit).
        live = connection.execute(select(tracking.c.position).where(tracking.c.name == NAME).with_for_update()).scalar()
        old = lock_live(connection)
        position = self.lease.hold(connection)
        while (batch := self._apply_batch(connection, position))[0]:
            applied += batch[0]
            position = batch[1]
        check(connection, applied, position, live)
        put_in_place(connection, old)
        upsert(connection, tracking, name=NAME, position=position)
        upsert(connection, views_schema, name=NAME, version=self.version)
        self.lease.end(connection)
        return applied, position

    def _abandon(self) -> None:
        """After a failure: drop the new tables and release the lease, if it is
        still ours (best effort: an expired lease is cleaned up by the next one)."""
        with contextlib.suppress(Exception), self._begin() as connection:
            self.lease.hold(connection)
            drop_green(connection)
            self.lease.release(connection)
