"""PostgreSQL URL parameters: pool size and timeouts reach both the event
store and the views; anything unknown is refused (docs/postgres.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from quality_ledger import Ledger
from quality_ledger.errors import ConfigurationError
from quality_ledger.eventlog import EventLog
from quality_ledger.persistence import env_for
from quality_ledger.projections import views_engine
from tests.conftest import with_query

BASE = "postgresql://ql:secret@db.example:5433/ledger"


def test_each_parameter_maps_to_its_eventsourcing_setting() -> None:
    # given: a URL with every parameter
    url = (
        f"{BASE}?pool_size=3&max_overflow=4&max_waiting=5&connect_timeout=6&lock_timeout=7"
        "&idle_in_transaction_session_timeout=8&conn_max_age=90.5&pre_ping=yes&schema=tenant_1&statement_timeout=9"
    )

    # when: it is turned into the store's environment
    env = env_for(url)

    # then: each lands where eventsourcing.postgres reads it, beside the connection itself
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "5433",
        "POSTGRES_USER": "ql",
        "POSTGRES_PASSWORD": "secret",
        "POSTGRES_POOL_SIZE": "3",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_MAX_WAITING": "5",
        "POSTGRES_CONNECT_TIMEOUT": "6",
        "POSTGRES_LOCK_TIMEOUT": "7",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "8",
        "POSTGRES_CONN_MAX_AGE": "90.5",
        "POSTGRES_PRE_PING": "yes",
        "POSTGRES_SCHEMA": "tenant_1",
        "POSTGRES_STATEMENT_TIMEOUT": "9",
    }


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("sslmode=require", "is not one of"),
        ("pool_size=-1", "expected a number"),
        ("pool_size=ten", "expected a number"),
        ("lock_timeout=1.5", "expected a number"),
        ("schema=Tenant", "lower-case"),
        ("schema=a,b", "lower-case"),
        ("pre_ping=", "is empty"),
    ],
)
def test_an_unknown_or_malformed_parameter_is_refused(query: str, complaint: str) -> None:
    # when / then: opening fails, naming the parameter, and never echoes the password
    with pytest.raises(ConfigurationError, match=complaint) as refused:
        env_for(f"{BASE}?{query}")
    assert "secret" not in str(refused.value)


def show(connection: Any, setting: str) -> str:
    value: str = connection.execute(text(f"SHOW {setting}")).scalar_one()
    return value


@pytest.mark.postgres
def test_pool_and_timeouts_reach_the_store_and_the_views(postgres_url: str) -> None:
    # given: a URL that sets the pool and the timeouts
    url = with_query(
        postgres_url, pool_size="2", max_overflow="1", lock_timeout="7", idle_in_transaction_session_timeout="9"
    )

    # when: a ledger is opened on it
    with Ledger.open(url) as ledger:
        store: Any = EventLog.of(ledger).recorder
        with store.datastore.get_connection() as connection:
            store_idle = connection.execute("SHOW idle_in_transaction_session_timeout").fetchone()[
                "idle_in_transaction_session_timeout"
            ]
        with ledger.views.engine.connect() as connection:
            views = {s: show(connection, s) for s in ("lock_timeout", "idle_in_transaction_session_timeout")}
            schema = show(connection, "search_path")

        # then: the event store's pool and session follow it
        assert (store.datastore.pool.min_size, store.datastore.pool.max_size) == (2, 3)
        assert store.datastore.lock_timeout == 7
        assert store_idle == "9s"
        # and: so do the views' pool and sessions, in the same schema
        assert (ledger.views.engine.pool.size(), ledger.views.engine.pool._max_overflow) == (2, 1)  # type: ignore[attr-defined]
        assert views == {"lock_timeout": "7s", "idle_in_transaction_session_timeout": "9s"}
        assert schema == postgres_url.rsplit("schema=", 1)[1]


def test_connect_timeout_defaults_to_five_seconds_for_the_store_and_the_views() -> None:
    # given: a URL that does not set it
    # when: it is turned into the store's environment and the views' engine
    env = env_for(BASE)
    engine = views_engine(BASE)
    # then: both give up after 5 s, not eventsourcing's 30 (or libpq's forever)
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "5"
    assert engine.url.query["connect_timeout"] == "5"
    assert engine.pool.timeout() == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("postgresql://ql:secret@db.example:99999/ledger", "Port out of range"),
        ("postgresql://ql:secret@db.example:port/ledger", "Port could not be cast"),
        ("postgresql://ql:secret@[::1/ledger", "Invalid IPv6 URL"),
        ("postgresql://ql:secret@db.example:0/ledger", "port 0"),
    ],
)
def test_a_malformed_host_or_port_is_a_configuration_error(url: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as refused:
        env_for(url)
    assert "secret" not in str(refused.value)
