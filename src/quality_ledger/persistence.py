"""Where events are stored: the one place that maps a URL to a recorder.

``eventsourcing.sqlite`` is the embedded default (it writes about twice as
fast as the SQLAlchemy extension on the same file, see docs/benchmarks.md),
``eventsourcing.postgres`` serves many writers, ``eventsourcing.popo`` keeps
everything in memory for tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ValidationError

from quality_ledger.errors import ConfigurationError, IntegrityError

DEFAULT_URL = "sqlite:///quality_ledger.db"
URL_VARIABLE = "QUALITY_LEDGER_URL"
MEMORY_URL = "memory://"


def resolve_url(url: str | None) -> str:
    """The URL given, else ``$QUALITY_LEDGER_URL``, else ``./quality_ledger.db``."""
    return url or os.environ.get(URL_VARIABLE) or DEFAULT_URL


def redact(url: str) -> str:
    """The URL with its password masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def env_for(url: str) -> dict[str, str]:
    """The ``eventsourcing`` environment that opens the store at ``url``."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        # As in SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db
        rest = unquote(url.split("://", 1)[1])
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "30"}
    if scheme in ("postgresql", "postgres"):
        # Query parameters tune the connection pool and the server's timeouts
        # (docs/postgres.md); each maps to one of eventsourcing's settings.
        # Anything else is refused rather than silently ignored: libpq's own
        # variables (PGSSLMODE, ...) still apply to every connection.
        settings = {
            "pool_size": "POSTGRES_POOL_SIZE",  # connections kept open (default 5)
            "max_overflow": "POSTGRES_MAX_OVERFLOW",  # extra connections under load (default 10)
            "max_waiting": "POSTGRES_MAX_WAITING",  # callers queued for a connection (default 0: no limit)
            "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",  # s to wait for a connection (default 30)
            "lock_timeout": "POSTGRES_LOCK_TIMEOUT",  # s a write waits for the log's lock (default 0: forever)
            "idle_in_transaction_session_timeout": "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",  # s (default 5)
            "conn_max_age": "POSTGRES_CONN_MAX_AGE",  # s before a connection is replaced (default 3600)
        }
        text_settings = {
            "pre_ping": "POSTGRES_PRE_PING",  # check a connection before each use: yes/no (default no)
            "schema": "POSTGRES_SCHEMA",  # an existing schema to use instead of public
        }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
        }
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name in settings:
                digits = value.replace(".", "", 1) if name == "conn_max_age" else value
                if not (digits.isascii() and digits.isdigit()):
                    msg = f"PostgreSQL URL parameter {name}={value!r}: expected a number of seconds or connections, 0 or more"
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
    msg = f"unsupported ledger URL {redact(url)!r}: use sqlite:///path, postgresql://..., or memory://"
    raise ConfigurationError(msg)


CHAINED_RECORDERS = {
    "eventsourcing.sqlite": "quality_ledger.audit.recorders:ChainedSQLiteApplicationRecorder",
    "eventsourcing.postgres": "quality_ledger.audit.postgres:ChainedPostgresApplicationRecorder",
}
"""The recorder class per persistence module: eventsourcing's, plus the hash chain."""


def store_env(url: str) -> dict[str, str]:
    """``env_for(url)`` with the chained recorder plugged in."""
    env = env_for(url)
    topic = CHAINED_RECORDERS.get(env["PERSISTENCE_MODULE"])
    if topic is not None:
        env["APPLICATION_RECORDER_TOPIC"] = topic
    return env


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
        except (ValueError, TypeError, AttributeError, ImportError, ValidationError) as e:
            msg = f"stored event {where} cannot be read: {e}"
            raise IntegrityError(msg) from e

    @staticmethod
    def _upcast(cls: Any, stored_event: StoredEvent) -> Any:
        state: dict[str, Any] = json.loads(stored_event.state)
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)
