"""The embedded default on disk: state and idempotency survive a reopen."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.errors import ConcurrencyConflict, ConfigurationError, IdempotencyConflict
from quality_ledger.eventlog import EventLog
from quality_ledger.persistence import env_for
from tests.conftest import ORGANISER, QTS, event_count, plan_campaign


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/xian.db"


def test_reopening_a_file_gives_back_the_same_state(tmp_path: Path) -> None:
    # given a campaign recorded in a file
    with Ledger.open(url(tmp_path)) as ledger:
        campaign_id = plan_campaign(ledger)
        before = ledger.get(campaign_id)
        history = ledger.history(campaign_id)
    # when the file is opened again
    with Ledger.open(url(tmp_path)) as reopened:
        # then state, history and metadata are as recorded
        assert reopened.get(campaign_id) == before
        assert reopened.history(campaign_id) == history
        assert before.status == "launched"


def test_an_idempotency_key_counts_once_across_a_reopen(tmp_path: Path) -> None:
    # given a command with a key, executed and the file closed
    with Ledger.open(url(tmp_path)) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        command = c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1), idempotency_key="launch-1")
        first = ledger.execute(command, ORGANISER)
    # when the same command is executed after reopening
    with Ledger.open(url(tmp_path)) as reopened:
        count = event_count(reopened)
        again = reopened.execute(command, ORGANISER)
        # then the first receipt comes back and nothing new is recorded
        assert again == first
        assert event_count(reopened) == count


def test_an_idempotency_key_reused_for_another_command_is_refused_after_a_reopen(tmp_path: Path) -> None:
    # given a key used once
    with Ledger.open(url(tmp_path)) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        ledger.execute(
            c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1), idempotency_key="k"), ORGANISER
        )
    # when another command carries the same key
    with Ledger.open(url(tmp_path)) as reopened:
        count = event_count(reopened)
        other = c.EnlistDepartment(
            campaign_id=campaign_id, code="XA-EDU", name_zh="市教育局", name_en="Education", idempotency_key="k"
        )
        # then it is refused and records nothing
        with pytest.raises(IdempotencyConflict):
            reopened.execute(other, ORGANISER)
        assert event_count(reopened) == count


def test_execute_turns_a_lost_race_into_a_concurrency_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given two ledgers on one file; the second reads the campaign, then the first writes
    with Ledger.open(url(tmp_path)) as first, Ledger.open(url(tmp_path)) as second:
        campaign_id = plan_campaign(first, launch=False)
        stale = EventLog.of(second).repository.get(campaign_id)
        first.execute(
            c.EnlistDepartment(campaign_id=campaign_id, code="XA-AGF", name_zh="市农林委", name_en="Agriculture"),
            ORGANISER,
        )
        monkeypatch.setattr(EventLog.of(second).repository, "get", lambda *_a, **_k: stale)
        count = event_count(first)
        # when the second executes a command decided on the stale version
        with pytest.raises(ConcurrencyConflict):
            second.execute(
                c.EnlistDepartment(campaign_id=campaign_id, code="XA-EDU", name_zh="市教育局", name_en="Education"),
                ORGANISER,
            )
        # then nothing more is recorded
        assert event_count(first) == count


def test_sqlite_urls_follow_sqlalchemy_conventions(tmp_path: Path) -> None:
    assert env_for("sqlite:///relative.db")["SQLITE_DBNAME"] == "relative.db"
    assert env_for(f"sqlite:///{tmp_path}/abs.db")["SQLITE_DBNAME"] == f"{tmp_path}/abs.db"
    assert env_for("sqlite://")["SQLITE_DBNAME"] == ":memory:"
    assert env_for("memory://")["PERSISTENCE_MODULE"] == "eventsourcing.popo"


def test_an_inspection_recorded_by_its_department_reads_back_after_reopen(tmp_path: Path) -> None:
    # given an inspection with a sample, in a file
    with Ledger.open(url(tmp_path)) as ledger:
        campaign_id = plan_campaign(ledger)
        inspection_id = ledger.execute(
            c.PlanInspection(
                campaign_id=campaign_id,
                reference="XA-QTS-2017-电线-01",
                inspecting_department="XA-QTS",
                inspection_kind="supervision spot check",
                subject_name="陕西某电缆有限公司",
                product_category="电线电缆 wires and cables",
                planned_on=date(2017, 9, 4),
            ),
            QTS,
        ).aggregate_id
        ledger.execute(
            c.TakeSample(
                inspection_id=inspection_id,
                sample_id="S-1",
                product="BV 2.5mm²",
                batch="20170801",
                taken_on=date(2017, 9, 5),
            ),
            QTS,
        )
    # when reopened
    with Ledger.open(url(tmp_path)) as reopened:
        state = reopened.get(inspection_id)
    # then the Unicode payload and the metadata are intact
    assert state.samples[0].product == "BV 2.5mm²"  # type: ignore[attr-defined]
    assert state.subject.name == "陕西某电缆有限公司"  # type: ignore[attr-defined]


def test_sqlite_url_parameters_are_checked_and_reach_the_store(tmp_path: Path) -> None:
    # the lock timeout reaches eventsourcing; 30 s unless the URL says
    assert env_for(f"sqlite:///{tmp_path}/a.db")["SQLITE_LOCK_TIMEOUT"] == "30"
    assert env_for(f"sqlite:///{tmp_path}/a.db?lock_timeout=2")["SQLITE_LOCK_TIMEOUT"] == "2"
    # a path that SQLite would read as a URI stays a path
    assert env_for("sqlite:///file:odd.db")["SQLITE_DBNAME"] == "./file:odd.db"
    # and anything else is refused rather than becoming part of the file name
    for query in ("lock_timeout=-1", "mode=rw", "cache=shared"):
        with pytest.raises(ConfigurationError):
            env_for(f"sqlite:///{tmp_path}/a.db?{query}")
