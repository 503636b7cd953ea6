"""The activity's rules, on the bare aggregate through given/when/then: no
ledger, no store."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from quality_ledger.domain.activity import Activity
from quality_ledger.domain.values import ActivityKind, FocusArea
from quality_ledger.errors import IllegalTransition, InvariantViolated
from quality_ledger.testing import gwt

CAMPAIGN = UUID("78ff37a2-4de8-55d7-ae55-0020b8778fbd")

PLANNED = gwt.event(
    Activity.Planned,
    campaign_id=CAMPAIGN,
    title="Metrology for the people",
    lead_department="XA-QTS",
    focus_area=FocusArea.LIVELIHOOD,
    activity_kind=ActivityKind.FREE_TESTING,
    partners=(),
    targets={"enterprises": 10},
)
SCHEDULED = gwt.event(
    Activity.Scheduled, starts_on=date(2017, 9, 5), ends_on=date(2017, 9, 20), place="Zhonglou Square"
)
STARTED = gwt.event(Activity.Started, started_on=date(2017, 9, 5))
COMPLETED = gwt.event(Activity.Completed, completed_on=date(2017, 9, 20), outcome="done")


def test_a_target_is_positive() -> None:
    # given nothing / when an activity is planned with a zero target / then target-positive refuses it
    gwt.given().when(
        Activity.plan,
        UUID(int=1),
        campaign_id=CAMPAIGN,
        title="t",
        lead_department="XA-QTS",
        focus_area=FocusArea.LIVELIHOOD,
        activity_kind=ActivityKind.FREE_TESTING,
        targets={"enterprises": 0},
    ).then_raises(InvariantViolated, rule="target-positive")


def test_an_activity_ends_on_or_after_it_starts() -> None:
    gwt.given(PLANNED).when(Activity.schedule, date(2017, 9, 20), date(2017, 9, 5), "Zhonglou Square").then_raises(
        InvariantViolated, rule="activity-period"
    )


def test_progress_on_a_started_activity_is_recorded_and_counted() -> None:
    # given a started activity / when progress is reported / then it is recorded and added to the target's count
    state = (
        gwt.given(PLANNED, SCHEDULED, STARTED)
        .when(Activity.report_progress, "enterprises", 3, date(2017, 9, 6))
        .then(gwt.event(Activity.ProgressReported, metric="enterprises", amount=3, reported_on=date(2017, 9, 6)))
    )
    assert state.achieved("enterprises") == 3


def test_progress_is_reported_on_a_declared_metric_only() -> None:
    gwt.given(PLANNED, SCHEDULED, STARTED).when(Activity.report_progress, "visitors", 3, date(2017, 9, 6)).then_raises(
        InvariantViolated, rule="progress-declared-metric"
    )


def test_progress_is_not_negative() -> None:
    gwt.given(PLANNED, SCHEDULED, STARTED).when(
        Activity.report_progress, "enterprises", -1, date(2017, 9, 6)
    ).then_raises(InvariantViolated, rule="progress-not-negative")


def test_progress_after_completion_is_refused() -> None:
    # given a completed activity / when progress is reported / then the lifecycle refuses it
    gwt.given(PLANNED, SCHEDULED, STARTED, COMPLETED).when(
        Activity.report_progress, "enterprises", 1, date(2017, 9, 21)
    ).then_raises(IllegalTransition)


def test_progress_before_the_activity_starts_is_refused() -> None:
    gwt.given(PLANNED, SCHEDULED).when(Activity.report_progress, "enterprises", 1, date(2017, 9, 4)).then_raises(
        IllegalTransition
    )


def test_an_activity_is_not_completed_before_it_started() -> None:
    gwt.given(PLANNED, SCHEDULED, STARTED).when(Activity.complete, date(2017, 9, 4), "done").then_raises(
        InvariantViolated, rule="complete-after-start"
    )


def test_a_cancellation_needs_a_reason() -> None:
    gwt.given(PLANNED, SCHEDULED).when(Activity.cancel, "  ").then_raises(InvariantViolated, rule="cancel-reason")
    gwt.given(PLANNED, SCHEDULED).when(Activity.cancel, "rain").then(gwt.event(Activity.Cancelled, reason="rain"))


def test_a_cancelled_activity_does_not_start() -> None:
    cancelled = gwt.event(Activity.Cancelled, reason="rain")
    gwt.given(PLANNED, SCHEDULED, cancelled).when(Activity.start, date(2017, 9, 5)).then_raises(IllegalTransition)
