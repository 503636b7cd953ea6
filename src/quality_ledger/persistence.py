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
from urllib.parse import unquote, urlsplit
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
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
        }
    msg = f"unsupported ledger URL {url!r}: use sqlite:///path, postgresql://..., or memory://"
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
