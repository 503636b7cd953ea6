"""How ``execute_many`` saves work without changing what it records: it reads
a chunk ahead and asks the store once per chunk (not once per command)
which new ids exist and which keys were recorded, snapshots from the
aggregates it holds, and still raises the input's own error in its turn.

The log, views and receipts it records are compared with ``execute`` one by
one in test_execute_many.py; these tests pin down the shortcuts themselves,
on every engine.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.base import LedgerAggregate, Snapshot
from quality_ledger.domain.campaign import Campaign, unsaved_children
from quality_ledger.errors import BatchRefused, IllegalTransition, InvariantViolated, LedgerError
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Changes, CommandContext, handle
from quality_ledger.store.firsts import GROUP, first_events
from tests.conftest import ORGANISER, QTS
from tests.integration.test_execute_many import Pair, launched_campaign_pairs


def activity_pairs(campaign_id: UUID, count: int, reports: int = 0, *, keyed: bool = False) -> list[Pair]:
    """``count`` activities planned and started, each with ``reports`` progress reports."""
    pairs: list[Pair] = []
    for n in range(count):
        plan = c.PlanActivity(
            campaign_id=campaign_id,
            title=f"visit {n}",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            targets={"enterprises": 9},
        )
        steps: list[c.Command] = [plan, c.StartActivity(activity_id=plan.new_id(), started_on=date(2017, 9, 2))]
        steps += [
            c.ReportProgress(activity_id=plan.new_id(), metric="enterprises", amount=1, reported_on=date(2017, 9, 3))
            for _ in range(reports)
        ]
        pairs += [
            (s.model_copy(update={"idempotency_key": f"{n}-{i}"}) if keyed else s, QTS) for i, s in enumerate(steps)
        ]
    return pairs


class Asked:
    """Counts the per-aggregate questions a batch puts to the store."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.exists = self.history = 0
        log = EventLog.of(ledger)
        exists, history = log.exists, log.history

        def counted_exists(aggregate_id: UUID) -> bool:
            self.exists += 1
            return exists(aggregate_id)

        def counted_history(aggregate_id: UUID) -> list[Any]:
            self.history += 1
            return history(aggregate_id)

        monkeypatch.setattr(log, "exists", counted_exists)
        monkeypatch.setattr(log, "history", counted_history)


# One question per chunk --------------------------------------------------------------------


def test_a_batch_asks_the_store_per_chunk_not_per_command_whether_its_new_ids_exist(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a launched campaign, and a batch planning 30 activities in it
    campaign_id, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs)
    asked = Asked(ledger, monkeypatch)
    # when the batch runs in chunks of 8
    summary = ledger.execute_many(activity_pairs(campaign_id, 30), chunk_size=8)
    # then every activity was planned and started, and no command asked the store about its id alone
    assert (summary.commands, summary.chunks) == (60, 8)
    assert ledger.get(campaign_id).activities == 30  # type: ignore[attr-defined]
    assert asked.exists == 0
    # and the hash chain over what the chunks appended verifies
    assert ledger.verify().ok


def test_a_keyed_batch_finds_its_recorded_keys_per_chunk_and_records_nothing_twice(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a keyed batch recorded once
    campaign_id, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs)
    keyed = activity_pairs(campaign_id, 10, reports=2, keyed=True)
    first = list(ledger.execute_each(keyed, chunk_size=7))
    position = ledger.position()
    asked = Asked(ledger, monkeypatch)
    # when it runs again, and once more with one key used for another command
    again = ledger.execute_each(keyed, chunk_size=7)
    receipts = list(again)
    # then it gives the first receipts, records nothing, and asked about no key alone
    assert receipts == first
    assert again.summary.repeated == len(keyed)
    assert ledger.position() == position
    assert (asked.exists, asked.history) == (0, 0)
    assert ledger.verify().ok
    # and a key recorded for another command is still refused, by index
    other = c.ReportProgress(activity_id=uuid4(), metric="enterprises", amount=5, reported_on=date(2017, 9, 3))
    clash = [*keyed[:3], (other.model_copy(update={"idempotency_key": keyed[3][0].idempotency_key}), QTS)]
    with pytest.raises(BatchRefused, match=r"^command 3 \(ReportProgress\): IdempotencyConflict: "):
        ledger.execute_many(clash)
    assert ledger.position() == position


def test_an_id_stored_before_the_batch_is_refused_as_execute_refuses_it(ledger: Ledger) -> None:
    # given an activity planned one by one
    campaign_id, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs)
    planned = activity_pairs(campaign_id, 1)[0]
    ledger.execute(*planned)
    # when a batch plans it again after other plans of its chunk, then that command is refused by index
    batch = [*activity_pairs(campaign_id, 3)[2:], planned]
    with pytest.raises(
        BatchRefused, match=r"^command 4 \(PlanActivity\): InvariantViolated: \[activity-unique\]"
    ) as refused:
        ledger.execute_many(batch)
    assert isinstance(refused.value.cause, InvariantViolated)
    assert ledger.get(campaign_id).activities == 1  # type: ignore[attr-defined]


def test_the_first_events_of_many_aggregates_come_in_one_answer(ledger: Ledger) -> None:
    # given a campaign with more activities than one statement asks about
    campaign_id, pairs = launched_campaign_pairs()
    plans = [p for p, _ in activity_pairs(campaign_id, GROUP + 3) if isinstance(p, c.PlanActivity)]
    ledger.execute_many([*pairs, *((p, QTS) for p in plans)])
    activities = [p.new_id() for p in plans]
    absent = [uuid4() for _ in range(3)]
    log = EventLog.of(ledger)
    # when their first events are asked for, with absent ids among them
    found = first_events(log.recorder, [*absent, campaign_id, *activities, campaign_id])
    # then each stored one gives its version-1 event as stored, and the absent ones nothing
    assert set(found) == {campaign_id, *activities}
    assert all(row.originator_version == 1 for row in found.values())
    for aggregate_id in (campaign_id, activities[0], activities[-1]):
        stored = log.recorder.select_events(aggregate_id, lte=1)[0]
        assert (found[aggregate_id].topic, bytes(found[aggregate_id].state)) == (stored.topic, bytes(stored.state))
        assert found[aggregate_id].originator_id == aggregate_id
    assert first_events(log.recorder, []) == {}


def test_a_store_that_fails_the_chunks_question_stops_the_batch_as_a_ledger_error(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a store whose query for a chunk's ids fails as a driver fails
    def failing(*_: object) -> dict[UUID, Any]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("quality_ledger.batches.first_events", failing)
    _, pairs = launched_campaign_pairs()
    # when a batch runs, then it stops as the ledger's own error, naming where, having recorded nothing
    with pytest.raises(LedgerError, match=r"^batch stopped at command 0, none recorded from command 0 on: ") as stopped:
        ledger.execute_many(pairs)
    assert not isinstance(stopped.value, BatchRefused)
    assert "disk I/O error" in str(stopped.value)
    assert ledger.position() == 0


# Snapshots from what the batch holds ---------------------------------------------------------


def replayed(ledger: Ledger, aggregate_id: UUID, version: int) -> Any:
    """The aggregate at ``version``, replayed from its stored events alone (no snapshot)."""
    aggregate = None
    for event in EventLog.of(ledger).history(aggregate_id)[:version]:
        aggregate = event.mutate(aggregate)
    return aggregate


def stored_snapshots(ledger: Ledger, ids: list[UUID]) -> list[Snapshot]:
    return [s for i in ids for s in EventLog.of(ledger).snapshots.get(i)]  # type: ignore[misc]


@pytest.mark.parametrize("clock", [False, True])
def test_snapshots_taken_from_the_batch_hold_what_the_store_gives(ledger: Ledger, clock: bool) -> None:
    # given snapshots every 3 versions, and (or not) a ledger clock
    if clock:
        ledger.clock = lambda: datetime(2017, 9, 1, 8, tzinfo=UTC)
    EventLog.of(ledger).snapshot_every = 3
    campaign_id, pairs = launched_campaign_pairs()
    batch = [*pairs, *activity_pairs(campaign_id, 4, reports=4)]
    # when a batch records them in chunks of 5
    ledger.execute_many(batch, chunk_size=5)
    # then each aggregate has a snapshot at each multiple of 3 it reached
    ids = [campaign_id, *(p.new_id() for p, _ in batch if isinstance(p, c.PlanActivity))]
    snapshots = stored_snapshots(ledger, ids)
    versions = {(i, v) for i in ids for v in range(3, ledger.get(i).version + 1, 3)}
    assert {(s.originator_id, s.originator_version) for s in snapshots} == versions
    # and each holds what a snapshot of the replayed aggregate holds: state, created and modified on
    for snapshot in snapshots:
        expected = Snapshot.take(replayed(ledger, snapshot.originator_id, snapshot.originator_version))
        assert (snapshot.topic, snapshot.fingerprint, snapshot.state) == (
            expected.topic,
            expected.fingerprint,
            expected.state,
        )


def test_an_aggregate_a_command_moved_past_its_snapshot_version_is_snapshotted_from_the_store(
    ledger: Ledger,
) -> None:
    # given a handler that reports progress twice per command, and snapshots every 3 versions
    def twice(command: c.Command, ctx: CommandContext) -> Changes:
        changes = handle(command, ctx)
        if isinstance(command, c.ReportProgress):
            activity: LedgerAggregate[Any] = changes.primary
            activity.report_progress(command.metric, command.amount, command.reported_on)  # type: ignore[attr-defined]
        return changes

    ledger.handle = twice  # type: ignore[method-assign,assignment]
    EventLog.of(ledger).snapshot_every = 3
    campaign_id, pairs = launched_campaign_pairs()
    batch = [*pairs, *activity_pairs(campaign_id, 1, reports=3)]
    # when the batch runs (the activity goes to 1, 2, then 3-4, 5-6, 7-8: version 3 is
    # passed inside a command, 6 ends one)
    ledger.execute_many(batch)
    activity = batch[3][0].new_id()  # type: ignore[attr-defined]
    # then the activity is snapshotted at 3 and 6, each as the store replays it
    snapshots = stored_snapshots(ledger, [activity])
    assert sorted(s.originator_version for s in snapshots) == [3, 6]
    for snapshot in snapshots:
        assert snapshot.state == Snapshot.take(replayed(ledger, activity, snapshot.originator_version)).state


# What a kept campaign remembers -------------------------------------------------------------


def test_a_campaign_the_batch_keeps_forgets_the_children_once_the_store_has_them(ledger: Ledger) -> None:
    # given a batch planning 5 activities (left unfinished) in chunks of 4
    campaign_id, pairs = launched_campaign_pairs()
    receipts = ledger.execute_each([*pairs, *activity_pairs(campaign_id, 5)], chunk_size=4)
    receipts.drain()
    # then the campaign it keeps loaded holds none of the events that added them
    campaign = receipts.aggregates.loaded(campaign_id)
    assert isinstance(campaign, Campaign)
    assert unsaved_children(campaign, 0) == []
    # and a batch concluding it still finds all 5, from the store
    conclude = c.ConcludeCampaign(campaign_id=campaign_id, concluded_on=date(2017, 9, 30), summary="done")
    with pytest.raises(BatchRefused, match="5 activities are neither completed nor cancelled"):
        ledger.execute_many([*activity_pairs(campaign_id, 0), (conclude, ORGANISER)])


# The input's own errors, in their turn ---------------------------------------------------------


def test_an_input_that_fails_midway_stops_the_batch_after_the_chunks_before_it(ledger: Ledger) -> None:
    # given an input whose sixth item cannot be read
    campaign_id, pairs = launched_campaign_pairs()
    planned = activity_pairs(campaign_id, 2)

    def broken() -> Iterator[Pair]:
        yield from [*pairs, *planned]
        raise OSError("the import file went away")

    # when it runs in chunks of 4, then the input's own error stops it, after the first chunk was recorded
    receipts = ledger.execute_each(broken(), chunk_size=4)
    with pytest.raises(OSError, match="the import file went away"):
        list(receipts)
    assert receipts.summary.commands == 4
    assert ledger.get(campaign_id).activities == 1  # type: ignore[attr-defined]
    assert ledger.history(campaign_id)[-1].name == "Campaign.ActivityAdded"


def test_a_refused_command_read_before_the_inputs_error_is_what_the_batch_reports(ledger: Ledger) -> None:
    # given a second launch of the campaign, then an input that fails
    campaign_id, pairs = launched_campaign_pairs()
    relaunch = (c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 2)), ORGANISER)

    def broken() -> Iterator[Pair]:
        yield from [*pairs, relaunch]
        raise OSError("the import file went away")

    # when it runs as one chunk, then the refusal comes first, in its turn, and nothing is recorded
    with pytest.raises(BatchRefused, match=r"^command 3 \(LaunchCampaign\)") as refused:
        ledger.execute_many(broken())
    assert isinstance(refused.value.cause, IllegalTransition)
    assert ledger.position() == 0


# The garbage collector -----------------------------------------------------------------------


def test_the_garbage_collector_is_paused_while_a_chunk_is_decided_and_restored_after(ledger: Ledger) -> None:
    # given an input that notes whether the collector runs as each pair is read
    campaign_id, pairs = launched_campaign_pairs()
    running: list[bool] = []

    def noted(items: list[Pair]) -> Iterator[Pair]:
        for item in items:
            running.append(gc.isenabled())
            yield item

    # when a batch reads it, and another is refused
    ledger.execute_many(noted(pairs))
    relaunch = (c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 2)), ORGANISER)
    with pytest.raises(BatchRefused):
        ledger.execute_many(noted([relaunch]))
    # then it was paused for each pair, and runs again after either
    assert running == [False] * 4
    assert gc.isenabled()
    # and a collector the caller turned off stays off
    gc.disable()
    try:
        ledger.execute_many(activity_pairs(campaign_id, 1))
        assert not gc.isenabled()
    finally:
        gc.enable()
