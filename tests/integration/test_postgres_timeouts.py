"""No writer holds the log forever: a stuck or slow writer is cut off, and the
others get a typed error within their lock timeout instead of hanging."""

from __future__ import annotations

import time

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.errors import StoreUnavailable
from tests.conftest import ORGANISER, event_count, plan_campaign, postgres_connect, with_query

pytestmark = pytest.mark.postgres

EVENTS_TABLE = "quality_ledger_events"


def _plan(title: str) -> c.PlanCampaign:
    return c.PlanCampaign(title=title, theme="t", organiser="XA-QPC", starts_on="2017-09-01", ends_on="2017-09-30")


def test_a_writer_behind_a_stuck_one_gets_a_typed_error_within_its_lock_timeout(postgres_url: str) -> None:
    # given a ledger with a one-second lock timeout, and another session that holds the log's lock in an open transaction
    with Ledger.open(with_query(postgres_url, lock_timeout="1")) as ledger:
        plan_campaign(ledger)
        before = event_count(ledger)
        with postgres_connect(postgres_url) as holder:
            holder.autocommit = False
            holder.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
            # when a command is executed
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="lock timeout") as refused:
                ledger.execute(_plan("Behind a stuck writer"), actor=ORGANISER)
            waited = time.monotonic() - started
            holder.rollback()
        # then it failed after one wait, not ten (eventsourcing's retry would take over ten seconds), in one line
        assert waited < 6, f"waited {waited:.1f} s"
        assert "\n" not in str(refused.value)
        # and it recorded nothing, and the same ledger records once the lock is free
        assert event_count(ledger) == before
        ledger.execute(_plan("After the stuck writer"), actor=ORGANISER)
        assert event_count(ledger) > before


def test_a_slow_writer_holding_the_lock_is_cancelled_by_the_statement_timeout(postgres_url: str) -> None:
    # given a ledger whose appends may run one second, and a store where every insert takes three
    with Ledger.open(with_query(postgres_url, statement_timeout="1")) as ledger:
        plan_campaign(ledger)
        before = event_count(ledger)
        with postgres_connect(postgres_url) as admin:
            admin.execute(
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$"
            )
            admin.execute(f"CREATE TRIGGER slow BEFORE INSERT ON {EVENTS_TABLE} FOR EACH ROW EXECUTE FUNCTION slow()")
        # when a command is executed, then the statement is cancelled and the error is typed
        with pytest.raises(StoreUnavailable, match="statement timeout"):
            ledger.execute(_plan("Slow"), actor=ORGANISER)
        # and the lock was released with nothing recorded: another writer goes on at once
        with postgres_connect(postgres_url) as admin:
            admin.execute(f"DROP TRIGGER slow ON {EVENTS_TABLE}")
        assert event_count(ledger) == before
        ledger.execute(_plan("After the slow writer"), actor=ORGANISER)
        assert event_count(ledger) > before


def test_the_timeouts_have_documented_defaults(postgres_url: str) -> None:
    # given a ledger opened with no timeout parameters
    with Ledger.open(postgres_url) as ledger, postgres_connect(postgres_url) as admin:
        plan_campaign(ledger)
        recorder = ledger.chain
        # then appends may wait 10 s for the lock and run 30 s a statement
        assert recorder.datastore.lock_timeout == 10  # type: ignore[attr-defined]
        assert recorder.statement_timeout == 30  # type: ignore[attr-defined]
        assert admin.execute("SHOW statement_timeout").fetchone() == ("0",)  # only appends are bounded
