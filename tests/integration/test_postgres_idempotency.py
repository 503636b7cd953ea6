"""Idempotency under retry, when the connection drops right after a commit.

The worst moment to lose a connection is after the server committed and
before the client heard so: the client cannot tell a lost command from a
recorded one and must retry. A TCP proxy on the loopback between the ledger
and the real server cuts the connection exactly there (it swallows the
server's ``COMMIT`` completion and closes both sides), so the commit is real
and only its acknowledgement is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.errors import ConcurrencyConflict
from quality_ledger.receipts import record_id
from tests.conftest import ORGANISER, event_count, plan_campaign, postgres_connect, with_query
from tests.integration.proxy import LoopbackProxy

pytestmark = pytest.mark.postgres

COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"
"""The server's CommandComplete message for COMMIT: sent once the commit is durable."""
UNIQUE_VIOLATION = b"C23505\x00"
"""The SQLSTATE field of an ErrorResponse for a unique constraint violation."""


class CommitDroppingProxy(LoopbackProxy):
    """Once armed, drops the first connection whose server side reports a
    finished COMMIT, before the client sees it. While ``refusing`` (the server
    unreachable), that drop cuts every other connection too, and new ones are
    closed at once. Counts what it saw."""

    def __init__(self, host: str, port: int) -> None:
        self.armed = threading.Event()
        self.drops = 0
        self.unique_violations = 0
        super().__init__(host, port)

    def swallows(self, seen: bytes) -> bool:
        if UNIQUE_VIOLATION in seen:
            with self.lock:
                self.unique_violations += 1
        if COMMIT_DONE not in seen or not self.armed.is_set():
            return False
        self.armed.clear()
        with self.lock:
            self.drops += 1
        if self.refusing.is_set():  # the whole server out of reach: every connection
            self.sever()
        return True  # the commit happened; the client never hears of it


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[CommitDroppingProxy]:
    with CommitDroppingProxy.running(postgres_url) as running:
        yield running


def launch(campaign_id: object, key: str) -> c.LaunchCampaign:
    return c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1), idempotency_key=key)


def test_a_commit_whose_acknowledgement_is_lost_is_retried_into_the_same_receipt(
    postgres_url: str, proxy: CommitDroppingProxy
) -> None:
    # given: a planned campaign, and a ledger that reaches the server through the proxy
    url = with_query(postgres_url, pool_size="1", max_overflow="1", connect_timeout="5")
    with Ledger.open(url) as direct:
        campaign_id = plan_campaign(direct, launch=False)
    ledger = Ledger.open(proxy.url(url))
    before = event_count(ledger)

    # when: the launch commits but its connection drops before the ledger hears so
    proxy.armed.set()
    receipt = ledger.execute(launch(campaign_id, "launch-1"), ORGANISER)

    # then: the store's retry on a new connection ran into the unique constraint, and
    # execute answered with the receipt of the command that had committed
    assert proxy.drops == 1
    assert proxy.unique_violations >= 1
    with Ledger.open(url) as direct:
        assert direct.get(campaign_id).status == "launched"  # type: ignore[attr-defined]
        assert event_count(direct) == before + 2  # the launch and the key's record, once
        launches = [e for e in direct.history(campaign_id) if e.name == "Campaign.Launched"]
        assert len(launches) == 1
        assert launches[0].meta is not None
        assert launches[0].meta.command_id == receipt.command_id
        # and: the caller's own retry with the same key gets the same receipt, and records nothing
        assert direct.execute(launch(campaign_id, "launch-1"), ORGANISER) == receipt
        assert event_count(direct) == before + 2
    ledger.close()


def test_a_caller_retrying_after_a_lost_acknowledgement_gets_the_first_receipt(
    postgres_url: str, proxy: CommitDroppingProxy
) -> None:
    # given: a planned campaign, and a ledger that reaches the server through the proxy
    url = with_query(postgres_url, pool_size="1", max_overflow="1", connect_timeout="1")
    with Ledger.open(url) as direct:
        campaign_id = plan_campaign(direct, launch=False)
        before = event_count(direct)
    ledger = Ledger.open(proxy.url(url))

    # when: the launch commits, its connection drops, and the server stays out of reach
    proxy.armed.set()
    proxy.refusing.set()
    with pytest.raises(Exception) as lost:
        ledger.execute(launch(campaign_id, "launch-2"), ORGANISER)
    ledger.close()
    proxy.refusing.clear()
    # and: the caller retries with the same key, from a fresh ledger, once the server is back
    with Ledger.open(url) as retried:
        receipt = retried.execute(launch(campaign_id, "launch-2"), ORGANISER)

        # then: the command had been recorded once, and the retry returns its receipt
        assert proxy.drops == 1
        assert not isinstance(lost.value, ConcurrencyConflict)  # an unknown outcome is not a lost race
        assert event_count(retried) == before + 2
        launches = [e for e in retried.history(campaign_id) if e.name == "Campaign.Launched"]
        assert len(launches) == 1
        assert launches[0].meta is not None
        assert launches[0].meta.command_id == receipt.command_id


def test_the_key_counts_once_because_the_database_refuses_a_second_record(postgres_url: str) -> None:
    # given: a command recorded with an idempotency key
    with Ledger.open(postgres_url) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        ledger.execute(launch(campaign_id, "launch-3"), ORGANISER)
        before = event_count(ledger)

    # when: anything at all tries to store the key's record again, bypassing the ledger
    with postgres_connect(postgres_url) as connection, pytest.raises(psycopg.errors.UniqueViolation):
        connection.execute(
            "INSERT INTO quality_ledger_events (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM quality_ledger_events"
            " WHERE originator_id = %s",
            (record_id("launch-3"),),
        )

    # then: the database refused it, and the log is unchanged
    with Ledger.open(postgres_url) as ledger:
        assert event_count(ledger) == before
