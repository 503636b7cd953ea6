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
checks that the lease is still its own. A process that dies leaves the lease
to expire; the next migration drops what it left. SQLite has no advisory
locks and a lease works the same on both engines.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Literal, NamedTuple
from uuid import uuid4

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import Connection, Engine, Index, MetaData, Table, delete, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import ConcurrencyConflict, ProjectionFailed
from quality_ledger.projections.audit_trail import trail
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.schema import BOOKKEEPING, VIEW_TABLES, metadata
from quality_ledger.projections.tables import tracking, views_migration, views_schema

NAME = "views"
SUFFIX = "__next"
LEASE = 60.0
"""Seconds a migration's lease lasts unless renewed (every batch renews it)."""
POLL = 0.2
"""Seconds between two looks at another process's migration."""
SWAP_LOCK_TIMEOUT_MS = 200
"""PostgreSQL: how long the swap waits for readers' table locks before it
steps back (rolls back, so a reader waiting on it goes on) and tries again.
Shorter than the server's ``deadlock_timeout`` (1 s), so a reader that holds
one view and wants another never meets the deadlock detector."""
SWAP_PATIENCE = 120.0
"""Seconds the swap keeps trying to get its locks before giving up."""

Outdated = Literal["migrate", "refuse", "defer"]
"""What opening does with outdated views: migrate them, refuse to open, or
open without serving them until :meth:`Views.migrate`."""

Apply = Callable[[Notification, RowCache], None]

_GREEN_METADATA = MetaData()
GREEN: dict[Table, Table] = {
    table: table.to_metadata(_GREEN_METADATA, name=table.name + SUFFIX) for table in VIEW_TABLES
}
"""Each view and the table a migration builds it in. Their copied indexes are
never created: PostgreSQL gets :data:`_GREEN_INDEXES`, SQLite the public
indexes once the tables are renamed (it cannot rename an index)."""
_GREEN_INDEXES: dict[Table, list[Index]] = {
    table: [
        Index(str(index.name) + SUFFIX, *(GREEN[table].c[column.name] for column in index.columns))
        for index in table.indexes
    ]
    for table in VIEW_TABLES
}
_SERIALISE = 0x71_6C_76_69_65_77_73
"""PostgreSQL advisory lock key ("qlviews") held while a transaction creates
views, so that processes opening a new database at once do not race to create
the same tables."""


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


class ViewsState(NamedTuple):
    """What a database holds of the views, read in one transaction."""

    stored: str | None
    present: frozenset[str]
    position: int | None
    lease: bool
    """A live migration lease: another process is migrating now."""

    @property
    def fresh(self) -> bool:
        """No views at all yet: create them, nothing to migrate."""
        return self.stored is None and not self.present & _VIEW_NAMES and not self.position

    def current(self, version: str) -> bool:
        return self.stored == version and self.present >= _VIEW_NAMES

    def describe(self, version: str) -> str:
        missing = sorted(_VIEW_NAMES - self.present)
        if self.stored == version and missing:
            return f"the views lack {', '.join(missing)}"
        built = "no recorded version (quality_ledger 0.1)" if self.stored is None else f"version {self.stored}"
        return f"the views have {built}, this code builds {version}"


_VIEW_NAMES = frozenset(table.name for table in VIEW_TABLES)


def read_state(connection: Connection) -> ViewsState:
    names = frozenset(inspect(connection).get_table_names())
    stored = position = None
    if views_schema.name in names:
        stored = connection.execute(select(views_schema.c.version).where(views_schema.c.name == NAME)).scalar()
    if tracking.name in names:
        position = connection.execute(select(tracking.c.position).where(tracking.c.name == NAME)).scalar()
    lease = False
    if views_migration.name in names:
        expires = connection.execute(
            select(views_migration.c.expires_at).where(views_migration.c.name == NAME)
        ).scalar()
        lease = expires is not None and expires > time.time()
    return ViewsState(stored, names, position, lease)


def serialise(connection: Connection) -> None:
    """Make this transaction the only one creating views now (PostgreSQL; a
    SQLite write transaction already is)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_SERIALISE)))


def create(connection: Connection, version: str) -> None:
    """Create every view, empty, at ``version`` (a new database)."""
    metadata.create_all(connection)
    _upsert(connection, tracking, name=NAME, position=0)
    _upsert(connection, views_schema, name=NAME, version=version)


def _upsert(connection: Connection, table: Table, **values: object) -> None:
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table).values(**values)
    others = {k: v for k, v in values.items() if k != "name"}
    connection.execute(insert.on_conflict_do_update(index_elements=["name"], set_=others))


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
        self.apply = apply
        self.version = version
        self.batch_size = batch_size
        self.lock = lock
        self.token = uuid4().hex
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
                metadata.create_all(connection, tables=list(BOOKKEEPING))
                lease = connection.execute(
                    select(views_migration).where(views_migration.c.name == NAME).with_for_update()
                ).first()
                if lease is None or lease.expires_at <= time.time():
                    state = read_state(connection)
                    if not force and state.current(self.version):
                        return state
                    _upsert(
                        connection,
                        views_migration,
                        name=NAME,
                        holder=self.token,
                        version=self.version,
                        expires_at=time.time() + LEASE,
                        position=0,
                    )
                    return state.stored
            time.sleep(POLL)

    def _hold(self, connection: Connection) -> int:
        """Renew the lease in this transaction; the new tables' position.

        Raises if another process took the lease over (this one stalled past
        it): that process rebuilds from zero, and nothing here may write."""
        lease = connection.execute(
            select(views_migration.c.holder, views_migration.c.position)
            .where(views_migration.c.name == NAME)
            .with_for_update()
        ).first()
        if lease is None or lease.holder != self.token:
            msg = "another process took over this views migration (this one stalled past its lease): nothing swapped"
            raise ConcurrencyConflict(msg)
        connection.execute(
            views_migration.update().where(views_migration.c.name == NAME).values(expires_at=time.time() + LEASE)
        )
        return int(lease.position)

    def _prepare(self) -> None:
        """Empty new tables, whatever a migration that died left behind."""
        with self._begin() as connection:
            self._hold(connection)
            for green in reversed(GREEN.values()):
                connection.execute(DropTable(green, if_exists=True))
            for table, green in GREEN.items():
                connection.execute(CreateTable(green))
                if self.postgres:  # built now and renamed at the swap; SQLite builds them at the swap
                    for index in _GREEN_INDEXES[table]:
                        connection.execute(CreateIndex(index))

    def _build(self, progress: Callable[[int, int], None] | None) -> int:
        """Fill the new tables from the first event, one batch per transaction,
        while readers read the live views and writers keep appending; how many
        events were applied (the swap applies the rest)."""
        total = self.recorder.max_notification_id() or 0
        applied = 0
        while True:
            began = time.monotonic()
            with self._begin() as connection:
                count, _ = self._apply_batch(connection, self._hold(connection))
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
        notifications: Sequence[Notification] = self.recorder.select_notifications(
            start=position + 1, limit=self.batch_size
        )
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
        connection.execute(views_migration.update().where(views_migration.c.name == NAME).values(position=last))
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
                if not (self.postgres and _lock_not_available(e)) or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.02, 0.2))  # noqa: S311  # a jitter, not a secret

    def _swap_in(self, connection: Connection, applied: int) -> tuple[int, int]:
        # The tracking row first: every catch-up takes it, so none is half-way
        # through the old tables from here on (and none starts until the commit).
        live = connection.execute(select(tracking.c.position).where(tracking.c.name == NAME).with_for_update()).scalar()
        present = set(inspect(connection).get_table_names())
        old = [table for table in VIEW_TABLES if table.name in present]
        if self.postgres and old:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT_MS}ms'")
            connection.exec_driver_sql(
                f"LOCK TABLE {', '.join(_quoted(connection, t.name) for t in old)} IN ACCESS EXCLUSIVE MODE"
            )
            connection.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")
        position = self._hold(connection)
        while (batch := self._apply_batch(connection, position))[0]:
            applied += batch[0]
            position = batch[1]
        self._check(connection, applied, position, live)
        for table in reversed(old):
            connection.execute(DropTable(table))
        for table, green in GREEN.items():
            connection.exec_driver_sql(
                f"ALTER TABLE {_quoted(connection, green.name)} RENAME TO {_quoted(connection, table.name)}"
            )
            if self.postgres:
                self._rename_indexes(connection, table)
            else:
                for index in table.indexes:
                    connection.execute(CreateIndex(index))
        _upsert(connection, tracking, name=NAME, position=position)
        _upsert(connection, views_schema, name=NAME, version=self.version)
        connection.execute(delete(views_migration).where(views_migration.c.name == NAME))
        return applied, position

    def _check(self, connection: Connection, applied: int, position: int, live: int | None) -> None:
        """Complete before swapped in: every event applied left its one audit-trail
        row, up to the position reached, which is at least the live views'."""
        green = GREEN[trail]
        rows, top = connection.execute(select(func.count(), func.max(green.c.position))).one()
        problem = None
        if rows != applied or (top or 0) != position:
            problem = f"the new audit trail holds {rows} rows up to {top} for {applied} events up to {position}"
        elif live is not None and position < live:
            problem = f"the new views reached position {position}, behind the live views' {live}"
        if problem is not None:
            msg = f"views migration check failed, the old views are kept: {problem}"
            raise ProjectionFailed(position, "the migration's check", RuntimeError(msg))

    @staticmethod
    def _rename_indexes(connection: Connection, table: Table) -> None:
        """PostgreSQL names a table's key and indexes after the table: give the
        renamed table the names the public one had."""
        name = _quoted(connection, table.name)
        key = connection.execute(
            text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'"),
            {"t": name},
        ).scalar_one()
        connection.exec_driver_sql(
            f"ALTER TABLE {name} RENAME CONSTRAINT {_quoted(connection, key)} TO {_quoted(connection, table.name + '_pkey')}"
        )
        for index in table.indexes:
            connection.exec_driver_sql(
                f"ALTER INDEX {_quoted(connection, str(index.name) + SUFFIX)} RENAME TO {_quoted(connection, str(index.name))}"
            )

    def _abandon(self) -> None:
        """After a failure: drop the new tables and release the lease, if it is
        still ours (best effort: an expired lease is cleaned up by the next one)."""
        with contextlib.suppress(Exception), self._begin() as connection:
            self._hold(connection)
            for green in reversed(GREEN.values()):
                connection.execute(DropTable(green, if_exists=True))
            connection.execute(
                delete(views_migration).where(views_migration.c.name == NAME, views_migration.c.holder == self.token)
            )


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _lock_not_available(error: OperationalError) -> bool:
    """PostgreSQL's lock_timeout (SQLSTATE 55P03) or a deadlock (40P01)."""
    return getattr(error.orig, "sqlstate", None) in ("55P03", "40P01")
