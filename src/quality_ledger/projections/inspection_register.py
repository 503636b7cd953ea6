"""The inspection register: each inspection's state and verdict, its samples
and their results, and its rectification, open or overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    and_,
    func,
    select,
)

from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.inspection import Inspection, LabResult
from quality_ledger.domain.transitions import INSPECTION
from quality_ledger.domain.values import Frozen
from quality_ledger.projections.campaigns import campaign_row
from quality_ledger.projections.dispatch import handler
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.tables import Count, metadata

inspections = Table(
    "ql_inspections",
    metadata,
    Column("inspection_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("activity_id", Uuid),
    Column("inspecting_department", String(32), nullable=False),
    Column("inspection_kind", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("subject_name", Text, nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("product_category", Text, nullable=False),
    Column("planned_on", Date, nullable=False),
    Column("status", String(24), nullable=False),
    Column("verdict", String(16)),
    Column("notified_on", Date),
    Column("rectification_ordered_on", Date),
    Column("rectification_due_on", Date),
    Column("rectification_verified_on", Date),
    Column("rectification_passed", Boolean),
    Column("penalty_amount", Numeric(16, 2)),
    Column("transferred_to", Text),
    Column("closed_on", Date),
)

samples = Table(
    "ql_samples",
    metadata,
    Column("inspection_id", Uuid, primary_key=True),
    Column("sample_id", String(200), primary_key=True),
    Column("position", Count, nullable=False),
    Column("product", Text, nullable=False),
    Column("batch", Text, nullable=False),
    Column("taken_on", Date, nullable=False),
    Column("passed", Boolean),  # NULL until tested; the re-test result replaces the original
    Column("nonconforming_items", Text),  # "; "-separated
    Column("retested", Boolean, nullable=False),
    Column("objected_on", Date),
)

TABLES = (inspections, samples)


# Handlers ---------------------------------------------------------------------

_AFTER = {
    event: INSPECTION.after(event).value
    for event in (
        "Planned",
        "SampleTaken",
        "VerdictIssued",
        "RectificationOrdered",
        "PenaltyImposed",
        "CaseTransferred",
        "Closed",
    )
}
"""The status each event leaves, looked up once: handlers run for every event of a catch-up."""


@handler
def _(e: Inspection.Planned, rows: RowCache, position: int) -> None:
    rows.add(
        inspections,
        inspection_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        activity_id=e.activity_id,
        inspecting_department=e.inspecting_department,
        inspection_kind=e.inspection_kind,
        reference=e.reference,
        subject_name=e.subject.name,
        subject_kind=e.subject.subject_kind.value,
        product_category=e.product_category,
        planned_on=e.planned_on,
        status=_AFTER["Planned"],
        verdict=None,
        notified_on=None,
        rectification_ordered_on=None,
        rectification_due_on=None,
        rectification_verified_on=None,
        rectification_passed=None,
        penalty_amount=None,
        transferred_to=None,
        closed_on=None,
    )


def _inspection(rows: RowCache, e: DomainEvent, **changes: Any) -> None:
    rows.get(inspections, e.originator_id).update(changes)


@handler
def _(e: Inspection.SampleTaken, rows: RowCache, position: int) -> None:
    _inspection(rows, e, status=_AFTER["SampleTaken"])
    rows.add(
        samples,
        inspection_id=e.originator_id,
        sample_id=e.sample_id,
        position=position,
        product=e.product,
        batch=e.batch,
        taken_on=e.taken_on,
        passed=None,
        nonconforming_items=None,
        retested=False,
        objected_on=None,
    )


def _result(result: LabResult) -> dict[str, Any]:
    """A sample's result columns (a re-test's result replaces the original)."""
    return {"passed": result.passed, "nonconforming_items": "; ".join(result.nonconforming_items) or None}


@handler
def _(e: Inspection.SampleResultRecorded, rows: RowCache, position: int) -> None:
    rows.get(samples, e.originator_id, e.sample_id).update(_result(e.result))


@handler
def _(e: Inspection.VerdictIssued, rows: RowCache, position: int) -> None:
    _inspection(rows, e, status=_AFTER["VerdictIssued"], verdict=e.verdict.value, notified_on=e.notified_on)


@handler
def _(e: Inspection.ResultObjected, rows: RowCache, position: int) -> None:
    rows.get(samples, e.originator_id, e.sample_id)["objected_on"] = e.lodged_on


@handler
def _(e: Inspection.RetestResultRecorded, rows: RowCache, position: int) -> None:
    rows.get(samples, e.originator_id, e.sample_id).update(_result(e.result), retested=True)
    _inspection(rows, e, verdict=e.verdict.value)


@handler
def _(e: Inspection.RectificationOrdered, rows: RowCache, position: int) -> None:
    r = e.rectification
    _inspection(
        rows,
        e,
        status=_AFTER["RectificationOrdered"],
        rectification_ordered_on=r.ordered_on,
        rectification_due_on=r.due_on,
    )


@handler
def _(e: Inspection.RectificationVerified, rows: RowCache, position: int) -> None:
    status = INSPECTION.after("RectificationVerified", e.passed)
    _inspection(rows, e, status=status.value, rectification_verified_on=e.verified_on, rectification_passed=e.passed)


@handler
def _(e: Inspection.PenaltyImposed, rows: RowCache, position: int) -> None:
    _inspection(rows, e, status=_AFTER["PenaltyImposed"], penalty_amount=e.penalty.amount)


@handler
def _(e: Inspection.CaseTransferred, rows: RowCache, position: int) -> None:
    _inspection(rows, e, status=_AFTER["CaseTransferred"], transferred_to=e.authority)


@handler
def _(e: Inspection.Closed, rows: RowCache, position: int) -> None:
    _inspection(rows, e, status=_AFTER["Closed"], closed_on=e.closed_on)


# Query ------------------------------------------------------------------------


class InspectionRow(Frozen):
    inspection_id: UUID
    reference: str
    inspecting_department: str
    inspection_kind: str
    subject_name: str
    product_category: str
    status: str
    verdict: str | None
    samples: int
    failed: int
    rectification_due_on: date | None
    rectification_open: bool
    overdue: bool


def overdue(as_of: date) -> ColumnElement[bool]:
    """An inspection whose rectification is still open and was due before
    ``as_of`` (the department scorecard counts them too)."""
    i = inspections
    return and_(
        i.c.rectification_ordered_on.is_not(None),
        i.c.rectification_verified_on.is_(None),
        i.c.rectification_due_on < as_of,
    )


def inspection_register(connection: Connection, campaign_id: UUID, as_of: date | None = None) -> list[InspectionRow]:
    """Every inspection; ``overdue`` means an open rectification due before ``as_of`` (default today)."""
    campaign_row(connection, campaign_id)
    as_of = as_of or datetime.now(UTC).date()
    i, s = inspections, samples
    counts = (
        select(
            s.c.inspection_id,
            func.count().label("samples"),
            func.count(s.c.passed).filter(s.c.passed.is_(False)).label("failed"),
        )
        .group_by(s.c.inspection_id)
        .subquery()
    )
    query = (
        select(
            i,
            func.coalesce(counts.c.samples, 0).label("n_samples"),
            func.coalesce(counts.c.failed, 0).label("n_failed"),
            overdue(as_of).label("is_overdue"),
        )
        .outerjoin(counts, counts.c.inspection_id == i.c.inspection_id)
        .where(i.c.campaign_id == campaign_id)
        .order_by(i.c.position)
    )
    return [
        InspectionRow(
            inspection_id=r["inspection_id"],
            reference=r["reference"],
            inspecting_department=r["inspecting_department"],
            inspection_kind=r["inspection_kind"],
            subject_name=r["subject_name"],
            product_category=r["product_category"],
            status=r["status"],
            verdict=r["verdict"],
            samples=r["n_samples"],
            failed=r["n_failed"],
            rectification_due_on=r["rectification_due_on"],
            rectification_open=r["rectification_ordered_on"] is not None and r["rectification_verified_on"] is None,
            overdue=bool(r["is_overdue"]),
        )
        for r in connection.execute(query).mappings()
    ]
