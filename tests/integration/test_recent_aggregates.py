"""The writer keeps the aggregates it decided on and brings them up to date
from the store on every use (``quality_ledger.recent``): decisions still see
every other writer's events, a refused command leaves nothing behind, and
nothing is held longer than a key is trusted, nor past a ``forget``."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError

from quality_ledger import Ledger, execute_with_retry
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.errors import IntegrityError, InvariantViolated
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Changes, CommandContext
from quality_ledger.privacy.keys import CACHE_SECONDS
from quality_ledger.recent import RecentAggregates
from tests.conftest import QTS, plan_campaign, started_activity
from tests.integration.test_privacy import EMPLOYER, OFFICER, PERSON, POLICY, approved_nominee

DAY = date(2017, 9, 3)


def progress(activity_id: UUID, amount: int = 1) -> c.ReportProgress:
    return c.ReportProgress(activity_id=activity_id, metric="enterprises", amount=amount, reported_on=DAY)


def test_a_writer_decides_on_what_another_writer_recorded_since(durable_url: str) -> None:
    # given: two writers on one store, the first holding the activity it decided on
    with Ledger.open(durable_url) as first, Ledger.open(durable_url) as second:
        activity_id = started_activity(first, plan_campaign(first))
        first.execute(progress(activity_id), QTS)
        assert EventLog.of(first).recent.holds(activity_id)
        # when: the second records progress and completes it, then the first reports more
        second.execute(progress(activity_id, 2), QTS)
        second.execute(c.CompleteActivity(activity_id=activity_id, completed_on=DAY, outcome="done"), QTS)
        # then: the first decides on the completed activity, as the store has it
        with pytest.raises(Exception, match="complete") as refused:
            first.execute(progress(activity_id), QTS)
        assert type(refused.value).__name__ == "IllegalTransition"
        state = first.get(activity_id)
        assert (state.version, state.status) == (5, "completed")  # type: ignore[attr-defined]
        assert [(p.metric, p.achieved) for p in state.progress] == [("enterprises", 3)]  # type: ignore[attr-defined]


def test_a_command_refused_half_way_leaves_the_held_aggregate_as_it_was(ledger: Ledger) -> None:
    # given: an activity the writer holds, and a handler that changes it, then refuses
    activity_id = started_activity(ledger, plan_campaign(ledger))
    ledger.execute(progress(activity_id), QTS)
    position = ledger.position()

    def half_way(command: c.Command, ctx: CommandContext) -> Changes:
        activity = ctx.load(Activity, activity_id)
        activity.report_progress("enterprises", 40, DAY)  # an event on the held aggregate's copy
        raise InvariantViolated("test-rule", "refused after a change")

    ledger.handle = half_way  # type: ignore[method-assign,assignment]
    with pytest.raises(InvariantViolated):
        ledger.execute(progress(activity_id), QTS)
    del ledger.handle
    # when: the next command is decided
    receipt = ledger.execute(progress(activity_id), QTS)
    # then: on the activity as stored: nothing of the refused command in it
    assert ledger.position() == position + 1
    assert receipt.version == 4
    assert [p.achieved for p in ledger.get(activity_id).progress] == [2]  # type: ignore[attr-defined]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_aggregate_is_held_no_longer_than_a_key_is_trusted_then_loaded_afresh() -> None:
    with Ledger.open("memory://") as ledger:
        activity_id = started_activity(ledger, plan_campaign(ledger))
        clock = Clock()
        recent = RecentAggregates(EventLog.of(ledger).repository, clock=clock)
        loads: list[UUID] = []
        repository: Any = recent.repository
        load = repository.get
        repository.get = lambda aggregate_id, **kw: loads.append(aggregate_id) or load(aggregate_id, **kw)
        try:
            first = recent.get(activity_id)
            clock.now = CACHE_SECONDS - 1
            held = recent.get(activity_id)
            clock.now = CACHE_SECONDS
            again = recent.get(activity_id)
        finally:
            del repository.get
        # loaded, held (a copy each time, never the one kept), then loaded again once the minute is up
        assert loads == [activity_id, activity_id]
        assert first is not held
        assert first.version == held.version == again.version == 2


def test_the_writer_keeps_at_most_its_bound_least_recently_used_dropped_first() -> None:
    with Ledger.open("memory://") as ledger:
        campaign_id = plan_campaign(ledger)
        ids = [started_activity(ledger, campaign_id, f"visit {n}") for n in range(3)]
        recent = RecentAggregates(EventLog.of(ledger).repository, keep=2)
        recent.get(ids[0])
        recent.get(ids[1])
        recent.get(ids[0])  # used again: the most recent
        recent.get(ids[2])
        assert len(recent) == 2
        assert [recent.holds(i) for i in ids] == [True, False, True]
        with pytest.raises(AggregateNotFoundError):
            recent.get(UUID(int=7))
        assert len(recent) == 2


def test_a_row_damaged_after_the_aggregate_was_held_is_an_integrity_error_and_the_aggregate_is_dropped(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        activity_id = started_activity(ledger, plan_campaign(ledger))
        ledger.execute(progress(activity_id), QTS)  # held at version 3
        with Ledger.open(url) as other:
            other.execute(progress(activity_id), QTS)  # version 4, not yet read by the first writer
        with sqlite3.connect(tmp_path / "ledger.db") as db:
            db.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 4",
                (b'{"broken": true}', activity_id.hex),
            )
        recent = EventLog.of(ledger).recent
        with pytest.raises(IntegrityError, match="cannot be read"):
            ledger.execute(progress(activity_id), QTS)
        assert not recent.holds(activity_id)
        assert ledger.verify().ok is False


def test_forget_empties_what_the_writer_holds(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}", policy=POLICY) as ledger:
        commendation_id = approved_nominee(ledger)  # the review decided on the nomination: held, with her name
        recent = EventLog.of(ledger).recent
        assert recent.holds(commendation_id)
        ledger.forget(f"nominee:{PERSON}@{EMPLOYER}", reason="request", actor=OFFICER)
        assert len(recent) == 0


def test_threads_sharing_a_ledger_record_every_command_once_on_one_activity(durable_url: str) -> None:
    # given: one ledger, one activity, four threads reporting progress on it at once
    threads, each = 4, 25
    with Ledger.open(durable_url) as ledger:
        activity_id = started_activity(ledger, plan_campaign(ledger))
        start = threading.Barrier(threads)

        def report() -> int:
            start.wait(timeout=60)
            for _ in range(each):
                execute_with_retry(ledger, lambda: progress(activity_id), QTS, attempts=200, backoff=0.001)
            return each

        # when: they all run (a conflict is retried, the writer's held activity fast-forwarded)
        with ThreadPoolExecutor(threads) as pool:
            done = sum(pool.map(lambda _: report(), range(threads)))
        # then: every command recorded once, on the activity as the store has it
        state = ledger.get(activity_id)
        assert done == threads * each
        assert [p.achieved for p in state.progress] == [threads * each]  # type: ignore[attr-defined]
        assert state.version == 2 + threads * each
        assert ledger.verify().ok
        receipt = ledger.execute(progress(activity_id), QTS)
        assert receipt.version == state.version + 1
