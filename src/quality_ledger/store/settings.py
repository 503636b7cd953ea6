"""What a ledger URL asks of the store: the ``eventsourcing`` environment
that opens it, with the URL's query parameters checked and mapped one by one
(docs/postgres.md lists PostgreSQL's). An unknown or malformed parameter is
refused rather than silently ignored."""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote

from quality_ledger.errors import ConfigurationError
from quality_ledger.store.urls import redact, split, sqlite_path

DEFAULT_CONNECT_TIMEOUT = "5"
"""Seconds to wait for a PostgreSQL connection unless the URL says otherwise."""
DEFAULT_LOCK_TIMEOUT = "30"
"""Seconds a SQLite write waits for another connection's lock unless the URL says otherwise."""
DEFAULT_POSTGRES_LOCK_TIMEOUT = "10"
"""Seconds a PostgreSQL append waits for the log's lock before failing (``StoreUnavailable``)."""
DEFAULT_STATEMENT_TIMEOUT = "30"
"""Seconds one statement of a PostgreSQL append may run: a writer that is slow
while it holds the log's lock is cancelled, so it cannot block the others for good
(``idle_in_transaction_session_timeout`` does the same for one that stalls between statements)."""
STATEMENT_TIMEOUT_SETTING = "POSTGRES_STATEMENT_TIMEOUT"
"""The ledger's own setting (eventsourcing has none): read by ``_Store.construct_recorder``."""

SQLITE_SETTINGS = {
    "lock_timeout": "seconds a write waits for another connection's lock (default 30)",
    "mode": "ro: open read-only, change nothing (default: read-only only where the file or directory is)",
}


def sqlite_settings(url: str) -> dict[str, str]:
    """The query parameters of a ``sqlite:`` URL, checked."""
    settings = dict(parse_qsl(split(url)[0].query, keep_blank_values=True))
    for name, value in settings.items():
        if name == "lock_timeout" and not (value.isascii() and value.isdigit()):
            msg = f"SQLite URL parameter lock_timeout={value!r}: expected a whole number of seconds"
            raise ConfigurationError(msg)
        if name == "mode" and value != "ro":
            msg = f"SQLite URL parameter mode={value!r}: the only mode is ro (read-only)"
            raise ConfigurationError(msg)
        if name not in SQLITE_SETTINGS:
            msg = f"SQLite URL parameter {name}={value!r} is not one of {', '.join(SQLITE_SETTINGS)}"
            raise ConfigurationError(msg)
    return settings


def env_for(url: str) -> dict[str, str]:
    """The ``eventsourcing`` environment that opens the store at ``url``
    (as given: :func:`~quality_ledger.store.locate.locate` also looks at what is there)."""
    parts, scheme = split(url)
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = sqlite_path(url)
        settings = sqlite_settings(url)
        if path is None:
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
        # eventsourcing opens SQLite names as URIs: keep a path that looks like one a path.
        dbname = f"./{path}" if path.startswith("file:") else path
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": dbname,
            "SQLITE_LOCK_TIMEOUT": settings.get("lock_timeout", DEFAULT_LOCK_TIMEOUT),
        }
    if scheme in ("postgresql", "postgres"):
        return _postgres_env(url, parts)
    msg = f"unsupported ledger URL {redact(url)!r}: use sqlite:///path, postgresql://..., or memory://"
    raise ConfigurationError(msg)


def _postgres_env(url: str, parts: SplitResult) -> dict[str, str]:
    # Query parameters tune the connection pool and the server's timeouts
    # (docs/postgres.md); each maps to one of eventsourcing's settings.
    # Anything else is refused rather than silently ignored: libpq's own
    # variables (PGSSLMODE, ...) still apply to every connection.
    settings = {
        "pool_size": "POSTGRES_POOL_SIZE",  # connections kept open (default 5)
        "max_overflow": "POSTGRES_MAX_OVERFLOW",  # extra connections under load (default 10)
        "max_waiting": "POSTGRES_MAX_WAITING",  # callers queued for a connection (default 0: no limit)
        "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",  # s to wait for a connection (default 5)
        "lock_timeout": "POSTGRES_LOCK_TIMEOUT",  # s a write waits for the log's lock (default 10)
        "statement_timeout": STATEMENT_TIMEOUT_SETTING,  # s one statement of an append may run (default 30)
        "idle_in_transaction_session_timeout": "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",  # s (default 5)
        "conn_max_age": "POSTGRES_CONN_MAX_AGE",  # s before a connection is replaced (default 3600)
    }
    text_settings = {
        "pre_ping": "POSTGRES_PRE_PING",  # check a connection before each use: yes/no (default no)
        "schema": "POSTGRES_SCHEMA",  # an existing schema to use instead of public
    }
    try:
        host, port = parts.hostname, parts.port
    except ValueError as e:
        msg = f"invalid PostgreSQL URL {redact(url)!r}: {e}"
        raise ConfigurationError(msg) from None
    if port == 0:
        msg = f"invalid PostgreSQL URL {redact(url)!r}: port 0"
        raise ConfigurationError(msg)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": host or "127.0.0.1",
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": DEFAULT_CONNECT_TIMEOUT,
        "POSTGRES_LOCK_TIMEOUT": DEFAULT_POSTGRES_LOCK_TIMEOUT,
        STATEMENT_TIMEOUT_SETTING: DEFAULT_STATEMENT_TIMEOUT,
    }
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in settings:
            digits = value.replace(".", "", 1) if name == "conn_max_age" else value
            if not (digits.isascii() and digits.isdigit()):
                msg = (
                    f"PostgreSQL URL parameter {name}={value!r}: expected a number of seconds or connections, 0 or more"
                )
                raise ConfigurationError(msg)
            env[settings[name]] = value
        elif name in text_settings:
            if name == "schema" and not (value.isascii() and value.isidentifier() and value == value.lower()):
                # The views find it through search_path, which folds case and splits on commas.
                msg = f"PostgreSQL URL parameter schema={value!r}: use a lower-case name of letters, digits and _"
                raise ConfigurationError(msg)
            if not value.strip():
                msg = f"PostgreSQL URL parameter {name} is empty"
                raise ConfigurationError(msg)
            env[text_settings[name]] = value
        else:
            known = ", ".join([*settings, *text_settings])
            msg = f"PostgreSQL URL parameter {name}={value!r} is not one of {known}"
            raise ConfigurationError(msg)
    return env


def connect_kwargs(env: dict[str, str]) -> dict[str, Any]:
    """psycopg's connection arguments for a PostgreSQL store's environment
    (for the ledger's own direct connections: the look before opening, and
    the diagnosis of a pool that gave up)."""
    kwargs: dict[str, Any] = {
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "dbname": env["POSTGRES_DBNAME"],
        "connect_timeout": max(1, int(env.get("POSTGRES_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))),
    }
    for key, name in (("user", "POSTGRES_USER"), ("password", "POSTGRES_PASSWORD")):
        if env.get(name):
            kwargs[key] = env[name]
    return kwargs
