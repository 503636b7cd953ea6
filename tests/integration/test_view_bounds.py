"""Views no accepted command can poison, and a stuck view that stops nothing else.

Bounded commands keep every value inside what each engine's view columns
hold; an event an earlier version could record beyond them (stored here by
going around the rules, as such a log would hold it) stops the views with a
ProjectionFailed naming that event, whichever step of the batch failed,
while ``execute`` and ``verify`` go on.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.values import MAX_COUNT
from quality_ledger.errors import ProjectionFailed
from quality_ledger.eventlog import EventLog
from tests.conftest import QTS, plan_campaign


def started_activity(ledger: Ledger, campaign_id: UUID) -> UUID:
    activity = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="experts into enterprises",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            targets={"enterprises": MAX_COUNT},
        ),
        QTS,
    ).aggregate_id
    ledger.execute(c.StartActivity(activity_id=activity, started_on=date(2017, 9, 2)), QTS)
    return activity


def report(ledger: Ledger, activity: UUID, amount: int = 1) -> None:
    ledger.execute(
        c.ReportProgress(activity_id=activity, metric="enterprises", amount=amount, reported_on=date(2017, 9, 3)), QTS
    )


def record_as_an_earlier_version_could(ledger: Ledger, activity_id: UUID, **fields: Any) -> int:
    """Store a progress report no command accepts now (the rules are gone round); its position."""
    activity: Activity = EventLog.of(ledger).repository.get(activity_id)
    activity.trigger_event(Activity.ProgressReported, reported_on=date(2017, 9, 4), **fields)
    EventLog.of(ledger).save(activity)
    return ledger.position()


def test_counts_beyond_32_bits_project_on_every_engine(ledger: Ledger) -> None:
    # given an activity whose target is the largest count
    campaign_id = plan_campaign(ledger)
    activity = started_activity(ledger, campaign_id)
    # when three reports of the largest amount add up past 2**31 (PostgreSQL's INTEGER)
    for _ in range(3):
        report(ledger, activity, MAX_COUNT)
    # then the views hold the exact sum
    (target,) = ledger.campaign_status(campaign_id).targets
    assert target.achieved == 3 * MAX_COUNT > 2**31
    assert ledger.verify_views().ok


def test_a_write_the_database_refuses_stops_the_views_naming_the_event_and_leaving_its_batch_out(
    ledger: Ledger,
) -> None:
    # given views up to date, then a batch of good reports around one of 2**63 (beyond BIGINT and SQLite's INTEGER)
    activity = started_activity(ledger, plan_campaign(ledger))
    ledger.views.catch_up()
    before = ledger.views.position()
    report(ledger, activity)
    poison = record_as_an_earlier_version_could(ledger, activity, metric="enterprises", amount=2**63)
    report(ledger, activity)
    # when the views catch up: the handlers run, and the database refuses the batch's rows
    with pytest.raises(ProjectionFailed) as failed:
        ledger.views.catch_up()
    # then the error names the event, not the batch, and the batch left the views untouched
    assert failed.value.position == poison
    assert failed.value.topic.endswith("Activity.ProgressReported")
    assert not isinstance(failed.value.__cause__, ProjectionFailed)
    assert ledger.views.position() == before


def test_a_stuck_view_stops_neither_execute_nor_verify(ledger: Ledger) -> None:
    # given views stuck on an event they cannot hold
    campaign_id = plan_campaign(ledger)
    activity = started_activity(ledger, campaign_id)
    poison = record_as_an_earlier_version_could(ledger, activity, metric="enterprises", amount=2**64)
    # when commands go on being executed
    report(ledger, activity, 5)
    receipt = ledger.execute(c.CompleteActivity(activity_id=activity, completed_on=date(2017, 9, 5), outcome="ok"), QTS)
    # then they are recorded, the log verifies, and every query says why the views are stuck
    assert receipt.events == ("Activity.Completed",)
    assert ledger.get(activity).status == "completed"  # type: ignore[attr-defined]
    assert ledger.verify().ok
    with pytest.raises(ProjectionFailed) as failed:
        ledger.campaign_status(campaign_id)
    assert failed.value.position == poison


def test_a_nul_an_earlier_version_recorded_stops_postgresql_views_with_a_projection_failure(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        # given a postponement whose reason holds a NUL (PostgreSQL text cannot)
        campaign_id = plan_campaign(ledger)
        activity: Activity = EventLog.of(ledger).repository.get(
            ledger.execute(
                c.PlanActivity(
                    campaign_id=campaign_id, title="a visit", lead_department="XA-QTS", focus_area="craftsman-spirit"
                ),
                QTS,
            ).aggregate_id
        )
        activity.trigger_event(Activity.Postponed, reason="rain\x00")
        EventLog.of(ledger).save(activity)
        poison = ledger.position()
        # when the views catch up, then the failure names that event
        with pytest.raises(ProjectionFailed) as failed:
            ledger.views.catch_up()
        assert failed.value.position == poison
        assert failed.value.topic.endswith("Activity.Postponed")


def test_a_failed_commit_is_a_projection_failure_naming_the_batch(ledger: Ledger) -> None:
    # given events the views have not applied, and a database that refuses the next commit
    plan_campaign(ledger)
    first = ledger.views.position() + 1
    head = ledger.position()

    def refuse(_: Any) -> None:
        msg = "disk full"
        raise OSError(msg)

    event.listen(ledger.views.engine, "commit", refuse)
    # when the views catch up
    with pytest.raises(ProjectionFailed) as failed:
        ledger.views.catch_up()
    # then the error names the batch's positions and the cause, and nothing was applied
    assert failed.value.position == first
    assert f"positions {first} to {head}" in str(failed.value)
    assert "OSError: disk full" in str(failed.value)
    event.remove(ledger.views.engine, "commit", refuse)
    assert ledger.views.position() == first - 1
    ledger.views.catch_up()
    assert ledger.views.position() == head
