"""Gathering a campaign report's figures from the ledger's views, and its
integrity footer from the log.

Every figure is read through one connection to the views, in one
transaction (REPEATABLE READ on PostgreSQL, where each statement would
otherwise see the commits made meanwhile; SQLite's read transaction is a
snapshot already), so the page agrees with itself and with the one log
position it names, even while others keep writing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, and_, case, distinct, func, select

from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint
from quality_ledger.bounds import check_day, check_instant, check_optional_id
from quality_ledger.errors import ConfigurationError, InvalidCommand, NotFound
from quality_ledger.ledger import Ledger
from quality_ledger.parts import guarded
from quality_ledger.projections import ScorecardLine, campaigns
from quality_ledger.projections.activity_board import activities, targets
from quality_ledger.projections.bulletin import bulletins
from quality_ledger.projections.campaigns import departments
from quality_ledger.projections.commendations import commendations
from quality_ledger.projections.feed import read_position
from quality_ledger.projections.inspection_register import inspections, overdue, samples
from quality_ledger.reports.model import (
    MAX_ROWS,
    TIMELINE_COLUMNS,
    ActivityLine,
    Body,
    CampaignReport,
    CategoryLine,
    Commendation,
    Day,
    Header,
    Integrity,
    Listing,
    MetricTotal,
    Rectification,
    Target,
    Timeline,
    Totals,
)

__all__ = ["gather"]


def gather(
    ledger: Ledger,
    campaign_id: UUID | None = None,
    *,
    as_of: datetime | None = None,
    occurred_by: date | None = None,
    since: Checkpoint | None = None,
    certificate: ReplayCertificate | None = None,
    now: datetime | None = None,
    max_rows: int = MAX_ROWS,
) -> CampaignReport:
    """The report of ``campaign_id`` (``None``: the ledger's only campaign).

    ``as_of`` (recorded time) and ``occurred_by`` (business date) cut the
    report as :meth:`Ledger.as_of` does; the footer still checks the whole
    log. ``since`` (a trusted checkpoint) verifies only what was appended
    after it, and ``certificate`` (one issued earlier, e.g. by ``audit
    certificate``) is shown instead of replaying the log again: the two
    costs of the footer that grow with the log.

    ``max_rows`` caps each list of the page (:data:`~.model.MAX_ROWS`
    unless told); totals always count every row.
    """
    campaign_id = check_optional_id("campaign_id", campaign_id)
    as_of = check_instant("as_of", as_of)
    occurred_by = check_day("occurred_by", occurred_by)
    now = check_instant("now", now) or datetime.now(UTC)
    for name, value, kind in (("since", since, Checkpoint), ("certificate", certificate, ReplayCertificate)):
        if value is not None and not isinstance(value, kind):
            msg = f"{name} must be a {kind.__name__}, got {type(value).__name__}"
            raise InvalidCommand(msg)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        msg = f"max_rows must be a whole number of at least 1, got {max_rows!r}"
        raise InvalidCommand(msg)
    on = occurred_by or _utc_day(as_of or now)
    if as_of is None and occurred_by is None:
        report = _figures(ledger, campaign_id, on, max_rows)
        cut = None
    else:
        parts = [
            f"recorded by {as_of.isoformat()}" if as_of else "",
            f"occurred by {occurred_by}" if occurred_by else "",
        ]
        cut = ", ".join(p for p in parts if p)
        with ledger.as_of(as_of, occurred_by=occurred_by) as then:
            try:
                report = _figures(then, campaign_id, on, max_rows, cut_at=then.as_of_position)
            except NotFound as e:
                hint = " (as_of cuts by recorded time; occurred_by by business date)" if as_of else ""
                msg = f"{e}, in the log {cut} (up to position {then.as_of_position}){hint}"
                raise NotFound(msg) from None
    position, body = report
    return CampaignReport(body, _integrity(ledger, position, since=since, certificate=certificate, now=now, cut=cut))


@guarded
def _figures(
    ledger: Ledger, campaign_id: UUID | None, on: date, limit: int, cut_at: int | None = None
) -> tuple[int, Body]:
    """Totals and distributions are counted in SQL over every row; lists are
    read up to ``limit`` rows: the cost follows what the page shows, and the
    aggregates' scans, not the number of rows fetched into Python."""
    with ledger.views.reading(catch_up=ledger.read_your_writes) as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        position = cut_at if cut_at is not None else read_position(connection)
        chosen = _choose(connection, campaign_id)
        row = campaigns.campaign_row(connection, chosen)
        header = Header(
            campaign_id=chosen,
            title=str(row["title"]),
            theme=str(row["theme"]),
            organiser=str(row["organiser"]),
            starts_on=row["starts_on"],  # type: ignore[arg-type]
            ends_on=row["ends_on"],  # type: ignore[arg-type]
            status=str(row["status"]),
            launched_on=row["launched_on"],  # type: ignore[arg-type]
            concluded_on=row["concluded_on"],  # type: ignore[arg-type]
        )
        led = _activities_by(connection, chosen)
        inspected = _inspections_by_department(connection, chosen, on)
        bulletin, tested, failed = _bulletin(connection, chosen, limit)
        scorecard, enlisted = _scorecard(connection, chosen, led, inspected, limit)
        metrics, counted = _metrics(connection, chosen, limit)
        commendations = _commendations(connection, chosen, limit)
        rectifications = _rectifications(connection, chosen, on, sum(o for _, o, _ in inspected.values()), limit)
        focus: dict[str, dict[str, int]] = {f: {} for f in str(row["focus_areas"]).split(",") if f}
        for (_, area, status), n in sorted(led.items()):
            states = focus.setdefault(area, {})
            states[status] = states.get(status, 0) + n
        b = bulletins
        totals = Totals(
            departments=enlisted,
            activities=sum(led.values()),
            inspections=sum(n for n, _, _ in inspected.values()),
            samples_tested=tested,
            samples_failed=failed,
            bulletins=connection.execute(
                select(func.count()).select_from(b).where(b.c.campaign_id == chosen)
            ).scalar_one(),
            commendations=commendations.total,
            open_rectifications=rectifications.total,
            overdue_rectifications=sum(n for _, _, n in inspected.values()),
        )
        body = Body(
            header=header,
            totals=totals,
            on=on,
            by_focus_area=focus,
            metrics=metrics,
            targets=_targets(connection, chosen, counted, limit),
            activities=_activity_lines(connection, chosen, totals.activities, limit),
            timeline=_timeline(
                header.starts_on,
                header.ends_on,
                _activities_by_day(connection, chosen),
                _inspections_by_day(connection, chosen),
            ),
            bulletin=bulletin,
            rectifications=rectifications,
            scorecard=scorecard,
            commendations=commendations,
        )
    return position, body


def _utc_day(instant: datetime) -> date:
    """The UTC calendar day of an instant (naive meaning UTC, as everywhere in the ledger)."""
    return (instant.astimezone(UTC) if instant.tzinfo else instant).date()


def _choose(connection: Connection, campaign_id: UUID | None) -> UUID:
    """The campaign asked for, else the only one: with none or several, say so."""
    if campaign_id is not None:
        return campaign_id
    lines = campaigns.campaign_lines(connection)
    if not lines:
        msg = "the ledger holds no campaign yet: there is nothing to report"
        raise NotFound(msg)
    if len(lines) > 1:
        shown = ", ".join(f"{x.campaign_id} ({x.title})" for x in lines[:3])
        more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
        msg = f"the ledger holds {len(lines)} campaigns: name one of {shown}{more}"
        raise ConfigurationError(msg)
    return lines[0].campaign_id


def _activities_by(connection: Connection, campaign_id: UUID) -> dict[tuple[str, str, str], int]:
    """Activities counted by (lead department, focus area, state): the focus
    areas' bars, the scorecard's activity columns and the total, in one scan."""
    a = activities
    rows = connection.execute(
        select(a.c.lead_department, a.c.focus_area, a.c.status, func.count())
        .where(a.c.campaign_id == campaign_id)
        .group_by(a.c.lead_department, a.c.focus_area, a.c.status)
    ).all()
    return {(d, f, s): n for d, f, s, n in rows}


def _inspections_by_department(connection: Connection, campaign_id: UUID, on: date) -> dict[str, tuple[int, int, int]]:
    """Per inspecting department: inspections, open rectifications, and those overdue on ``on``."""
    i = inspections
    opened = and_(i.c.rectification_ordered_on.is_not(None), i.c.rectification_verified_on.is_(None))
    rows = connection.execute(
        select(i.c.inspecting_department, func.count(), func.count().filter(opened), func.count().filter(overdue(on)))
        .where(i.c.campaign_id == campaign_id)
        .group_by(i.c.inspecting_department)
    ).all()
    return {d: (n, o, late) for d, n, o, late in rows}


def _bulletin(connection: Connection, campaign_id: UUID, limit: int) -> tuple[Listing[CategoryLine], int, int]:
    """The bulletin's categories (over inspections with a verdict, as
    :func:`quality_ledger.projections.bulletin.bulletin` counts them), and the
    campaign's samples tested and failed (over every inspection)."""
    i, s = inspections, samples
    judged = i.c.verdict.is_not(None)
    nonconforming = i.c.verdict == "nonconforming"
    failing = s.c.passed.is_(False)
    tested = connection.execute(
        select(
            i.c.product_category,
            func.count(s.c.passed),
            func.count(s.c.passed).filter(failing),
            func.count(s.c.passed).filter(judged),
            func.count(s.c.passed).filter(judged, failing),
        )
        .select_from(s.join(i, s.c.inspection_id == i.c.inspection_id))
        .where(i.c.campaign_id == campaign_id)
        .group_by(i.c.product_category)
    ).all()
    samples_by = {category: (t, f) for category, _, _, t, f in tested}
    categories = connection.execute(
        select(
            i.c.product_category,
            func.count().filter(judged),
            func.count(distinct(case((nonconforming, i.c.subject_name)))),
        )
        .where(i.c.campaign_id == campaign_id)
        .group_by(i.c.product_category)
        .having(func.count().filter(judged) > 0)
        .order_by(i.c.product_category)
    ).all()
    shown = categories[:limit]
    first = func.min(i.c.position)
    subjects: dict[str, list[str]] = {}
    for category, subject in connection.execute(
        select(i.c.product_category, i.c.subject_name)
        .where(i.c.campaign_id == campaign_id, nonconforming)
        .group_by(i.c.product_category, i.c.subject_name)
        .order_by(i.c.product_category, first)
        .limit(limit)
    ):
        subjects.setdefault(category, []).append(subject)
    lines = tuple(
        CategoryLine(
            product_category=category,
            inspections=n,
            samples_tested=samples_by.get(category, (0, 0))[0],
            samples_failed=samples_by.get(category, (0, 0))[1],
            subjects=tuple(subjects.get(category, ())),
            subjects_total=subjects_total,
        )
        for category, n, subjects_total in shown
    )
    listing = Listing(lines, len(categories), "Ledger.bulletin(), or the view ql_inspections")
    return listing, sum(t for _, t, _, _, _ in tested), sum(f for _, _, f, _, _ in tested)


def _scorecard(
    connection: Connection,
    campaign_id: UUID,
    led: dict[tuple[str, str, str], int],
    inspected: dict[str, tuple[int, int, int]],
    limit: int,
) -> tuple[Listing[ScorecardLine], int]:
    """The first ``limit`` enlisted departments' lines (as
    :func:`quality_ledger.projections.scorecard.department_scorecard` has
    them), from the counts already made; and how many are enlisted."""
    d = departments
    enlisted = connection.execute(
        select(func.count()).select_from(d).where(d.c.campaign_id == campaign_id)
    ).scalar_one()
    rows = connection.execute(
        select(d.c.code, d.c.name_zh, d.c.name_en)
        .where(d.c.campaign_id == campaign_id)
        .order_by(d.c.position)
        .limit(limit)
    ).all()
    by: dict[str, Counter[str]] = {}
    for (department, _, status), n in led.items():
        by.setdefault(department, Counter())[status] += n
    lines = tuple(
        ScorecardLine(
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            activities_planned=by.get(code, Counter()).total(),
            activities_completed=by.get(code, Counter())["completed"],
            activities_cancelled=by.get(code, Counter())["cancelled"],
            inspections=inspected.get(code, (0, 0, 0))[0],
            overdue_rectifications=inspected.get(code, (0, 0, 0))[2],
        )
        for code, name_zh, name_en in rows
    )
    source = "Ledger.department_scorecard(), or quality-ledger status --json (status.departments)"
    return Listing(lines, enlisted, source), enlisted


def _metrics(connection: Connection, campaign_id: UUID, limit: int) -> tuple[Listing[MetricTotal], int]:
    """Every activity's targets added up per metric, in the order metrics
    first appear; and how many targets there are in all."""
    a, t = activities, targets
    rows = connection.execute(
        select(t.c.metric, func.count(), func.sum(t.c.achieved), func.sum(t.c.target))
        .join(a, a.c.activity_id == t.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .group_by(t.c.metric)
        .order_by(func.min(a.c.position), func.min(t.c.seq), t.c.metric)
    ).all()
    # int(): PostgreSQL sums BIGINT as NUMERIC
    totals = tuple(MetricTotal(metric=m, activities=n, achieved=int(x), target=int(y)) for m, n, x, y in rows)
    return Listing(totals[:limit], len(totals), "the view ql_targets"), sum(m.activities for m in totals)


def _targets(connection: Connection, campaign_id: UUID, total: int, limit: int) -> Listing[Target]:
    a, t = activities, targets
    rows = connection.execute(
        select(a.c.title, t.c.metric, t.c.achieved, t.c.target)
        .join(a, a.c.activity_id == t.c.activity_id)
        .where(a.c.campaign_id == campaign_id)
        .order_by(a.c.position, t.c.seq)
        .limit(limit)
    ).all()
    return Listing(
        tuple(Target(activity=title, metric=m, achieved=x, target=y) for title, m, x, y in rows),
        total,
        "quality-ledger status --json (status.targets), or the view ql_targets",
    )


def _activity_lines(connection: Connection, campaign_id: UUID, total: int, limit: int) -> Listing[ActivityLine]:
    a = activities
    rows = connection.execute(
        select(
            a.c.title,
            a.c.lead_department,
            a.c.focus_area,
            a.c.activity_kind,
            a.c.status,
            func.coalesce(a.c.starts_on, a.c.started_on),
            func.coalesce(a.c.ends_on, a.c.completed_on),
            a.c.place,
        )
        .where(a.c.campaign_id == campaign_id)
        .order_by(a.c.position)
        .limit(limit)
    ).all()
    return Listing(
        tuple(
            ActivityLine(
                title=title,
                lead_department=lead,
                focus_area=area,
                activity_kind=kind,
                status=status,
                starts_on=starts_on,
                ends_on=ends_on,
                place=place,
            )
            for title, lead, area, kind, status, starts_on, ends_on, place in rows
        ),
        total,
        "Ledger.activity_board(), or the view ql_activities",
    )


def _rectifications(
    connection: Connection, campaign_id: UUID, on: date, total: int, limit: int
) -> Listing[Rectification]:
    """The first open rectifications, oldest inspection first (``total``: all open ones, counted already)."""
    i = inspections
    opened = and_(
        i.c.campaign_id == campaign_id,
        i.c.rectification_ordered_on.is_not(None),
        i.c.rectification_verified_on.is_(None),
    )
    rows = connection.execute(
        select(
            i.c.reference,
            i.c.subject_name,
            i.c.product_category,
            i.c.inspecting_department,
            i.c.rectification_due_on,
            overdue(on),
        )
        .where(opened)
        .order_by(i.c.position)
        .limit(limit)
    ).all()
    return Listing(
        tuple(
            Rectification(
                reference=reference,
                subject_name=subject,
                product_category=category,
                department=department,
                due_on=due_on,
                overdue=bool(late),
            )
            for reference, subject, category, department, due_on, late in rows
        ),
        total,
        "Ledger.inspection_register(), or the view ql_inspections",
    )


def _activities_by_day(connection: Connection, campaign_id: UUID) -> Counter[date | None]:
    """Activities by the day they start: scheduled, else actual (``None``: neither yet)."""
    a = activities
    day = func.coalesce(a.c.starts_on, a.c.started_on)
    rows = connection.execute(select(day, func.count()).where(a.c.campaign_id == campaign_id).group_by(day)).all()
    return Counter(dict(rows))


def _inspections_by_day(connection: Connection, campaign_id: UUID) -> Counter[date | None]:
    i = inspections
    rows = connection.execute(
        select(i.c.planned_on, func.count()).where(i.c.campaign_id == campaign_id).group_by(i.c.planned_on)
    ).all()
    return Counter(dict(rows))


def _timeline(
    first: date,
    last: date,
    activities: Counter[date | None],
    inspections: Counter[date | None],
    columns: int = TIMELINE_COLUMNS,
) -> Timeline:
    """Counts per day of the period (per span of days past ``columns`` days), and outside it."""
    length = (last - first).days + 1
    span = -(-length // columns)
    days = []
    for start in range(0, length, span):
        on = first + timedelta(days=start)
        span_days = [on + timedelta(days=n) for n in range(min(span, length - start))]
        days.append(
            Day(
                on=on,
                last=span_days[-1],
                activities=sum(activities[d] for d in span_days),
                inspections=sum(inspections[d] for d in span_days),
            )
        )
    dated = [(d, n) for counts in (activities, inspections) for d, n in counts.items() if d is not None]
    return Timeline(
        days=tuple(days),
        span=span,
        earlier=sum(n for d, n in dated if d < first),
        later=sum(n for d, n in dated if d > last),
        undated=activities[None] + inspections[None],
    )


def _commendations(connection: Connection, campaign_id: UUID, limit: int) -> Listing[Commendation]:
    c = commendations
    total = connection.execute(select(func.count()).select_from(c).where(c.c.campaign_id == campaign_id)).scalar_one()
    rows = (
        connection.execute(select(c).where(c.c.campaign_id == campaign_id).order_by(c.c.position).limit(limit))
        .mappings()
        .all()
    )
    return Listing(
        tuple(
            Commendation(
                person=r["person"],
                employer=r["employer"],
                nominated_by=r["nominated_by"],
                status=r["status"],
                conferred_on=r["conferred_on"],
                publicity=r["publicity"],
            )
            for r in rows
        ),
        total,
        "the view ql_commendations",
    )


def _integrity(
    ledger: Ledger,
    position: int,
    *,
    since: Checkpoint | None,
    certificate: ReplayCertificate | None,
    now: datetime,
    cut: str | None,
) -> Integrity:
    report = ledger.verify(since=since)
    point = ledger.checkpoint()
    first_break = report.first_break
    found = certificate or (ledger.replay_certificate(position) if first_break is None else None)
    return Integrity(
        position=position,
        log_size=point.size,
        head=point.head,
        chain_ok=first_break is None and report.ok,
        checked=report.checked,
        first_break=None if first_break is None else f"position {first_break.position}: {first_break.kind}",
        since_size=None if since is None else since.size,
        certificate_position=None if found is None else found.position,
        certificate_digest=None if found is None else found.digest,
        certificate_supplied=certificate is not None,
        generated_at=now,
        cut=cut,
    )
