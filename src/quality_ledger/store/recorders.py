"""Which recorder each store gets: eventsourcing's, plus the hash chain. The
one place the recorder is chosen, named by topics so that PostgreSQL's
driver is imported only when a PostgreSQL store is opened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder
from eventsourcing.utils import resolve_topic

from quality_ledger.store.settings import STATEMENT_TIMEOUT_SETTING, env_for

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
