"""The campaign figures as a model: what a campaign's status reports.

Neutral ground between the two that compute them: the reference model
(:func:`quality_ledger.status.campaign_status`, from aggregate states) and
the SQL views (:func:`quality_ledger.projections.campaign_status.campaign_status`).
Both return these types, so the views can be checked against the reference
without the projections importing the application layer.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from quality_ledger.domain.values import Frozen
from quality_ledger.renamed import old_names


class TargetProgress(Frozen):
    activity_id: UUID
    activity: str
    metric: str
    target: int
    achieved: int

    @property
    def percent(self) -> float:
        return 100.0 * self.achieved / self.target


class DepartmentLine(Frozen):
    code: str
    name_en: str
    name_zh: str
    activities: dict[str, int]
    inspections: int
    nonconforming: int
    open_rectifications: int


class CampaignFigures(Frozen):
    campaign_id: UUID
    title: str
    status: str
    starts_on: date
    ends_on: date
    departments: tuple[DepartmentLine, ...]
    activities_by_state: dict[str, int]
    activities_by_kind: dict[str, int]
    activities_by_focus_area: dict[str, dict[str, int]]
    inspections_by_verdict: dict[str, int]
    samples_tested: int
    samples_failed: int
    targets: tuple[TargetProgress, ...]
    commendations_by_state: dict[str, int]
    bulletins: int

    @property
    def pass_rate(self) -> float | None:
        """Share of tested samples whose current result is a pass."""
        return pass_rate(self.samples_tested, self.samples_failed)


def pass_rate(tested: int, failed: int) -> float | None:
    """Share of ``tested`` samples that did not fail; None before any was tested."""
    return (tested - failed) / tested if tested else None


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"CampaignStatus": "CampaignFigures"})
