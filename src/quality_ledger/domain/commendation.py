"""The "Quality Craftsman" commendation: nominated, reviewed, conferred, publicised."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.domain.personal import Personal
from quality_ledger.domain.transitions import COMMENDATION
from quality_ledger.domain.values import ActivityKind, CommendationStatus, Frozen
from quality_ledger.renamed import old_names

NOMINEE = Personal("nominee", by=("person", "employer"))
"""A nominee's name, employer and deeds: personal data of the nominee, who is
her name at her employer (the commendation's own natural key)."""


class MediaItem(Frozen):
    outlet: str
    title: Annotated[str, Personal("nominee")]
    """A press title often names the nominee: her data, sealed under her commendation's key."""
    published_on: date


class CommendationState(AggregateState):
    campaign_id: UUID
    person: str
    employer: str
    deeds: str
    nominated_by: str
    status: CommendationStatus = COMMENDATION.initial
    review_reason: str | None = None
    ceremony_id: UUID | None = None
    conferred_on: date | None = None
    publicity: tuple[MediaItem, ...] = ()


class Commendation(LedgerAggregate[CommendationState]):
    kind = "commendation"
    state_model = CommendationState
    lifecycle = COMMENDATION

    class Event(DomainEvent):
        pass

    class Nominated(CreationEvent, Event):
        campaign_id: UUID
        person: Annotated[str, NOMINEE]
        employer: Annotated[str, NOMINEE]
        deeds: Annotated[str, NOMINEE]
        nominated_by: str

        def apply(self, aggregate: Any) -> None:
            aggregate.state = CommendationState(id=self.originator_id, **self.payload())

    class Approved(Event):
        reviewed_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=COMMENDATION.after("Approved"))

    class Rejected(Event):
        reason: str
        reviewed_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=COMMENDATION.after("Rejected"), review_reason=self.reason)

    class Conferred(Event):
        ceremony_id: UUID
        conferred_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(
                status=COMMENDATION.after("Conferred"), ceremony_id=self.ceremony_id, conferred_on=self.conferred_on
            )

    class Publicised(Event):
        item: MediaItem

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(publicity=(*aggregate.state.publicity, self.item))

    @classmethod
    def nominate(
        cls, commendation_id: UUID, *, campaign_id: UUID, person: str, employer: str, deeds: str, nominated_by: str
    ) -> Commendation:
        cls.check_text(person, "nominee-named", "a nominee's name")
        cls.check_text(deeds, "nominee-deeds", "a nominee's deeds")
        return cls._create(
            cls.Nominated,
            id=commendation_id,
            campaign_id=campaign_id,
            person=person,
            employer=employer,
            deeds=deeds,
            nominated_by=nominated_by,
        )

    def review(self, approved: bool, reason: str | None, reviewed_on: date) -> None:
        self.check_transition("review")
        if approved:
            self.trigger_event(self.Approved, reviewed_on=reviewed_on)
            return
        self.check_text(reason or "", "rejection-reason", "a reason to reject")
        self.trigger_event(self.Rejected, reason=reason, reviewed_on=reviewed_on)

    def confer(
        self, ceremony_id: UUID, ceremony_campaign: UUID, ceremony_kind: ActivityKind, conferred_on: date
    ) -> None:
        """The ceremony's campaign and kind come from the ceremony activity,
        loaded by the application."""
        self.check_transition("confer")
        self.check(
            ceremony_kind is ActivityKind.AWARD_CEREMONY and ceremony_campaign == self.state.campaign_id,
            "conferred-at-own-ceremony",
            "a commendation is conferred at an award ceremony of its own campaign",
        )
        self.trigger_event(self.Conferred, ceremony_id=ceremony_id, conferred_on=conferred_on)

    def publicise(self, item: MediaItem) -> None:
        self.check_transition("publicise")
        if self.state.conferred_on is not None:
            self.check_order(
                self.state.conferred_on,
                item.published_on,
                "publicity-after-conferral",
                "publicised before it was conferred",
            )
        self.trigger_event(self.Publicised, item=item)


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"CommendationView": "CommendationState"})
