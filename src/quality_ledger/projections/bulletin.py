"""The bulletin: per product category, inspections, samples tested and
failed, pass rate and nonconforming subjects; over every inspection with a
verdict, or over those a published bulletin lists (its tables here)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Column, Connection, Date, Table, Text, Uuid, select

from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.values import Frozen
from quality_ledger.figures import pass_rate
from quality_ledger.projections.campaigns import campaign_row
from quality_ledger.projections.dispatch import handler
from quality_ledger.projections.inspection_register import inspections, samples
from quality_ledger.projections.row_cache import RowCache
from quality_ledger.projections.tables import Count, metadata

bulletins = Table(
    "ql_bulletins",
    metadata,
    Column("bulletin_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("published_on", Date, nullable=False),
)

bulletin_items = Table(
    "ql_bulletin_items",
    metadata,
    Column("bulletin_id", Uuid, primary_key=True),
    Column("inspection_id", Uuid, primary_key=True),
)

TABLES = (bulletins, bulletin_items)


@handler
def _(e: Campaign.BulletinPublished, rows: RowCache, position: int) -> None:
    b = e.bulletin
    rows.add(
        bulletins,
        bulletin_id=b.bulletin_id,
        position=position,
        campaign_id=e.originator_id,
        title=b.title,
        published_on=b.published_on,
    )
    for inspection_id in b.inspection_ids:
        rows.add(bulletin_items, bulletin_id=b.bulletin_id, inspection_id=inspection_id)


class BulletinLine(Frozen):
    product_category: str
    inspections: int
    samples_tested: int
    samples_failed: int
    nonconforming_subjects: tuple[str, ...]

    @property
    def pass_rate(self) -> float | None:
        return pass_rate(self.samples_tested, self.samples_failed)


def bulletin(connection: Connection, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[BulletinLine]:
    """Per product category, over inspections with a verdict (or those a published bulletin lists)."""
    campaign_row(connection, campaign_id)
    i, s = inspections, samples
    chosen = i.c.verdict.is_not(None)
    if bulletin_id is not None:
        listed = select(bulletin_items.c.inspection_id).where(bulletin_items.c.bulletin_id == bulletin_id)
        chosen = i.c.inspection_id.in_(listed)
    query = select(i).where(i.c.campaign_id == campaign_id, chosen).order_by(i.c.product_category, i.c.position)
    rows = connection.execute(query).mappings().all()
    results = connection.execute(
        select(s.c.inspection_id, s.c.passed).where(
            s.c.inspection_id.in_([r["inspection_id"] for r in rows]), s.c.passed.is_not(None)
        )
    ).all()
    lines = []
    for category in dict.fromkeys(r["product_category"] for r in rows):
        members = [r for r in rows if r["product_category"] == category]
        ids = {r["inspection_id"] for r in members}
        tested = [p for (inspection_id, p) in results if inspection_id in ids]
        lines.append(
            BulletinLine(
                product_category=category,
                inspections=len(members),
                samples_tested=len(tested),
                samples_failed=sum(not p for p in tested),
                nonconforming_subjects=tuple(
                    dict.fromkeys(r["subject_name"] for r in members if r["verdict"] == "nonconforming")
                ),
            )
        )
    return lines
