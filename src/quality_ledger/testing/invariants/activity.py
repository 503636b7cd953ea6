"""The activity's invariants: its lead department, targets, period and the dates and reasons its status needs."""

from __future__ import annotations

from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.values import ActivityStatus
from quality_ledger.testing.invariants.base import _blank, _unique, expect
from quality_ledger.testing.state import LedgerState

__all__ = ["check_activity"]


def check_activity(state: LedgerState, activity: ActivityState) -> None:
    i = activity.id
    campaign = state.campaigns[activity.campaign_id]
    expect(
        activity.lead_department in campaign.department_codes(),
        "activity-lead-enlisted",
        i,
        f"led by {activity.lead_department}, which is not enlisted",
    )
    metrics = [p.metric for p in activity.progress]
    expect(not _unique(metrics), "targets-distinct", i, f"metric declared twice: {_unique(metrics)}")
    for p in activity.progress:
        expect(p.target > 0, "target-positive", i, f"target {p.metric} is {p.target}")
        expect(p.achieved >= 0, "progress-not-negative", i, f"{p.metric} achieved {p.achieved}")
    if activity.starts_on is not None and activity.ends_on is not None:
        expect(activity.starts_on <= activity.ends_on, "activity-period", i, "scheduled to end before it starts")
    status = activity.status
    if status in (ActivityStatus.STARTED, ActivityStatus.COMPLETED):
        expect(activity.started_on is not None, "start-recorded", i, f"{status} without a start date")
    if status is ActivityStatus.COMPLETED:
        expect(not _blank(activity.outcome), "completion-outcome", i, "completed without an outcome")
        if activity.started_on is not None and activity.completed_on is not None:
            expect(
                activity.completed_on >= activity.started_on, "complete-after-start", i, "completed before it started"
            )
    reason_rules = {ActivityStatus.POSTPONED: "postpone-reason", ActivityStatus.CANCELLED: "cancel-reason"}
    if status in reason_rules:
        expect(not _blank(activity.reason), reason_rules[status], i, f"{status} without a reason")
    if status is not ActivityStatus.COMPLETED:
        expect(activity.completed_on is None, "complete-once", i, f"{status}, yet has a completion date")
