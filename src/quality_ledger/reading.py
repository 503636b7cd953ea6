"""The ledger's reading part: aggregates now or at a version, an aggregate's
history and the campaign figures computed from the aggregates (the
reference the SQL views are checked against), all from the event log; and
the views' queries (one module per view in :mod:`quality_ledger.projections`),
each input checked first. :class:`Reading` is the part ``Ledger`` is built from.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import Connection

from quality_ledger.bounds import (
    PAGE,
    POSITION,
    VERSION,
    check_day,
    check_id,
    check_instant,
    check_optional_id,
    check_text,
)
from quality_ledger.children import children
from quality_ledger.domain.base import AggregateState, DomainEvent, LedgerAggregate
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.values import EventMeta, Frozen
from quality_ledger.errors import NotFound
from quality_ledger.eventlog import EventLog
from quality_ledger.parts import Part, guarded
from quality_ledger.projections import (
    ActivityRow,
    AuditPage,
    BulletinLine,
    CampaignLine,
    InspectionRow,
    ScorecardLine,
    ViewsReport,
    activity_board,
    audit_trail,
    bulletin,
    campaigns,
    inspection_register,
    scorecard,
)
from quality_ledger.projections import campaign_status as status_view
from quality_ledger.projections.migration import MigrationReport
from quality_ledger.projections.runner import Progress
from quality_ledger.status import CampaignFigures, campaign_status


class RecordedEvent(Frozen):
    """One stored event as history shows it."""

    aggregate_id: UUID
    version: int
    name: str
    recorded_at: datetime
    meta: EventMeta | None
    payload: dict[str, Any]


def event_name(event: object) -> str:
    """``Campaign.Planned``: aggregate and past-tense event."""
    return type(event).__qualname__


def load(events: EventLog, aggregate_id: UUID, version: int | None = None) -> LedgerAggregate[Any]:
    """The aggregate now or at ``version``, else :class:`NotFound` naming why."""
    if version == 0:
        msg = f"no aggregate {aggregate_id} at version 0: the first version is 1"
        raise NotFound(msg)
    try:
        aggregate: LedgerAggregate[Any] = events.repository.get(aggregate_id, version=version)
    except AggregateNotFoundError:
        msg = f"no aggregate with id {aggregate_id}"
        raise NotFound(msg) from None
    if version is not None and aggregate.version != version:
        msg = f"{aggregate.kind} {aggregate_id} has no version {version} (latest {aggregate.version})"
        raise NotFound(msg)
    return aggregate


def history(events: EventLog, aggregate_id: UUID) -> list[RecordedEvent]:
    """Every recorded event of an aggregate, oldest first, with metadata."""
    recorded = [recorded_event(e) for e in events.history(aggregate_id)]
    if not recorded:
        msg = f"no aggregate with id {aggregate_id}"
        raise NotFound(msg)
    return recorded


def recorded_event(event: DomainEvent) -> RecordedEvent:
    return RecordedEvent(
        aggregate_id=event.originator_id,
        version=event.originator_version,
        name=event_name(event),
        recorded_at=event.timestamp,
        meta=event.meta,
        payload=event.payload(mode="json"),
    )


def status_from_events(events: EventLog, campaign_id: UUID) -> CampaignFigures:
    """A campaign's figures from its aggregates' current states."""
    campaign = load(events, campaign_id)
    if not isinstance(campaign, Campaign):
        msg = f"{campaign.kind} {campaign_id} is not a campaign"
        raise NotFound(msg)
    store = events.aggregate_events

    def listed(added: type[Campaign.ChildAdded]) -> Iterator[Any]:
        return (load(events, i).view() for i in children(store, campaign, added))

    return campaign_status(
        campaign.view(),
        listed(Campaign.ActivityAdded),
        listed(Campaign.InspectionAdded),
        listed(Campaign.CommendationAdded),
    )


class Reading(Part):
    """The ledger's reads: aggregates and history from the event log, figures
    from the views (each input checked, each store failure a ``LedgerError``)."""

    @guarded
    def get(self, aggregate_id: UUID, version: int | None = None) -> AggregateState:
        """The read-only state of an aggregate, now or at ``version``."""
        aggregate_id = check_id("aggregate_id", aggregate_id)
        if version is not None:
            VERSION.check("version", version)
        view: AggregateState = load(self._log, aggregate_id, version).view()
        return view

    @guarded
    def campaigns(self) -> list[CampaignLine]:
        """Every campaign in the ledger, oldest first."""
        with self._views() as connection:
            return campaigns.campaign_lines(connection)

    @guarded
    def campaign_status(self, campaign_id: UUID) -> CampaignFigures:
        """Where a campaign stands: activities, inspections, targets, awards (from the views)."""
        campaign_id = check_id("campaign_id", campaign_id)
        with self._views() as connection:
            return status_view.campaign_status(connection, campaign_id)

    @guarded
    def activity_board(self, campaign_id: UUID) -> list[ActivityRow]:
        """Each activity's state, lead department, schedule and progress."""
        campaign_id = check_id("campaign_id", campaign_id)
        with self._views() as connection:
            return activity_board.activity_board(connection, campaign_id)

    @guarded
    def inspection_register(self, campaign_id: UUID, as_of: date | None = None) -> list[InspectionRow]:
        """Each inspection's state, verdict, open and overdue rectifications (as of a date, default today)."""
        campaign_id = check_id("campaign_id", campaign_id)
        as_of = check_day("as_of", as_of)
        with self._views() as connection:
            return inspection_register.inspection_register(connection, campaign_id, as_of)

    @guarded
    def bulletin(self, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[BulletinLine]:
        """Per product category: inspections, samples, pass rate, nonconforming subjects."""
        campaign_id = check_id("campaign_id", campaign_id)
        bulletin_id = check_optional_id("bulletin_id", bulletin_id)
        with self._views() as connection:
            return bulletin.bulletin(connection, campaign_id, bulletin_id)

    @guarded
    def department_scorecard(self, campaign_id: UUID, as_of: date | None = None) -> list[ScorecardLine]:
        """Per department: activities planned, completed, cancelled; inspections; overdue rectifications."""
        campaign_id = check_id("campaign_id", campaign_id)
        as_of = check_day("as_of", as_of)
        with self._views() as connection:
            return scorecard.department_scorecard(connection, campaign_id, as_of)

    @guarded
    def audit_trail(
        self,
        *,
        actor: str | None = None,
        department: str | None = None,
        aggregate_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> AuditPage:
        """Who did what, when: events in log order, filtered, one page at a time.

        ``after`` is a log position (0 to 2**63 - 1), ``limit`` a page size
        (1 to 10,000): see :mod:`quality_ledger.bounds`.
        """
        actor = check_text("actor", actor)
        if actor is not None:  # user names are recorded in NFC (domain.values.UserName): look them up the same way
            actor = unicodedata.normalize("NFC", actor)
        department = check_text("department", department)
        aggregate_id = check_optional_id("aggregate_id", aggregate_id)
        since = check_instant("since", since)
        until = check_instant("until", until)
        POSITION.check("after", after)
        PAGE.check("limit", limit)
        with self._views() as connection:
            return audit_trail.audit_trail(
                connection,
                actor=actor,
                department=department,
                aggregate_id=aggregate_id,
                since=since,
                until=until,
                after=after,
                limit=limit,
            )

    @guarded
    def catch_up_views(self, *, progress: Progress | None = None) -> int:
        """Bring the views up to the log now; how many events that applied.

        Every query does this first (unless the ledger was opened with
        ``read_your_writes=False``), silently. Called ahead, after a bulk
        import say, it reports through ``progress(applied, total)``, and the
        queries after it start at once."""
        return self.views.refresh(progress=progress)

    @guarded
    def verify_views(self, *, progress: Progress | None = None) -> ViewsReport:
        """Rebuild the views from zero in a scratch database and list every difference."""
        return self.views.verify(progress=progress)

    @guarded
    def rebuild_views(self, *, progress: Progress | None = None) -> int:
        """Clear the views and apply the whole log again; returns how many events were applied."""
        return self.views.rebuild(progress=progress)

    @guarded
    def migrate_views(self, *, force: bool = False, progress: Progress | None = None) -> MigrationReport:
        """Bring the views to this code's version without downtime: rebuilt from
        zero beside the live ones, checked, swapped in by one transaction
        (``force``: even if already at this version). Readers keep reading the
        old views until the swap; see docs/views.md, "Versions and migrations"."""
        return self.views.migrate(force=force, progress=progress)

    @contextmanager
    def _views(self) -> Iterator[Connection]:
        with self.views.reading(catch_up=self.read_your_writes) as connection:
            yield connection

    @guarded
    def campaign_status_from_events(self, campaign_id: UUID) -> CampaignFigures:
        """The same figures as :meth:`campaign_status`, computed by replaying the
        aggregates instead of reading the views: the reference the views are
        checked against."""
        return status_from_events(self._log, check_id("campaign_id", campaign_id))

    @guarded
    def history(self, aggregate_id: UUID) -> list[RecordedEvent]:
        """Every recorded event of an aggregate, oldest first, with metadata."""
        return history(self._log, check_id("aggregate_id", aggregate_id))
