"""How each event changes the views: one handler per event type.

Handlers only move values from events into rows; every decision (verdicts,
states) was taken by the aggregate and is in the event, so the views cannot
disagree with the write side about a rule.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from quality_ledger.command_records import CommandRecord
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection, LabResult
from quality_ledger.domain.transitions import ACTIVITY, CAMPAIGN, COMMENDATION, INSPECTION
from quality_ledger.projections import schema as t
from quality_ledger.projections.unit_of_work import Batch

NOT_PROJECTED: dict[type[DomainEvent], str] = {
    Campaign.ActivityAdded: "the activity's own Activity.Planned adds its row",
    Campaign.InspectionAdded: "the inspection's own Inspection.Planned adds its row",
    Campaign.CommendationAdded: "the nomination's own Commendation.Nominated adds its row",
    CommandRecord.Accepted: "idempotency bookkeeping: no figure depends on it",
}
"""Event types the state views leave alone on purpose, each with the reason.

The one place that says so: any other type without a handler of its own
stops the views (:class:`Unhandled`, reported as ``ProjectionFailed``), so a
forgotten handler cannot drift unnoticed (a rebuild runs the same handlers,
so ``verify_views`` would never see it). The audit trail has no such list:
it shows every event, these included (``audit_trail.SUMMARIES``).
"""


class Unhandled(LookupError):
    """An event type with no view handler that is not declared in :data:`NOT_PROJECTED`."""

    def __init__(self, kind: type) -> None:
        super().__init__(
            f"no view handles {kind.__module__}:{kind.__qualname__}: add a handler in "
            "quality_ledger.projections.handlers, or declare it in NOT_PROJECTED"
        )


def project(event: DomainEvent, batch: Batch, position: int) -> None:
    """Apply one event to the state views, by the handler of its exact type.

    Exact, not by inheritance: a subclass of a handled event is a new stored
    type with its own name, and must be handled (or declared) on its own.
    """
    kind = type(event)
    handler = _handle.registry.get(kind)
    if handler is not None:
        handler(event, batch, position)
    elif kind not in NOT_PROJECTED:
        raise Unhandled(kind)


def handles(kind: type) -> bool:
    """Whether ``kind`` has a view handler of its own (for the completeness tests)."""
    return kind in _handle.registry


@singledispatch
def _handle(event: DomainEvent, batch: Batch, position: int) -> None:
    """Only the registry matters: :func:`project` never reaches this fallback."""
    raise Unhandled(type(event))


# Campaign ---------------------------------------------------------------------


@_handle.register
def _(e: Campaign.Planned, batch: Batch, position: int) -> None:
    batch.add(
        t.campaigns,
        campaign_id=e.originator_id,
        position=position,
        title=e.title,
        theme=e.theme,
        organiser=e.organiser,
        focus_areas=",".join(e.focus_areas),
        status=CAMPAIGN.after("Planned").value,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        launched_on=None,
        concluded_on=None,
        summary=None,
        override_reason=None,
    )


@_handle.register
def _(e: Campaign.DepartmentEnlisted, batch: Batch, position: int) -> None:
    d = e.department
    batch.add(
        t.departments, campaign_id=e.originator_id, code=d.code, position=position, name_zh=d.name_zh, name_en=d.name_en
    )


@_handle.register
def _(e: Campaign.Launched, batch: Batch, position: int) -> None:
    batch.get(t.campaigns, e.originator_id).update(status=CAMPAIGN.after("Launched").value, launched_on=e.launched_on)


@_handle.register
def _(e: Campaign.BulletinPublished, batch: Batch, position: int) -> None:
    b = e.bulletin
    batch.add(
        t.bulletins,
        bulletin_id=b.bulletin_id,
        position=position,
        campaign_id=e.originator_id,
        title=b.title,
        published_on=b.published_on,
    )
    for inspection_id in b.inspection_ids:
        batch.add(t.bulletin_items, bulletin_id=b.bulletin_id, inspection_id=inspection_id)


@_handle.register
def _(e: Campaign.Concluded, batch: Batch, position: int) -> None:
    batch.get(t.campaigns, e.originator_id).update(
        status=CAMPAIGN.after("Concluded").value,
        concluded_on=e.concluded_on,
        summary=e.summary,
        override_reason=e.override_reason,
    )


# Activity ---------------------------------------------------------------------


@_handle.register
def _(e: Activity.Planned, batch: Batch, position: int) -> None:
    batch.add(
        t.activities,
        activity_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        title=e.title,
        lead_department=e.lead_department,
        focus_area=e.focus_area.value,
        activity_kind=e.activity_kind.value,
        status=ACTIVITY.after("Planned").value,
        starts_on=None,
        ends_on=None,
        place=None,
        started_on=None,
        completed_on=None,
        outcome=None,
        reason=None,
    )
    for seq, (metric, target) in enumerate(e.targets.items()):
        batch.add(t.targets, activity_id=e.originator_id, metric=metric, seq=seq, target=target, achieved=0)


def _activity(batch: Batch, e: DomainEvent, **changes: Any) -> None:
    batch.get(t.activities, e.originator_id).update(changes)


@_handle.register
def _(e: Activity.Scheduled, batch: Batch, position: int) -> None:
    _activity(
        batch,
        e,
        status=ACTIVITY.after("Scheduled").value,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        place=e.place,
        reason=None,
    )


@_handle.register
def _(e: Activity.Started, batch: Batch, position: int) -> None:
    _activity(batch, e, status=ACTIVITY.after("Started").value, started_on=e.started_on)


@_handle.register
def _(e: Activity.ProgressReported, batch: Batch, position: int) -> None:
    batch.get(t.targets, e.originator_id, e.metric)["achieved"] += e.amount


@_handle.register
def _(e: Activity.Completed, batch: Batch, position: int) -> None:
    _activity(batch, e, status=ACTIVITY.after("Completed").value, completed_on=e.completed_on, outcome=e.outcome)


@_handle.register
def _(e: Activity.Postponed, batch: Batch, position: int) -> None:
    _activity(batch, e, status=ACTIVITY.after("Postponed").value, reason=e.reason)


@_handle.register
def _(e: Activity.Cancelled, batch: Batch, position: int) -> None:
    _activity(batch, e, status=ACTIVITY.after("Cancelled").value, reason=e.reason)


# Inspection -------------------------------------------------------------------


@_handle.register
def _(e: Inspection.Planned, batch: Batch, position: int) -> None:
    batch.add(
        t.inspections,
        inspection_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        activity_id=e.activity_id,
        inspecting_department=e.inspecting_department,
        inspection_kind=e.inspection_kind,
        reference=e.reference,
        subject_name=e.subject.name,
        subject_kind=e.subject.subject_kind.value,
        product_category=e.product_category,
        planned_on=e.planned_on,
        status=INSPECTION.after("Planned").value,
        verdict=None,
        notified_on=None,
        rectification_ordered_on=None,
        rectification_due_on=None,
        rectification_verified_on=None,
        rectification_passed=None,
        penalty_amount=None,
        transferred_to=None,
        closed_on=None,
    )


def _inspection(batch: Batch, e: DomainEvent, **changes: Any) -> None:
    batch.get(t.inspections, e.originator_id).update(changes)


@_handle.register
def _(e: Inspection.SampleTaken, batch: Batch, position: int) -> None:
    _inspection(batch, e, status=INSPECTION.after("SampleTaken").value)
    batch.add(
        t.samples,
        inspection_id=e.originator_id,
        sample_id=e.sample_id,
        position=position,
        product=e.product,
        batch=e.batch,
        taken_on=e.taken_on,
        passed=None,
        nonconforming_items=None,
        retested=False,
        objected_on=None,
    )


def _result(result: LabResult) -> dict[str, Any]:
    """A sample's result columns (a re-test's result replaces the original)."""
    return {"passed": result.passed, "nonconforming_items": "; ".join(result.nonconforming_items) or None}


@_handle.register
def _(e: Inspection.SampleResultRecorded, batch: Batch, position: int) -> None:
    batch.get(t.samples, e.originator_id, e.sample_id).update(_result(e.result))


@_handle.register
def _(e: Inspection.VerdictIssued, batch: Batch, position: int) -> None:
    _inspection(
        batch, e, status=INSPECTION.after("VerdictIssued").value, verdict=e.verdict.value, notified_on=e.notified_on
    )


@_handle.register
def _(e: Inspection.ResultObjected, batch: Batch, position: int) -> None:
    batch.get(t.samples, e.originator_id, e.sample_id)["objected_on"] = e.lodged_on


@_handle.register
def _(e: Inspection.RetestResultRecorded, batch: Batch, position: int) -> None:
    batch.get(t.samples, e.originator_id, e.sample_id).update(_result(e.result), retested=True)
    _inspection(batch, e, verdict=e.verdict.value)


@_handle.register
def _(e: Inspection.RectificationOrdered, batch: Batch, position: int) -> None:
    r = e.rectification
    _inspection(
        batch,
        e,
        status=INSPECTION.after("RectificationOrdered").value,
        rectification_ordered_on=r.ordered_on,
        rectification_due_on=r.due_on,
    )


@_handle.register
def _(e: Inspection.RectificationVerified, batch: Batch, position: int) -> None:
    status = INSPECTION.after("RectificationVerified", e.passed)
    _inspection(batch, e, status=status.value, rectification_verified_on=e.verified_on, rectification_passed=e.passed)


@_handle.register
def _(e: Inspection.PenaltyImposed, batch: Batch, position: int) -> None:
    _inspection(batch, e, status=INSPECTION.after("PenaltyImposed").value, penalty_amount=e.penalty.amount)


@_handle.register
def _(e: Inspection.CaseTransferred, batch: Batch, position: int) -> None:
    _inspection(batch, e, status=INSPECTION.after("CaseTransferred").value, transferred_to=e.authority)


@_handle.register
def _(e: Inspection.Closed, batch: Batch, position: int) -> None:
    _inspection(batch, e, status=INSPECTION.after("Closed").value, closed_on=e.closed_on)


# Commendation -----------------------------------------------------------------


@_handle.register
def _(e: Commendation.Nominated, batch: Batch, position: int) -> None:
    batch.add(
        t.commendations,
        commendation_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        person=e.person,
        employer=e.employer,
        nominated_by=e.nominated_by,
        status=COMMENDATION.after("Nominated").value,
        review_reason=None,
        ceremony_id=None,
        conferred_on=None,
        publicity=0,
    )


def _commendation(batch: Batch, e: DomainEvent, **changes: Any) -> None:
    batch.get(t.commendations, e.originator_id).update(changes)


@_handle.register
def _(e: Commendation.Approved, batch: Batch, position: int) -> None:
    _commendation(batch, e, status=COMMENDATION.after("Approved").value)


@_handle.register
def _(e: Commendation.Rejected, batch: Batch, position: int) -> None:
    _commendation(batch, e, status=COMMENDATION.after("Rejected").value, review_reason=e.reason)


@_handle.register
def _(e: Commendation.Conferred, batch: Batch, position: int) -> None:
    _commendation(
        batch, e, status=COMMENDATION.after("Conferred").value, ceremony_id=e.ceremony_id, conferred_on=e.conferred_on
    )


@_handle.register
def _(e: Commendation.Publicised, batch: Batch, position: int) -> None:
    batch.get(t.commendations, e.originator_id)["publicity"] += 1
