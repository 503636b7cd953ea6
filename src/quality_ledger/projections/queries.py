"""Questions the views answer, as pydantic models (SQLAlchemy 2 Core selects)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, select

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import NotFound
from quality_ledger.figures import CampaignStatus, DepartmentLine, TargetProgress
from quality_ledger.projections import schema as t


class CampaignLine(Frozen):
    campaign_id: UUID
    title: str
    status: str
    starts_on: date
    ends_on: date


def campaigns(connection: Connection) -> list[CampaignLine]:
    c = t.campaigns
    rows = connection.execute(
        select(c.c.campaign_id, c.c.title, c.c.status, c.c.starts_on, c.c.ends_on).order_by(c.c.position)
    )
    return [CampaignLine(**r) for r in rows.mappings()]


def _campaign(connection: Connection, campaign_id: UUID) -> dict[str, object]:
    row = connection.execute(select(t.campaigns).where(t.campaigns.c.campaign_id == campaign_id)).mappings().first()
    if row is None:
        msg = f"no campaign with id {campaign_id}"
        raise NotFound(msg)
    return dict(row)


def _departments(connection: Connection, campaign_id: UUID) -> Sequence[RowMapping]:
    """The campaign's departments in the order they were enlisted."""
    d = t.departments
    return connection.execute(select(d).where(d.c.campaign_id == campaign_id).order_by(d.c.position)).mappings().all()


def campaign_status(connection: Connection, campaign_id: UUID) -> CampaignStatus:
    campaign = _campaign(connection, campaign_id)
    a, i, s = t.activities, t.inspections, t.samples
    activities = connection.execute(
        select(a.c.lead_department, a.c.status, a.c.activity_kind, a.c.focus_area).where(a.c.campaign_id == campaign_id)
    ).all()
    inspections = connection.execute(
        select(
            i.c.inspecting_department, i.c.verdict, i.c.rectification_ordered_on, i.c.rectification_verified_on
        ).where(i.c.campaign_id == campaign_id)
    ).all()
    tested, failed = connection.execute(
        select(func.count(s.c.passed), func.count(s.c.passed).filter(s.c.passed.is_(False)))
        .select_from(s.join(i, s.c.inspection_id == i.c.inspection_id))
        .where(i.c.campaign_id == campaign_id)
    ).one()
    focus: dict[str, dict[str, int]] = {f: {} for f in str(campaign["focus_areas"]).split(",") if f}
    for activity in activities:
        states = focus.setdefault(activity.focus_area, {})
        states[activity.status] = states.get(activity.status, 0) + 1
    departments = _departments(connection, campaign_id)
    targets = connection.execute(
        select(a.c.activity_id, a.c.title, t.targets.c.metric, t.targets.c.target, t.targets.c.achieved)
        .join(t.targets, t.targets.c.activity_id == a.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .order_by(a.c.position, t.targets.c.seq)
    ).all()
    commendations = connection.execute(
        select(t.commendations.c.status).where(t.commendations.c.campaign_id == campaign_id)
    ).scalars()
    bulletins = connection.execute(
        select(func.count()).select_from(t.bulletins).where(t.bulletins.c.campaign_id == campaign_id)
    ).scalar_one()
    return CampaignStatus(
        campaign_id=campaign_id,
        title=campaign["title"],
        status=campaign["status"],
        starts_on=campaign["starts_on"],
        ends_on=campaign["ends_on"],
        departments=tuple(
            DepartmentLine(
                code=d["code"],
                name_en=d["name_en"],
                name_zh=d["name_zh"],
                activities=dict(Counter(x.status for x in activities if x.lead_department == d["code"])),
                inspections=sum(x.inspecting_department == d["code"] for x in inspections),
                nonconforming=sum(
                    x.inspecting_department == d["code"] and x.verdict == "nonconforming" for x in inspections
                ),
                open_rectifications=sum(
                    x.inspecting_department == d["code"]
                    and x.rectification_ordered_on is not None
                    and x.rectification_verified_on is None
                    for x in inspections
                ),
            )
            for d in departments
        ),
        activities_by_state=dict(Counter(x.status for x in activities)),
        activities_by_kind=dict(Counter(x.activity_kind for x in activities)),
        activities_by_focus_area=focus,
        inspections_by_verdict=dict(Counter(x.verdict or "pending" for x in inspections)),
        samples_tested=tested,
        samples_failed=failed,
        targets=tuple(
            TargetProgress(
                activity_id=x.activity_id, activity=x.title, metric=x.metric, target=x.target, achieved=x.achieved
            )
            for x in targets
        ),
        commendations_by_state=dict(Counter(commendations)),
        bulletins=bulletins,
    )


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
    _campaign(connection, campaign_id)
    a = t.activities
    rows = connection.execute(select(a).where(a.c.campaign_id == campaign_id).order_by(a.c.position)).mappings().all()
    lines: dict[UUID, list[TargetLine]] = {}
    for x in connection.execute(
        select(t.targets)
        .join(a, a.c.activity_id == t.targets.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .order_by(t.targets.c.seq)
    ).mappings():
        lines.setdefault(x["activity_id"], []).append(
            TargetLine(metric=x["metric"], target=x["target"], achieved=x["achieved"])
        )
    return [
        ActivityRow(
            **{k: v for k, v in row.items() if k not in ("position", "campaign_id")},
            progress=tuple(lines.get(row["activity_id"], ())),
        )
        for row in rows
    ]


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


def _overdue(as_of: date) -> ColumnElement[bool]:
    i = t.inspections
    return and_(
        i.c.rectification_ordered_on.is_not(None),
        i.c.rectification_verified_on.is_(None),
        i.c.rectification_due_on < as_of,
    )


def inspection_register(connection: Connection, campaign_id: UUID, as_of: date | None = None) -> list[InspectionRow]:
    """Every inspection; ``overdue`` means an open rectification due before ``as_of`` (default today)."""
    _campaign(connection, campaign_id)
    as_of = as_of or datetime.now(UTC).date()
    i, s = t.inspections, t.samples
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
            _overdue(as_of).label("is_overdue"),
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


class BulletinLine(Frozen):
    product_category: str
    inspections: int
    samples_tested: int
    samples_failed: int
    nonconforming_subjects: tuple[str, ...]

    @property
    def pass_rate(self) -> float | None:
        if not self.samples_tested:
            return None
        return (self.samples_tested - self.samples_failed) / self.samples_tested


def bulletin(connection: Connection, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[BulletinLine]:
    """Per product category, over inspections with a verdict (or those a published bulletin lists)."""
    _campaign(connection, campaign_id)
    i, s = t.inspections, t.samples
    chosen = i.c.verdict.is_not(None)
    if bulletin_id is not None:
        listed = select(t.bulletin_items.c.inspection_id).where(t.bulletin_items.c.bulletin_id == bulletin_id)
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
    _campaign(connection, campaign_id)
    as_of = as_of or datetime.now(UTC).date()
    a, i = t.activities, t.inspections
    activities = connection.execute(select(a.c.lead_department, a.c.status).where(a.c.campaign_id == campaign_id)).all()
    inspections = connection.execute(
        select(i.c.inspecting_department, _overdue(as_of).label("overdue")).where(i.c.campaign_id == campaign_id)
    ).all()
    departments = _departments(connection, campaign_id)
    return [
        ScorecardLine(
            code=d["code"],
            name_zh=d["name_zh"],
            name_en=d["name_en"],
            activities_planned=sum(x.lead_department == d["code"] for x in activities),
            activities_completed=sum(x.lead_department == d["code"] and x.status == "completed" for x in activities),
            activities_cancelled=sum(x.lead_department == d["code"] and x.status == "cancelled" for x in activities),
            inspections=sum(x.inspecting_department == d["code"] for x in inspections),
            overdue_rectifications=sum(x.inspecting_department == d["code"] and bool(x.overdue) for x in inspections),
        )
        for d in departments
    ]


class AuditEntry(Frozen):
    position: int
    recorded_at: datetime
    occurred_on: date | None
    actor: str | None
    department: str | None
    command: str | None
    command_id: UUID | None
    correlation_id: UUID | None
    aggregate_id: UUID
    aggregate_kind: str
    version: int
    event: str
    summary: str


class AuditPage(Frozen):
    entries: tuple[AuditEntry, ...]
    next_after: int | None
    """Pass as ``after`` for the next page; ``None`` on the last page."""


def audit_trail(
    connection: Connection,
    *,
    actor: str | None = None,
    department: str | None = None,
    aggregate_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 100,
) -> AuditPage:
    """Events in log order, filtered; ``since``/``until`` bound recorded-at (UTC), until exclusive."""
    trail = t.audit_trail
    query = select(trail).where(trail.c.position > after)
    if actor is not None:
        query = query.where(trail.c.actor == actor)
    if department is not None:
        query = query.where(trail.c.department == department)
    if aggregate_id is not None:
        query = query.where(trail.c.aggregate_id == aggregate_id)
    if since is not None:
        query = query.where(trail.c.recorded_at >= naive_utc(since))
    if until is not None:
        query = query.where(trail.c.recorded_at < naive_utc(until))
    rows = connection.execute(query.order_by(trail.c.position).limit(limit + 1)).mappings().all()
    entries = tuple(AuditEntry(**{**r, "recorded_at": r["recorded_at"].replace(tzinfo=UTC)}) for r in rows[:limit])
    return AuditPage(entries=entries, next_after=entries[-1].position if len(rows) > limit else None)


def naive_utc(instant: datetime) -> datetime:
    """The views store recorded-at as naive UTC; naive input is taken as UTC."""
    return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo else instant
