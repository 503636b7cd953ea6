"""The views' SQLAlchemy engine, from a ledger URL: the same parameters as the
events' store where they make sense, and on SQLite the locking that lets the
runner apply each batch exactly once (docs/views.md, "Consistency")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, StaticPool, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from quality_ledger.errors import ConfigurationError
from quality_ledger.persistence import DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_TIMEOUT, redact


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
