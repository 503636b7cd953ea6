"""Tamper evidence: any single-row change to a 10,000-event log is caught,
and the first break is named exactly (position, aggregate, version, kind)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger.audit.chain import extend
from quality_ledger.audit.verify import Checkpoint, generate_key
from quality_ledger.testing.synthetic import fill

SIZE = 10_000
POSITIONS = (1, 2, 777, 5_000, 9_998, 9_999)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "log.db"
    with Ledger.open(f"sqlite:///{path}", read_your_writes=False) as ledger:
        fill(ledger, SIZE)
    return path


@pytest.fixture
def log(pristine: Path, tmp_path: Path) -> Iterator[tuple[Ledger, sqlite3.Connection, int]]:
    """A fresh copy of the 10,000-event log, the ledger on it and a raw SQL handle."""
    path = tmp_path / "log.db"
    shutil.copy(pristine, path)
    with Ledger.open(f"sqlite:///{path}", read_your_writes=False) as ledger, sqlite3.connect(path) as db:
        yield ledger, db, ledger.position()


def row(db: sqlite3.Connection, position: int) -> tuple[str, int, str, bytes]:
    found = db.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?", (position,)
    ).fetchone()
    assert found is not None
    return found


def test_an_untouched_log_verifies(log: tuple[Ledger, sqlite3.Connection, int]) -> None:
    ledger, _, size = log
    report = ledger.verify()
    assert report.ok
    assert report.checked == size >= SIZE
    assert report.first_break is None


@pytest.mark.parametrize("position", POSITIONS)
def test_a_changed_byte_is_named_at_its_position(log: tuple[Ledger, sqlite3.Connection, int], position: int) -> None:
    # given one byte of one stored payload flipped
    ledger, db, _ = log
    aggregate, version, _, state = row(db, position)
    changed = bytearray(state)
    changed[len(changed) // 2] ^= 0x01
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(changed), position))
    db.commit()
    # when verified
    broken = ledger.verify().first_break
    # then the first break is that event, named
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (position, "content-changed", version)
    assert str(broken.aggregate_id).replace("-", "") == aggregate


@pytest.mark.parametrize("position", POSITIONS)
def test_a_changed_topic_or_version_is_caught(log: tuple[Ledger, sqlite3.Connection, int], position: int) -> None:
    ledger, db, _ = log
    db.execute("UPDATE stored_events SET topic = topic || 'x' WHERE rowid = ?", (position,))
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "content-changed")


@pytest.mark.parametrize("position", POSITIONS)
def test_a_deleted_event_is_named_missing(log: tuple[Ledger, sqlite3.Connection, int], position: int) -> None:
    ledger, db, _ = log
    db.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.notification_id) == (position, "missing", position)


def test_an_event_inserted_at_the_end_is_named(log: tuple[Ledger, sqlite3.Connection, int]) -> None:
    # given a forged event appended without a link
    ledger, db, size = log
    aggregate, version, topic, state = row(db, 5)
    db.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)", (aggregate, version + 100_000, topic, state))
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (size + 1, "inserted", version + 100_000)


@pytest.mark.parametrize("position", POSITIONS[:-1])
def test_two_swapped_events_are_named_reordered(log: tuple[Ledger, sqlite3.Connection, int], position: int) -> None:
    # given two neighbouring events' places exchanged
    ledger, db, _ = log
    first, second = row(db, position), row(db, position + 1)
    db.execute("DELETE FROM stored_events WHERE rowid IN (?, ?)", (position, position + 1))
    db.execute(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
        (position, *second),
    )
    db.execute(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
        (position + 1, *first),
    )
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind, broken.version) == (position, "reordered", second[1])


@pytest.mark.parametrize("position", POSITIONS[:-1])
def test_an_event_moved_to_the_end_is_named_reordered(
    log: tuple[Ledger, sqlite3.Connection, int], position: int
) -> None:
    ledger, db, size = log
    db.execute("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (size + 1, position))
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "reordered")


@pytest.mark.parametrize("position", POSITIONS)
def test_an_altered_link_is_named(log: tuple[Ledger, sqlite3.Connection, int], position: int) -> None:
    ledger, db, _ = log
    db.execute("UPDATE ql_chain SET link = zeroblob(32) WHERE position = ?", (position,))
    db.commit()
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (position, "chain-altered")


def test_a_cut_tail_is_caught_only_against_a_checkpoint(log: tuple[Ledger, sqlite3.Connection, int]) -> None:
    # given a checkpoint, then the last 10 events and their links cut off
    ledger, db, size = log
    checkpoint = ledger.checkpoint()
    db.execute("DELETE FROM stored_events WHERE rowid > ?", (size - 10,))
    db.execute("DELETE FROM ql_chain WHERE position > ?", (size - 10,))
    db.commit()
    # then the chain alone still holds together, but not against the checkpoint
    assert ledger.verify().ok
    broken = ledger.verify(against=checkpoint).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (size - 9, "tail-cut")


def test_a_history_rewritten_with_a_recomputed_chain_is_caught_against_a_checkpoint(
    log: tuple[Ledger, sqlite3.Connection, int],
) -> None:
    # given a checkpoint, then an event changed by someone who also recomputes every later link
    ledger, db, size = log
    checkpoint = ledger.checkpoint()
    *_, state = row(db, 4_000)
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state.replace(b"XA-QTS", b"XA-QTZ"), 4_000))
    db.commit()
    last = ledger.chain.select_links(3_999, 1)[0]
    events = [ledger._store.recorder.select_notifications(start=p, limit=1)[0] for p in range(4_000, size + 1)]
    db.execute("DELETE FROM ql_chain WHERE position >= 4000")
    db.executemany(
        "INSERT INTO ql_chain VALUES (?,?,?,?)",
        [(x.position, x.notification_id, x.digest, x.link) for x in extend(last, [e.id for e in events], events)],
    )
    db.commit()
    # then the chain alone verifies (the limit of any self-contained chain), the checkpoint does not
    assert ledger.verify().ok
    broken = ledger.verify(against=checkpoint).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (size, "rewritten")


def test_a_signed_checkpoint_verifies_with_its_key_and_a_forged_one_does_not(
    log: tuple[Ledger, sqlite3.Connection, int],
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


def test_an_unsigned_checkpoint_with_another_head_is_refused(log: tuple[Ledger, sqlite3.Connection, int]) -> None:
    ledger, _, _ = log
    checkpoint = ledger.checkpoint()
    forged = checkpoint.model_copy(update={"head": "00" * 32})
    broken = ledger.verify(against=forged).first_break
    assert broken is not None
    assert broken.kind == "rewritten"
