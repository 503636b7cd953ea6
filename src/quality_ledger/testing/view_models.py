"""What each view must show, worked out again from the aggregates' states.

The views are filled by handlers that copy event fields into rows, and a
rebuild runs those same handlers: a handler or query that miscounts (a
cancelled activity counted as completed, progress added twice) leaves the
live views equal to their rebuild. These functions answer each view's
question a second way, from a :class:`~quality_ledger.testing.state.LedgerState`
(what the aggregates say) and, for the audit trail, from the log itself,
without any code from :mod:`quality_ledger.projections` but its row types.
:func:`~quality_ledger.testing.view_checks.check_views` compares them with the
live views.

Orders are the views' documented ones: activities and inspections in the order
their campaign added them, departments in the order they were enlisted,
bulletin lines by product category in code-point order (what SQLite and a
``C`` collation give) and the audit trail by log position.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, date
from itertools import groupby
from uuid import UUID

from quality_ledger.domain.activity import Activity, ActivityState
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection, InspectionState
from quality_ledger.domain.values import ActivityStatus, Verdict
from quality_ledger.projections import ActivityRow, AuditEntry, BulletinLine, InspectionRow, ScorecardLine, TargetLine
from quality_ledger.testing.state import LedgerState

__all__ = [
    "activity_board",
    "aggregate_kind",
    "audit_trail",
    "bulletin",
    "department_scorecard",
    "inspection_register",
]


def activity_board(state: LedgerState, campaign_id: UUID) -> list[ActivityRow]:
    """Every activity of the campaign as it stands, with each target's progress."""
    return [_activity_row(state.activities[i]) for i in state.activity_ids(campaign_id)]


def _activity_row(activity: ActivityState) -> ActivityRow:
    return ActivityRow(
        activity_id=activity.id,
        title=activity.title,
        lead_department=activity.lead_department,
        focus_area=activity.focus_area.value,
        activity_kind=activity.activity_kind.value,
        status=activity.status.value,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        place=activity.place,
        started_on=activity.started_on,
        completed_on=activity.completed_on,
        outcome=activity.outcome,
        reason=activity.reason,
        progress=tuple(TargetLine(metric=p.metric, target=p.target, achieved=p.achieved) for p in activity.progress),
    )


def inspection_register(state: LedgerState, campaign_id: UUID, as_of: date) -> list[InspectionRow]:
    """Every inspection of the campaign; ``overdue`` in the domain's own words
    (:meth:`InspectionState.rectification_overdue`) on ``as_of``."""
    return [_register_row(state.inspections[i], as_of) for i in state.inspection_ids(campaign_id)]


def _register_row(inspection: InspectionState, as_of: date) -> InspectionRow:
    rectification = inspection.rectification
    return InspectionRow(
        inspection_id=inspection.id,
        reference=inspection.reference,
        inspecting_department=inspection.inspecting_department,
        inspection_kind=inspection.inspection_kind,
        subject_name=inspection.subject.name,
        product_category=inspection.product_category,
        status=inspection.status.value,
        verdict=inspection.verdict.value if inspection.verdict is not None else None,
        samples=len(inspection.samples),
        failed=len(_failed(inspection)),
        rectification_due_on=rectification.due_on if rectification else None,
        rectification_open=rectification is not None and rectification.verified_on is None,
        overdue=inspection.rectification_overdue(as_of),
    )


def _failed(inspection: InspectionState) -> list[str]:
    """The samples whose result stands as failed (a re-test's result replaces the first)."""
    return [s.sample_id for s in inspection.samples if s.result is not None and not s.result.passed]


def bulletin(state: LedgerState, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[BulletinLine]:
    """Per product category: the live bulletin (every inspection with a verdict)
    or, with ``bulletin_id``, the inspections that published bulletin lists, as
    they stand now. An id the campaign never published lists nothing."""
    campaign = state.campaigns[campaign_id]
    inspections = [state.inspections[i] for i in state.inspection_ids(campaign_id)]
    if bulletin_id is None:
        chosen = [i for i in inspections if i.verdict is not None]
    else:
        listed = {i for b in campaign.bulletins if b.bulletin_id == bulletin_id for i in b.inspection_ids}
        chosen = [i for i in inspections if i.id in listed]
    chosen.sort(key=lambda i: i.product_category)  # stable: campaign order within a category
    return [
        _bulletin_line(category, list(members)) for category, members in groupby(chosen, lambda i: i.product_category)
    ]


def _bulletin_line(category: str, members: list[InspectionState]) -> BulletinLine:
    results = [s.result for i in members for s in i.samples if s.result is not None]
    subjects: list[str] = []
    for inspection in members:
        if inspection.verdict is Verdict.NONCONFORMING and inspection.subject.name not in subjects:
            subjects.append(inspection.subject.name)
    return BulletinLine(
        product_category=category,
        inspections=len(members),
        samples_tested=len(results),
        samples_failed=sum(1 for r in results if not r.passed),
        nonconforming_subjects=tuple(subjects),
    )


def department_scorecard(state: LedgerState, campaign_id: UUID, as_of: date) -> list[ScorecardLine]:
    """Per enlisted department: the activities it leads (all of them, then those
    completed, those cancelled), the inspections it runs, its overdue rectifications."""
    campaign = state.campaigns[campaign_id]
    activities = [state.activities[i] for i in state.activity_ids(campaign_id)]
    inspections = [state.inspections[i] for i in state.inspection_ids(campaign_id)]
    lines = []
    for department in campaign.departments:
        led = [a.status for a in activities if a.lead_department == department.code]
        runs = [i for i in inspections if i.inspecting_department == department.code]
        lines.append(
            ScorecardLine(
                code=department.code,
                name_zh=department.name_zh,
                name_en=department.name_en,
                activities_planned=len(led),
                activities_completed=led.count(ActivityStatus.COMPLETED),
                activities_cancelled=led.count(ActivityStatus.CANCELLED),
                inspections=len(runs),
                overdue_rectifications=sum(1 for i in runs if i.rectification_overdue(as_of)),
            )
        )
    return lines


def audit_trail(events: Iterable[tuple[int, DomainEvent]], state: LedgerState | None = None) -> list[AuditEntry]:
    """One entry per stored event (``ledger.events()``), in log order.

    ``summary`` is left empty: its wording is the view's own template, which a
    model could only copy; :func:`~quality_ledger.testing.view_checks.check_views`
    compares every other column. The aggregate's kind comes from ``state``
    where it holds the aggregate, else from the aggregate class the event is
    nested in.
    """
    kinds = _kinds(state) if state is not None else {}
    entries = []
    for position, event in events:
        meta = event.meta
        entries.append(
            AuditEntry(
                position=position,
                recorded_at=event.timestamp.astimezone(UTC),
                occurred_on=meta.occurred_on if meta else None,
                actor=meta.user if meta else None,
                department=meta.department if meta else None,
                command=meta.command if meta else None,
                command_id=meta.command_id if meta else None,
                correlation_id=meta.correlation_id if meta else None,
                aggregate_id=event.originator_id,
                aggregate_kind=kinds.get(event.originator_id) or aggregate_kind(event),
                version=event.originator_version,
                event=type(event).__qualname__,
                summary="",
            )
        )
    return entries


def aggregate_kind(event: DomainEvent) -> str:
    """The ``kind`` of the aggregate class ``event`` is nested in (``Activity.Started``: ``activity``)."""
    owner = getattr(sys.modules[type(event).__module__], type(event).__qualname__.split(".")[0], None)
    kind = getattr(owner, "kind", None)
    if not isinstance(kind, str):
        msg = f"{type(event).__qualname__} is not nested in an aggregate class with a kind"
        raise LookupError(msg)
    return kind


_KINDS = {
    "campaigns": Campaign.kind,
    "activities": Activity.kind,
    "inspections": Inspection.kind,
    "commendations": Commendation.kind,
}
"""``LedgerState``'s groups (``as_dict`` keys) to the kind of aggregate each holds."""


def _kinds(state: LedgerState) -> dict[UUID, str]:
    return {i: _KINDS[group] for group, held in state.as_dict().items() for i in held}
