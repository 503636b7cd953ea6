"""The commendations view: each Quality Craftsman nomination, its review,
conferral and publicity. No query of its own: the campaign status counts
commendations by state (:mod:`.campaign_status`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Date, String, Table, Text, Uuid

from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.transitions import COMMENDATION
from quality_ledger.projections.dispatch import handler
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.tables import Count, metadata

commendations = Table(
    "ql_commendations",
    metadata,
    Column("commendation_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("person", Text, nullable=False),
    Column("employer", Text, nullable=False),
    Column("nominated_by", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("review_reason", Text),
    Column("ceremony_id", Uuid),
    Column("conferred_on", Date),
    Column("publicity", Count, nullable=False),
)

TABLES = (commendations,)


@handler
def _(e: Commendation.Nominated, rows: RowCache, position: int) -> None:
    rows.add(
        commendations,
        commendation_id=e.originator_id,
        position=position,
        campaign_id=e.campaign_id,
        person=e.person,
        employer=e.employer,
        nominated_by=e.nominated_by,
        status=COMMENDATION.after("Nominated").value,
        review_reason=None,
        ceremony_id=None,
        conferred_on=None,
        publicity=0,
    )


def _commendation(rows: RowCache, e: DomainEvent, **changes: Any) -> None:
    rows.get(commendations, e.originator_id).update(changes)


@handler
def _(e: Commendation.Approved, rows: RowCache, position: int) -> None:
    _commendation(rows, e, status=COMMENDATION.after("Approved").value)


@handler
def _(e: Commendation.Rejected, rows: RowCache, position: int) -> None:
    _commendation(rows, e, status=COMMENDATION.after("Rejected").value, review_reason=e.reason)


@handler
def _(e: Commendation.Conferred, rows: RowCache, position: int) -> None:
    _commendation(
        rows, e, status=COMMENDATION.after("Conferred").value, ceremony_id=e.ceremony_id, conferred_on=e.conferred_on
    )


@handler
def _(e: Commendation.Publicised, rows: RowCache, position: int) -> None:
    rows.get(commendations, e.originator_id)["publicity"] += 1
