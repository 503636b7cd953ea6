"""Where events are stored: the one place that maps a URL to a recorder.

``eventsourcing.sqlite`` is the embedded default (it writes about twice as
fast as the SQLAlchemy extension on the same file, see docs/benchmarks.md),
``eventsourcing.postgres`` serves many writers, ``eventsourcing.popo`` keeps
everything in memory for tests.

:func:`locate` looks before the store is opened, so that a mistyped URL, a
missing directory, a file that is not a ledger or a server out of reach is
one clear error and nothing is created on the way; :meth:`Location.failure`
turns what the drivers raise later (a damaged file, a lock, a lost server)
into the ledger's own errors.

The code lives in :mod:`quality_ledger.store`, one module per concern
(URLs, settings, recorders, locating, failures, the mapper); this module
gathers its names, so that callers keep one address for them.
"""

from __future__ import annotations

from quality_ledger.store.failures import is_store_error
from quality_ledger.store.locate import LEDGER_TABLES, POSTGRES_EXTRA, SQLITE_HEADER, Location, locate
from quality_ledger.store.mapper import PydanticMapper
from quality_ledger.store.recorders import (
    CHAINED_RECORDERS,
    REPLACEABLE_SNAPSHOT_RECORDERS,
    application_recorder,
    snapshot_recorder,
    store_env,
)
from quality_ledger.store.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_POSTGRES_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    SQLITE_SETTINGS,
    STATEMENT_TIMEOUT_SETTING,
    env_for,
    sqlite_settings,
)
from quality_ledger.store.urls import DEFAULT_URL, MEMORY_URL, URL_VARIABLE, redact, resolve_url, sqlite_path

__all__ = [
    "CHAINED_RECORDERS",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_POSTGRES_LOCK_TIMEOUT",
    "DEFAULT_STATEMENT_TIMEOUT",
    "DEFAULT_URL",
    "LEDGER_TABLES",
    "MEMORY_URL",
    "POSTGRES_EXTRA",
    "REPLACEABLE_SNAPSHOT_RECORDERS",
    "SQLITE_HEADER",
    "SQLITE_SETTINGS",
    "STATEMENT_TIMEOUT_SETTING",
    "URL_VARIABLE",
    "Location",
    "PydanticMapper",
    "application_recorder",
    "env_for",
    "is_store_error",
    "locate",
    "redact",
    "resolve_url",
    "snapshot_recorder",
    "sqlite_path",
    "sqlite_settings",
    "store_env",
]
