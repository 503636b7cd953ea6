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
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, Mapper, PersistenceError, StoredEvent
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel, ValidationError

from quality_ledger import names  # noqa: F401  # installs the stable names before any topic is read or written
from quality_ledger.errors import (
    ConfigurationError,
    IntegrityError,
    LedgerError,
    NoLedger,
    ReadOnly,
    StoreUnavailable,
)

DEFAULT_URL = "sqlite:///quality_ledger.db"
URL_VARIABLE = "QUALITY_LEDGER_URL"
MEMORY_URL = "memory://"
POSTGRES_EXTRA = "pip install 'quality_ledger[postgres]'"
"""What installs the PostgreSQL driver when it is missing."""
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
SQLITE_HEADER = b"SQLite format 3\x00"
LEDGER_TABLES = {
    "sqlite": ("stored_events", "ql_chain"),
    "postgres": ("quality_ledger_events", "ql_chain"),
}
"""The tables whose presence makes a database a ledger: the event log and its hash chain."""


def resolve_url(url: str | None) -> str:
    """The URL given, else ``$QUALITY_LEDGER_URL``, else ``./quality_ledger.db``."""
    return url or os.environ.get(URL_VARIABLE) or DEFAULT_URL


def redact(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return re.sub(r":[^:/@]*@", ":***@", url, count=1)
    if password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@", 1)).geturl()


def _split(url: str) -> tuple[SplitResult, str]:
    """The URL's parts and its scheme without a driver (``postgresql+psycopg``)."""
    if not isinstance(url, str):
        msg = f"a ledger URL is a string, got {type(url).__name__}"
        raise ConfigurationError(msg)
    if "\x00" in url:
        msg = f"the ledger URL {redact(url)!r} contains a NUL byte"
        raise ConfigurationError(msg)
    try:
        parts = urlsplit(url)
    except ValueError as e:
        msg = f"invalid ledger URL {redact(url)!r}: {e}"
        raise ConfigurationError(msg) from None
    return parts, parts.scheme.split("+")[0]


def sqlite_path(url: str) -> str | None:
    """The file a ``sqlite:`` URL names, ``None`` for an in-memory database.

    As in SQLAlchemy: ``sqlite:///relative.db``, ``sqlite:////absolute.db``;
    ``sqlite://x.db`` (two slashes) would name a host, and is refused rather
    than taken for a file.
    """
    parts, _ = _split(url)
    if parts.netloc:
        msg = (
            f"{redact(url)!r} has two slashes, so {parts.netloc!r} would be a host: "
            f"write sqlite:///{parts.netloc}{parts.path} (relative) or sqlite:////abs/path.db"
        )
        raise ConfigurationError(msg)
    path = unquote(parts.path)
    path = path[1:] if path.startswith("/") else path
    return None if path in ("", ":memory:") else path


SQLITE_SETTINGS = {
    "lock_timeout": "seconds a write waits for another connection's lock (default 30)",
    "mode": "ro: open read-only, change nothing (default: read-only only where the file or directory is)",
}


def sqlite_settings(url: str) -> dict[str, str]:
    """The query parameters of a ``sqlite:`` URL, checked."""
    settings = dict(parse_qsl(_split(url)[0].query, keep_blank_values=True))
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
    (as given: :func:`locate` also looks at what is there)."""
    parts, scheme = _split(url)
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


CHAINED_RECORDERS = {
    "eventsourcing.popo": "quality_ledger.audit.recorders:ChainedPOPOApplicationRecorder",
    "eventsourcing.sqlite": "quality_ledger.audit.recorders:ChainedSQLiteApplicationRecorder",
    "eventsourcing.postgres": "quality_ledger.audit.postgres:ChainedPostgresApplicationRecorder",
}
"""The recorder class per persistence module: eventsourcing's, plus the hash
chain. The one place the recorder is chosen: :func:`store_env` plugs it into
eventsourcing's factory, :func:`application_recorder` builds it (topics, so
that PostgreSQL's driver is imported only when used)."""

REPLACEABLE_SNAPSHOT_RECORDERS = {
    "eventsourcing.popo": "quality_ledger.snapshots:ReplaceablePOPOAggregateRecorder",
}
"""Snapshot recorders that eventsourcing's factory would build without the
overwrite a stale snapshot needs; the others come from the factory."""


def store_env(url: str) -> dict[str, str]:
    """``env_for(url)`` with the chained recorder plugged in."""
    env = env_for(url)
    env["APPLICATION_RECORDER_TOPIC"] = CHAINED_RECORDERS[env["PERSISTENCE_MODULE"]]
    return env


def application_recorder(factory: Any, env: Mapping[str, str]) -> ApplicationRecorder:
    """The chained application recorder for eventsourcing's ``factory``, with
    the statement timeout the URL asked for (PostgreSQL)."""
    module = env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.popo":  # the in-memory factory ignores APPLICATION_RECORDER_TOPIC
        popo: ApplicationRecorder = resolve_topic(CHAINED_RECORDERS[module])()
        return popo
    recorder: ApplicationRecorder = factory.application_recorder()
    statement_timeout = env.get(STATEMENT_TIMEOUT_SETTING)
    if statement_timeout is not None:
        recorder.statement_timeout = float(statement_timeout)  # type: ignore[attr-defined]  # the chained PostgreSQL recorder's
    return recorder


def snapshot_recorder(factory: Any, env: Mapping[str, str]) -> AggregateRecorder:
    """The recorder of the snapshot table for eventsourcing's ``factory``."""
    topic = REPLACEABLE_SNAPSHOT_RECORDERS.get(env.get("PERSISTENCE_MODULE", ""))
    recorder: AggregateRecorder = (
        resolve_topic(topic)() if topic is not None else factory.aggregate_recorder(purpose="snapshots")
    )
    return recorder


# Looking before opening -------------------------------------------------------


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
        if isinstance(error, LedgerError):
            return error
        cause = _cause(error)
        low = cause.lower()
        if "malformed" in low or "not a database" in low:
            return IntegrityError(f"the ledger at {self.where} is damaged: {cause}")
        if "locked" in low or "busy" in low:
            return StoreUnavailable(f"the ledger at {self.where} is locked by another connection ({cause})")
        if "readonly" in low or "read-only" in low:
            return ReadOnly(f"the ledger at {self.where} cannot be written ({cause})")
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            return _postgres_failure(self.env, self.where, cause)
        return StoreUnavailable(f"the ledger at {self.where} failed: {cause}")


_DRIVERS = ("sqlalchemy", "psycopg", "psycopg_pool")


def is_store_error(error: BaseException) -> bool:
    """Raised by a store's driver (SQLite, PostgreSQL, SQLAlchemy, eventsourcing's
    persistence layer) rather than by the ledger's own code: these, and only
    these, become :meth:`Location.failure`; anything else is a bug to surface."""
    if isinstance(error, LedgerError):
        return False
    if isinstance(error, PersistenceError | sqlite3.Error):
        return True
    return any(k.__module__.split(".")[0] in _DRIVERS for k in type(error).__mro__)


def _cause(error: BaseException) -> str:
    """The driver's own one-line message, under the wrappers (SQLAlchemy, eventsourcing)."""
    inner: BaseException = error
    while True:
        orig = getattr(inner, "orig", None)  # SQLAlchemy's DBAPIError
        nxt = orig if isinstance(orig, BaseException) else inner.__cause__
        if nxt is None or nxt is inner:
            break
        inner = nxt
    text = str(inner).strip() or str(error).strip() or type(inner).__name__
    return " ".join(text.split("\n", 1)[0].split())


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
        with psycopg.connect(**_connect_kwargs(env), autocommit=True) as connection:
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


def _connect_kwargs(env: dict[str, str]) -> dict[str, Any]:
    """psycopg's connection arguments for a PostgreSQL store's environment."""
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


_LIBPQ_PREFIX = re.compile(r'^connection failed: connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ')


def _postgres_failure(env: dict[str, str], where: str, cause: str) -> LedgerError:
    """Name host, port and cause. A pool that gave up waiting does not say
    why: then one direct connection attempt finds out."""
    server = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    if "couldn't get a connection" in cause or "pool" in cause.lower():
        cause = _diagnose(env) or cause
    cause = re.sub(r"\bFATAL:\s*", "", _LIBPQ_PREFIX.sub("", cause)).strip()
    if "authentication failed" in cause or "does not exist" in cause or "no password supplied" in cause:
        return ConfigurationError(f"PostgreSQL at {server} refused the ledger {where}: {cause}")
    return StoreUnavailable(f"cannot reach PostgreSQL at {server} ({where}): {cause}")


def _diagnose(env: dict[str, str]) -> str | None:
    """Why a new connection fails now, or None if one succeeds."""
    import psycopg

    try:
        psycopg.connect(**_connect_kwargs(env)).close()
    except psycopg.Error as e:
        return _cause(e)
    return None


# Mapping stored events --------------------------------------------------------


class PydanticMapper(Mapper[UUID]):
    """Stores events as compact JSON and rebuilds them with validation.

    Unlike the default mapper this validates every stored row with the event's
    pydantic model, so a damaged or forged row fails loudly instead of
    building a half-formed event; upcasting (``class_version`` with
    ``upcast_vN_vM``) still runs before validation.
    """

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: BaseModel = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        class_version = getattr(type(event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(event)),
            state=json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode(),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        where = f"{stored_event.topic} {stored_event.originator_id} v{stored_event.originator_version}"
        try:
            cls = resolve_topic(stored_event.topic)
            if getattr(cls, "class_version", 1) == 1 and b'"class_version"' not in stored_event.state:
                # Fast path: let pydantic parse the JSON itself, ids spliced in front.
                head = f'{{"originator_id":"{stored_event.originator_id}","originator_version":{stored_event.originator_version},'
                body = stored_event.state[1:] if stored_event.state.startswith(b"{") else b"}"
                return cls.model_validate_json(head.encode() + body)
            return self._upcast(cls, stored_event)
        except (ValueError, TypeError, AttributeError, ImportError, TopicError, ValidationError) as e:
            msg = f"stored event {where} cannot be read: {e}"
            raise IntegrityError(msg) from e

    @staticmethod
    def _upcast(cls: Any, stored_event: StoredEvent) -> Any:
        """Bring a stored payload of an earlier schema version up to ``cls``'s,
        one ``upcast_vN_vM`` at a time. The stored bytes never change (the hash
        chain covers them): upcasting happens on every read."""
        state: dict[str, Any] = json.loads(stored_event.state)
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        if not isinstance(from_version, int) or isinstance(from_version, bool) or from_version < 1:
            msg = f"class_version {from_version!r} is not a schema version"
            raise ValueError(msg)
        if from_version > class_version:
            msg = (
                f"it was written with schema v{from_version}, newer than the v{class_version} "
                "this version of quality_ledger reads: upgrade quality_ledger"
            )
            raise ValueError(msg)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)
