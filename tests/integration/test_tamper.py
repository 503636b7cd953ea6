"""Tamper evidence: any single-row change to a 10,000-event log is caught,
and the first break is named exactly (position, aggregate, version, kind),
on both chain formats (1: every ledger written before format 2; 2: new ledgers)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from quality_ledger import Ledger
from quality_ledger.audit.chain import extend
from quality_ledger.audit.verify import Checkpoint, generate_key
from quality_ledger.eventlog import EventLog
from quality_ledger.testing.plugin import postgres_schema
from quality_ledger.testing.synthetic import fill
from tests.conftest import postgres_connect
from tests.integration.chain_formats import prepare_postgres, prepare_sqlite

SIZE = 10_000
POSITIONS = (1, 2, 777, 5_000, 9_998, 9_999)
COLUMNS = "originator_id, originator_version, topic, state"
PG_EVENTS = "quality_ledger_events"
"""eventsourcing names PostgreSQL's events table after the application."""


class Tamper:
    """Raw SQL on a ledger's own tables, as someone with database access would write it."""

    def __init__(
        self, run: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]], table: str, id_column: str, marker: str
    ) -> None:
        self.run = run
        self.table = table
        self.id = id_column
        self.p = marker

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        statement = statement.replace("stored_events", self.table).replace("$ID", self.id)
        return self.run(statement.replace("?", self.p), params)

    def row(self, position: int) -> tuple[str, int, str, bytes]:
        ((aggregate, version, topic, state),) = self.sql(f"SELECT {COLUMNS} FROM stored_events WHERE $ID = ?", position)
        return UUID(str(aggregate)).hex, version, topic, bytes(state)

    def put(self, position: int | None, aggregate: str, version: int, topic: str, state: bytes) -> None:
        if position is None:
            self.sql(f"INSERT INTO stored_events ({COLUMNS}) VALUES (?, ?, ?, ?)", aggregate, version, topic, state)
        else:
            self.sql(
                f"INSERT INTO stored_events ($ID, {COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                position,
                aggregate,
                version,
                topic,
                state,
            )


@pytest.fixture(scope="module", params=[2, 1], ids=["format2", "format1"])
def chain_format(request: pytest.FixtureRequest) -> int:
    """The chain format of the logs tampered with."""
    return int(request.param)


@pytest.fixture(scope="module")
def pristine_sqlite(tmp_path_factory: pytest.TempPathFactory, chain_format: int) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "log.db"
    with Ledger.open(prepare_sqlite(path, chain_format), read_your_writes=False, adopt=True) as ledger:
        fill(ledger, SIZE)
    return path


@pytest.fixture(scope="module")
def pristine_postgres(postgres_server: str, chain_format: int) -> Iterator[str]:
    """A schema holding the 10,000-event log, with copies of its tables to restore from."""
    with postgres_schema(postgres_server) as url:
        prepare_postgres(url, chain_format)
        with Ledger.open(url, read_your_writes=False, adopt=True) as ledger:
            fill(ledger, SIZE)
        with postgres_connect(url) as connection:
            connection.execute(f"CREATE TABLE pristine_events AS SELECT * FROM {PG_EVENTS}")
            connection.execute("CREATE TABLE pristine_chain AS SELECT * FROM ql_chain")
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path, chain_format: int) -> Iterator[tuple[Ledger, Tamper, int]]:
    """A fresh copy of the 10,000-event log on each durable engine (its pristine
    copy built with ``chain_format``), the ledger on it and raw SQL."""
    if request.param == "sqlite":
        path = tmp_path / "log.db"
        shutil.copy(request.getfixturevalue("pristine_sqlite"), path)
        with Ledger.open(f"sqlite:///{path}", read_your_writes=False) as ledger, sqlite3.connect(path) as db:

            def run(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                rows = db.execute(statement, params).fetchall()
                db.commit()
                return rows

            yield ledger, Tamper(run, "stored_events", "rowid", "?"), ledger.position()
        return
    url = request.getfixturevalue("pristine_postgres")
    with postgres_connect(url) as connection:
        connection.execute(f"TRUNCATE {PG_EVENTS}, ql_chain")
        connection.execute(f"INSERT INTO {PG_EVENTS} SELECT * FROM pristine_events")
        connection.execute("INSERT INTO ql_chain SELECT * FROM pristine_chain")
        connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{PG_EVENTS}', 'notification_id'), "
            f"(SELECT max(notification_id) FROM {PG_EVENTS}))"
        )

        def run_pg(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

        with Ledger.open(url, read_your_writes=False) as ledger:
            yield ledger, Tamper(run_pg, PG_EVENTS, "notification_id", "%s"), ledger.position()


def test_an_untouched_log_verifies(log: tuple[Ledger, Tamper, int], chain_format: int) -> None:
    ledger, _, size = log
    assert ledger.chain.chain_format() == chain_format
    report = ledger.verify()
    assert report.ok
    assert report.checked == size >= SIZE
    assert report.first_break is None


@pytest.mark.parametrize("position", POSITIONS)
def test_a_changed_byte_is_named_at_its_position(log: tuple[Ledger, Tamper, int], position: int) -> None:
    # given one byte of one stored payload flipped
    ledger, db, _ = log
    aggregate, version, _, state = db.row(position)
    changed = bytearray(state)
    changed[len(changed) // 2] ^= 0x01
    db.sql("UPDATE stored_events SET state = ? WHERE $ID = ?", bytes(changed), position)
    # when verified
    broken = ledger.verify().first_break
    # then the first break is that event, named
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (position, "content-changed", version)
    assert broken.aggregate_id is not None
    assert broken.aggregate_id.hex == aggregate


@pytest.mark.parametrize("position", POSITIONS)
def test_a_changed_topic_or_version_is_caught(log: tuple[Ledger, Tamper, int], position: int) -> None:
    ledger, db, _ = log
    db.sql("UPDATE stored_events SET topic = topic || 'x' WHERE $ID = ?", position)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "content-changed")


@pytest.mark.parametrize("position", POSITIONS)
def test_a_deleted_event_is_named_missing(log: tuple[Ledger, Tamper, int], position: int) -> None:
    ledger, db, _ = log
    db.sql("DELETE FROM stored_events WHERE $ID = ?", position)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.notification_id) == (position, "missing", position)


def test_an_event_inserted_at_the_end_is_named(log: tuple[Ledger, Tamper, int]) -> None:
    # given a forged event appended without a link
    ledger, db, size = log
    aggregate, version, topic, state = db.row(5)
    db.put(None, aggregate, version + 100_000, topic, state)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (size + 1, "inserted", version + 100_000)


@pytest.mark.parametrize("position", POSITIONS[:-1])
def test_two_swapped_events_are_named_reordered(log: tuple[Ledger, Tamper, int], position: int) -> None:
    # given two neighbouring events' places exchanged
    ledger, db, _ = log
    first, second = db.row(position), db.row(position + 1)
    db.sql("DELETE FROM stored_events WHERE $ID IN (?, ?)", position, position + 1)
    db.put(position, *second)
    db.put(position + 1, *first)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (position, "reordered", second[1])


@pytest.mark.parametrize("position", POSITIONS[:-1])
def test_an_event_moved_to_the_end_is_named_reordered(log: tuple[Ledger, Tamper, int], position: int) -> None:
    ledger, db, size = log
    db.sql("UPDATE stored_events SET $ID = ? WHERE $ID = ?", size + 1, position)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "reordered")


@pytest.mark.parametrize("position", POSITIONS)
def test_an_altered_link_is_named(log: tuple[Ledger, Tamper, int], position: int) -> None:
    ledger, db, _ = log
    db.sql("UPDATE ql_chain SET link = ? WHERE position = ?", bytes(32), position)
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "chain-altered")


def test_a_cut_tail_is_caught_only_against_a_checkpoint(log: tuple[Ledger, Tamper, int]) -> None:
    # given a checkpoint, then the last 10 events and their links cut off
    ledger, db, size = log
    checkpoint = ledger.checkpoint()
    db.sql("DELETE FROM stored_events WHERE $ID > ?", size - 10)
    db.sql("DELETE FROM ql_chain WHERE position > ?", size - 10)
    # then the chain alone still holds together, but not against the checkpoint
    assert ledger.verify().ok
    broken = ledger.verify(against=checkpoint).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (size - 9, "tail-cut")


def test_a_history_rewritten_with_a_recomputed_chain_is_caught_against_a_checkpoint(
    log: tuple[Ledger, Tamper, int],
) -> None:
    # given a checkpoint, then an event changed by someone who also recomputes every later link
    ledger, db, size = log
    checkpoint = ledger.checkpoint()
    *_, state = db.row(4_000)
    db.sql("UPDATE stored_events SET state = ? WHERE $ID = ?", state.replace(b"XA-QTS", b"XA-QTZ"), 4_000)
    last = ledger.chain.select_links(3_999, 1)[0]
    events = [EventLog.of(ledger).recorder.select_notifications(start=p, limit=1)[0] for p in range(4_000, size + 1)]
    db.sql("DELETE FROM ql_chain WHERE position >= 4000")
    for x in extend(last, [e.id for e in events], events, ledger.chain.chain_format()):
        db.sql("INSERT INTO ql_chain VALUES (?, ?, ?, ?)", x.position, x.notification_id, x.digest, x.link)
    # then the chain alone verifies (the limit of any self-contained chain), the checkpoint does not
    assert ledger.verify().ok
    broken = ledger.verify(against=checkpoint).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (size, "rewritten")


def test_a_signed_checkpoint_verifies_with_its_key_and_a_forged_one_does_not(
    log: tuple[Ledger, Tamper, int],
) -> None:
    ledger, _, _ = log
    private, public = generate_key()
    checkpoint = ledger.checkpoint(private)
    assert ledger.verify(against=checkpoint, public_key=public).ok
    # a checkpoint whose size was edited after signing
    forged = Checkpoint.model_validate({**checkpoint.model_dump(), "size": checkpoint.size - 1})
    report = ledger.verify(against=forged, public_key=public)
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.kind == "checkpoint-forged"
    # a checkpoint re-signed with another key is refused against the trusted key
    other, _ = generate_key()
    resigned = forged.signed(other)
    assert resigned.signature_valid()
    assert not ledger.verify(against=resigned, public_key=public).ok


def test_an_unsigned_checkpoint_with_another_head_is_refused(log: tuple[Ledger, Tamper, int]) -> None:
    ledger, _, _ = log
    checkpoint = ledger.checkpoint()
    forged = checkpoint.model_copy(update={"head": "00" * 32})
    broken = ledger.verify(against=forged).first_break
    assert broken is not None
    assert broken.kind == "rewritten"
