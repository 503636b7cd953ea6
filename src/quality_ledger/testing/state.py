"""A ledger's aggregates at one moment, as one plain value.

Strategies need it to draw the next *valid* command (which step each
aggregate may take now, with which dates); the state machine's invariants
need it to compare the live ledger with replays: two readings are equal with
``==`` exactly when every aggregate's state is. Campaigns are the roots: an
activity, inspection or commendation is always listed by its campaign, so
reading the campaigns finds everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.application import Repository

from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.base import AggregateState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.errors import NotFound
from quality_ledger.eventlog import EventLog

if TYPE_CHECKING:
    from quality_ledger.ledger import Ledger

__all__ = ["LedgerState", "Loader"]

Loader = Callable[[UUID], AggregateState]
"""Reads one aggregate's current state (``ledger.get``, or a replay)."""

V = TypeVar("V", bound=AggregateState)


def _frozen(mapping: Mapping[UUID, V] | None = None) -> Mapping[UUID, V]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class LedgerState:
    """Every campaign and what it lists: activities, inspections, commendations."""

    campaigns: Mapping[UUID, CampaignState] = field(default_factory=_frozen)
    activities: Mapping[UUID, ActivityState] = field(default_factory=_frozen)
    inspections: Mapping[UUID, InspectionState] = field(default_factory=_frozen)
    commendations: Mapping[UUID, CommendationState] = field(default_factory=_frozen)

    @classmethod
    def read(cls, ledger: Ledger, campaign_ids: Iterable[UUID] | None = None) -> LedgerState:
        """Through the public ``ledger.get``; every campaign the views list when
        ``campaign_ids`` is not given."""
        ids = campaign_ids if campaign_ids is not None else (line.campaign_id for line in ledger.campaigns())
        return cls.load(ledger.get, ids)

    @classmethod
    def replayed(cls, ledger: Ledger, campaign_ids: Iterable[UUID]) -> LedgerState:
        """Every aggregate replayed from its first stored event: no snapshot, no cache.

        What "reloading equals live state" compares with: the ledger's own
        reads may start from a snapshot; this one never does.
        """
        repository: Repository[UUID] = Repository(event_store=EventLog.of(ledger).aggregate_events)

        def replay(aggregate_id: UUID) -> AggregateState:
            view: AggregateState = repository.get(aggregate_id).view()
            return view

        return cls.load(replay, campaign_ids)

    @classmethod
    def load(cls, get: Loader, campaign_ids: Iterable[UUID]) -> LedgerState:
        """With any loader: campaigns first, then whatever each lists."""
        campaigns = {i: _as(CampaignState, get(i)) for i in dict.fromkeys(campaign_ids)}
        listed = campaigns.values()
        return cls(
            campaigns=_frozen(campaigns),
            activities=_frozen({i: _as(ActivityState, get(i)) for c in listed for i in c.activity_ids}),
            inspections=_frozen({i: _as(InspectionState, get(i)) for c in listed for i in c.inspection_ids}),
            commendations=_frozen({i: _as(CommendationState, get(i)) for c in listed for i in c.commendation_ids}),
        )

    def refreshed(self, get: Loader, changed: Iterable[UUID], campaign_ids: Iterable[UUID]) -> LedgerState:
        """This state with the ``changed`` aggregates read again through ``get``
        (and any that a changed campaign now lists): after a command, cheaper
        than reading everything."""
        stale = set(changed)
        known: dict[UUID, AggregateState] = {}
        for views in self.as_dict().values():
            known.update(views)

        def load(aggregate_id: UUID) -> AggregateState:
            if aggregate_id in known and aggregate_id not in stale:
                return known[aggregate_id]
            return get(aggregate_id)

        return LedgerState.load(load, campaign_ids)

    def as_dict(self) -> dict[str, dict[UUID, AggregateState]]:
        return {
            "campaigns": dict(self.campaigns),
            "activities": dict(self.activities),
            "inspections": dict(self.inspections),
            "commendations": dict(self.commendations),
        }

    def differences(self, other: LedgerState) -> list[str]:
        """Which aggregates differ from ``other``, and in which fields: for failure messages."""
        lines: list[str] = []
        mine, theirs = self.as_dict(), other.as_dict()
        for kind, aggregates in mine.items():
            for aggregate_id in sorted({*aggregates, *theirs[kind]}, key=str):
                a, b = aggregates.get(aggregate_id), theirs[kind].get(aggregate_id)
                if a == b:
                    continue
                if a is None or b is None:
                    lines.append(f"{kind} {aggregate_id}: {'missing' if a is None else 'present'} here only")
                    continue
                left, right = a.model_dump(), b.model_dump()
                fields = [f"{k}: {left[k]!r} != {right[k]!r}" for k in left if left[k] != right.get(k)]
                lines.append(f"{kind} {aggregate_id}: " + "; ".join(fields))
        return lines

    @property
    def aggregate_ids(self) -> tuple[UUID, ...]:
        return (*self.campaigns, *self.activities, *self.inspections, *self.commendations)

    @property
    def sample_ids(self) -> tuple[str, ...]:
        return tuple(sorted({s.sample_id for i in self.inspections.values() for s in i.samples}))

    def campaign_of(self, aggregate_id: UUID) -> CampaignState | None:
        """The campaign an aggregate belongs to (itself, for a campaign)."""
        if aggregate_id in self.campaigns:
            return self.campaigns[aggregate_id]
        for views in (self.activities, self.inspections, self.commendations):
            if aggregate_id in views:
                return self.campaigns.get(views[aggregate_id].campaign_id)
        return None

    def dates(self) -> tuple[date, ...]:
        """Every business date the state holds: anchors for plausible new dates."""
        days: set[date] = set()
        for campaign in self.campaigns.values():
            days.update(d for d in (campaign.starts_on, campaign.ends_on, campaign.launched_on) if d)
        for activity in self.activities.values():
            days.update(d for d in (activity.starts_on, activity.started_on, activity.completed_on) if d)
        for inspection in self.inspections.values():
            days.update(d for d in (inspection.planned_on, inspection.notified_on) if d)
            days.update(s.taken_on for s in inspection.samples)
            if inspection.rectification is not None:
                days.add(inspection.rectification.ordered_on)
        for commendation in self.commendations.values():
            if commendation.conferred_on is not None:
                days.add(commendation.conferred_on)
        return tuple(sorted(days))


def _as(cls: type[V], state: AggregateState) -> V:
    if not isinstance(state, cls):
        msg = f"{state.id} is a {type(state).__name__}, not a {cls.__name__}"
        raise NotFound(msg)
    return state
