"""Where a campaign stands, computed purely from aggregate states.

This is the reference model of the campaign-status figures: the ledger
computes them from the aggregates' current states (so every figure comes
from recorded events), and the SQL views are checked against it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.figures import CampaignFigures, DepartmentLine, TargetProgress

__all__ = ["CampaignFigures", "DepartmentLine", "TargetProgress", "campaign_status"]


def _open_rectification(inspection: InspectionState) -> bool:
    r = inspection.rectification
    return r is not None and r.verified_on is None


def campaign_status(
    campaign: CampaignState,
    activities: Iterable[ActivityState],
    inspections: Iterable[InspectionState],
    commendations: Iterable[CommendationState],
) -> CampaignFigures:
    activities = list(activities)
    inspections = list(inspections)
    by_department: Mapping[str, list[ActivityState]] = {
        d.code: [a for a in activities if a.lead_department == d.code] for d in campaign.departments
    }
    focus: dict[str, dict[str, int]] = {str(f): {} for f in campaign.focus_areas}
    for a in activities:
        states = focus.setdefault(str(a.focus_area), {})
        states[a.status] = states.get(a.status, 0) + 1
    results = [s.result for i in inspections for s in i.samples if s.result is not None]
    return CampaignFigures(
        campaign_id=campaign.id,
        title=campaign.title,
        status=campaign.status,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        departments=tuple(
            DepartmentLine(
                code=d.code,
                name_en=d.name_en,
                name_zh=d.name_zh,
                activities=dict(Counter(str(a.status) for a in by_department[d.code])),
                inspections=sum(i.inspecting_department == d.code for i in inspections),
                nonconforming=sum(
                    i.inspecting_department == d.code and i.verdict == "nonconforming" for i in inspections
                ),
                open_rectifications=sum(
                    i.inspecting_department == d.code and _open_rectification(i) for i in inspections
                ),
            )
            for d in campaign.departments
        ),
        activities_by_state=dict(Counter(str(a.status) for a in activities)),
        activities_by_kind=dict(Counter(str(a.activity_kind) for a in activities)),
        activities_by_focus_area=focus,
        inspections_by_verdict=dict(Counter(str(i.verdict or "pending") for i in inspections)),
        samples_tested=len(results),
        samples_failed=sum(not r.passed for r in results),
        targets=tuple(
            TargetProgress(activity_id=a.id, activity=a.title, metric=p.metric, target=p.target, achieved=p.achieved)
            for a in activities
            for p in a.progress
        ),
        commendations_by_state=dict(Counter(str(c.status) for c in commendations)),
        bulletins=len(campaign.bulletins),
    )
