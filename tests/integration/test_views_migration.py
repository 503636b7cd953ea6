"""Views that evolve without downtime: versioned, migrated blue/green, never half-built.

The views record the version of the code that built them; views of another
version (or of 0.1.0, which recorded none) are rebuilt beside the live ones
and swapped in by one transaction. The load tests keep a second process
querying (through its own ``Ledger`` and with plain SQL) while the main one
migrates, and check that every figure it saw was complete, before and after
the swap.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import pytest
from sqlalchemy import inspect, select, text

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.cli import main
from quality_ledger.errors import ConcurrencyConflict, ProjectionFailed, ViewsOutdated
from quality_ledger.projections.migration import GREEN, LEASE, Migration, Outdated
from quality_ledger.projections.schema import VIEW_TABLES
from quality_ledger.projections.tables import views_migration, views_schema
from quality_ledger.scenarios import xian2017
from tests.conftest import ORGANISER, plan_campaign
from tests.integration.test_golden_logs import GOLDEN, assert_matches
from tests.integration.workers import CONTEXT, Workers

DEADLINE = 120.0
"""Seconds any worker may run before the test fails (a bound, not an expectation)."""
READS_AFTER_SWAP = 3
"""Reads the reader still makes once told the migrations are over."""
MAX_READS = 20_000
"""Bounds the reader's loop on a slow machine, whatever the clock says."""
READS_DURING = 25
"""Reads the load test wants made while migrations run."""
MIGRATIONS = 30
"""At most this many migrations in a row in the load test."""


# Helpers ------------------------------------------------------------------------------


def raw_connection(url: str) -> Any:
    """A plain DB-API connection to the ledger's database, outside quality_ledger: a plain-SQL reader."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 60000")
        return connection
    import psycopg

    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query)).get("schema", "public")
    return psycopg.connect(parts._replace(query="").geturl(), autocommit=True, options=f"-c search_path={schema}")


def generation(raw: Any, url: str) -> int:
    """Which table is under the public name ``ql_audit_trail`` now (a swap changes it)."""
    if url.startswith("sqlite:///"):
        query = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'ql_audit_trail'"
    else:
        query = "SELECT CAST('ql_audit_trail'::regclass AS oid)"
    return int(raw.execute(query).fetchone()[0])


PLAIN_SQL = (
    "SELECT count(*) FROM ql_audit_trail",
    "SELECT count(*) FROM ql_samples",
    "SELECT count(*) FROM ql_activities",
    "SELECT sum(achieved) FROM ql_targets",
)


QUERIES = ("campaign_status", "activity_board", "audit_trail")


def figures(ledger: Ledger, raw: Any, campaign_id: UUID, queries: tuple[str, ...] = QUERIES) -> Any:
    """What a service reads: queries through the ledger, and counts in plain SQL."""
    counts = [raw.execute(query).fetchone()[0] for query in PLAIN_SQL]
    found: dict[str, Any] = {"plain_sql": [None if n is None else int(n) for n in counts]}  # PostgreSQL's sum: Decimal
    if "campaign_status" in queries:
        found["campaign_status"] = ledger.campaign_status(campaign_id).model_dump(mode="json")
    if "activity_board" in queries:
        found["activity_board"] = [row.model_dump(mode="json") for row in ledger.activity_board(campaign_id)]
    if "audit_trail" in queries:  # the last 100 entries: the trail's end is what a partial build lacks
        found["audit_trail"] = ledger.audit_trail(after=795, limit=100).model_dump(mode="json")
    return json.loads(json.dumps(found))


def read_in_a_loop(url: str, campaign_id: str, expected: str, counter: Any, done: Any) -> dict[str, Any]:
    """The second process: query in a loop until told to stop (then a few more
    times), noting every failure, every figure that is not the expected one,
    and which table generation each read met. Each read runs the plain-SQL
    counts and one of the ledger's queries in turn, to read often."""
    want = json.loads(expected)
    errors: list[str] = []
    wrong: list[str] = []
    generations: list[int] = []
    reads = after = 0
    end = time.monotonic() + DEADLINE / 2
    # Without read-your-writes: the reader never completes the views itself, it reads them as they stand.
    with Ledger.open(url, read_your_writes=False) as ledger:
        raw = raw_connection(url)
        try:
            while reads < MAX_READS and time.monotonic() < end and after < READS_AFTER_SWAP:
                after += done.is_set()
                before = generation(raw, url)
                try:
                    seen = figures(ledger, raw, UUID(campaign_id), (QUERIES[reads % len(QUERIES)],))
                except Exception as e:
                    errors.append(f"{type(e).__name__}: {e}")
                else:
                    wrong.extend(f"{key}: {seen[key]!r:.300}" for key in seen if seen[key] != want[key])
                generations.extend((before, generation(raw, url)))
                reads += 1
                with counter.get_lock():
                    counter.value += 1
        finally:
            raw.close()
    return {"reads": reads, "errors": errors, "wrong": wrong, "generations": sorted(set(generations))}


def open_in_a_process(url: str, outdated: str, start: Any) -> bool:
    """Open (migrating outdated views) at the same moment as the others; did this one migrate?"""
    start.wait(DEADLINE)
    with Ledger.open(url, outdated_views=cast(Outdated, outdated)) as ledger:
        migrated = ledger.views.migrated
        return migrated is not None and migrated.migrated


def stored_version(ledger: Ledger) -> str | None:
    with ledger.views.engine.connect() as connection:
        return connection.execute(select(views_schema.c.version)).scalar()


def set_stored_version(url: str, version: str | None) -> None:
    """What views written by another release look like: another version, or none."""
    raw = raw_connection(url)
    try:
        if version is None:
            raw.execute("DELETE FROM ql_views_schema")
        else:
            raw.execute(f"UPDATE ql_views_schema SET version = '{version}'")  # a test's own literal
    finally:
        raw.close()


def table_names(ledger: Ledger) -> set[str]:
    with ledger.views.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


@pytest.fixture
def golden_copy(tmp_path: Path) -> str:
    """A copy of the 0.1.0 golden ledger: views with no recorded version."""
    copy = tmp_path / "ledger.db"
    shutil.copyfile(GOLDEN / "0.1.0" / "ledger.db", copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def demo(durable_url: str) -> tuple[str, UUID]:
    """The Xi'an demo (895 events) on SQLite, then on PostgreSQL."""
    with Ledger.open(durable_url) as ledger:
        return durable_url, xian2017.load(ledger)


# Versions -----------------------------------------------------------------------------


def test_views_of_the_first_release_are_migrated_on_opening_with_the_same_figures(golden_copy: str) -> None:
    # given: the 0.1.0 golden ledger, whose views recorded no version
    path = golden_copy.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "ql_views_schema" not in names
    assert {table.name for table in VIEW_TABLES} <= names
    expected = json.loads((GOLDEN / "0.1.0" / "expected.json").read_text(encoding="utf-8"))

    # when: today's code opens it (SQLite: outdated views are migrated on opening)
    with Ledger.open(golden_copy) as ledger:
        report = ledger.views.migrated

        # then: they were rebuilt from the whole log and are now at this code's version
        assert report is not None
        assert (report.migrated, report.from_version, report.to_version) == (True, None, ledger.views.version)
        assert report.position == report.applied == expected["position"]
        assert stored_version(ledger) == ledger.views.version
        assert not {green.name for green in GREEN.values()} & table_names(ledger)
        with ledger.views.engine.connect() as connection:
            inspector = inspect(connection)
            for table in VIEW_TABLES:
                assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.columns]
                assert {i["name"] for i in inspector.get_indexes(table.name)} == {i.name for i in table.indexes}
        # and: they give the figures 0.1.0 recorded, without any rebuild
        assert ledger.views.position() == expected["position"]
        assert_matches(expected["campaigns"], ledger.campaigns(), "campaigns")
        as_of = date.fromisoformat(expected["as_of"])
        for campaign, recorded in expected["per_campaign"].items():
            cid = UUID(campaign)
            assert_matches(recorded["campaign_status"], ledger.campaign_status(cid), "campaign_status")
            assert_matches(recorded["activity_board"], ledger.activity_board(cid), "activity_board")
            assert_matches(
                recorded["inspection_register"], ledger.inspection_register(cid, as_of=as_of), "inspection_register"
            )
            assert_matches(recorded["department_scorecard"], ledger.department_scorecard(cid, as_of=as_of), "scorecard")
        assert ledger.verify_views().ok

    # and: the next opening finds them current and migrates nothing
    with Ledger.open(golden_copy) as ledger:
        assert ledger.views.migrated is None


def test_the_version_is_checked_before_any_write_to_the_views(ledger: Ledger) -> None:
    # given: a ledger whose views another version of the code has since taken over
    campaign_id = plan_campaign(ledger)
    with ledger.views.engine.begin() as connection:
        connection.execute(views_schema.update().values(version="0.other"))
    ledger.execute(enlist_education(campaign_id), ORGANISER)
    position = ledger.views.position()
    # when: this ledger would apply the new event to them
    with pytest.raises(ViewsOutdated, match=r"version 0\.other .*nothing applied"):
        ledger.campaign_status(campaign_id)
    # then: nothing was applied
    assert ledger.views.position() == position


def enlist_education(campaign_id: UUID) -> c.Command:
    return c.EnlistDepartment(campaign_id=campaign_id, code="XA-EDU", name_zh="教育局", name_en="Education Bureau")


def test_postgres_refuses_outdated_views_until_migrated_from_the_command_line(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a PostgreSQL ledger whose views recorded no version (as 0.1.0 left them)
    with Ledger.open(postgres_url) as ledger:
        campaign_id = plan_campaign(ledger)
        status = ledger.campaign_status(campaign_id)
    set_stored_version(postgres_url, None)

    # when: today's code opens it
    with pytest.raises(ViewsOutdated, match=r"no recorded version.*run 'quality-ledger views migrate'") as refused:
        Ledger.open(postgres_url)
    assert "\n" not in str(refused.value)
    # then: nothing was changed by the refusal
    with Ledger.open(postgres_url, outdated_views="defer") as ledger:
        assert stored_version(ledger) is None
        with pytest.raises(ViewsOutdated, match="migrate them first"):
            ledger.campaigns()

    # when: they are migrated on demand, with progress
    assert main(["views", "migrate", "--url", postgres_url]) == 0
    err = capsys.readouterr().err
    assert "migrating views 4/4 (100%" in err
    assert "4 events applied, version none recorded -> " in err
    # then: the ledger opens and gives the same figures; a second run has nothing to do
    with Ledger.open(postgres_url) as ledger:
        assert stored_version(ledger) == ledger.views.version
        assert ledger.campaign_status(campaign_id) == status
    assert main(["views", "migrate", "--url", postgres_url]) == 0
    assert "nothing to do" in capsys.readouterr().err


def test_processes_opening_outdated_views_at_once_migrate_them_once(durable_url: str) -> None:
    # given: views of another version (on PostgreSQL, opened asking to migrate)
    with Ledger.open(durable_url) as ledger:
        campaign_id = plan_campaign(ledger)
        status = ledger.campaign_status(campaign_id)
    set_stored_version(durable_url, "0.other")
    # when: three processes open the ledger at the same moment
    start = CONTEXT.Barrier(3)
    migrated = Workers(open_in_a_process, [(durable_url, "migrate", start)] * 3).wait(DEADLINE)
    # then: exactly one migrated; the others waited for it and found the views current
    assert sorted(migrated) == [False, False, True]
    with Ledger.open(durable_url) as ledger:
        assert stored_version(ledger) == ledger.views.version
        assert ledger.campaign_status(campaign_id) == status
        assert ledger.verify_views().ok


# Migrating under load ---------------------------------------------------------------------


def test_a_forced_migration_under_load_never_fails_a_query_nor_shows_a_half_built_view(
    demo: tuple[str, UUID],
) -> None:
    # given: the Xi'an demo, its figures, and a second process querying them in a loop
    url, campaign_id = demo
    with Ledger.open(url) as ledger:
        ledger.views.catch_up()
        raw = raw_connection(url)
        try:
            expected = figures(ledger, raw, campaign_id)
            first = generation(raw, url)
        finally:
            raw.close()
    assert expected["plain_sql"][0] == 895
    counter, done = CONTEXT.Value("i", 0), CONTEXT.Event()
    reader = Workers(read_in_a_loop, [(url, str(campaign_id), json.dumps(expected), counter, done)])
    end = time.monotonic() + DEADLINE / 4
    while counter.value == 0 and time.monotonic() < end:
        time.sleep(0.05)
    assert counter.value > 0, "the reader never read"

    # when: the views are rebuilt blue/green in small batches (many transactions), again and
    # again until the reader has read during them often enough (bounded by count and time)
    reports = []
    before = counter.value
    with Ledger.open(url, batch_size=20) as ledger:
        while len(reports) < MIGRATIONS and (counter.value - before < READS_DURING or len(reports) < 3):
            if time.monotonic() > end:
                break
            reports.append(ledger.migrate_views(force=True))
        during = counter.value - before
        assert ledger.verify_views().ok
    done.set()
    (seen,) = reader.wait(DEADLINE)

    # then: every migration rebuilt the whole log and swapped
    assert {(r.migrated, r.applied, r.position) for r in reports} == {(True, 895, 895)}
    # and: the reader read before, during and after the swaps: it met the first tables and later ones
    assert during >= READS_DURING, f"only {during} reads during {len(reports)} migrations"
    assert first in seen["generations"]
    assert len(seen["generations"]) >= 2, seen
    # and: no query failed, and every figure it saw was the complete one
    assert seen["errors"] == []
    assert seen["wrong"] == []


# Failures ----------------------------------------------------------------------------------


def test_a_failed_migration_leaves_the_live_views_and_nothing_else(durable_url: str) -> None:
    # given: a ledger with views
    with Ledger.open(durable_url) as ledger:
        campaign_id = plan_campaign(ledger)
        ledger.execute(enlist_education(campaign_id), ORGANISER)
        status = ledger.campaign_status(campaign_id)
        version = stored_version(ledger)
        views = ledger.views

        # when: a migration fails on the fourth event
        def apply(notification: Any, batch: Any) -> None:
            if notification.id >= 4:
                raise ValueError("boom")
            views._apply(notification, batch)

        migration = Migration(views.engine, views.recorder, apply, views.version, batch_size=2, lock=nullcontext())
        with pytest.raises(ProjectionFailed, match=r"position 4 .*ValueError: boom"):
            migration.run(force=True)

        # then: the live views, their version and position are untouched; no new table or lease is left
        assert ledger.campaign_status(campaign_id) == status
        assert stored_version(ledger) == version
        names = table_names(ledger)
        assert not {green.name for green in GREEN.values()} & names
        with ledger.views.engine.connect() as connection:
            assert connection.execute(select(views_migration)).all() == []
        # and: the next migration succeeds
        assert ledger.migrate_views(force=True).applied == 5
        assert ledger.campaign_status(campaign_id) == status


def test_a_migration_waits_for_a_live_lease_then_takes_over_what_it_left(durable_url: str) -> None:
    # given: what a migrating process that died leaves: a lease (expiring in a second) and half-built tables
    with Ledger.open(durable_url) as ledger:
        campaign_id = plan_campaign(ledger)
        status = ledger.campaign_status(campaign_id)
        with ledger.views.engine.begin() as connection:
            connection.execute(
                views_migration.insert().values(
                    name="views", holder="dead", version="x", expires_at=time.time() + 1.0, position=2
                )
            )
            connection.execute(text("CREATE TABLE ql_campaigns__next (junk INTEGER)"))
        assert LEASE > 1.0
        # when: a migration starts
        started = time.monotonic()
        report = ledger.migrate_views(force=True)
        # then: it waited for the lease to end, rebuilt from zero and swapped
        assert time.monotonic() - started >= 0.9
        assert (report.migrated, report.applied) == (True, 4)
        assert ledger.campaign_status(campaign_id) == status
        assert not {green.name for green in GREEN.values()} & table_names(ledger)
        assert ledger.verify_views().ok


def test_a_migration_that_lost_its_lease_writes_nothing_more(durable_url: str) -> None:
    # given: a migration under way whose lease another process took over after
    # its first batch (as when it stalls past the lease)
    with Ledger.open(durable_url) as ledger:
        plan_campaign(ledger)
        views = ledger.views
        seen: list[int] = []

        def apply(notification: Any, batch: Any) -> None:
            seen.append(notification.id)
            views._apply(notification, batch)

        def take_over(applied: int, _: int) -> None:
            with views.engine.begin() as other:
                other.execute(views_migration.update().values(holder="someone else"))

        migration = Migration(views.engine, views.recorder, apply, views.version, batch_size=1, lock=nullcontext())
        # when: it goes on
        with pytest.raises(ConcurrencyConflict, match="another process took over"):
            migration.run(force=True, progress=take_over)
        # then: it stopped before its next batch, swapped nothing and left the other's lease alone
        assert seen == [1]
        with ledger.views.engine.connect() as connection:
            assert connection.execute(select(views_migration.c.holder)).scalar() == "someone else"
        assert stored_version(ledger) == views.version


def test_postgres_swap_steps_back_for_readers_that_hold_the_old_tables(postgres_url: str) -> None:
    """While a long reader holds one old table, the swap must not keep others
    waiting behind it (a lock request queues every later reader), nor deadlock
    with it when it then asks for a table the swap already holds."""
    # given: a long reader in the middle of a transaction that has read the audit trail
    with Ledger.open(postgres_url, batch_size=2) as ledger:
        campaign_id = plan_campaign(ledger)
        status = ledger.campaign_status(campaign_id)
        long_reader, short_reader = raw_connection(postgres_url), raw_connection(postgres_url)
        long_reader.autocommit = False
        try:
            assert long_reader.execute("SELECT count(*) FROM ql_audit_trail").fetchone()[0] == 4
            # when: a migration runs meanwhile (in a thread), while other readers come and go
            result: list[Any] = []
            migrating = threading.Thread(target=lambda: result.append(ledger.migrate_views(force=True)))
            migrating.start()
            waits = []
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                began = time.monotonic()
                assert short_reader.execute("SELECT count(*) FROM ql_campaigns").fetchone()[0] == 1
                waits.append(time.monotonic() - began)
                time.sleep(0.01)
            # and: the long reader then reads a table the swap takes before the audit trail's
            campaigns = long_reader.execute("SELECT count(*) FROM ql_campaigns").fetchone()[0]
            long_reader.commit()
        finally:
            long_reader.close()
            short_reader.close()
        migrating.join(DEADLINE)
        # then: no reader failed; short readers waited a fraction of a second at most
        assert campaigns == 1
        assert max(waits) < 1.0, f"a reader waited {max(waits):.2f} s behind the swap"
        # and: the swap stepped back for the long reader again and again, then went through once it ended
        (report,) = result
        assert report.migrated
        assert report.swap_attempts > 2
        assert ledger.campaign_status(campaign_id) == status
