"""Replays on disk: ``as_of`` keeps its copy of the log in a scratch directory
that closing removes, and ``verify_views`` compares the live views with a
scratch rebuild row by row in key order, finding what the whole-dump
comparison found, in the same order."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from quality_ledger import Ledger
from quality_ledger.errors import IntegrityError, LedgerError
from quality_ledger.projections.comparison import RowDifference
from quality_ledger.projections.schema import VIEW_TABLES
from quality_ledger.projections.tables import metadata
from quality_ledger.scenarios import xian2017
from quality_ledger.scratch import PREFIX
from tests.integration.whole_dump import whole_dump

targets = metadata.tables["ql_targets"]
departments = metadata.tables["ql_departments"]


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TMPDIR`` pointed at an empty directory of the test's own (tempfile reads it afresh)."""
    root = tmp_path / "scratch-root"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return root


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


# as_of ------------------------------------------------------------------------


def test_as_of_replays_into_a_scratch_directory_that_closing_removes(ledger: Ledger, scratch_root: Path) -> None:
    # given the Xi'an case
    campaign_id = xian2017.load(ledger)
    # when it is replayed up to its head
    with ledger.as_of(position=ledger.position()) as then:
        # then the replay lives in one scratch directory under TMPDIR, on disk
        (directory,) = leftovers(scratch_root)
        assert directory.startswith(PREFIX)
        assert (scratch_root / directory / "replay.db").stat().st_size > 0
        assert then.campaign_status(campaign_id) == ledger.campaign_status(campaign_id)
        assert then.verify().ok
    # and closing it removes the directory
    assert leftovers(scratch_root) == []


def test_as_of_leaves_nothing_when_the_code_using_it_raises(ledger: Ledger, scratch_root: Path) -> None:
    xian2017.load(ledger)

    def use_the_replay() -> None:
        with ledger.as_of(position=10):
            assert leftovers(scratch_root)
            raise KeyError("the caller's own failure")

    with pytest.raises(KeyError):
        use_the_replay()
    assert leftovers(scratch_root) == []


def test_as_of_leaves_nothing_when_the_replay_itself_fails(tmp_path: Path, scratch_root: Path) -> None:
    # given a log with one stored event that no longer decodes
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        xian2017.load(ledger)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 5", (b"{not json",))
    # when a replay by business date has to read it, it fails
    with Ledger.open(f"sqlite:///{path}") as ledger, pytest.raises(IntegrityError, match="cannot be read"):
        ledger.as_of(occurred_by=date(2017, 9, 10))
    # then the scratch directory it had made is gone
    assert leftovers(scratch_root) == []


def test_replay_certificate_and_verify_views_leave_no_scratch_files(ledger: Ledger, scratch_root: Path) -> None:
    xian2017.load(ledger)
    ledger.replay_certificate()
    assert ledger.verify_views().ok
    assert leftovers(scratch_root) == []


def test_a_replay_refuses_an_unwritable_tmpdir_in_one_line(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given TMPDIR naming a file, not a directory
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "a-file"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "a-file"))
    xian2017.load(ledger)
    # then a replay says so, as the ledger's own error
    with pytest.raises(LedgerError, match="cannot make a scratch directory") as raised:
        ledger.as_of(position=5)
    assert "\n" not in str(raised.value)


def test_a_replay_never_falls_back_to_the_working_directory(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given no usable temporary directory, so that tempfile would fall back to the working directory
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    xian2017.load(ledger)
    # then a replay refuses rather than write its scratch files there
    with pytest.raises(LedgerError, match="set TMPDIR"):
        ledger.replay_certificate()
    assert leftovers(work) == []


# verify_views -----------------------------------------------------------------


def whole_compare(
    live: dict[str, list[dict[str, Any]]], rebuilt: dict[str, list[dict[str, Any]]]
) -> list[RowDifference]:
    """The comparison as it was made on whole dumps, matched through dicts (the oracle)."""
    differences = []
    for table in VIEW_TABLES:
        names = [column.name for column in table.primary_key.columns]
        live_rows = {tuple(row[k] for k in names): row for row in live.get(table.name, [])}
        rebuilt_rows = {tuple(row[k] for k in names): row for row in rebuilt.get(table.name, [])}
        for key in [*rebuilt_rows, *(k for k in live_rows if k not in rebuilt_rows)]:
            live_row, rebuilt_row = live_rows.get(key), rebuilt_rows.get(key)
            named = dict(zip(names, key, strict=True))
            if live_row is None or rebuilt_row is None:
                differences.append(
                    RowDifference(table=table.name, key=named, column=None, live=live_row, rebuilt=rebuilt_row)
                )
                continue
            differences.extend(
                RowDifference(table=table.name, key=named, column=column, live=live_row.get(column), rebuilt=value)
                for column, value in rebuilt_row.items()
                if live_row.get(column) != value
            )
    return differences


def planted(ledger: Ledger) -> dict[str, Any]:
    """Plant, behind the ledger's back, an altered row, a missing row and two
    extra rows in the live views; returns the rows touched."""
    with ledger.views.reading() as connection:
        first, second = connection.execute(select(targets).order_by(targets.c.activity_id).limit(2)).mappings()
        department = connection.execute(select(departments).limit(1)).mappings().one()
    with ledger.views.engine.begin() as connection:
        connection.execute(
            update(targets)
            .where(targets.c.activity_id == first["activity_id"], targets.c.metric == first["metric"])
            .values(achieved=88)
        )
        connection.execute(
            delete(targets).where(targets.c.activity_id == second["activity_id"], targets.c.metric == second["metric"])
        )
        for code in ("ZZ-EXTRA-2", "ZZ-EXTRA-1"):
            connection.execute(insert(departments).values({**department, "code": code}))
    return {"altered": first, "missing": second, "department": department}


def test_verify_views_finds_an_altered_a_missing_and_extra_rows_as_the_whole_dump_did(ledger: Ledger) -> None:
    # given the Xi'an case, its views caught up and clean
    xian2017.load(ledger)
    assert ledger.verify_views().ok
    # when rows are altered, deleted and added behind the ledger's back
    rows = planted(ledger)
    with ledger.views.reading(catch_up=False) as connection:
        live = whole_dump(connection)
    with ledger.as_of(position=ledger.position()) as rebuilt, rebuilt.views.reading() as connection:
        expected = whole_compare(live, whole_dump(connection))
    report = ledger.verify_views()
    # then it reports each, exactly as the whole-dump comparison did, in its order
    assert list(report.rows) == expected
    found = {(d.table, d.column, d.live is None, d.rebuilt is None) for d in report.rows}
    assert found == {
        ("ql_targets", "achieved", False, False),
        ("ql_targets", None, True, False),
        ("ql_departments", None, False, True),
    }
    (altered,) = [d for d in report.rows if d.column == "achieved"]
    assert (altered.key, altered.live) == (
        {"activity_id": rows["altered"]["activity_id"], "metric": rows["altered"]["metric"]},
        88,
    )
    (missing,) = [d for d in report.rows if d.table == "ql_targets" and d.column is None]
    assert missing.key == {"activity_id": rows["missing"]["activity_id"], "metric": rows["missing"]["metric"]}
    extras = [d.key["code"] for d in report.rows if d.table == "ql_departments"]
    assert extras == ["ZZ-EXTRA-1", "ZZ-EXTRA-2"]
    assert any("ql_targets" in line and "live 88" in line for line in report.differences)
    assert report.position == ledger.position()


def test_verify_views_walks_text_keys_in_byte_order_whatever_the_postgresql_collation(postgres_url: str) -> None:
    # given views on PostgreSQL whose department codes sort by a linguistic
    # collation, where 'a' comes before 'B' (byte order says the opposite)
    with Ledger.open(postgres_url) as ledger:
        xian2017.load(ledger)
        with ledger.views.engine.begin() as connection:
            connection.execute(
                text('ALTER TABLE ql_departments ALTER COLUMN code TYPE varchar(32) COLLATE "und-x-icu"')
            )
            assert connection.execute(text("SELECT 'a' < 'B' COLLATE \"und-x-icu\"")).scalar_one()
        department = planted(ledger)["department"]
        with ledger.views.engine.begin() as connection:
            for code in ("a-extra", "B-extra"):
                connection.execute(insert(departments).values({**department, "code": code}))
        # when the views are verified
        report = ledger.verify_views()
    # then the walk pairs every row right: only the planted differences
    extras = [d.key["code"] for d in report.rows if d.table == "ql_departments"]
    assert extras == ["B-extra", "ZZ-EXTRA-1", "ZZ-EXTRA-2", "a-extra"]
    assert len(report.rows) == 2 + len(extras)
