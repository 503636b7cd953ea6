"""Looking at a store before opening it, so that a mistyped URL, a missing
directory, a file that is not a ledger or a server out of reach is one
clear error and nothing is created on the way; and, once it is open,
:meth:`Location.failure` for what its driver raises."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from quality_ledger.errors import ConfigurationError, LedgerError, NoLedger
from quality_ledger.store.failures import failure
from quality_ledger.store.recorders import store_env
from quality_ledger.store.settings import connect_kwargs, sqlite_settings
from quality_ledger.store.urls import redact, resolve_url, sqlite_path

POSTGRES_EXTRA = "pip install 'quality_ledger[postgres]'"
"""What installs the PostgreSQL driver when it is missing."""
SQLITE_HEADER = b"SQLite format 3\x00"
LEDGER_TABLES = {
    "sqlite": ("stored_events", "ql_chain"),
    "postgres": ("quality_ledger_events", "ql_chain"),
}
"""The tables whose presence makes a database a ledger: the event log and its hash chain."""


@dataclass(frozen=True)
class Location:
    """A store as found before opening it: how to open it, and how to name it
    in a message."""

    url: str
    env: dict[str, str]
    where: str
    """The file, or the URL without its password: what messages name."""
    read_only: bool = False
    """The store can be read but not written (a read-only file or directory, or ``mode=ro``)."""
    views_url: str = field(default="")
    """Where the views go unless the caller says: the store's own database,
    or memory for a read-only store."""

    def failure(self, error: BaseException) -> LedgerError:
        """What a driver raised while using this store, as the ledger's own error."""
        return failure(self.env, self.where, error)


def locate(url: str | None, *, create: bool = True, adopt: bool = False) -> Location:
    """Look at the store ``url`` names before opening it.

    ``create=False`` never makes a ledger: no ledger there is :class:`NoLedger`.
    ``adopt=False`` refuses a database that holds other tables but no ledger,
    naming them; ``adopt=True`` creates a ledger beside them. A file or
    directory this process cannot write is opened read-only.
    """
    resolved = resolve_url(url)
    env = store_env(resolved)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.popo" or env.get("SQLITE_DBNAME") == ":memory:":
        return Location(resolved, env, resolved, views_url=resolved)
    if module == "eventsourcing.sqlite":
        return _locate_sqlite(resolved, env, create=create, adopt=adopt)
    return _locate_postgres(resolved, env, create=create, adopt=adopt)


def _locate_sqlite(url: str, env: dict[str, str], *, create: bool, adopt: bool) -> Location:
    path = sqlite_path(url)
    assert path is not None  # memory handled by the caller
    asked_read_only = sqlite_settings(url).get("mode") == "ro"
    file = Path(path)
    parent = file.parent
    try:
        exists = file.exists()
        if exists and file.is_dir():
            msg = f"{path} is a directory, not a ledger file"
            raise ConfigurationError(msg)
        if exists and not file.is_file():
            msg = f"{path} is not a regular file"
            raise ConfigurationError(msg)
        if not exists:
            _check_directory(path, parent)
    except LedgerError:
        raise  # NoLedger is a FileNotFoundError too
    except OSError as e:  # a path under a file (NotADirectoryError), a name too long, no permission
        msg = f"cannot open a ledger at {path}: {e.strerror or e}"
        raise ConfigurationError(msg) from None
    directory_writable = os.access(parent, os.W_OK | os.X_OK)
    if not exists:
        if not create or asked_read_only:
            msg = f"no ledger at {path}"
            raise NoLedger(msg)
        if not directory_writable:
            msg = f"cannot create a ledger at {path}: the directory {parent} is read-only"
            raise ConfigurationError(msg)
        return Location(url, env, path, views_url=url)
    try:
        with file.open("rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror or e}"
        raise ConfigurationError(msg) from None
    read_only = asked_read_only or not os.access(file, os.W_OK) or not directory_writable
    if not header:
        if not create or read_only:
            msg = f"no ledger at {path}: the file is empty"
            raise NoLedger(msg)
        return Location(url, env, path, views_url=url)
    if header != SQLITE_HEADER:
        msg = f"{path} is not a ledger: not a SQLite database (file is not a database)"
        raise ConfigurationError(msg)
    location = Location(url, env, path, read_only=read_only, views_url="sqlite://" if read_only else url)
    tables = _sqlite_tables(location, file)
    if set(LEDGER_TABLES["sqlite"]) <= tables:
        if read_only:
            env = {**env, "SQLITE_DBNAME": _read_only_uri(file), "CREATE_TABLE": "false"}
            return Location(url, env, path, read_only=True, views_url="sqlite://")
        return location
    if tables and not adopt:
        msg = (
            f"{path} holds other tables ({', '.join(sorted(tables))}) but no ledger: "
            "open it with adopt=True to create a ledger beside them"
        )
        raise ConfigurationError(msg)
    if not create or read_only:
        msg = f"no ledger at {path}" + (" (the file is read-only)" if read_only and create else "")
        raise NoLedger(msg)
    return location


def _check_directory(path: str, parent: Path) -> None:
    """A ledger file is created only in a directory that exists."""
    if parent.is_dir():
        return
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        msg = f"cannot open a ledger at {path}: {ancestor} is a file, not a directory"
        raise ConfigurationError(msg)
    msg = f"no ledger at {path}: the directory {parent} does not exist"
    raise NoLedger(msg)


def _read_only_uri(file: Path) -> str:
    """A SQLite URI that reads ``file`` and writes nothing beside it.

    With no ``-wal`` file no connection is writing it, so ``immutable``
    reads it as it is without creating the ``-shm``/``-wal`` files a WAL
    database otherwise needs (and cannot have in a read-only directory);
    with one, ``mode=ro`` reads the committed content the ``-wal`` holds too.
    """
    absolute = quote(str(file.absolute()))
    wal = file.with_name(file.name + "-wal")
    return f"file:{absolute}?mode=ro" if wal.exists() else f"file:{absolute}?mode=ro&immutable=1"


def _sqlite_tables(location: Location, file: Path) -> set[str]:
    try:
        connection = sqlite3.connect(_read_only_uri(file), uri=True)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as e:
        raise location.failure(e) from None
    return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


def _locate_postgres(url: str, env: dict[str, str], *, create: bool, adopt: bool) -> Location:
    where = redact(url)
    location = Location(url, env, where, views_url=url)
    try:
        import eventsourcing.postgres  # noqa: F401  (psycopg and psycopg_pool, the [postgres] extra)
        import psycopg
    except ImportError as e:
        msg = f"PostgreSQL support is not installed ({e}): {POSTGRES_EXTRA}"
        raise ConfigurationError(msg) from None
    schema = env.get("POSTGRES_SCHEMA", "public")
    try:
        with psycopg.connect(**connect_kwargs(env), autocommit=True) as connection:
            found = connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
            tables = {
                str(row[0])
                for row in connection.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            }
    except psycopg.Error as e:
        raise location.failure(e) from None
    if found is None:
        msg = f"no ledger at {where}: the schema {schema} does not exist (CREATE SCHEMA {schema} first)"
        raise NoLedger(msg)
    if set(LEDGER_TABLES["postgres"]) <= tables:
        return location
    if tables and not adopt:
        msg = (
            f"the schema {schema} at {where} holds other tables ({', '.join(sorted(tables))}) but no ledger: "
            "open it with adopt=True to create a ledger beside them, or name another schema"
        )
        raise ConfigurationError(msg)
    if not create:
        msg = f"no ledger at {where}"
        raise NoLedger(msg)
    return location
