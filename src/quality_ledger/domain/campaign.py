"""The campaign: a time-boxed programme that enlists departments and concludes.

A campaign's state holds what its own rules need, and how many activities,
inspections and commendations it has, but not their ids: a list growing with
every ``*Added`` event made each replay quadratic and each snapshot as large
as the campaign. The ids stay in the campaign's own stream (the ``*Added``
events, read by :mod:`quality_ledger.children` where a decision needs them)
and in the views (activity board, inspection register).
"""

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
    activities: int = 0
    """How many activities were added (their ids: ``ActivityAdded`` events, the activity board)."""
    inspections: int = 0
    """How many inspections were added (their ids: ``InspectionAdded`` events, the inspection register)."""
    commendations: int = 0
    """How many craftsmen were nominated (their ids: ``CommendationAdded`` events)."""
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

    class ChildAdded:
        """Marks the events by which an activity, inspection or commendation
        joins the campaign: the one place its id is listed. A plain mixin, not
        an event: nothing is ever stored as this class."""

        @property
        def child_id(self) -> UUID:
            raise NotImplementedError

    class ActivityAdded(Event, ChildAdded):
        activity_id: UUID

        @property
        def child_id(self) -> UUID:
            return self.activity_id

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(activities=aggregate.state.activities + 1)

    class InspectionAdded(Event, ChildAdded):
        inspection_id: UUID

        @property
        def child_id(self) -> UUID:
            return self.inspection_id

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(inspections=aggregate.state.inspections + 1)

    class CommendationAdded(Event, ChildAdded):
        commendation_id: UUID

        @property
        def child_id(self) -> UUID:
            return self.commendation_id

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(commendations=aggregate.state.commendations + 1)

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
        self._add_child(self.ActivityAdded, activity_id=activity_id)

    def add_inspection(self, inspection_id: UUID, inspecting_department: str) -> None:
        self.check_transition("add_inspection")
        self.check_enlisted(inspecting_department, "inspecting-department-enlisted")
        self._add_child(self.InspectionAdded, inspection_id=inspection_id)

    def add_commendation(self, commendation_id: UUID, nominating_department: str, nominated: bool) -> None:
        """``nominated``: whether the commendation ``commendation_id`` (one per
        person and employer in a campaign) exists already, as the application found it."""
        self.check_transition("add_commendation")
        self.check_enlisted(nominating_department, "nominating-department-enlisted")
        self.check(not nominated, "commended-once-per-campaign", "this person is already nominated in this campaign")
        self._add_child(self.CommendationAdded, commendation_id=commendation_id)

    def publish_bulletin(
        self, bulletin: BulletinRecord, own_inspections: frozenset[UUID], final_inspections: frozenset[UUID]
    ) -> None:
        """``own_inspections``: those of the listed ones that belong to this
        campaign; ``final_inspections``: those whose verdict is final; both as
        the application found them (from the inspections themselves)."""
        self.check_transition("publish_bulletin")
        self.check(bool(bulletin.inspection_ids), "bulletin-not-empty", "a bulletin lists inspections")
        for inspection_id in bulletin.inspection_ids:
            self.check(
                inspection_id in own_inspections,
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

    def _add_child(self, event_class: type[Event], **child: UUID) -> None:
        """Record that a child joined, and remember the event until the store
        has it (:func:`unsaved_children`)."""
        self.trigger_event(event_class, **child)
        self.__dict__.setdefault(_UNSAVED, []).append((self.version, self._pending_events[-1]))

    # Guards -----------------------------------------------------------------

    def check_enlisted(self, department: str, rule: str) -> None:
        self.check(
            department in self.state.department_codes(),
            rule,
            f"{department} is not enlisted in campaign {self.state.title!r}",
        )


_UNSAVED = "_unsaved_children"


def unsaved_children(campaign: Campaign, stored_version: int) -> list[Campaign.ChildAdded]:
    """The ``*Added`` events ``campaign`` (this object) decided after
    ``stored_version``, the last version the store holds: a batch decides many
    commands before storing any, so a command may need children the store
    has not got yet. Kept beside the state, not in it: never replayed, never
    in a snapshot, and what the store has is forgotten here."""
    decided: list[tuple[int, object]] = campaign.__dict__.get(_UNSAVED, [])
    decided[:] = [(version, e) for version, e in decided if version > stored_version]
    return [e for _, e in decided if isinstance(e, Campaign.ChildAdded)]


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"CampaignView": "CampaignState"})
