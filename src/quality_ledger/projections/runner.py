"""Keeps the SQL views in step with the event log, exactly once.

Each batch of notifications is applied to the views and the tracking position
advances in the same SQLAlchemy transaction (:mod:`.feed`), so two runners
never apply one event twice, a crash at any point leaves views and position
consistent, and a restart resumes where the last commit left off.
eventsourcing's own ``ProjectionRunner`` needs a subscribable recorder
(PostgreSQL only) and keeps its tracking outside SQLAlchemy, hence this
small pull-based runner.

Around it: the engine (:mod:`.engine`), what each event writes (one module
per view, gathered in :mod:`.schema`), the feed of batches (:mod:`.feed`),
the views' version and position (:mod:`.bookkeeping`), blue/green migrations
(:mod:`.migration`), the comparison behind ``verify`` (:mod:`.comparison`)
and the background follower (:mod:`.following`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, StaticPool, delete, event, update

from quality_ledger import scratch
from quality_ledger.errors import ConfigurationError, ViewsOutdated
from quality_ledger.projections import bulk
from quality_ledger.projections.bookkeeping import NAME as NAME
from quality_ledger.projections.bookkeeping import Outdated, create, read_state, serialise
from quality_ledger.projections.comparison import ViewsReport, compare
from quality_ledger.projections.engine import views_engine
from quality_ledger.projections.feed import Fault as Fault
from quality_ledger.projections.feed import Feed, read_position
from quality_ledger.projections.following import Follower
from quality_ledger.projections.migration import Migration, MigrationReport
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.schema import VIEW_TABLES, views_version
from quality_ledger.projections.stored_rows import Stored
from quality_ledger.projections.tables import tracking

Progress = Callable[[int, int], None]
"""Called after each batch with (events applied so far, events to apply)."""


class Views:
    """The read models of one ledger and the runner that feeds them.

    Opening checks the views' recorded version against this code's
    (:func:`~quality_ledger.projections.schema.views_version`). New views are
    created at it. Outdated ones (another version, none recorded, a table
    missing) are handled as ``outdated`` says: ``"migrate"`` them blue/green
    now (the default on SQLite and in memory), ``"refuse"`` to open with
    :class:`ViewsOutdated` (the default on PostgreSQL, where other processes
    share the views: docs/views.md says why), or ``"defer"``: open, but serve
    nothing until :meth:`migrate`.
    """

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        *,
        batch_size: int = 1000,
        fault: Fault | None = None,
        outdated: Outdated | None = None,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self._follower = Follower(self.catch_up, recorder)
        self._lock = threading.RLock()
        # An in-memory database is one connection shared by every thread:
        # reads then queue behind the runner instead of interleaving with it.
        self._shared_connection = isinstance(engine.pool, StaticPool)
        self.version = views_version(engine.dialect)
        """The version of the views this code builds (recorded in ``ql_views_schema``)."""
        self._feed = Feed(engine, recorder, mapper, self.version, batch_size=batch_size, fault=fault)
        self.bulk_gap = bulk.BULK_GAP
        """Events left to apply above which a SQLite catch-up drops the secondary indexes (:mod:`.bulk`)."""
        self.bulk_batch = bulk.BULK_BATCH
        """Events per transaction in such a long catch-up."""
        self.outdated: str | None = None
        """Why the views are not served (opened with ``outdated="defer"``), until migrated."""
        self.migrated: MigrationReport | None = None
        """The migration opening ran, if it ran one."""
        try:
            self._open(outdated)
        except BaseException:
            engine.dispose()
            raise

    @property
    def batch_size(self) -> int:
        """Events applied per transaction, by the feed and by a migration."""
        return self._feed.batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self._feed.batch_size = value

    @property
    def fault(self) -> Fault | None:
        """The feed's test hook (:data:`~quality_ledger.projections.feed.Fault`), settable on an open ledger."""
        return self._feed.fault

    @fault.setter
    def fault(self, value: Fault | None) -> None:
        self._feed.fault = value

    def _open(self, outdated: Outdated | None) -> None:
        with self._transaction() as connection:
            serialise(connection)
            state = read_state(connection)
            if state.fresh:
                create(connection, self.version)
                return
            if state.current(self.version):
                if bulk.supported(connection):
                    bulk.restore(connection)  # a long catch-up that died left them out
                return
        why = state.describe(self.version)
        busy = "; a migration is under way" if state.lease else ""
        match outdated or ("refuse" if self.engine.dialect.name == "postgresql" else "migrate"):
            case "refuse":
                msg = f"{why}{busy}: run 'quality-ledger views migrate' (Ledger.migrate_views()) to rebuild them without downtime"
                raise ViewsOutdated(msg)
            case "defer":
                self.outdated = f"{why}: migrate them first ('quality-ledger views migrate', Ledger.migrate_views())"
            case "migrate":
                self.migrated = self.migrate()
            case other:
                msg = f"outdated views: expected 'migrate', 'refuse' or 'defer', got {other!r}"
                raise ConfigurationError(msg)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._lock if self._shared_connection else nullcontext(), self.engine.begin() as connection:
            yield connection

    def migrate(self, *, force: bool = False, progress: Progress | None = None) -> MigrationReport:
        """Rebuild the views blue/green if their version is not this code's (or
        ``force``): built from zero under other names while readers read the
        live ones, checked, then swapped in with one transaction (see
        :mod:`quality_ledger.projections.migration`). Waits for a migration
        another process is running, then does only what is still needed."""
        report = Migration(
            self.engine,
            self.recorder,
            self._apply,
            self.version,
            batch_size=self.batch_size,
            lock=self._lock if self._shared_connection else nullcontext(),
        ).run(force=force, progress=progress)
        self.outdated = None
        return report

    def _refuse_outdated(self) -> None:
        if self.outdated is not None:
            raise ViewsOutdated(self.outdated)

    @contextmanager
    def reading(self, *, catch_up: bool = True) -> Iterator[Connection]:
        """A connection to query the views, after catching up unless told not to."""
        self._refuse_outdated()
        if catch_up:
            self.catch_up()
        with self._lock if self._shared_connection else nullcontext(), self.engine.connect() as connection:
            yield connection

    def refresh(self, *, progress: Progress | None = None) -> int:
        """What a read does first, on its own: refuse views another version
        built, then catch up; how many events were applied."""
        self._refuse_outdated()
        return self.catch_up(progress=progress)

    # Positions ----------------------------------------------------------------

    def position(self) -> int:
        """The log position the views reflect."""
        with self.reading(catch_up=False) as connection:
            return read_position(connection)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    # Catching up --------------------------------------------------------------

    def catch_up(self, *, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event not yet in the views (up to ``until``); returns how many.

        On SQLite, a catch-up that still has more than :attr:`bulk_gap`
        events to apply after its first full batch goes on without the
        views' secondary indexes, in batches of :attr:`bulk_batch`, and
        builds them again at the end (:mod:`.bulk`, docs/views.md, "Long
        catch-ups")."""
        with self._lock:
            applied = 0
            # Only a progress report needs the total: every read-your-writes query calls this.
            total = 0 if progress is None else max(0, (until or self.head()) - self.position())
            size = self.batch_size
            long_way: bool | None = None  # asked once, after the first full batch
            try:
                while (count := self._feed.next_batch(until, size)) > 0:
                    applied += count
                    if progress is not None:
                        progress(applied, max(total, applied))
                    if long_way is None and count == size:
                        long_way = self._long_way(until)
                        if long_way:
                            self._feed.drop_indexes()
                            size = max(size, self.bulk_batch)
            except BaseException:
                if long_way:
                    # Best effort: what failed may fail this too, and must not be hidden;
                    # opening the views creates whatever indexes are still missing.
                    with contextlib.suppress(Exception):
                        self._feed.restore_indexes()
                raise
            if long_way:
                self._feed.restore_indexes()
            return applied

    def _long_way(self, until: int | None) -> bool:
        """Whether what is left to apply is long enough to drop the indexes for."""
        return bulk.supported(self.engine) and (until or self.head()) - self.position() > self.bulk_gap

    def _apply(self, notification: Stored, rows: RowCache) -> None:
        """One event's rows (what a migration applies to its new tables too)."""
        self._feed.apply(notification, rows)

    # Rebuilding and verifying -------------------------------------------------

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Clear every view and apply the whole log again, in place: readers
        without read-your-writes may see partial views until it ends
        (:meth:`migrate` with ``force`` rebuilds without that)."""
        self._refuse_outdated()
        with self._lock, self.engine.begin() as connection:
            read_position(connection, lock=True)
            for table in reversed(VIEW_TABLES):
                connection.execute(delete(table))
            connection.execute(update(tracking).where(tracking.c.name == NAME).values(position=0))
        return self.catch_up(progress=progress)

    def verify(self, *, progress: Progress | None = None) -> ViewsReport:
        """Rebuild into a scratch SQLite file (:func:`scratch_views`) and
        compare with the live views, both read in key order a batch at a
        time (:func:`~quality_ledger.projections.comparison.compare`).

        The rebuild runs without holding the live views, so writers and
        readers go on meanwhile. The comparison then reads one snapshot of
        them (a REPEATABLE READ transaction on PostgreSQL; on SQLite the
        transaction's lock): the scratch first catches up to the position
        that snapshot shows, from zero again if the views were rebuilt in
        between, so both sides stand at the same position."""
        with self.reading() as connection:
            position = read_position(connection)
        with scratch.directory() as where, ExitStack() as stack:
            rebuilt = stack.enter_context(scratch_views(where, "views.db", self.recorder, self.mapper, self.batch_size))
            rebuilt.catch_up(until=position, progress=progress)
            with self.reading(catch_up=False) as live:
                if self.engine.dialect.name == "postgresql":
                    live.execution_options(isolation_level="REPEATABLE READ")
                now = read_position(live)
                if now < position:
                    rebuilt = stack.enter_context(
                        scratch_views(where, "again.db", self.recorder, self.mapper, self.batch_size)
                    )
                rebuilt.catch_up(until=now)
                with rebuilt.reading(catch_up=False) as replay:
                    rows = tuple(compare(live, replay))
        return ViewsReport(position=now, differences=tuple(map(str, rows)), rows=rows)

    # Following continuously ---------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        """Follow the log in a background thread until :meth:`stop`: woken by
        PostgreSQL's NOTIFY, polling every ``interval`` s elsewhere
        (:class:`~quality_ledger.projections.following.Follower`)."""
        self._follower.start(interval)

    def stop(self) -> None:
        """Stop following; re-raises what stopped the thread, if anything did."""
        self._follower.stop()

    @property
    def error(self) -> BaseException | None:
        """What stopped the background thread, if anything did."""
        return self._follower.error

    def close(self) -> None:
        self._follower.halt()
        self.engine.dispose()


@contextmanager
def replayed(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    until: int,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> Iterator[Connection]:
    """A connection to every view as a replay of the log from zero up to
    ``until`` builds it: what the live views must equal. Built in a scratch
    SQLite file, on disk rather than in memory, removed on exit."""
    with scratch.directory() as where, scratch_views(where, "views.db", recorder, mapper, batch_size) as views:
        views.catch_up(until=until, progress=progress)
        with views.reading(catch_up=False) as connection:
            yield connection


@contextmanager
def scratch_views(
    where: str, name: str, recorder: ApplicationRecorder, mapper: Mapper[UUID], batch_size: int
) -> Iterator[Views]:
    """Empty views in the SQLite file ``name`` of the scratch directory
    ``where`` (:mod:`quality_ledger.scratch`), fed from ``recorder``; closed on exit."""
    engine = views_engine(scratch.sqlite_url(where, name))

    @event.listens_for(engine, "connect")
    def _scratch(dbapi_connection: Any, _: Any) -> None:
        # Nothing to keep after a crash: no waiting for the disk (after the
        # engine's own settings, which run first).
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    views = Views(engine, recorder, mapper, batch_size=batch_size)
    try:
        yield views
    finally:
        views.close()
