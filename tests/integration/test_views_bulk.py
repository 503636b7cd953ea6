"""Long catch-ups on SQLite drop the views' secondary indexes and build them
again at the end (quality_ledger.projections.bulk): the views they leave
equal a batch-by-batch catch-up's, the indexes are there afterwards, and a
catch-up that fails or is killed mid-way leaves views that the next
opening and catch-up complete, indexes included."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect

from quality_ledger import Ledger
from quality_ledger.projections import bulk
from quality_ledger.projections.schema import VIEW_TABLES
from quality_ledger.testing.synthetic import fill

EVENTS = 400
BATCH = 20
"""A log of 20 batches, so that a gap of more than BULK_GAP events is a long catch-up."""
BULK_GAP = 100
BULK_BATCH = 50


def secondary_index_names(ledger: Ledger) -> set[str]:
    """The views' non-unique indexes there are now, read by SQLAlchemy's inspector (any engine)."""
    with ledger.views.engine.connect() as connection:
        found = inspect(connection)
        return {str(index["name"]) for table in VIEW_TABLES for index in found.get_indexes(table.name)}


EVERY_INDEX = {str(index.name) for index in bulk.SECONDARY_INDEXES}


def long_catch_up_settings(ledger: Ledger) -> None:
    ledger.views.batch_size = BATCH
    ledger.views.bulk_gap = BULK_GAP
    ledger.views.bulk_batch = BULK_BATCH


class Crash(Exception):
    pass


def test_the_secondary_indexes_are_every_non_unique_index_of_the_views() -> None:
    # given the views' tables, when their indexes are listed, then the bulk list holds every non-unique one
    assert {str(i.name) for table in VIEW_TABLES for i in table.indexes if not i.unique} == EVERY_INDEX
    assert {"ix_ql_audit_trail_aggregate", "ix_ql_audit_trail_actor", "ix_ql_audit_trail_department"} <= EVERY_INDEX


def test_a_long_catch_up_leaves_the_views_of_a_batch_by_batch_one_with_every_index(ledger_url: str) -> None:
    # given a log far ahead of its views
    with Ledger.open(ledger_url, read_your_writes=False) as ledger:
        recorded = fill(ledger, EVENTS)
        long_catch_up_settings(ledger)
        missing_mid_way: list[set[str]] = []

        def look_at_indexes(step: str) -> None:
            if step == "after-commit":
                missing_mid_way.append(EVERY_INDEX - secondary_index_names(ledger))

        ledger.views.fault = look_at_indexes
        # when the views catch up
        applied = ledger.views.catch_up()
        ledger.views.fault = None
        # then every event is applied, and the views equal a rebuild from zero batch by batch
        assert applied == recorded == ledger.views.position()
        assert ledger.verify_views().ok
        # and every index is there again
        assert secondary_index_names(ledger) == EVERY_INDEX
        # and the indexes were left out after the first batch on SQLite (kept on PostgreSQL)
        postgres = ledger.views.engine.dialect.name == "postgresql"
        assert len(missing_mid_way) > 2
        assert missing_mid_way[0] == set()
        assert all(missing == (set() if postgres else EVERY_INDEX) for missing in missing_mid_way[1:])


def test_a_long_catch_up_runs_in_larger_batches(tmp_path: Path) -> None:
    # given a SQLite ledger far ahead of its views
    with Ledger.open(f"sqlite:///{tmp_path}/xian.db", read_your_writes=False) as ledger:
        recorded = fill(ledger, EVENTS)
        long_catch_up_settings(ledger)
        positions: list[int] = []
        ledger.views.fault = lambda step: positions.append(ledger.views.position()) if step == "after-commit" else None
        # when the views catch up
        ledger.views.catch_up()
    # then the first batch is the views' own size, the rest the long catch-up's
    assert positions[:3] == [BATCH, BATCH + BULK_BATCH, BATCH + 2 * BULK_BATCH]
    assert positions[-1] == recorded


def test_a_short_catch_up_keeps_the_indexes(tmp_path: Path) -> None:
    # given a SQLite ledger whose views are fewer events behind than the gap
    with Ledger.open(f"sqlite:///{tmp_path}/xian.db", read_your_writes=False) as ledger:
        fill(ledger, EVENTS)
        ledger.views.batch_size = BATCH
        ledger.views.bulk_gap = EVENTS
        missing_mid_way: list[set[str]] = []
        ledger.views.fault = lambda step: (
            missing_mid_way.append(EVERY_INDEX - secondary_index_names(ledger)) if step == "after-commit" else None
        )
        # when the views catch up
        ledger.views.catch_up()
    # then no index was ever dropped
    assert missing_mid_way
    assert all(missing == set() for missing in missing_mid_way)


def test_a_long_catch_up_that_fails_mid_way_puts_the_indexes_back_and_resumes_exactly(tmp_path: Path) -> None:
    # given a SQLite ledger far ahead of its views
    url = f"sqlite:///{tmp_path}/xian.db"
    with Ledger.open(url, read_your_writes=False) as ledger:
        recorded = fill(ledger, EVENTS)
        long_catch_up_settings(ledger)
        commits: list[str] = []

        def fail_on_fourth_commit(step: str) -> None:
            if step == "after-commit":
                commits.append(step)
                if len(commits) == 4:
                    raise Crash(step)

        ledger.views.fault = fail_on_fourth_commit
        # when the catch-up fails after its fourth batch, without its indexes
        with pytest.raises(Crash):
            ledger.views.catch_up()
        # then the views stand at that batch's end, with every index back
        assert ledger.views.position() == BATCH + 3 * BULK_BATCH
        assert secondary_index_names(ledger) == EVERY_INDEX
        # and the next catch-up completes them exactly
        ledger.views.fault = None
        assert ledger.views.catch_up() == recorded - (BATCH + 3 * BULK_BATCH)
        assert ledger.views.position() == recorded
        assert ledger.verify_views().ok
        assert secondary_index_names(ledger) == EVERY_INDEX


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from quality_ledger import Ledger
    commits = []
    def kill_after_third_commit(step):
        if step == "after-commit":
            commits.append(step)
            if len(commits) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
    with Ledger.open(sys.argv[1], read_your_writes=False) as ledger:
        ledger.views.batch_size, ledger.views.bulk_gap, ledger.views.bulk_batch = map(int, sys.argv[2:])
        ledger.views.fault = kill_after_third_commit
        ledger.views.catch_up()
    """
)


def test_a_long_catch_up_killed_mid_way_leaves_views_that_opening_repairs(tmp_path: Path) -> None:
    # given a SQLite ledger far ahead of its views
    path = tmp_path / "xian.db"
    url = f"sqlite:///{path}"
    with Ledger.open(url, read_your_writes=False) as ledger:
        recorded = fill(ledger, EVENTS)
    # when a process catching up is killed with SIGKILL after its third batch, its indexes dropped
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(BATCH), str(BULK_GAP), str(BULK_BATCH)],
        check=False,
        timeout=120,
        env={**os.environ},
    )
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as raw:
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not names & EVERY_INDEX
    # then opening the ledger creates the indexes again, over the views the committed batches left
    with Ledger.open(url, read_your_writes=False) as reopened:
        assert secondary_index_names(reopened) == EVERY_INDEX
        assert reopened.views.position() == BATCH + 2 * BULK_BATCH
        # and a catch-up completes them exactly
        reopened.views.catch_up()
        assert reopened.views.position() == recorded
        assert reopened.verify_views().ok
