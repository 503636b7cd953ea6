"""A campaign's activities, inspections or commendations, from its own stream.

The campaign's state counts its children but does not list them (a list
rebuilt on every event made replay quadratic and snapshots grow with the
campaign). The list is in the one place that is both authoritative and
never behind: the campaign's ``*Added`` events. Reading it is linear in the
campaign's events and is done only by what needs the ids (concluding, the
figures); only the rows of the asked-for kind are decoded, the rest are
skipped by their topic. Decisions never read the SQL views, which may lag.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import EventStore
from eventsourcing.utils import resolve_topic

from quality_ledger.domain.campaign import Campaign, unsaved_children
from quality_ledger.errors import IntegrityError

__all__ = ["children"]


def children(store: EventStore[UUID], campaign: Campaign, added: type[Campaign.ChildAdded]) -> list[UUID]:
    """The ids ``added`` events of ``campaign`` name, in the order they joined,
    up to the campaign's version: those stored, then those ``campaign``
    decided that the store does not have yet (a batch's chunk)."""
    rows = store.recorder.select_events(campaign.id, lte=campaign.version)
    ids: list[UUID] = []
    stored = 0
    for row in rows:
        stored = row.originator_version
        if issubclass(resolve_topic(row.topic), added):
            event = store.mapper.to_domain_event(row)
            if not isinstance(event, added):  # pragma: no cover - resolved above
                msg = f"event {row.originator_version} of campaign {campaign.id} is not a {added.__name__}"
                raise IntegrityError(msg)
            ids.append(event.child_id)
    ids.extend(e.child_id for e in unsaved_children(campaign, stored) if isinstance(e, added))
    expected = _count(campaign, added)
    if len(ids) != expected:
        msg = f"campaign {campaign.id} counts {expected} children its stream does not list ({len(ids)} found)"
        raise IntegrityError(msg)
    return ids


def _count(campaign: Campaign, added: type[Campaign.ChildAdded]) -> int:
    if issubclass(added, Campaign.ActivityAdded):
        return campaign.state.activities
    if issubclass(added, Campaign.InspectionAdded):
        return campaign.state.inspections
    return campaign.state.commendations
