"""The campaign status from the views: the figures of
:class:`~quality_ledger.figures.CampaignFigures`, which the reference model
(:func:`quality_ledger.status.campaign_status`) computes from the aggregates.
A query only: it reads every view's tables."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from sqlalchemy import Connection, func, select

from quality_ledger.figures import CampaignFigures, DepartmentLine, TargetProgress
from quality_ledger.projections.activity_board import activities, targets
from quality_ledger.projections.bulletin import bulletins
from quality_ledger.projections.campaigns import campaign_row, enlisted_departments
from quality_ledger.projections.commendations import commendations
from quality_ledger.projections.inspection_register import inspections, samples


def campaign_status(connection: Connection, campaign_id: UUID) -> CampaignFigures:
    campaign = campaign_row(connection, campaign_id)
    a, i, s = activities, inspections, samples
    planned = connection.execute(
        select(a.c.lead_department, a.c.status, a.c.activity_kind, a.c.focus_area).where(a.c.campaign_id == campaign_id)
    ).all()
    inspected = connection.execute(
        select(
            i.c.inspecting_department, i.c.verdict, i.c.rectification_ordered_on, i.c.rectification_verified_on
        ).where(i.c.campaign_id == campaign_id)
    ).all()
    tested, failed = connection.execute(
        select(func.count(s.c.passed), func.count(s.c.passed).filter(s.c.passed.is_(False)))
        .select_from(s.join(i, s.c.inspection_id == i.c.inspection_id))
        .where(i.c.campaign_id == campaign_id)
    ).one()
    focus: dict[str, dict[str, int]] = {f: {} for f in str(campaign["focus_areas"]).split(",") if f}
    for activity in planned:
        states = focus.setdefault(activity.focus_area, {})
        states[activity.status] = states.get(activity.status, 0) + 1
    departments = enlisted_departments(connection, campaign_id)
    progress = connection.execute(
        select(a.c.activity_id, a.c.title, targets.c.metric, targets.c.target, targets.c.achieved)
        .join(targets, targets.c.activity_id == a.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .order_by(a.c.position, targets.c.seq)
    ).all()
    awards = connection.execute(
        select(commendations.c.status).where(commendations.c.campaign_id == campaign_id)
    ).scalars()
    published = connection.execute(
        select(func.count()).select_from(bulletins).where(bulletins.c.campaign_id == campaign_id)
    ).scalar_one()
    return CampaignFigures(
        campaign_id=campaign_id,
        title=campaign["title"],
        status=campaign["status"],
        starts_on=campaign["starts_on"],
        ends_on=campaign["ends_on"],
        departments=tuple(
            DepartmentLine(
                code=d["code"],
                name_en=d["name_en"],
                name_zh=d["name_zh"],
                activities=dict(Counter(x.status for x in planned if x.lead_department == d["code"])),
                inspections=sum(x.inspecting_department == d["code"] for x in inspected),
                nonconforming=sum(
                    x.inspecting_department == d["code"] and x.verdict == "nonconforming" for x in inspected
                ),
                open_rectifications=sum(
                    x.inspecting_department == d["code"]
                    and x.rectification_ordered_on is not None
                    and x.rectification_verified_on is None
                    for x in inspected
                ),
            )
            for d in departments
        ),
        activities_by_state=dict(Counter(x.status for x in planned)),
        activities_by_kind=dict(Counter(x.activity_kind for x in planned)),
        activities_by_focus_area=focus,
        inspections_by_verdict=dict(Counter(x.verdict or "pending" for x in inspected)),
        samples_tested=tested,
        samples_failed=failed,
        targets=tuple(
            TargetProgress(
                activity_id=x.activity_id, activity=x.title, metric=x.metric, target=x.target, achieved=x.achieved
            )
            for x in progress
        ),
        commendations_by_state=dict(Counter(awards)),
        bulletins=published,
    )
