"""The campaigns view: each campaign's plan and state, and its enlisted
departments; the list of campaigns, and the lookup every per-campaign query
starts with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import Column, Connection, Date, RowMapping, String, Table, Text, Uuid, select

from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.transitions import CAMPAIGN
from quality_ledger.domain.values import Frozen
from quality_ledger.errors import NotFound
from quality_ledger.projections.dispatch import handler
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.tables import Count, metadata

campaigns = Table(
    "ql_campaigns",
    metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("title", Text, nullable=False),
    Column("theme", Text, nullable=False),
    Column("organiser", String(32), nullable=False),
    Column("focus_areas", Text, nullable=False),  # comma-separated, in declared order
    Column("status", String(16), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("launched_on", Date),
    Column("concluded_on", Date),
    Column("summary", Text),
    Column("override_reason", Text),
)

departments = Table(
    "ql_departments",
    metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("position", Count, nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

TABLES = (campaigns, departments)


# Handlers ---------------------------------------------------------------------

_AFTER = {event: CAMPAIGN.after(event).value for event in ("Planned", "Launched", "Concluded")}
"""The status each event leaves, looked up once: handlers run for every event of a catch-up."""


@handler
def _(e: Campaign.Planned, rows: RowCache, position: int) -> None:
    rows.add(
        campaigns,
        campaign_id=e.originator_id,
        position=position,
        title=e.title,
        theme=e.theme,
        organiser=e.organiser,
        focus_areas=",".join(e.focus_areas),
        status=_AFTER["Planned"],
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        launched_on=None,
        concluded_on=None,
        summary=None,
        override_reason=None,
    )


@handler
def _(e: Campaign.DepartmentEnlisted, rows: RowCache, position: int) -> None:
    d = e.department
    rows.add(
        departments, campaign_id=e.originator_id, code=d.code, position=position, name_zh=d.name_zh, name_en=d.name_en
    )


@handler
def _(e: Campaign.Launched, rows: RowCache, position: int) -> None:
    rows.get(campaigns, e.originator_id).update(status=_AFTER["Launched"], launched_on=e.launched_on)


@handler
def _(e: Campaign.Concluded, rows: RowCache, position: int) -> None:
    rows.get(campaigns, e.originator_id).update(
        status=_AFTER["Concluded"],
        concluded_on=e.concluded_on,
        summary=e.summary,
        override_reason=e.override_reason,
    )


# Queries ----------------------------------------------------------------------


class CampaignLine(Frozen):
    campaign_id: UUID
    title: str
    status: str
    starts_on: date
    ends_on: date


def campaign_lines(connection: Connection) -> list[CampaignLine]:
    """Every campaign, oldest first."""
    c = campaigns
    rows = connection.execute(
        select(c.c.campaign_id, c.c.title, c.c.status, c.c.starts_on, c.c.ends_on).order_by(c.c.position)
    )
    return [CampaignLine(**r) for r in rows.mappings()]


def campaign_row(connection: Connection, campaign_id: UUID) -> dict[str, object]:
    """The campaign's row, or :class:`NotFound`: every per-campaign query asks
    this first, so an unknown id is an error rather than empty figures."""
    row = connection.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id)).mappings().first()
    if row is None:
        msg = f"no campaign with id {campaign_id}"
        raise NotFound(msg)
    return dict(row)


def enlisted_departments(connection: Connection, campaign_id: UUID) -> Sequence[RowMapping]:
    """The campaign's departments in the order they were enlisted."""
    d = departments
    return connection.execute(select(d).where(d.c.campaign_id == campaign_id).order_by(d.c.position)).mappings().all()
