"""The activity board: each activity's state, schedule and outcome, and its
progress against each target."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, Date, Integer, String, Table, Text, Uuid, select

from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.transitions import ACTIVITY
from quality_ledger.domain.values import Frozen
from quality_ledger.projections.campaigns import campaign_row
from quality_ledger.projections.dispatch import handler
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.tables import Count, metadata

activities = Table(
    "ql_activities",
    metadata,
    Column("activity_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("lead_department", String(32), nullable=False),
    Column("focus_area", String(40), nullable=False),
    Column("activity_kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("place", Text),
    Column("started_on", Date),
    Column("completed_on", Date),
    Column("outcome", Text),
    Column("reason", Text),
)

targets = Table(
    "ql_targets",
    metadata,
    Column("activity_id", Uuid, primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("target", Count, nullable=False),
    Column("achieved", Count, nullable=False),
)

TABLES = (activities, targets)


# Handlers ---------------------------------------------------------------------

_AFTER = {
    event: ACTIVITY.after(event).value
    for event in ("Planned", "Scheduled", "Started", "Completed", "Postponed", "Cancelled")
}
"""The status each event leaves, looked up once: handlers run for every event of a catch-up."""


@handler
def _(e: Activity.Planned, rows: RowCache, position: int) -> None:
    rows.add(
        activities,
        activity_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        title=e.title,
        lead_department=e.lead_department,
        focus_area=e.focus_area.value,
        activity_kind=e.activity_kind.value,
        status=_AFTER["Planned"],
        starts_on=None,
        ends_on=None,
        place=None,
        started_on=None,
        completed_on=None,
        outcome=None,
        reason=None,
    )
    for seq, (metric, target) in enumerate(e.targets.items()):
        rows.add(targets, activity_id=e.originator_id, metric=metric, seq=seq, target=target, achieved=0)


def _activity(rows: RowCache, e: DomainEvent, **changes: Any) -> None:
    rows.get(activities, e.originator_id).update(changes)


@handler
def _(e: Activity.Scheduled, rows: RowCache, position: int) -> None:
    _activity(
        rows,
        e,
        status=_AFTER["Scheduled"],
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        place=e.place,
        reason=None,
    )


@handler
def _(e: Activity.Started, rows: RowCache, position: int) -> None:
    _activity(rows, e, status=_AFTER["Started"], started_on=e.started_on)


@handler
def _(e: Activity.ProgressReported, rows: RowCache, position: int) -> None:
    rows.get(targets, e.originator_id, e.metric)["achieved"] += e.amount


@handler
def _(e: Activity.Completed, rows: RowCache, position: int) -> None:
    _activity(rows, e, status=_AFTER["Completed"], completed_on=e.completed_on, outcome=e.outcome)


@handler
def _(e: Activity.Postponed, rows: RowCache, position: int) -> None:
    _activity(rows, e, status=_AFTER["Postponed"], reason=e.reason)


@handler
def _(e: Activity.Cancelled, rows: RowCache, position: int) -> None:
    _activity(rows, e, status=_AFTER["Cancelled"], reason=e.reason)


# Query ------------------------------------------------------------------------


class TargetLine(Frozen):
    metric: str
    target: int
    achieved: int


class ActivityRow(Frozen):
    activity_id: UUID
    title: str
    lead_department: str
    focus_area: str
    activity_kind: str
    status: str
    starts_on: date | None
    ends_on: date | None
    place: str | None
    started_on: date | None
    completed_on: date | None
    outcome: str | None
    reason: str | None
    progress: tuple[TargetLine, ...]


def activity_board(connection: Connection, campaign_id: UUID) -> list[ActivityRow]:
    campaign_row(connection, campaign_id)
    a = activities
    found = connection.execute(select(a).where(a.c.campaign_id == campaign_id).order_by(a.c.position)).mappings().all()
    lines: dict[UUID, list[TargetLine]] = {}
    for x in connection.execute(
        select(targets)
        .join(a, a.c.activity_id == targets.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .order_by(targets.c.seq)
    ).mappings():
        lines.setdefault(x["activity_id"], []).append(
            TargetLine(metric=x["metric"], target=x["target"], achieved=x["achieved"])
        )
    return [
        ActivityRow(
            **{k: v for k, v in row.items() if k not in ("position", "campaign_id")},
            progress=tuple(lines.get(row["activity_id"], ())),
        )
        for row in found
    ]
