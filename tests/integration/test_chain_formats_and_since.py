"""Chain formats (1 for every ledger written before format 2, 2 for new ones)
and verifying only what was appended after a trusted checkpoint (``since``).

Format 2 hashes the stored bytes exactly; format 1 also names actor and
recorded-at. A ledger keeps the format it was created with, recorded in
``ql_chain_format`` (none: format 1), and the verifier picks the formula by
it, so flipping the format is itself a break.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from quality_ledger import Ledger
from quality_ledger.audit.chain import FORMAT_1, FORMAT_2, content_digest
from quality_ledger.audit.verify import Checkpoint, generate_key
from quality_ledger.cli import main
from quality_ledger.errors import IntegrityError, InvalidCommand
from quality_ledger.testing.synthetic import fill
from tests.conftest import event_count, plan_campaign, postgres_connect
from tests.integration.chain_formats import prepare_postgres, prepare_sqlite

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "0.1.0" / "ledger.db"
FIRST = 60
"""Events recorded before the checkpoint in the ``since`` tests (at least; ``fill`` rounds up)."""
MORE = 40
"""Events recorded after it (at least)."""


def _part(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def format_2_digest(aggregate: str, version: int, topic: str, state: bytes) -> bytes:
    """Format 2 as docs/audit.md states it, written out here rather than imported."""
    return hashlib.sha256(
        _part(aggregate.encode()) + _part(str(version).encode()) + _part(topic.encode()) + _part(state)
    ).digest()


class Raw:
    """SQL on a durable ledger's own tables, as someone with database access would write it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        self.events = "quality_ledger_events" if self.postgres else "stored_events"
        self.id = "notification_id" if self.postgres else "rowid"

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        statement = statement.replace("$EVENTS", self.events).replace("$ID", self.id)
        if self.postgres:
            with postgres_connect(self.url) as connection:
                cursor = connection.execute(statement.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        db = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        try:
            with db:
                return db.execute(statement, params).fetchall()
        finally:
            db.close()

    def row(self, position: int) -> tuple[Any, ...]:
        (found,) = self.sql(
            "SELECT originator_id, originator_version, topic, state FROM $EVENTS WHERE $ID = ?", position
        )
        return found


@pytest.fixture
def raw(durable_url: str) -> Raw:
    return Raw(durable_url)


@pytest.fixture
def format_1_url(durable_url: str) -> str:
    """An empty store on each durable engine whose ledger will be created with a format-1 chain."""
    if durable_url.startswith("postgresql"):
        prepare_postgres(durable_url, FORMAT_1)
        return durable_url
    return prepare_sqlite(Path(durable_url.removeprefix("sqlite:///")), FORMAT_1)


# Formats ----------------------------------------------------------------------------


def test_a_new_ledger_chains_in_format_2_over_the_stored_bytes_exactly(ledger: Ledger) -> None:
    # given a new ledger on each engine, with events
    plan_campaign(ledger)
    # then its chain is format 2, each stored digest is format 2's formula over the row as stored
    assert ledger.chain.chain_format() == FORMAT_2
    rows = ledger.chain.select_raw(1, 100)
    links = ledger.chain.select_links(1, 100)
    assert len(rows) == len(links) == event_count(ledger) == 4
    for row, link in zip(rows, links, strict=True):
        oid = row.originator_id
        aggregate = oid if isinstance(oid, str) else oid.hex
        assert link.digest == format_2_digest(aggregate, row.originator_version, row.topic, row.state)
        assert link.digest != content_digest(row, FORMAT_1)
    # and it verifies
    report = ledger.verify()
    assert (report.ok, report.checked, report.chain_format) == (True, 4, FORMAT_2)


def test_a_format_1_ledger_stays_format_1_and_verifies_across_reopening(format_1_url: str) -> None:
    # given a ledger created with a format-1 chain
    with Ledger.open(format_1_url, adopt=True) as ledger:
        plan_campaign(ledger)
        assert ledger.chain.chain_format() == FORMAT_1
    # when it is reopened and written again
    with Ledger.open(format_1_url) as ledger:
        plan_campaign(ledger, title="second")
        # then every link is format 1 and the whole chain verifies
        assert ledger.chain.chain_format() == FORMAT_1
        rows = ledger.chain.select_raw(1, 100)
        links = ledger.chain.select_links(1, 100)
        assert len(rows) == len(links) == 8
        assert all(link.digest == content_digest(row, FORMAT_1) for row, link in zip(rows, links, strict=True))
        report = ledger.verify()
        assert (report.ok, report.checked, report.chain_format) == (True, 8, FORMAT_1)


def test_the_golden_log_is_format_1_verifies_and_stays_so_when_written(tmp_path: Path) -> None:
    # given a copy of the first release's ledger (no format table: format 1)
    path = tmp_path / "golden.db"
    shutil.copyfile(GOLDEN, path)
    with Ledger.open(f"sqlite:///{path}") as ledger:
        size = ledger.position()
        assert ledger.chain.chain_format() == FORMAT_1
        assert ledger.verify().ok
        # when today's code appends to it
        plan_campaign(ledger, title="appended today")
        # then the chain goes on in format 1 and still verifies, end to end
        report = ledger.verify()
        assert (report.ok, report.checked) == (True, size + 4)
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "ql_chain_format" not in tables  # opening an old ledger never records a format for it


@pytest.mark.parametrize(
    "change",
    ["UPDATE ql_chain_format SET format = 1", "DELETE FROM ql_chain_format"],
    ids=["flipped-to-1", "row-deleted"],
)
def test_changing_a_format_2_ledgers_format_breaks_the_chain_at_its_first_event(raw: Raw, change: str) -> None:
    # given a format-2 ledger
    with Ledger.open(raw.url) as ledger:
        plan_campaign(ledger)
        # when its format row is changed behind its back
        raw.sql(change)
        # then the verifier reads the other formula, and no link holds from the first on
        assert ledger.chain.chain_format() == FORMAT_1
        broken = ledger.verify().first_break
        assert broken is not None
        assert (broken.position, broken.kind) == (1, "content-changed")


def test_a_format_1_ledger_given_format_2_breaks_at_its_first_event(format_1_url: str) -> None:
    with Ledger.open(format_1_url, adopt=True) as ledger:
        plan_campaign(ledger)
        Raw(format_1_url).sql("UPDATE ql_chain_format SET format = 2")
        broken = ledger.verify().first_break
        assert broken is not None
        assert (broken.position, broken.kind) == (1, "content-changed")


@pytest.mark.parametrize(
    ("content", "named"),
    [("(3)", "format 3, which this version"), ("(2), (2)", "holds 2 rows")],
    ids=["unknown-format", "two-rows"],
)
def test_a_format_this_version_does_not_know_is_refused_naming_it(raw: Raw, content: str, named: str) -> None:
    # given a ledger whose format table holds what no version writes
    with Ledger.open(raw.url) as ledger:
        plan_campaign(ledger)
    raw.sql("DELETE FROM ql_chain_format")
    raw.sql(f"INSERT INTO ql_chain_format VALUES {content}")
    with Ledger.open(raw.url) as ledger:
        # then verify says so rather than guessing a formula
        with pytest.raises(IntegrityError, match=named):
            ledger.verify()
        # and a write is refused before anything is recorded
        before = event_count(ledger)
        with pytest.raises(IntegrityError, match=named):
            plan_campaign(ledger, title="refused")
        assert event_count(ledger) == before


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE stored_events SET originator_version = originator_version + 0.5 WHERE rowid = 3",
        "UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = 3",
        "UPDATE stored_events SET originator_id = CAST(originator_id AS BLOB) WHERE rowid = 3",
        "UPDATE stored_events SET topic = NULL WHERE rowid = 3",
    ],
    ids=["fractional-version", "text-payload", "blob-id", "null-topic"],
)
def test_a_sqlite_column_given_another_type_is_named_content_changed(tmp_path: Path, change: str) -> None:
    # given a SQLite ledger, one of whose rows gets a value of another type (SQLite columns take any)
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
        Raw(url).sql(change)
        # then that row is named, as any other change to its content
        broken = ledger.verify().first_break
        assert broken is not None
        assert (broken.position, broken.kind) == (3, "content-changed")


# since ------------------------------------------------------------------------------


@pytest.fixture
def grown(ledger: Ledger) -> tuple[Ledger, Checkpoint, int]:
    """A ledger that held ``FIRST`` events at a checkpoint, and ``MORE`` since."""
    fill(ledger, FIRST, seed="before")
    point = ledger.checkpoint()
    fill(ledger, MORE, seed="after")
    return ledger, point, ledger.position() - point.size


def test_since_a_checkpoint_checks_only_what_was_appended_after_it(grown: tuple[Ledger, Checkpoint, int]) -> None:
    ledger, point, appended = grown
    report = ledger.verify(since=point)
    assert report.ok, report.first_break
    assert report.checked == appended >= MORE
    assert report.head == ledger.checkpoint().head == ledger.verify().head
    assert report.since == point


def test_since_the_head_checks_nothing_and_since_the_empty_log_checks_everything(
    grown: tuple[Ledger, Checkpoint, int],
) -> None:
    ledger, _, _ = grown
    now = ledger.checkpoint()
    assert (ledger.verify(since=now).ok, ledger.verify(since=now).checked) == (True, 0)
    empty = now.model_copy(update={"size": 0, "head": "00" * 32})
    report = ledger.verify(since=empty)
    assert (report.ok, report.checked) == (True, now.size)


def test_since_a_checkpoint_whose_head_is_not_the_stored_link_is_rewritten(
    grown: tuple[Ledger, Checkpoint, int],
) -> None:
    ledger, point, _ = grown
    forged = point.model_copy(update={"head": "ab" * 32})
    report = ledger.verify(since=forged)
    assert report.first_break is not None
    assert (report.ok, report.first_break.position, report.first_break.kind) == (False, point.size, "rewritten")
    assert report.checked == 0


def test_since_a_checkpoint_larger_than_the_log_is_a_cut_tail(grown: tuple[Ledger, Checkpoint, int]) -> None:
    ledger, _, _ = grown
    now = ledger.checkpoint()
    ahead = now.model_copy(update={"size": now.size + 5})
    broken = ledger.verify(since=ahead).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (now.size + 1, "tail-cut")


def test_since_a_forged_checkpoint_is_refused(grown: tuple[Ledger, Checkpoint, int]) -> None:
    ledger, point, _ = grown
    private, public = generate_key()
    signed = point.signed(private)
    assert ledger.verify(since=signed, public_key=public).ok
    # a signed checkpoint edited after signing, and an empty one with a head
    edited = Checkpoint.model_validate({**signed.model_dump(), "size": signed.size - 1})
    headed = point.model_copy(update={"size": 0})
    for forged, key in ((edited, public), (headed, None)):
        broken = ledger.verify(since=forged, public_key=key).first_break
        assert broken is not None
        assert broken.kind == "checkpoint-forged"


def test_against_and_since_together_are_refused(grown: tuple[Ledger, Checkpoint, int]) -> None:
    ledger, point, _ = grown
    with pytest.raises(InvalidCommand, match="not both"):
        ledger.verify(against=point, since=point)


def test_since_something_other_than_a_checkpoint_is_refused_naming_it(grown: tuple[Ledger, Checkpoint, int]) -> None:
    ledger, point, _ = grown
    with pytest.raises(InvalidCommand, match=r"since takes a Checkpoint .* not dict"):
        ledger.verify(since=point.model_dump())  # type: ignore[arg-type]  # what a caller might pass


@pytest.fixture
def grown_durable(durable_url: str) -> Iterator[tuple[Ledger, Checkpoint, int, Raw]]:
    with Ledger.open(durable_url, read_your_writes=False) as ledger:
        fill(ledger, FIRST, seed="before")
        point = ledger.checkpoint()
        fill(ledger, MORE, seed="after")
        yield ledger, point, ledger.position(), Raw(durable_url)


def _changed_byte(raw: Raw, position: int) -> None:
    state = bytearray(raw.row(position)[3])
    state[len(state) // 2] ^= 0x01
    raw.sql("UPDATE $EVENTS SET state = ? WHERE $ID = ?", bytes(state), position)


def _deleted(raw: Raw, position: int) -> None:
    raw.sql("DELETE FROM $EVENTS WHERE $ID = ?", position)


def _swapped(raw: Raw, position: int) -> None:
    first, second = raw.row(position), raw.row(position + 1)
    raw.sql("DELETE FROM $EVENTS WHERE $ID IN (?, ?)", position, position + 1)
    for at, (aggregate, version, topic, state) in ((position, second), (position + 1, first)):
        raw.sql(
            "INSERT INTO $EVENTS ($ID, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
            at,
            aggregate,
            version,
            topic,
            state,
        )


def _altered_link(raw: Raw, position: int) -> None:
    raw.sql("UPDATE ql_chain SET link = ? WHERE position = ?", bytes(32), position)


def _appended(raw: Raw, position: int) -> None:
    aggregate, version, topic, state = raw.row(5)
    raw.sql(
        "INSERT INTO $EVENTS (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        aggregate,
        version + 100_000,
        topic,
        state,
    )


@pytest.mark.parametrize(
    ("tamper", "kind", "offset"),
    [
        (_changed_byte, "content-changed", 3),
        (_deleted, "missing", 3),
        (_swapped, "reordered", 3),
        (_altered_link, "chain-altered", 3),
        (_appended, "inserted", None),
    ],
    ids=["content-changed", "missing", "reordered", "chain-altered", "inserted"],
)
def test_since_a_checkpoint_each_break_after_it_is_named_as_a_full_verify_names_it(
    grown_durable: tuple[Ledger, Checkpoint, int, Raw],
    tamper: Callable[[Raw, int], None],
    kind: str,
    offset: int | None,
) -> None:
    # given a change after the checkpoint (or an event appended without a link)
    ledger, point, size, raw = grown_durable
    position = point.size + offset if offset is not None else size + 1
    tamper(raw, position)
    # when verified since the checkpoint
    report = ledger.verify(since=point)
    # then the break is named at its place, as the full walk names it, and checked counts up to it
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.kind) == (position, kind)
    assert report.first_break == ledger.verify().first_break
    assert report.checked == position - 1 - point.size


def test_since_a_checkpoint_a_change_before_it_is_left_to_the_full_verify(
    grown_durable: tuple[Ledger, Checkpoint, int, Raw],
) -> None:
    # given an event before the checkpoint changed (its link untouched)
    ledger, point, _, raw = grown_durable
    _changed_byte(raw, point.size - 10)
    # then the incremental check, which reads nothing before the checkpoint, holds;
    # the full verify (run on its own schedule) names the change
    assert ledger.verify(since=point).ok
    broken = ledger.verify().first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (point.size - 10, "content-changed")


def test_since_a_checkpoint_whose_stored_link_was_rewritten_is_named(
    grown_durable: tuple[Ledger, Checkpoint, int, Raw],
) -> None:
    ledger, point, _, raw = grown_durable
    _altered_link(raw, point.size)
    broken = ledger.verify(since=point).first_break
    assert broken is not None
    assert (broken.position, broken.kind) == (point.size, "rewritten")


# The command line ------------------------------------------------------------------


def test_audit_verify_since_a_checkpoint_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a ledger, a checkpoint file, and events recorded since
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
    point = tmp_path / "cp.json"
    assert main(["--url", url, "audit", "checkpoint", "--out", str(point)]) == 0
    with Ledger.open(url) as ledger:
        plan_campaign(ledger, title="since")
    capsys.readouterr()
    # when verified since it: only the 4 new events
    assert main(["--url", url, "audit", "verify", "--since", str(point), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["checked"], document["since"]["size"]) == (True, 4, 4)
    # and a change after it exits 1, naming it
    _changed_byte(Raw(url), 6)
    assert main(["--url", url, "audit", "verify", "--since", str(point)]) == 1
    assert "BROKEN at position 6: content-changed" in capsys.readouterr().err


def test_audit_verify_takes_against_or_since_not_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    point = tmp_path / "cp.json"
    point.write_text("{}")
    argv = [
        "--url",
        f"sqlite:///{tmp_path / 'l.db'}",
        "audit",
        "verify",
        "--since",
        str(point),
        "--against",
        str(point),
    ]
    assert main(argv) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "l.db").exists()


def test_audit_verify_since_a_file_that_is_no_checkpoint_says_so_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
    capsys.readouterr()
    for name, content, said in (
        ("missing.json", None, "cannot read the checkpoint"),
        ("x.json", "[]", "is not a checkpoint"),
    ):
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        assert main(["--url", url, "audit", "verify", "--since", str(path)]) == 2
        err = capsys.readouterr().err
        assert said in err
        assert len(err.strip().splitlines()) == 1
