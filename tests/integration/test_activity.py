"""Activity rules: lead department, lifecycle, progress against targets, reasons."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.values import ActivityKind, ActivityStatus, FocusArea
from quality_ledger.errors import IllegalTransition, InvalidCommand, InvariantViolated
from tests.conftest import ORGANISER, QTS, event_count

TARGETS = {"experts": 58, "enterprises": 88}


def plan_activity(ledger: Ledger, campaign_id: UUID, *, lead: str = "XA-QTS") -> UUID:
    command = c.PlanActivity(
        campaign_id=campaign_id,
        title="Experts into enterprises",
        lead_department=lead,
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EXPERT_VISIT,
        targets=TARGETS,
    )
    return ledger.execute(command, ORGANISER).aggregate_id


def start(ledger: Ledger, activity_id: UUID, on: date = date(2017, 9, 5)) -> None:
    ledger.execute(c.StartActivity(activity_id=activity_id, started_on=on), QTS)


def report(ledger: Ledger, activity_id: UUID, metric: str, amount: int) -> None:
    ledger.execute(
        c.ReportProgress(activity_id=activity_id, metric=metric, amount=amount, reported_on=date(2017, 9, 15)), QTS
    )


def complete(ledger: Ledger, activity_id: UUID) -> None:
    ledger.execute(
        c.CompleteActivity(activity_id=activity_id, completed_on=date(2017, 9, 28), outcome="58 experts, 88 firms"),
        QTS,
    )


def started_domain_activity() -> Activity:
    activity = Activity.plan(
        uuid4(),
        campaign_id=uuid4(),
        title="Experts into enterprises",
        lead_department="XA-QTS",
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EXPERT_VISIT,
        targets=TARGETS,
    )
    activity.start(date(2017, 9, 5))
    return activity


# Planning ---------------------------------------------------------------------


def test_planning_an_activity_records_it_on_the_activity_and_its_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    activity_id = plan_activity(ledger, campaign_id)
    # then
    assert event_count(ledger) == before + 2
    assert ledger.history(activity_id)[0].name == "Activity.Planned"
    assert ledger.history(campaign_id)[-1].name == "Campaign.ActivityAdded"
    assert ledger.history(campaign_id)[-1].payload == {"activity_id": str(activity_id)}
    assert ledger.get(campaign_id).activities == 1
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.PLANNED
    assert {(p.metric, p.target, p.achieved) for p in activity.progress} == {("experts", 58, 0), ("enterprises", 88, 0)}


def test_the_lead_department_must_be_enlisted_in_the_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        plan_activity(ledger, campaign_id, lead="XA-TOU")
    # then
    assert refused.value.rule == "activity-lead-enlisted"
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).activities == 0


# Schedule and start -------------------------------------------------------------


def test_scheduling_sets_the_dates_and_place(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    # when
    receipt = ledger.execute(
        c.ScheduleActivity(
            activity_id=activity_id, starts_on=date(2017, 9, 6), ends_on=date(2017, 9, 26), place="高新区"
        ),
        QTS,
    )
    # then
    assert receipt.events == ("Activity.Scheduled",)
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.SCHEDULED
    assert (activity.starts_on, activity.ends_on, activity.place) == (date(2017, 9, 6), date(2017, 9, 26), "高新区")


def test_an_activity_cannot_be_scheduled_to_end_before_it_starts(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(
            c.ScheduleActivity(
                activity_id=activity_id, starts_on=date(2017, 9, 26), ends_on=date(2017, 9, 6), place="高新区"
            ),
            QTS,
        )
    # then
    assert refused.value.rule == "activity-period"
    assert event_count(ledger) == before


def test_starting_a_scheduled_activity_records_the_start_date(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    ledger.execute(
        c.ScheduleActivity(activity_id=activity_id, starts_on=date(2017, 9, 6), ends_on=date(2017, 9, 26), place="x"),
        QTS,
    )
    # when
    start(ledger, activity_id, date(2017, 9, 6))
    # then
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.STARTED
    assert activity.started_on == date(2017, 9, 6)
    assert ledger.history(activity_id)[-1].name == "Activity.Started"


def test_a_started_activity_cannot_start_again(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        start(ledger, activity_id, date(2017, 9, 7))
    # then
    assert event_count(ledger) == before
    assert ledger.get(activity_id).started_on == date(2017, 9, 5)


def test_a_cancelled_activity_cannot_start(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    ledger.execute(c.CancelActivity(activity_id=activity_id, reason="no venue"), QTS)
    # when
    with pytest.raises(IllegalTransition):
        start(ledger, activity_id)
    # then
    assert ledger.get(activity_id).status is ActivityStatus.CANCELLED


# Progress ---------------------------------------------------------------------


def test_progress_is_refused_before_the_activity_starts(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        report(ledger, activity_id, "experts", 10)
    # then
    assert event_count(ledger) == before


def test_progress_is_refused_after_the_activity_completed(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    complete(ledger, activity_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        report(ledger, activity_id, "experts", 10)
    # then
    assert event_count(ledger) == before


def test_progress_must_be_against_a_declared_target(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        report(ledger, activity_id, "lectures", 3)
    # then
    assert refused.value.rule == "progress-declared-metric"
    assert event_count(ledger) == before


def test_a_negative_progress_command_is_invalid() -> None:
    # given
    fields = {"activity_id": uuid4(), "metric": "experts", "amount": -5, "reported_on": date(2017, 9, 15)}
    # when
    with pytest.raises(InvalidCommand) as refused:
        c.ReportProgress(**fields)
    # then
    assert [e["loc"] for e in refused.value.errors] == [("amount",)]


def test_the_activity_itself_refuses_negative_progress() -> None:
    # given
    activity = started_domain_activity()
    pending = len(activity.pending_events)
    # when
    with pytest.raises(InvariantViolated) as refused:
        activity.report_progress("experts", -5, date(2017, 9, 15))
    # then
    assert refused.value.rule == "progress-not-negative"
    assert len(activity.pending_events) == pending
    assert activity.state.achieved("experts") == 0


def test_achieved_progress_accumulates_per_metric(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    # when
    report(ledger, activity_id, "experts", 30)
    report(ledger, activity_id, "experts", 28)
    report(ledger, activity_id, "enterprises", 40)
    # then
    activity = ledger.get(activity_id)
    assert activity.achieved("experts") == 58
    assert activity.achieved("enterprises") == 40
    amounts = [e.payload["amount"] for e in ledger.history(activity_id) if e.name == "Activity.ProgressReported"]
    assert amounts == [30, 28, 40]


# Completion -------------------------------------------------------------------


def test_completing_a_started_activity_records_its_outcome(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    # when
    complete(ledger, activity_id)
    # then
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.COMPLETED
    assert activity.completed_on == date(2017, 9, 28)
    assert activity.outcome == "58 experts, 88 firms"
    assert ledger.history(activity_id)[-1].name == "Activity.Completed"


def test_an_activity_completes_only_once_started(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        complete(ledger, activity_id)
    # then
    assert event_count(ledger) == before
    assert ledger.get(activity_id).status is ActivityStatus.PLANNED


def test_an_activity_cannot_complete_before_the_day_it_started(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id, date(2017, 9, 10))
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(c.CompleteActivity(activity_id=activity_id, completed_on=date(2017, 9, 9), outcome="done"), QTS)
    # then
    assert refused.value.rule == "complete-after-start"
    assert ledger.get(activity_id).status is ActivityStatus.STARTED


# Cancel and postpone ----------------------------------------------------------


def test_cancelling_records_the_reason(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    # when
    ledger.execute(c.CancelActivity(activity_id=activity_id, reason="venue closed for repairs"), QTS)
    # then
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.CANCELLED
    assert activity.reason == "venue closed for repairs"
    assert ledger.history(activity_id)[-1].payload == {"reason": "venue closed for repairs"}


@pytest.mark.parametrize("command_class", [c.CancelActivity, c.PostponeActivity])
def test_cancel_and_postpone_commands_need_a_non_blank_reason(command_class: type[c.Command]) -> None:
    # given
    fields = {"activity_id": uuid4(), "reason": "   "}
    # when
    with pytest.raises(InvalidCommand) as refused:
        command_class(**fields)
    # then
    assert [e["loc"] for e in refused.value.errors] == [("reason",)]


@pytest.mark.parametrize(("action", "rule"), [("cancel", "cancel-reason"), ("postpone", "postpone-reason")])
def test_the_activity_itself_refuses_a_blank_reason(action: str, rule: str) -> None:
    # given
    activity = Activity.plan(
        uuid4(),
        campaign_id=uuid4(),
        title="Quality lecture hall",
        lead_department="XA-QTS",
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EDUCATION,
    )
    # when
    with pytest.raises(InvariantViolated) as refused:
        getattr(activity, action)(" \t ")
    # then
    assert refused.value.rule == rule
    assert activity.state.status is ActivityStatus.PLANNED


def test_postponing_records_the_reason_and_allows_rescheduling(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    ledger.execute(c.PostponeActivity(activity_id=activity_id, reason="heavy rain"), QTS)
    assert ledger.get(activity_id).reason == "heavy rain"
    # when
    ledger.execute(
        c.ScheduleActivity(activity_id=activity_id, starts_on=date(2017, 9, 12), ends_on=date(2017, 9, 12), place="y"),
        QTS,
    )
    # then
    activity = ledger.get(activity_id)
    assert activity.status is ActivityStatus.SCHEDULED
    assert activity.reason is None
    assert [e.name for e in ledger.history(activity_id)][-2:] == ["Activity.Postponed", "Activity.Scheduled"]


def test_a_started_activity_cannot_be_postponed(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id)
    start(ledger, activity_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        ledger.execute(c.PostponeActivity(activity_id=activity_id, reason="heavy rain"), QTS)
    # then
    assert event_count(ledger) == before
    assert ledger.get(activity_id).status is ActivityStatus.STARTED
