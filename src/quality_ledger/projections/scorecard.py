"""The department scorecard: per enlisted department, activities planned,
completed and cancelled, inspections and overdue rectifications. A query
only: it reads the campaigns', activities' and inspections' tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import Connection, select

from quality_ledger.domain.values import Frozen
from quality_ledger.projections.activity_board import activities
from quality_ledger.projections.campaigns import campaign_row, enlisted_departments
from quality_ledger.projections.inspection_register import inspections, overdue


class ScorecardLine(Frozen):
    code: str
    name_zh: str
    name_en: str
    activities_planned: int
    activities_completed: int
    activities_cancelled: int
    inspections: int
    overdue_rectifications: int


def department_scorecard(connection: Connection, campaign_id: UUID, as_of: date | None = None) -> list[ScorecardLine]:
    campaign_row(connection, campaign_id)
    as_of = as_of or datetime.now(UTC).date()
    a, i = activities, inspections
    led = connection.execute(select(a.c.lead_department, a.c.status).where(a.c.campaign_id == campaign_id)).all()
    inspected = connection.execute(
        select(i.c.inspecting_department, overdue(as_of).label("overdue")).where(i.c.campaign_id == campaign_id)
    ).all()
    return [
        ScorecardLine(
            code=d["code"],
            name_zh=d["name_zh"],
            name_en=d["name_en"],
            activities_planned=sum(x.lead_department == d["code"] for x in led),
            activities_completed=sum(x.lead_department == d["code"] and x.status == "completed" for x in led),
            activities_cancelled=sum(x.lead_department == d["code"] and x.status == "cancelled" for x in led),
            inspections=sum(x.inspecting_department == d["code"] for x in inspected),
            overdue_rectifications=sum(x.inspecting_department == d["code"] and bool(x.overdue) for x in inspected),
        )
        for d in enlisted_departments(connection, campaign_id)
    ]
