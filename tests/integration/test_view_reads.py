"""The catch-up's reads take shortcuts that must read exactly what the plain way read.

On SQLite the views read the log's rows as plain tuples with the ids left as
stored (``projections.stored_rows``), not through eventsourcing's
``select_notifications``; and a handler's row that no event of the batch
touched yet is loaded straight through the driver (``RowCache.get``), not
through SQLAlchemy's ``select``. Each is checked here against the plain way,
and the stored ids that are not the hex digits eventsourcing writes are
read as ``UUID()`` reads them, or refused, never spliced into the JSON.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select

from quality_ledger import Ledger
from quality_ledger.errors import ProjectionFailed
from quality_ledger.projections.activity_board import activities
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.schema import VIEW_TABLES
from quality_ledger.projections.stored_rows import StoredRow, decoder, reader
from quality_ledger.scenarios import xian2017
from quality_ledger.testing.synthetic import fill


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Path:
    """A SQLite log of a few hundred synthetic events, views not yet caught up."""
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", read_your_writes=False) as ledger:
        fill(ledger, 300)
    return path


def test_the_sqlite_reader_reads_what_select_notifications_reads(sqlite_log: Path) -> None:
    # given a SQLite log
    with Ledger.open(f"sqlite:///{sqlite_log}", read_your_writes=False) as ledger:
        recorder = ledger.views.recorder
        read = reader(recorder)
        head = ledger.views.head()
        # when pages are read both ways, from the start, the middle, up to a stop and past the head
        for start, limit, stop in (
            (1, 1000, None),
            (1, 7, None),
            (150, 40, 170),
            (head, 10, None),
            (head + 1, 10, None),
        ):
            plain = recorder.select_notifications(start=start, limit=limit, stop=stop)
            rows = read(start, limit, stop)
            # then they hold the same events, the ids as the hex digits they are stored as
            assert all(type(row) is StoredRow for row in rows)
            assert [(r.id, UUID(str(r.originator_id)), r.originator_version, r.topic, r.state) for r in rows] == [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in plain
            ]
            assert all(r.originator_id == UUID(str(r.originator_id)).hex for r in rows)
            # and decode to equal events
            decode = decoder(ledger.views.mapper)
            assert [decode(r) for r in rows] == [ledger.views.mapper.to_domain_event(n) for n in plain]


def test_every_store_s_reader_reads_what_select_notifications_reads(ledger: Ledger, engine: str) -> None:
    # given a ledger with the Xi'an case, on each engine
    xian2017.load(ledger)
    recorder = ledger.views.recorder
    # when its views read a page
    page = reader(recorder)(5, 20, None)
    # then they get the recorder's rows: as they are on SQLite, as select_notifications makes them elsewhere
    assert [(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, n.state) for n in page] == [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in recorder.select_notifications(start=5, limit=20)
    ]
    assert {type(n).__name__ for n in page} == {"StoredRow" if engine == "sqlite" else "Notification"}


def respell_id(path: Path, position: int, spelled: str) -> None:
    """Store the event at ``position`` with its originator id spelled otherwise (the row, not the chain)."""
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE stored_events SET originator_id = ? WHERE rowid = ?", (spelled, position))
    connection.close()


def views_of(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with Ledger.open(f"sqlite:///{path}", read_your_writes=False) as ledger:
        ledger.views.catch_up()
        with ledger.views.reading(catch_up=False) as connection:
            return {
                t.name: [tuple(r) for r in connection.execute(select(t).order_by(*t.primary_key.columns))]
                for t in VIEW_TABLES
            }


SPELLINGS: list[Callable[[UUID], str]] = [str, lambda u: str(u).upper(), lambda u: "{" + str(u) + "}", lambda u: u.urn]


@pytest.mark.parametrize("spelling", SPELLINGS, ids=["hyphens", "capitals", "braces", "urn"])
def test_an_id_stored_in_another_spelling_is_read_as_uuid_reads_it(
    sqlite_log: Path, tmp_path: Path, spelling: Callable[[UUID], str]
) -> None:
    # given the same log twice, one with an event's id stored hyphenated, in capitals, in braces or as a URN
    other = tmp_path / "other.db"
    other.write_bytes(sqlite_log.read_bytes())
    with sqlite3.connect(other) as connection:
        (stored,) = connection.execute("SELECT originator_id FROM stored_events WHERE rowid = 42").fetchone()
    connection.close()
    respell_id(other, 42, spelling(UUID(stored)))
    # when both catch up, then their views are the same
    assert views_of(other) == views_of(sqlite_log)


@pytest.mark.parametrize(
    "spelled",
    ["not-a-uuid", "0" * 31, "0" * 32 + '","originator_version":1,"x":"', "g" * 32],
)
def test_an_id_that_is_no_uuid_stops_the_views_at_its_position(sqlite_log: Path, spelled: str) -> None:
    # given a log whose event 42 has an id that is no UUID (one trying to add JSON)
    respell_id(sqlite_log, 42, spelled)
    with Ledger.open(f"sqlite:///{sqlite_log}", read_your_writes=False) as ledger:
        ledger.views.batch_size = 10
        # when the views catch up, then they stop at that event, having applied what came before
        with pytest.raises(ProjectionFailed, match=r"position 42 .*originator id") as failed:
            ledger.views.catch_up()
        assert failed.value.position == 42
        assert ledger.views.position() == 40


def test_a_row_loaded_for_a_handler_is_what_sqlalchemy_s_select_gives(ledger: Ledger) -> None:
    # given views holding a row in every table (the Xi'an case), on each engine
    xian2017.load(ledger)
    ledger.views.catch_up()
    with ledger.views.reading(catch_up=False) as connection:
        for table in VIEW_TABLES:
            expected = [dict(r) for r in connection.execute(select(table)).mappings()]
            # when each row is loaded by its key into a fresh cache
            rows = RowCache(connection)
            loaded = [rows.get(table, *(row[c.name] for c in table.primary_key.columns)) for row in expected]
            # then it has the same values, of the same types
            assert loaded == expected, table.name
            assert [[type(v) for v in r.values()] for r in loaded] == [[type(v) for v in r.values()] for r in expected]
        # and a key with no row is refused, naming the table
        with pytest.raises(LookupError, match="ql_activities has no row"):
            RowCache(connection).get(activities, UUID(int=0))
