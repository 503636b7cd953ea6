"""A ledger's aggregates at one moment, as one plain value.

Strategies need it to draw the next *valid* command (which step each
aggregate may take now, with which dates); the state machine's invariants
need it to compare the live ledger with replays: two readings are equal with
``==`` exactly when every aggregate's state is. Campaigns are the roots: an
activity, inspection or commendation always joins its campaign by an
``*Added`` event in the campaign's stream, so reading the campaigns' streams
finds everything else. A campaign's state only counts its children; the
state here keeps each kind in the order it joined, and
:meth:`LedgerState.activity_ids` and its siblings list one campaign's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.application import Repository

from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.base import AggregateState
from quality_ledger.domain.campaign import Campaign, CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.errors import NotFound
from quality_ledger.eventlog import EventLog

if TYPE_CHECKING:
    from quality_ledger.ledger import Ledger

__all__ = ["LedgerState", "Lister", "Loader", "listed_by"]

Loader = Callable[[UUID], AggregateState]
"""Reads one aggregate's current state (``ledger.get``, or a replay)."""

Lister = Callable[[UUID], Iterable[UUID]]
"""A campaign's children (activities, inspections, commendations), in the order they joined."""

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
        return cls.load(ledger.get, ids, listed_by(ledger))

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

        return cls.load(replay, campaign_ids, listed_by(ledger))

    @classmethod
    def load(cls, get: Loader, campaign_ids: Iterable[UUID], children: Lister) -> LedgerState:
        """With any loader: campaigns first, then the children ``children`` lists for each."""
        campaigns = {i: _as(CampaignState, get(i)) for i in dict.fromkeys(campaign_ids)}
        kinds: dict[type[AggregateState], dict[UUID, AggregateState]] = {
            ActivityState: {},
            InspectionState: {},
            CommendationState: {},
        }
        for campaign_id in campaigns:
            for child_id in children(campaign_id):
                child = get(child_id)
                if type(child) not in kinds:
                    msg = f"{child_id} is a {type(child).__name__}, not a campaign's child"
                    raise NotFound(msg)
                kinds[type(child)][child_id] = child
        return cls(
            campaigns=_frozen(campaigns),
            activities=_frozen({i: _as(ActivityState, s) for i, s in kinds[ActivityState].items()}),
            inspections=_frozen({i: _as(InspectionState, s) for i, s in kinds[InspectionState].items()}),
            commendations=_frozen({i: _as(CommendationState, s) for i, s in kinds[CommendationState].items()}),
        )

    def refreshed(self, get: Loader, changed: Iterable[UUID], campaign_ids: Iterable[UUID]) -> LedgerState:
        """This state with the ``changed`` aggregates read again through ``get``
        (a changed aggregate this state does not know yet is a new child of its
        campaign, after those it knows): after a command, cheaper than reading
        everything."""
        stale = set(changed)
        known: dict[UUID, AggregateState] = {}
        for views in self.as_dict().values():
            known.update(views)
        fresh: dict[UUID, AggregateState] = {}
        for aggregate_id in stale:
            with contextlib.suppress(NotFound):  # a changed id need not exist (a refused command's)
                fresh[aggregate_id] = get(aggregate_id)
        known.update(fresh)
        held = set(self.aggregate_ids)
        joined = [s for i, s in fresh.items() if i not in held and not isinstance(s, CampaignState)]

        def load(aggregate_id: UUID) -> AggregateState:
            return known[aggregate_id] if aggregate_id in known else get(aggregate_id)

        def children(campaign_id: UUID) -> list[UUID]:
            new = [s.id for s in joined if getattr(s, "campaign_id", None) == campaign_id]
            return [*self.children_of(campaign_id), *new]

        return LedgerState.load(load, campaign_ids, children)

    def activity_ids(self, campaign_id: UUID) -> tuple[UUID, ...]:
        """The campaign's activities, in the order they were added."""
        return tuple(i for i, a in self.activities.items() if a.campaign_id == campaign_id)

    def inspection_ids(self, campaign_id: UUID) -> tuple[UUID, ...]:
        """The campaign's inspections, in the order they were added."""
        return tuple(i for i, a in self.inspections.items() if a.campaign_id == campaign_id)

    def commendation_ids(self, campaign_id: UUID) -> tuple[UUID, ...]:
        """The campaign's commendations, in the order they were added."""
        return tuple(i for i, a in self.commendations.items() if a.campaign_id == campaign_id)

    def children_of(self, campaign_id: UUID) -> tuple[UUID, ...]:
        """Every child of the campaign this state holds, each kind in the order it joined."""
        return (*self.activity_ids(campaign_id), *self.inspection_ids(campaign_id), *self.commendation_ids(campaign_id))

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


def listed_by(ledger: Ledger) -> Lister:
    """A campaign's children as its stream lists them (``ledger.history``: the
    ``*Added`` events), in the order they joined."""
    fields = {
        Campaign.ActivityAdded.__qualname__: "activity_id",
        Campaign.InspectionAdded.__qualname__: "inspection_id",
        Campaign.CommendationAdded.__qualname__: "commendation_id",
    }

    def children(campaign_id: UUID) -> list[UUID]:
        return [UUID(str(e.payload[fields[e.name]])) for e in ledger.history(campaign_id) if e.name in fields]

    return children


def _as(cls: type[V], state: AggregateState) -> V:
    if not isinstance(state, cls):
        msg = f"{state.id} is a {type(state).__name__}, not a {cls.__name__}"
        raise NotFound(msg)
    return state
