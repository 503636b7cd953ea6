"""Snapshots cannot break reads: a stale or unreadable one is ignored, replayed around, and replaced.

Each test plants a snapshot row through eventsourcing's own recorder API, so
the row is exactly what an earlier release, a changed state model or a
damaged disk would leave, on memory, SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.base import AggregateState, Snapshot, state_fingerprint
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.values import ActivityKind, FocusArea
from quality_ledger.errors import IllegalTransition
from quality_ledger.eventlog import EventLog
from quality_ledger.snapshots import SnapshotStore
from tests.conftest import ORGANISER, plan_campaign

STALE_AT = 4
"""The campaign's version after planning, two enlistments and the launch: where the planted snapshot sits."""
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


def snapshots(ledger: Ledger) -> SnapshotStore:
    store = EventLog.of(ledger).snapshots
    assert isinstance(store, SnapshotStore)
    return store


def replayed(ledger: Ledger, aggregate_id: UUID, version: int | None = None) -> AggregateState:
    """The state from the first event, no snapshot: what every read must equal."""
    view: AggregateState = (
        Repository(event_store=EventLog.of(ledger).aggregate_events).get(aggregate_id, version=version).view()
    )
    return view


def campaign_past_a_snapshot(ledger: Ledger) -> UUID:
    """A campaign at version 5, and no snapshot taken automatically (the test plants its own at 4)."""
    EventLog.of(ledger).snapshot_every = 10**9
    campaign_id = plan_campaign(ledger)
    command = c.PlanActivity(
        campaign_id=campaign_id,
        title="Quality Month opening ceremony",
        lead_department="XA-QTS",
        focus_area=FocusArea.LIVELIHOOD,
        activity_kind=ActivityKind.PUBLICITY,
    )
    ledger.execute(command, ORGANISER)
    assert ledger.get(campaign_id).version == STALE_AT + 1
    return campaign_id


def good_snapshot_payload(ledger: Ledger, campaign_id: UUID) -> dict[str, Any]:
    """What a current snapshot at STALE_AT holds, as stored JSON: the planted ones are made from it."""
    aggregate = Repository(event_store=EventLog.of(ledger).aggregate_events).get(campaign_id, version=STALE_AT)
    row = snapshots(ledger).mapper.to_stored_event(Snapshot.take(aggregate))
    payload: dict[str, Any] = json.loads(row.state)
    return payload


def another_fingerprint(payload: dict[str, Any]) -> tuple[str, bytes]:
    """A valid state, but wrong (a changed title), taken with another state model: trusted, it would show."""
    payload["state"]["state"]["title"] = "a title no event ever recorded"
    payload["fingerprint"] = "0" * 64
    return "quality-ledger/Snapshot", json.dumps(payload).encode()


def written_by_0_1(payload: dict[str, Any]) -> tuple[str, bytes]:
    """As 0.1.0 wrote snapshots: a module-path topic, no class_version, no fingerprint (and a wrong title)."""
    payload.pop("class_version")
    payload.pop("fingerprint")
    payload["topic"] = "quality_ledger.domain.campaign:Campaign"
    payload["state"]["state"]["title"] = "a title no event ever recorded"
    return "quality_ledger.domain.base:Snapshot", json.dumps(payload).encode()


def state_does_not_fit(payload: dict[str, Any]) -> tuple[str, bytes]:
    """The current fingerprint, but a state the model refuses (a field it no longer has, one it lacks)."""
    del payload["state"]["state"]["organiser"]
    payload["state"]["state"]["retired_field"] = 1
    return "quality-ledger/Snapshot", json.dumps(payload).encode()


def unreadable(payload: dict[str, Any]) -> tuple[str, bytes]:
    """Damaged bytes: not even JSON."""
    return "quality-ledger/Snapshot", b"\x00\xffnot a snapshot"


def unknown_topic(payload: dict[str, Any]) -> tuple[str, bytes]:
    """A snapshot class no version of the code has."""
    return "quality-ledger/NoSuchSnapshot", json.dumps(payload).encode()


STALE: dict[str, Callable[[dict[str, Any]], tuple[str, bytes]]] = {
    "another-fingerprint": another_fingerprint,
    "written-by-0.1.0": written_by_0_1,
    "state-does-not-fit": state_does_not_fit,
    "unreadable": unreadable,
    "unknown-topic": unknown_topic,
}


def plant(ledger: Ledger, campaign_id: UUID, topic: str, state: bytes) -> None:
    row = StoredEvent(originator_id=campaign_id, originator_version=STALE_AT, topic=topic, state=state)
    snapshots(ledger).recorder.insert_events([row])


def snapshot_rows(ledger: Ledger, campaign_id: UUID) -> list[StoredEvent]:
    return list(snapshots(ledger).recorder.select_events(campaign_id))


def assert_replaced_by_a_current_snapshot(ledger: Ledger, campaign_id: UUID) -> None:
    rows = snapshot_rows(ledger, campaign_id)
    assert [r.originator_version for r in rows] == [STALE_AT]  # overwritten in place, nothing added
    snapshot = snapshots(ledger).mapper.to_domain_event(rows[0])
    assert isinstance(snapshot, Snapshot)
    assert snapshot.fingerprint == state_fingerprint(Campaign)
    assert snapshot.is_current()
    assert snapshot.mutate(None).view() == replayed(ledger, campaign_id, STALE_AT)


@pytest.mark.parametrize("stale", list(STALE))
def test_a_stale_snapshot_is_replayed_around_and_replaced(
    ledger: Ledger, stale: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given: a campaign past version 4, and a snapshot at 4 that must not be trusted
    campaign_id = campaign_past_a_snapshot(ledger)
    plant(ledger, campaign_id, *STALE[stale](good_snapshot_payload(ledger, campaign_id)))
    # when: it is read
    with caplog.at_level(logging.INFO, logger="quality_ledger.snapshots"):
        state = ledger.get(campaign_id)
    # then: the state is the full replay's, never an error, and the stale snapshot was replaced
    assert state == replayed(ledger, campaign_id)
    assert state.title == "Xi'an 2017 Quality Month"  # type: ignore[attr-defined]
    assert_replaced_by_a_current_snapshot(ledger, campaign_id)
    assert any("replaced" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("stale", ["another-fingerprint", "state-does-not-fit"])
def test_a_read_at_an_earlier_or_the_stale_version_is_right_too(ledger: Ledger, stale: str) -> None:
    # given
    campaign_id = campaign_past_a_snapshot(ledger)
    plant(ledger, campaign_id, *STALE[stale](good_snapshot_payload(ledger, campaign_id)))
    # when / then: below the snapshot it is not consulted; at its version it is replayed and replaced
    assert ledger.get(campaign_id, version=STALE_AT - 1) == replayed(ledger, campaign_id, STALE_AT - 1)
    assert ledger.get(campaign_id, version=STALE_AT) == replayed(ledger, campaign_id, STALE_AT)
    assert_replaced_by_a_current_snapshot(ledger, campaign_id)
    # and: the replacement is then used, and gives the same answer
    assert ledger.get(campaign_id) == replayed(ledger, campaign_id)


def test_a_current_snapshot_is_used_as_it_is(ledger: Ledger) -> None:
    # given: a snapshot taken with today's model, whose (planted) title differs from the events'
    campaign_id = campaign_past_a_snapshot(ledger)
    payload = good_snapshot_payload(ledger, campaign_id)
    payload["state"]["state"]["title"] = "from the snapshot"
    plant(ledger, campaign_id, "quality-ledger/Snapshot", json.dumps(payload).encode())
    # when / then: it is trusted (which is what makes a stale one dangerous), and left alone
    assert ledger.get(campaign_id).title == "from the snapshot"  # type: ignore[attr-defined]
    assert snapshot_rows(ledger, campaign_id)[0].state == json.dumps(payload).encode()


def test_commands_after_a_stale_snapshot_decide_on_the_replayed_state(ledger: Ledger) -> None:
    # given: a stale snapshot that, trusted, would show the campaign not yet launched
    campaign_id = campaign_past_a_snapshot(ledger)
    payload = good_snapshot_payload(ledger, campaign_id)
    payload["state"]["state"]["status"] = "planned"
    payload["fingerprint"] = "0" * 64
    plant(ledger, campaign_id, "quality-ledger/Snapshot", json.dumps(payload).encode())
    launch = c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 2))
    # when: the organiser launches it again, with a writer that holds the campaign (it decided on it before)
    with pytest.raises(IllegalTransition):
        ledger.execute(launch, ORGANISER)
    # and with one that loads it from the store (a process that has not decided on it yet)
    EventLog.of(ledger).recent.clear()
    with pytest.raises(IllegalTransition):
        ledger.execute(launch, ORGANISER)
    # then: refused both times, as the events say it is launched; and the load replaced the snapshot
    assert_replaced_by_a_current_snapshot(ledger, campaign_id)


def test_a_read_only_ledger_answers_from_the_replay_and_leaves_the_stale_snapshot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given: a stale snapshot in a ledger file opened read-only
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as writer:
        campaign_id = campaign_past_a_snapshot(writer)
        planted = another_fingerprint(good_snapshot_payload(writer, campaign_id))
        plant(writer, campaign_id, *planted)
        expected = replayed(writer, campaign_id)
    with Ledger.open(f"{url}?mode=ro") as reader:
        # when: read twice
        with caplog.at_level(logging.WARNING, logger="quality_ledger.snapshots"):
            first = reader.get(campaign_id)
            second = reader.get(campaign_id)
        # then: right both times, no error; the failed replacement is logged once, not on every read
        assert first == second == expected
        assert snapshot_rows(reader, campaign_id)[0].state == planted[1]
    assert sum("could not be replaced" in r.getMessage() for r in caplog.records) == 1


def test_the_golden_logs_snapshot_without_a_fingerprint_is_replaced(tmp_path: Path) -> None:
    # given: a copy of the 0.1.0 golden log, whose snapshot has no fingerprint
    copy = tmp_path / "ledger.db"
    shutil.copyfile(GOLDEN / "0.1.0" / "ledger.db", copy)
    with Ledger.open(f"sqlite:///{copy}") as ledger:
        store = snapshots(ledger)
        [(aggregate_id, version)] = {
            (UUID(str(row.originator_id)), row.originator_version) for row in _all_snapshot_rows(copy)
        }
        before = store.mapper.to_domain_event(store.recorder.select_events(aggregate_id)[0])
        assert isinstance(before, Snapshot)
        assert before.fingerprint is None
        # when
        state = ledger.get(aggregate_id)
        # then: the replay's state, and a current snapshot at the same version
        assert state == replayed(ledger, aggregate_id)
        [row] = store.recorder.select_events(aggregate_id)
        after = store.mapper.to_domain_event(row)
        assert isinstance(after, Snapshot)
        assert after.originator_version == version
        assert after.is_current()
        assert after.mutate(None).view() == replayed(ledger, aggregate_id, version)


def _all_snapshot_rows(path: Path) -> list[StoredEvent]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT originator_id, originator_version, topic, state FROM stored_snapshots")
        return [StoredEvent(originator_id=UUID(hex=i), originator_version=v, topic=t, state=s) for i, v, t, s in rows]
    finally:
        connection.close()
