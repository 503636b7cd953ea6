"""Keeps the SQL views in step with the event log, exactly once.

Each batch of notifications is applied to the views and the tracking position
advances in the same SQLAlchemy transaction; the position is read under a
lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on
PostgreSQL), so two runners never apply one event twice, a crash at any point
leaves views and position consistent, and a restart resumes where the last
commit left off. eventsourcing's own ``ProjectionRunner`` needs a subscribable
recorder (PostgreSQL only) and keeps its tracking outside SQLAlchemy, hence
this small pull-based runner.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine, StaticPool, create_engine, delete, event, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import ConfigurationError, ProjectionFailed, ViewsOutdated
from quality_ledger.persistence import DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_TIMEOUT, redact
from quality_ledger.projections import audit_trail
from quality_ledger.projections.handlers import project
from quality_ledger.projections.migration import Migration, MigrationReport, Outdated, create, read_state, serialise
from quality_ledger.projections.schema import VIEW_TABLES, tracking, views_schema, views_version
from quality_ledger.projections.unit_of_work import Batch

if TYPE_CHECKING:
    import psycopg

Progress = Callable[[int, int], None]
"""Called after each batch with (events applied so far, events to apply)."""

Fault = Callable[[str], None]
"""Test hook called at each step: before-write, after-write, before-commit, after-commit."""

NAME = "views"


def views_engine(url: str, *, pool_size: int = 5) -> Engine:
    """A SQLAlchemy engine for the views at a ledger URL (or any SQLAlchemy URL).

    On PostgreSQL the ledger URL's parameters (docs/postgres.md) apply here
    too: ``pool_size``, ``max_overflow``, ``connect_timeout`` (also the wait
    for a pooled connection), ``conn_max_age`` and ``pre_ping`` tune the pool;
    ``schema``, ``lock_timeout`` and ``idle_in_transaction_session_timeout``
    become server settings of each connection. Other parameters go to the
    driver as SQLAlchemy passes them.
    """
    if url.startswith("memory://"):
        url = "sqlite://"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
    except ArgumentError as e:  # SQLAlchemy's message spans lines: keep its first
        msg = f"cannot open views at {redact(url)!r}: {str(e).splitlines()[0]}"
        raise ConfigurationError(msg) from None
    except Exception as e:
        msg = f"cannot open views at {redact(url)!r}: {type(e).__name__}"
        raise ConfigurationError(msg) from e
    query = {k: v if isinstance(v, str) else v[-1] for k, v in parsed.query.items()}
    # libpq waits forever for a server that does not answer: as for the events, 5 s unless told.
    if parsed.get_backend_name() == "postgresql":
        query.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    pool: dict[str, Any] = {"pool_size": pool_size, "pool_pre_ping": True}
    try:
        if "pool_size" in query:
            pool["pool_size"] = int(query.pop("pool_size"))
        if "max_overflow" in query:
            pool["max_overflow"] = int(query.pop("max_overflow"))
        if "connect_timeout" in query:  # stays in the query: libpq's own connect timeout too
            pool["pool_timeout"] = float(query["connect_timeout"])
        if "conn_max_age" in query:
            pool["pool_recycle"] = float(query.pop("conn_max_age"))
    except ValueError as e:
        msg = f"cannot open views: a pool parameter is not a number ({e})"
        raise ConfigurationError(msg) from e
    if "pre_ping" in query:
        pool["pool_pre_ping"] = query.pop("pre_ping").lower() in ("y", "yes", "t", "true", "on", "1")
    query.pop("max_waiting", None)  # the events' pool only: SQLAlchemy's has no such limit
    options = [query.pop("options")] if "options" in query else []
    for name, setting in (
        ("schema", "search_path"),
        ("lock_timeout", "lock_timeout"),
        ("statement_timeout", "statement_timeout"),
        ("idle_in_transaction_session_timeout", "idle_in_transaction_session_timeout"),
    ):
        if name in query:
            value = query.pop(name)
            options.append(f"-c {setting}={value}" if name == "schema" else f"-c {setting}={value}s")
    if options:
        query["options"] = " ".join(options)
    return create_engine(parsed.set(query=query), **pool)


def _sqlite_engine(parsed: URL) -> Engine:
    """The ledger URL's own parameters (``lock_timeout``, ``mode``) are the
    events' business: the views take the lock timeout and leave the rest."""
    query = dict(parsed.query)
    timeout = float(str(query.pop("lock_timeout", DEFAULT_LOCK_TIMEOUT)))
    query.pop("mode", None)
    memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        parsed.set(query=query),
        connect_args={"check_same_thread": False, "timeout": timeout},
        poolclass=StaticPool if memory else None,
    )
    _immediate_transactions(engine)
    return engine


def _immediate_transactions(engine: Engine) -> None:
    """SQLite: take the write lock when a transaction begins, not on its first
    write, so two runners queue instead of failing to upgrade their locks."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        # WAL with synchronous=NORMAL: a crash still leaves views and tracking
        # consistent (one transaction); a power cut may drop the last batches,
        # which the next catch-up applies again. The events keep FULL.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class RowDifference(Frozen):
    """One view row that differs from a rebuild, named by its primary key:
    a column whose values differ, or (``column`` None) a row on one side only."""

    table: str
    key: dict[str, Any]
    column: str | None
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        if self.column is not None:
            return f"{self.table} ({key}) {self.column}: live {self.live!r} vs rebuilt {self.rebuilt!r}"
        return f"{self.table} ({key}): {'only in the live views' if self.rebuilt is None else 'missing from the live views'}"


class ViewsReport(Frozen):
    """What ``verify_views`` found: live views against a rebuild from zero."""

    position: int
    differences: tuple[str, ...]
    rows: tuple[RowDifference, ...] = ()
    """The same differences, structured (one per differing column or row)."""

    @property
    def ok(self) -> bool:
        return not self.differences


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
        self.batch_size = batch_size
        self.fault = fault
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        # An in-memory database is one connection shared by every thread:
        # reads then queue behind the runner instead of interleaving with it.
        self._shared_connection = isinstance(engine.pool, StaticPool)
        self.version = views_version(engine.dialect)
        """The version of the views this code builds (recorded in ``ql_views_schema``)."""
        self.outdated: str | None = None
        """Why the views are not served (opened with ``outdated="defer"``), until migrated."""
        self.migrated: MigrationReport | None = None
        """The migration opening ran, if it ran one."""
        try:
            self._open(outdated)
        except BaseException:
            engine.dispose()
            raise

    def _open(self, outdated: Outdated | None) -> None:
        with self._transaction() as connection:
            serialise(connection)
            state = read_state(connection)
            if state.fresh:
                create(connection, self.version)
                return
            if state.current(self.version):
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

    # Positions ----------------------------------------------------------------

    def position(self) -> int:
        """The log position the views reflect."""
        with self.reading(catch_up=False) as connection:
            return _position(connection)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    # Catching up --------------------------------------------------------------

    def catch_up(self, *, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event not yet in the views (up to ``until``); returns how many."""
        with self._lock:
            applied = 0
            # Only a progress report needs the total: every read-your-writes query calls this.
            total = 0 if progress is None else max(0, (until or self.head()) - self.position())
            while (count := self._apply_batch(until)) > 0:
                applied += count
                if progress is not None:
                    progress(applied, max(total, applied))
            return applied

    def _apply_batch(self, until: int | None) -> int:
        """Apply the next batch in one transaction, or raise ``ProjectionFailed``
        naming the event that failed, with the views left as they were.

        Every step that can fail because of what the events hold is wrapped:
        decoding and handling each event, writing the rows (where the
        database may refuse a value) and committing. The ``fault`` hook's
        steps are not: they stand for the process dying, not for an event.
        """
        notifications: Sequence[Notification] = ()
        failure: Exception | None = None
        committing = False
        try:
            with self.engine.begin() as connection:
                position = _position(connection, lock=True)
                if until is not None and position >= until:
                    return 0
                notifications = self.recorder.select_notifications(
                    start=position + 1, limit=self.batch_size, stop=until
                )
                if not notifications:
                    return 0
                self._check_version(connection)
                batch = Batch(connection)
                for notification in notifications:
                    try:
                        self._apply(notification, batch)
                    except Exception as e:
                        raise ProjectionFailed(notification.id, notification.topic, e) from e
                self._step("before-write")
                try:
                    batch.flush()
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

    def _apply(self, notification: Notification, batch: Batch) -> None:
        domain_event: Any = self.mapper.to_domain_event(notification)
        audit_trail.record(domain_event, batch, notification.id)
        project(domain_event, batch, notification.id)

    def _failed(self, notifications: Sequence[Notification], cause: Exception) -> ProjectionFailed:
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
                        batch = Batch(connection)
                        self._apply(notification, batch)
                        try:
                            batch.flush()
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

    # Rebuilding and verifying -------------------------------------------------

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Clear every view and apply the whole log again, in place: readers
        without read-your-writes may see partial views until it ends
        (:meth:`migrate` with ``force`` rebuilds without that)."""
        self._refuse_outdated()
        with self._lock, self.engine.begin() as connection:
            _position(connection, lock=True)
            for table in reversed(VIEW_TABLES):
                connection.execute(delete(table))
            connection.execute(update(tracking).where(tracking.c.name == NAME).values(position=0))
        return self.catch_up(progress=progress)

    def verify(self, *, progress: Progress | None = None) -> ViewsReport:
        """Rebuild into a scratch in-memory database and compare with the live views."""
        with self.reading() as connection:
            position = _position(connection)
            live = dump(connection)
        rebuilt = replayed(self.recorder, self.mapper, position, batch_size=self.batch_size, progress=progress)
        rows = tuple(compare(live, rebuilt))
        return ViewsReport(position=position, differences=tuple(map(str, rows)), rows=rows)

    # Following continuously ---------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        """Follow the log in a background thread until :meth:`stop`.

        On PostgreSQL the thread LISTENs for the NOTIFY that every append
        sends at commit (see :class:`_Wakeups`) and catches up as soon as one
        arrives; ``interval`` then only bounds the time between two catch-ups,
        a safety net for a wake-up lost with a dropped connection. SQLite and
        the in-memory store cannot notify: there it polls every ``interval`` s.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._follow, args=(interval,), name="quality-ledger-views", daemon=True)
        self._thread.start()

    def _follow(self, interval: float) -> None:
        wakeups = _Wakeups.of(self.recorder)
        try:
            while not self._stop.is_set():
                # LISTEN before catching up, so a commit between the two still wakes the wait below.
                listening = wakeups is not None and wakeups.listen()
                try:
                    self.catch_up()
                except BaseException as e:
                    self.error = e
                    return
                if wakeups is not None and listening:
                    wakeups.wait(interval, self._stop)
                else:
                    # Polling; on PostgreSQL only until LISTEN works again.
                    self._stop.wait(interval if wakeups is None else min(interval, _Wakeups.RECONNECT))
        finally:
            if wakeups is not None:
                wakeups.close()

    def stop(self) -> None:
        """Stop following; re-raises what stopped the thread, if anything did."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.engine.dispose()


class _Wakeups:
    """PostgreSQL's LISTEN/NOTIFY as the follower's doorbell.

    eventsourcing's PostgreSQL recorder runs ``NOTIFY <events table>`` inside
    every append's transaction; the server delivers it only when that
    transaction commits, and never for one rolled back, so a wake-up means
    new events are visible. The payload is not used: the follower then
    catches up from its tracked position as usual, so wake-ups that coalesce,
    arrive twice or come from another schema's table of the same name cost a
    cheap empty catch-up, and correctness never depends on them. A dedicated
    connection listens (a pooled one would be held for good); if it drops,
    the follower catches up at once and listens again on a new one (polling
    every second while it cannot).
    """

    SLICE = 0.1
    """Longest wait before looking at the stop flag again (bounds ``stop()``)."""
    RECONNECT = 1.0
    """Longest wait before trying to LISTEN again after the connection was lost."""

    def __init__(self, conninfo: str, kwargs: dict[str, Any], channel: str) -> None:
        self.conninfo = conninfo
        self.kwargs = {
            "connect_timeout": 5,
            # Names the follower in pg_stat_activity, e.g. for a DBA (or a test) to find it.
            "application_name": f"quality_ledger views follower {os.getpid()}",
            **{k: v for k, v in kwargs.items() if k != "row_factory"},
        }
        self.channel = channel
        self.connection: psycopg.Connection[Any] | None = None

    @classmethod
    def of(cls, recorder: ApplicationRecorder) -> _Wakeups | None:
        """Wake-ups for a recorder that notifies (eventsourcing's PostgreSQL one), else None."""
        channel = getattr(recorder, "channel_name", None)
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        if not isinstance(channel, str) or pool is None:
            return None
        return cls(pool.conninfo, dict(pool.kwargs or {}), channel)

    def listen(self) -> bool:
        """Connect and LISTEN unless already listening; False if the server cannot be reached now."""
        if self.connection is not None and not self.connection.closed:
            return True
        import psycopg  # PostgreSQL is optional: imported only where used
        from psycopg.sql import SQL, Identifier

        try:
            connection = psycopg.connect(self.conninfo, autocommit=True, **self.kwargs)
        except psycopg.Error:
            return False
        try:
            connection.execute(SQL("LISTEN {0}").format(Identifier(self.channel)))
        except psycopg.Error:
            connection.close()
            return False
        self.connection = connection
        return True

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Until a notification arrives, ``timeout`` s pass or ``stop`` is set."""
        import psycopg

        deadline = time.monotonic() + timeout
        while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            assert self.connection is not None
            try:
                if next(self.connection.notifies(timeout=min(self.SLICE, remaining), stop_after=1), None):
                    # One catch-up answers every commit so far: drain what else is queued.
                    for _ in self.connection.notifies(timeout=0):
                        pass
                    return
            except psycopg.Error:
                self.close()  # the follower catches up and listen() reconnects
                return

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _position(connection: Connection, *, lock: bool = False) -> int:
    query = select(tracking.c.position).where(tracking.c.name == NAME)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return int(connection.execute(query).scalar_one())


Dump = dict[str, list[dict[str, Any]]]


def replayed(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    until: int,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> Dump:
    """Every view as a replay of the log from zero up to ``until`` builds it,
    in a scratch in-memory database: what the live views must equal."""
    scratch = Views(views_engine("sqlite://"), recorder, mapper, batch_size=batch_size)
    try:
        scratch.catch_up(until=until, progress=progress)
        with scratch.reading(catch_up=False) as connection:
            return dump(connection)
    finally:
        scratch.close()


def dump(connection: Connection) -> Dump:
    """Every view row, ordered by primary key, with values in a neutral form."""
    return {
        table.name: [
            {k: _neutral(v) for k, v in row.items()}
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        ]
        for table in VIEW_TABLES
    }


def _neutral(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, datetime) and value.tzinfo is not None:
        # PostgreSQL returns timestamptz aware (in the session's zone), SQLite
        # returns what it stored without the zone: compare both as naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def compare(live: Dump, rebuilt: Dump) -> list[RowDifference]:
    """Rows matched by primary key (not by place, so one missing row does not
    shift every later one), then compared column by column."""
    differences = []
    for table in VIEW_TABLES:
        names = [column.name for column in table.primary_key.columns]
        live_rows = {tuple(row[k] for k in names): row for row in live.get(table.name, [])}
        rebuilt_rows = {tuple(row[k] for k in names): row for row in rebuilt.get(table.name, [])}
        for key in [*rebuilt_rows, *(k for k in live_rows if k not in rebuilt_rows)]:
            live_row, rebuilt_row = live_rows.get(key), rebuilt_rows.get(key)
            named = dict(zip(names, key, strict=True))
            if live_row is None or rebuilt_row is None:
                differences.append(
                    RowDifference(table=table.name, key=named, column=None, live=live_row, rebuilt=rebuilt_row)
                )
                continue
            differences.extend(
                RowDifference(table=table.name, key=named, column=column, live=live_row.get(column), rebuilt=value)
                for column, value in rebuilt_row.items()
                if live_row.get(column) != value
            )
    return differences
