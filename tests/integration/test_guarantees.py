"""Guarantees no setting can switch off, and an execute that never raises after its commit."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.persistence import Cipher, JSONTranscoder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.errors import ConfigurationError, InvalidCommand
from quality_ledger.eventlog import EventLog
from quality_ledger.guarantees import check_store
from quality_ledger.persistence import PydanticMapper
from tests.conftest import ORGANISER, event_count, plan_campaign

REFUSED = [
    ("QUALITY_LEDGER_APPLICATION_RECORDER_TOPIC", "eventsourcing.sqlite:SQLiteApplicationRecorder"),
    ("QUALITY_LEDGER_PERSISTENCE_MODULE", "eventsourcing.popo"),
    ("PERSISTENCE_MODULE", "eventsourcing.popo"),
    ("APPLICATION_RECORDER_TOPIC", "eventsourcing.sqlite:SQLiteApplicationRecorder"),
    ("POSTGRES_ENABLE_DB_FUNCTIONS", "y"),
    ("QUALITY_LEDGER_POSTGRES_ENABLE_DB_FUNCTIONS", "y"),
    ("CIPHER_TOPIC", "eventsourcing.cipher:AESCipher"),
    ("CIPHER_KEY", "k" * 44),
    ("QUALITY_LEDGER_COMPRESSOR_TOPIC", "zlib"),
    ("MAPPER_TOPIC", "eventsourcing.persistence:Mapper"),
    ("QUALITY_LEDGER_SQLITE_DBNAME", "elsewhere.db"),
]


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=[name for name, _ in REFUSED])
@pytest.mark.parametrize("scheme", ["memory", "sqlite"])
def test_a_variable_that_would_change_how_events_are_stored_is_refused_at_open(
    name: str, value: str, scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the variable in the environment
    monkeypatch.setenv(name, value)
    url = "memory://" if scheme == "memory" else f"sqlite:///{tmp_path}/ledger.db"
    # when a ledger is opened, then it is refused, naming the variable, and nothing is created
    with pytest.raises(ConfigurationError, match=name) as refused:
        Ledger.open(url)
    assert "\n" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_unprefixed_connection_settings_of_other_applications_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given eventsourcing settings that are not the ledger's business (another application's database)
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "someone-else.db"))
    monkeypatch.setenv("POSTGRES_POOL_SIZE", "1")
    # when a ledger opens and records a command
    with Ledger.open(f"sqlite:///{tmp_path}/ledger.db") as ledger:
        plan_campaign(ledger)
        assert event_count(ledger) > 0
    # then its events went to its own file, and the other file was never made
    assert (tmp_path / "ledger.db").exists()
    assert not (tmp_path / "someone-else.db").exists()


def test_a_recorder_without_the_chain_is_refused(tmp_path: Path) -> None:
    # given eventsourcing's plain SQLite recorder, which keeps no hash chain
    datastore = SQLiteDatastore(str(tmp_path / "plain.db"))
    recorder = SQLiteApplicationRecorder(datastore)
    # when a store is checked with it, then it is refused
    with pytest.raises(ConfigurationError, match="does not keep the hash chain"):
        check_store(recorder, PydanticMapper(transcoder=JSONTranscoder()))
    datastore.close()


def test_a_mapper_that_encrypts_is_refused(ledger: Ledger) -> None:
    # given the ledger's own chained recorder and a mapper with a cipher
    class Reversing(Cipher):
        def __init__(self) -> None:
            pass

        def encrypt(self, plaintext: bytes) -> bytes:
            return plaintext[::-1]

        def decrypt(self, ciphertext: bytes) -> bytes:
            return ciphertext[::-1]

    mapper = PydanticMapper(transcoder=JSONTranscoder(), cipher=Reversing())
    # when the store is checked, then it is refused
    with pytest.raises(ConfigurationError, match="encrypts or compresses"):
        check_store(ledger.chain, mapper)


def test_a_snapshot_failing_after_the_commit_is_logged_and_the_receipt_returned(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a ledger that snapshots on every version, and a store whose snapshots fail (disk full)
    EventLog.of(ledger).snapshot_every = 1

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(EventLog.of(ledger), "take_snapshot", disk_full)
    before = event_count(ledger)
    # when a command is executed
    with caplog.at_level(logging.WARNING, logger="quality_ledger.ledger"):
        receipt = ledger.execute(
            c.PlanCampaign(
                title="Snapshot trial", theme="t", organiser="XA-QPC", starts_on="2017-09-01", ends_on="2017-09-30"
            ),
            actor=ORGANISER,
        )
    # then it returns its receipt, the command counts once, and the failure is logged, not raised
    assert event_count(ledger) == before + len(receipt.events)
    assert ledger.get(receipt.aggregate_id).title == "Snapshot trial"
    assert any("snapshot" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "user",
    ["", "x" * 1_000_000, "zhang\x00min", "zhang\u202emin"],
    ids=["empty", "1MB", "NUL", "right-to-left-override"],
)
def test_an_actor_built_without_validation_is_validated_by_execute(ledger: Ledger, user: str) -> None:
    # given an actor built with model_construct, which skips pydantic's validation
    actor = Actor.model_construct(user=user, department="XA-QPC")
    before = event_count(ledger)
    # when it executes a valid command, then it is refused and nothing is recorded
    with pytest.raises(InvalidCommand) as refused:
        ledger.execute(
            c.PlanCampaign(title="T", theme="t", organiser="XA-QPC", starts_on="2017-09-01", ends_on="2017-09-30"),
            actor=actor,
        )
    assert "\n" not in str(refused.value)
    assert len(str(refused.value)) < 1000
    assert event_count(ledger) == before


def test_a_command_built_without_validation_is_validated_by_execute(ledger: Ledger) -> None:
    # given a command built with model_construct, with a NUL in its title
    command = c.PlanCampaign.model_construct(
        title="Quality\x00Month", theme="t", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
    )
    before = event_count(ledger)
    # when executed, then it is refused and nothing is recorded
    with pytest.raises(InvalidCommand, match="title"):
        ledger.execute(command, actor=ORGANISER)
    assert event_count(ledger) == before


def test_the_audit_trail_finds_a_user_however_the_name_is_composed(ledger: Ledger) -> None:
    # given a command by a user whose name has an accent, given decomposed (e + U+0301)
    clerk = Actor(user="rene\u0301.li", department="XA-QPC")
    plan_campaign(ledger)
    ledger.execute(
        c.PlanCampaign(title="Accents", theme="t", organiser="XA-QPC", starts_on="2017-09-01", ends_on="2017-09-30"),
        actor=clerk,
    )
    # when the trail is asked for either spelling, then both find the same entries
    composed = ledger.audit_trail(actor="ren\u00e9.li").entries
    decomposed = ledger.audit_trail(actor="rene\u0301.li").entries
    assert composed
    assert composed == decomposed
