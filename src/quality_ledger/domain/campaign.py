"""The campaign: a time-boxed programme that enlists departments and concludes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.domain.transitions import CAMPAIGN
from quality_ledger.domain.values import CampaignStatus, FocusArea, Frozen
from quality_ledger.renamed import old_names


class Department(Frozen):
    code: str
    name_zh: str
    name_en: str


class BulletinRecord(Frozen):
    bulletin_id: UUID
    title: str
    published_on: date
    inspection_ids: tuple[UUID, ...]


class CampaignState(AggregateState):
    title: str
    theme: str
    purpose: str
    organiser: str
    partners: tuple[str, ...]
    starts_on: date
    ends_on: date
    focus_areas: tuple[FocusArea, ...]
    status: CampaignStatus = CAMPAIGN.initial
    departments: tuple[Department, ...] = ()
    activity_ids: tuple[UUID, ...] = ()
    inspection_ids: tuple[UUID, ...] = ()
    commendation_ids: tuple[UUID, ...] = ()
    bulletins: tuple[BulletinRecord, ...] = ()
    launched_on: date | None = None
    concluded_on: date | None = None
    summary: str | None = None
    override_reason: str | None = None

    def department_codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.departments)


class Campaign(LedgerAggregate[CampaignState]):
    kind = "campaign"
    state_model = CampaignState
    lifecycle = CAMPAIGN

    class Event(DomainEvent):
        pass

    class Planned(CreationEvent, Event):
        title: str
        theme: str
        purpose: str
        organiser: str
        partners: tuple[str, ...]
        starts_on: date
        ends_on: date
        focus_areas: tuple[FocusArea, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.state = CampaignState(id=self.originator_id, **self.payload())

    class DepartmentEnlisted(Event):
        department: Department

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(departments=(*aggregate.state.departments, self.department))

    class Launched(Event):
        launched_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=CAMPAIGN.after("Launched"), launched_on=self.launched_on)

    class ActivityAdded(Event):
        activity_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(activity_ids=(*aggregate.state.activity_ids, self.activity_id))

    class InspectionAdded(Event):
        inspection_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(inspection_ids=(*aggregate.state.inspection_ids, self.inspection_id))

    class CommendationAdded(Event):
        commendation_id: UUID

        def apply(self, aggregate: Any) -> None:
            ids = (*aggregate.state.commendation_ids, self.commendation_id)
            aggregate.evolve(commendation_ids=ids)

    class BulletinPublished(Event):
        bulletin: BulletinRecord

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(bulletins=(*aggregate.state.bulletins, self.bulletin))

    class Concluded(Event):
        concluded_on: date
        summary: str
        override_reason: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(
                status=CAMPAIGN.after("Concluded"),
                concluded_on=self.concluded_on,
                summary=self.summary,
                override_reason=self.override_reason,
            )

    # Commands -------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        campaign_id: UUID,
        *,
        title: str,
        theme: str,
        purpose: str,
        organiser: str,
        partners: Sequence[str],
        starts_on: date,
        ends_on: date,
        focus_areas: Sequence[FocusArea],
    ) -> Campaign:
        cls.check_text(title, "campaign-title", "a campaign's title")
        cls.check_order(starts_on, ends_on, "campaign-period", "a campaign ends on or after it starts")
        cls.check(len(set(focus_areas)) == len(focus_areas), "focus-areas-distinct", "focus areas repeat")
        return cls._create(
            cls.Planned,
            id=campaign_id,
            title=title,
            theme=theme,
            purpose=purpose,
            organiser=organiser,
            partners=tuple(partners),
            starts_on=starts_on,
            ends_on=ends_on,
            focus_areas=tuple(focus_areas),
        )

    def enlist(self, department: Department) -> None:
        self.check_transition("enlist")
        self.check(
            department.code not in self.state.department_codes(),
            "department-enlisted-once",
            f"{department.code} is already enlisted",
        )
        self.trigger_event(self.DepartmentEnlisted, department=department)

    def launch(self, launched_on: date) -> None:
        self.check_transition("launch")
        self.check(bool(self.state.departments), "launch-needs-departments", "no department enlisted")
        self.check_order(self.state.starts_on, launched_on, "launch-in-period", "launch before the campaign starts")
        self.trigger_event(self.Launched, launched_on=launched_on)

    def add_activity(self, activity_id: UUID, lead_department: str) -> None:
        self.check_transition("add_activity")
        self.check_enlisted(lead_department, "activity-lead-enlisted")
        self.trigger_event(self.ActivityAdded, activity_id=activity_id)

    def add_inspection(self, inspection_id: UUID, inspecting_department: str) -> None:
        self.check_transition("add_inspection")
        self.check_enlisted(inspecting_department, "inspecting-department-enlisted")
        self.trigger_event(self.InspectionAdded, inspection_id=inspection_id)

    def add_commendation(self, commendation_id: UUID, nominating_department: str) -> None:
        self.check_transition("add_commendation")
        self.check_enlisted(nominating_department, "nominating-department-enlisted")
        self.check(
            commendation_id not in self.state.commendation_ids,
            "commended-once-per-campaign",
            "this person is already nominated in this campaign",
        )
        self.trigger_event(self.CommendationAdded, commendation_id=commendation_id)

    def publish_bulletin(self, bulletin: BulletinRecord, final_inspections: frozenset[UUID]) -> None:
        """``final_inspections``: those of the listed ones whose verdict is final,
        as the application found them."""
        self.check_transition("publish_bulletin")
        self.check(bool(bulletin.inspection_ids), "bulletin-not-empty", "a bulletin lists inspections")
        for inspection_id in bulletin.inspection_ids:
            self.check(
                inspection_id in self.state.inspection_ids,
                "bulletin-own-inspections",
                f"inspection {inspection_id} is not in this campaign",
            )
            self.check(
                inspection_id in final_inspections,
                "bulletin-final-verdicts",
                f"inspection {inspection_id} has no final verdict",
            )
        self.check(
            all(b.bulletin_id != bulletin.bulletin_id for b in self.state.bulletins),
            "bulletin-published-once",
            "this bulletin is already published",
        )
        self.trigger_event(self.BulletinPublished, bulletin=bulletin)

    def conclude(self, concluded_on: date, summary: str, unfinished: int, override_reason: str | None) -> None:
        """``unfinished``: activities neither completed nor cancelled, as counted
        by the application from the activities themselves."""
        self.check_transition("conclude")
        self.check_text(summary, "conclusion-summary", "a conclusion's summary")
        self.check_order(
            self.state.launched_on or self.state.starts_on,
            concluded_on,
            "conclude-after-launch",
            "a campaign concludes on or after its launch",
        )
        self.check(
            not unfinished or bool(override_reason and override_reason.strip()),
            "conclude-when-activities-done",
            f"{unfinished} activities are neither completed nor cancelled; give an override reason to conclude anyway",
        )
        self.trigger_event(
            self.Concluded,
            concluded_on=concluded_on,
            summary=summary,
            override_reason=override_reason if unfinished else None,
        )

    # Guards -----------------------------------------------------------------

    def check_enlisted(self, department: str, rule: str) -> None:
        self.check(
            department in self.state.department_codes(),
            rule,
            f"{department} is not enlisted in campaign {self.state.title!r}",
        )


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"CampaignView": "CampaignState"})
