"""Gap safety: a projection never passes a log position that may still commit.

PostgreSQL hands out notification ids from a sequence when a row is inserted,
not when it commits. If a reader could see id N+1 committed while N is still
in flight, a runner that moved past N would never apply it. Here a real
append (a ``Ledger.execute`` in another process) is held open inside its
transaction, right after taking its position, by a trigger that waits on an
advisory lock the test owns; later writers then run as far as the store lets
them (with eventsourcing's recorder they queue behind the held append's
table lock; a store that let them commit would show the hazard), while the
views are caught up again and again. Then the held append commits or rolls
back.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Literal

from quality_ledger import Ledger
from quality_ledger import commands as c
from tests.conftest import ORGANISER, plan_campaign, postgres_connect, with_query
from tests.integration.workers import CONTEXT, Workers, follow, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EVENTS_TABLE = "quality_ledger_events"
DEADLINE = 120.0
LATER_WRITERS = 3

HOLD = """
CREATE TABLE hold_control (action text NOT NULL);
INSERT INTO hold_control VALUES ('wait');
CREATE FUNCTION hold_append() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.originator_id = {held}::uuid THEN
    PERFORM pg_advisory_xact_lock_shared({key});  -- waits while the test holds the lock
    IF (SELECT action FROM hold_control) = 'rollback' THEN
      RAISE EXCEPTION 'the test rolls this append back';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER hold_append BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION hold_append();
"""


def campaign(title: str) -> c.PlanCampaign:
    return c.PlanCampaign(
        title=title, theme="gaps", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
    )


def execute_one(url: str, title: str, ready: Any, go: Any) -> str:
    """Opens the ledger, says so, waits for ``go``, plans one campaign; returns 'recorded' or the error."""
    with Ledger.open(url) as ledger:
        with ready.get_lock():
            ready.value += 1
        go.wait(DEADLINE)
        try:
            ledger.execute(campaign(title), ORGANISER)
        except Exception as e:
            return f"{type(e).__name__}: {e}"
    return "recorded"


def scalar(connection: psycopg.Connection[Any], query: Any, *params: Any) -> Any:
    row = connection.execute(query, params).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_no_projection_passes_an_uncommitted_append_and_each_settles_it_once(
    postgres_url: str, tmp_path: Path, outcome: str
) -> None:
    # given: a ledger on PostgreSQL with a few events, its views caught up, and
    # a runner in another process following it into a SQLite file
    url = with_query(postgres_url, pool_size="1", max_overflow="2")
    sqlite_views = f"sqlite:///{tmp_path / 'views.db'}"
    ledger = Ledger.open(url)
    plan_campaign(ledger)
    before = ledger.position()
    ledger.views.catch_up()
    Ledger.open(url, views_url=sqlite_views).close()
    done, head = CONTEXT.Event(), CONTEXT.Value("q", 0)
    follower = Workers(follow, [(url, sqlite_views, done, head, DEADLINE)])
    # and: a trigger that holds the append of one campaign open, inside its transaction
    key = random.randrange(1, 2**62)
    held_title = "the held campaign"
    control = postgres_connect(url)
    sql = HOLD.format(held=Literal(str(campaign(held_title).new_id())).as_string(), key=key, table=EVENTS_TABLE)
    control.execute(SQL(sql))  # type: ignore[call-overload]
    control.execute("SELECT pg_advisory_lock(%s)", (key,))
    waiting_on_hold = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND ((classid::bigint << 32) | objid::bigint) = %s"
    )
    waiting_on_log = f"SELECT count(*) FROM pg_locks WHERE relation = '{EVENTS_TABLE}'::regclass AND NOT granted"

    try:
        # (writers open the ledger first: opening waits for the log's table lock too)
        ready, go_held, go_later = CONTEXT.Value("i", 0), CONTEXT.Event(), CONTEXT.Event()
        held = Workers(execute_one, [(url, held_title, ready, go_held)])
        later = Workers(execute_one, [(url, f"later campaign {n}", ready, go_later) for n in range(LATER_WRITERS)])
        wait_until(lambda: ready.value == 1 + LATER_WRITERS, "the writers to open the ledger", DEADLINE)

        # when: a writer's append takes the next position and is held there, uncommitted
        go_held.set()
        wait_until(lambda: scalar(control, waiting_on_hold, key) == 1, "the append to be held", DEADLINE)
        position = scalar(control, f"SELECT last_value FROM {EVENTS_TABLE}_notification_id_seq")
        assert position == before + 1
        # and: later writers run as far as the store lets them: they commit, or queue behind it
        go_later.set()
        wait_until(
            lambda: scalar(control, waiting_on_log) + LATER_WRITERS - len(later.running()) >= LATER_WRITERS,
            "the later writers to commit or to queue",
            DEADLINE,
        )

        # then: catching up again and again, no projection passes the held position
        for _ in range(5):
            ledger.views.catch_up()
            assert ledger.views.position() < position
            assert all(line.position < position for line in ledger.audit_trail(limit=1000).entries)
            with sqlite3.connect(tmp_path / "views.db") as views:
                assert views.execute("SELECT position FROM ql_tracking").fetchone()[0] < position

        # when: the held append commits (or rolls back), and everyone finishes
        control.execute("UPDATE hold_control SET action = %s", (outcome,))
        control.execute("SELECT pg_advisory_unlock(%s)", (key,))
        (held_result,) = held.wait(DEADLINE)
        assert later.wait(DEADLINE) == ["recorded"] * LATER_WRITERS
    finally:
        control.close()
    committed = [p for p, _ in ledger.events()]
    head.value = committed[-1]
    done.set()
    (followed_to,) = follower.wait(DEADLINE)
    ledger.views.catch_up()

    # then: a committed append is projected once at its position; a rolled-back one is passed
    if outcome == "commit":
        assert held_result == "recorded"
        assert position in committed
    else:
        assert "the test rolls this append back" in held_result
        assert position not in committed
        assert committed[-1] > position
    assert len(committed) == before + LATER_WRITERS + (outcome == "commit")
    projected = [line.position for line in ledger.audit_trail(limit=1000).entries]
    assert projected == committed
    assert followed_to == committed[-1]
    with sqlite3.connect(tmp_path / "views.db") as views:
        assert [r[0] for r in views.execute("SELECT position FROM ql_audit_trail ORDER BY position")] == committed
    ledger.close()
