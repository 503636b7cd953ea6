"""Many writers and followers on one PostgreSQL ledger, each in its own process.

Every loop is bounded (a fixed number of commands) and every wait has a
deadline (``Workers.wait``); nothing here measures speed.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from quality_ledger import Ledger, execute_with_retry
from quality_ledger import commands as c
from quality_ledger.errors import ConcurrencyConflict
from tests.conftest import ORGANISER, plan_campaign, postgres_connect, with_query
from tests.integration.workers import CONTEXT, Workers, follow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITERS, COMMANDS = 10, 100
CONTENDERS, ATTEMPTS = 16, 200
DEADLINE = 600.0
"""Seconds any group of workers may take before the test gives up on them."""

SMALL_POOL = {"pool_size": "1", "max_overflow": "2"}
"""Each worker needs few connections; 16 workers with the default pools would hold 240."""


# Workers (module level, so spawned processes can import them) -----------------


def plan_campaigns(url: str, writer: int, count: int, start: Any) -> list[tuple[str, int]]:
    """``count`` campaigns of this writer's own: distinct aggregates, no contention."""
    with Ledger.open(url) as ledger:
        start.wait(DEADLINE)
        receipts = [
            ledger.execute(
                c.PlanCampaign(
                    title=f"writer {writer} campaign {n}",
                    theme="many writers",
                    organiser="XA-QPC",
                    starts_on=date(2017, 9, 1),
                    ends_on=date(2017, 9, 30),
                ),
                ORGANISER,
            )
            for n in range(count)
        ]
    return [(str(r.aggregate_id), r.version) for r in receipts]


def enlist_many(
    url: str, writer: int, campaign_id: str, count: int, start: Any
) -> tuple[list[tuple[str, int]], list[str]]:
    """Enlist ``count`` departments on one shared campaign, each tried once."""
    won: list[tuple[str, int]] = []
    lost: list[str] = []
    with Ledger.open(url) as ledger:
        start.wait(DEADLINE)
        for n in range(count):
            code = f"W{writer:02d}-{n:03d}"
            command = c.EnlistDepartment(campaign_id=UUID(campaign_id), code=code, name_zh="部门", name_en="dept")
            try:
                won.append((code, ledger.execute(command, ORGANISER).version))
            except ConcurrencyConflict:
                lost.append(code)
    return won, lost


def enlist_with_retry(url: str, writer: int, campaign_id: str, count: int, start: Any) -> tuple[int, int]:
    """Enlist ``count`` departments on one shared campaign through execute_with_retry;
    returns (commands recorded, commands built: one per attempt)."""
    built = 0
    recorded = 0
    with Ledger.open(url) as ledger:
        start.wait(DEADLINE)
        for n in range(count):
            code = f"R{writer:02d}-{n:03d}"

            def enlist(code: str = code) -> c.Command:
                nonlocal built
                built += 1
                campaign: Any = ledger.get(UUID(campaign_id))  # re-read: decide on what the winner left
                assert code not in {d.code for d in campaign.departments}
                return c.EnlistDepartment(campaign_id=UUID(campaign_id), code=code, name_zh="部门", name_en="dept")

            execute_with_retry(ledger, enlist, ORGANISER, attempts=1000)
            recorded += 1
    return recorded, built


# Observing what each runner applied, in the order it applied it ----------------

PG_OBSERVERS = """
CREATE TABLE seen_rows (seq bigserial PRIMARY KEY, position bigint NOT NULL);
CREATE TABLE seen_tracking (seq bigserial PRIMARY KEY, position bigint NOT NULL);
CREATE FUNCTION note_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO seen_rows (position) VALUES (NEW.position); RETURN NULL; END $$;
CREATE FUNCTION note_tracking() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO seen_tracking (position) VALUES (NEW.position); RETURN NULL; END $$;
CREATE TRIGGER note_row AFTER INSERT ON ql_audit_trail FOR EACH ROW EXECUTE FUNCTION note_row();
CREATE TRIGGER note_tracking AFTER UPDATE ON ql_tracking FOR EACH ROW
  WHEN (NEW.position <> OLD.position) EXECUTE FUNCTION note_tracking();
"""

SQLITE_OBSERVERS = """
CREATE TABLE seen_rows (seq INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL);
CREATE TABLE seen_tracking (seq INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL);
CREATE TRIGGER note_row AFTER INSERT ON ql_audit_trail
  BEGIN INSERT INTO seen_rows (position) VALUES (NEW.position); END;
CREATE TRIGGER note_tracking AFTER UPDATE OF position ON ql_tracking WHEN NEW.position <> OLD.position
  BEGIN INSERT INTO seen_tracking (position) VALUES (NEW.position); END;
"""

SEEN = ("SELECT position FROM seen_rows ORDER BY seq", "SELECT position FROM seen_tracking ORDER BY seq")


def assert_applied_exactly(rows: list[int], tracking: list[int], committed: list[int], runner: str) -> None:
    assert rows == committed, f"{runner}: applied rows differ from the committed log"
    assert all(a < b for a, b in itertools.pairwise(tracking)), f"{runner}: position went back"
    assert tracking[-1] == committed[-1], f"{runner}: did not reach the head"


# Tests ---------------------------------------------------------------------------


def test_ten_writers_on_distinct_aggregates_and_two_followers_see_exactly_the_committed_log(
    postgres_url: str, tmp_path: Path
) -> None:
    # given: an empty ledger on PostgreSQL, and two runners following it in
    # their own processes, one keeping its views in PostgreSQL, one in a
    # SQLite file, each noting every row and position it applies, in order
    url = with_query(postgres_url, **SMALL_POOL)
    sqlite_views = f"sqlite:///{tmp_path / 'views.db'}"
    for views_url in (url, sqlite_views):
        Ledger.open(url, views_url=views_url).close()
    with postgres_connect(url) as connection:
        connection.execute(PG_OBSERVERS)
    with sqlite3.connect(tmp_path / "views.db") as connection:
        connection.executescript(SQLITE_OBSERVERS)
    done, head, start = CONTEXT.Event(), CONTEXT.Value("q", 0), CONTEXT.Barrier(WRITERS)
    followers = Workers(follow, [(url, v, done, head, DEADLINE) for v in (url, sqlite_views)])

    # when: ten writers execute a hundred commands each, all at once
    writers = Workers(plan_campaigns, [(url, w, COMMANDS, start) for w in range(WRITERS)])
    receipts = [r for batch in writers.wait(DEADLINE) for r in batch]
    with Ledger.open(url) as ledger:
        committed = [position for position, _ in ledger.events()]
    head.value = committed[-1]
    done.set()
    final_positions = followers.wait(DEADLINE)

    # then: every command was recorded once
    assert len(receipts) == WRITERS * COMMANDS
    assert len({aggregate for aggregate, _ in receipts}) == WRITERS * COMMANDS
    assert len(committed) == WRITERS * COMMANDS
    # and: each runner applied exactly the committed log, in strictly increasing order, each event once
    assert final_positions == [committed[-1], committed[-1]]
    with postgres_connect(url) as connection:
        pg_rows, pg_tracking = ([r[0] for r in connection.execute(query)] for query in SEEN)
    with sqlite3.connect(tmp_path / "views.db") as connection:
        sqlite_rows, sqlite_tracking = ([r[0] for r in connection.execute(query)] for query in SEEN)
    assert_applied_exactly(pg_rows, pg_tracking, committed, "views in PostgreSQL")
    assert_applied_exactly(sqlite_rows, sqlite_tracking, committed, "views in SQLite")
    # and: the views hold every campaign
    with Ledger.open(url) as ledger:
        assert len(ledger.campaigns()) == WRITERS * COMMANDS


def test_sixteen_writers_on_one_campaign_get_one_winner_per_version_and_conflicts_for_the_rest(
    postgres_url: str,
) -> None:
    # given: one campaign on PostgreSQL
    url = with_query(postgres_url, **SMALL_POOL)
    with Ledger.open(url) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        version_before = ledger.get(campaign_id).version
    start = CONTEXT.Barrier(CONTENDERS)

    # when: sixteen processes each try two hundred enlistments on it at once, without retrying
    args = [(url, w, str(campaign_id), ATTEMPTS, start) for w in range(CONTENDERS)]
    results = Workers(enlist_many, args).wait(DEADLINE)
    won = [w for batch, _ in results for w in batch]
    lost = [code for _, batch in results for code in batch]

    # then: every attempt either won or got ConcurrencyConflict (any other error fails the worker)
    assert len(won) + len(lost) == CONTENDERS * ATTEMPTS
    assert lost, "no writer ever lost a race: the test did not contend"
    # and: each new version has exactly one winner, and the versions follow on without a hole
    versions = sorted(version for _, version in won)
    assert versions == list(range(version_before + 1, version_before + 1 + len(won)))
    with Ledger.open(url) as ledger:
        campaign: Any = ledger.get(campaign_id)
        history = ledger.history(campaign_id)
    # and: no winner's event was lost, no loser's was recorded
    assert campaign.version == version_before + len(won)
    enlisted = {d.code for d in campaign.departments}
    assert {code for code, _ in won} <= enlisted
    assert not enlisted & set(lost)
    assert [e.version for e in history] == list(range(1, campaign.version + 1))
    assert {e.payload["department"]["code"] for e in history if e.name == "Campaign.DepartmentEnlisted"} == enlisted


def test_the_retry_helper_records_every_contended_command_once(postgres_url: str) -> None:
    # given: one campaign on PostgreSQL
    url = with_query(postgres_url, **SMALL_POOL)
    with Ledger.open(url) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        version_before = ledger.get(campaign_id).version
    writers, each = 6, 20
    start = CONTEXT.Barrier(writers)

    # when: six processes enlist twenty departments each on it at once, through execute_with_retry
    args = [(url, w, str(campaign_id), each, start) for w in range(writers)]
    results = Workers(enlist_with_retry, args).wait(DEADLINE)

    # then: races were lost and retried (a command built again for each attempt) ...
    assert sum(recorded for recorded, _ in results) == writers * each
    assert sum(built for _, built in results) > writers * each, "no race was lost: the test did not contend"
    # and: every command was recorded exactly once, one version each
    with Ledger.open(url) as ledger:
        campaign: Any = ledger.get(campaign_id)
    retried = sorted(d.code for d in campaign.departments if d.code.startswith("R"))
    assert retried == sorted(f"R{w:02d}-{n:03d}" for w in range(writers) for n in range(each))
    assert campaign.version == version_before + writers * each


def open_and_close(url: str, start: Any, times: int) -> bool:
    for _ in range(times):
        start.wait(DEADLINE)
        Ledger.open(url).close()
    return True


def test_many_processes_can_open_one_ledger_at_once(postgres_url: str) -> None:
    # given: an existing ledger on PostgreSQL
    url = with_query(postgres_url, **SMALL_POOL)
    Ledger.open(url).close()
    start = CONTEXT.Barrier(8)

    # when: eight services open it at the same instant, as after a deployment, three times over
    opened = Workers(open_and_close, [(url, start, 3)] * 8).wait(DEADLINE)

    # then: every one of them opens it
    assert opened == [True] * 8
