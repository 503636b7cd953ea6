"""The audit trail view: every event as one line a person can read, with who
recorded it, when, and through which command; its table, its summaries and
the paged, filtered query."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from uuid import UUID

from pydantic_core import TzInfo
from sqlalchemy import Column, Connection, Date, DateTime, Index, String, Table, Text, Uuid, select

from quality_ledger.command_records import CommandRecord
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection
from quality_ledger.domain.values import Frozen
from quality_ledger.erasures import Erasure
from quality_ledger.projections.row_cache import RowCache, RowForm
from quality_ledger.projections.tables import Count, metadata

trail = Table(
    "ql_audit_trail",
    metadata,
    Column("position", Count, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(), nullable=False),  # UTC, no zone: the same on every server's TimeZone
    Column("occurred_on", Date),
    Column("actor", Text),  # the user name ("user" is reserved in PostgreSQL)
    Column("department", String(32)),
    Column("command", String(64)),
    Column("command_id", Uuid),
    Column("correlation_id", Uuid),
    Column("aggregate_id", Uuid, nullable=False),
    Column("aggregate_kind", String(32), nullable=False),
    Column("version", Count, nullable=False),
    Column("event", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    # Only the indexes the filters of audit_trail() use: each costs every event
    # of a catch-up an insert. With position last, a page of one aggregate,
    # actor or department reads in log order from ``after`` without a sort.
    # recorded_at has none: since/until pages scan in position order from
    # ``after``, as SQLite did even with one (docs/views.md, "The audit trail's indexes").
    Index("ix_ql_audit_trail_aggregate", "aggregate_id", "position"),
    Index("ix_ql_audit_trail_actor", "actor", "position"),
    Index("ix_ql_audit_trail_department", "department", "position"),
)
"""One row per event, appended, never changed: the only view every event writes."""

TABLES = (trail,)

SUMMARIES: dict[str, str] = {
    "Campaign.Planned": "planned campaign {title} ({starts_on} to {ends_on})",
    "Campaign.DepartmentEnlisted": "enlisted {department.code} {department.name_zh} ({department.name_en})",
    "Campaign.Launched": "launched the campaign on {launched_on}",
    "Campaign.ActivityAdded": "added activity {activity_id} to the campaign",
    "Campaign.InspectionAdded": "added inspection {inspection_id} to the campaign",
    "Campaign.CommendationAdded": "added nomination {commendation_id} to the campaign",
    "Campaign.BulletinPublished": "published bulletin {bulletin.title} on {bulletin.published_on}",
    "Campaign.Concluded": "concluded the campaign on {concluded_on}: {summary}",
    "Activity.Planned": "planned activity {title}, led by {lead_department}",
    "Activity.Scheduled": "scheduled the activity {starts_on} to {ends_on} at {place}",
    "Activity.Started": "started the activity on {started_on}",
    "Activity.ProgressReported": "reported {amount} {metric} on {reported_on}",
    "Activity.Completed": "completed the activity on {completed_on}: {outcome}",
    "Activity.Postponed": "postponed the activity: {reason}",
    "Activity.Cancelled": "cancelled the activity: {reason}",
    "Inspection.Planned": "planned inspection of {subject.name} ({product_category})",
    "Inspection.SampleTaken": "took sample {sample_id} ({product}, batch {batch}) on {taken_on}",
    "Inspection.SampleResultRecorded": "recorded sample {sample_id}: {outcome}",
    "Inspection.VerdictIssued": "issued verdict {verdict}, notified {notified_on}",
    "Inspection.ResultObjected": "objection to sample {sample_id} lodged on {lodged_on}",
    "Inspection.RetestResultRecorded": "re-test of sample {sample_id}: {outcome}; verdict now {verdict}",
    "Inspection.RectificationOrdered": "ordered rectification due {rectification.due_on}",
    "Inspection.RectificationVerified": "follow-up on {verified_on}: rectification {outcome}",
    "Inspection.PenaltyImposed": "imposed a penalty of {penalty.amount}: {penalty.reason}",
    "Inspection.CaseTransferred": "transferred the case to {authority}",
    "Inspection.Closed": "closed the inspection on {closed_on}",
    "Commendation.Nominated": "nominated {person} ({employer}) as Quality Craftsman",
    "Commendation.Approved": "approved the nomination",
    "Commendation.Rejected": "rejected the nomination: {reason}",
    "Commendation.Conferred": "conferred the commendation on {conferred_on}",
    "Commendation.Publicised": "publicised in {item.outlet}: {item.title}",
    "CommandRecord.Accepted": "accepted idempotency key {key}",
    "Erasure.SubjectForgotten": "erased a {kind} data subject: destroyed key {key_id} ({reason})",
}

KINDS = {cls.__name__: cls.kind for cls in (Campaign, Activity, Inspection, Commendation, CommandRecord, Erasure)}
"""Aggregate class name (the event name's first part) to the aggregate's own ``kind``."""


class Unsummarised(LookupError):
    """An event the audit trail cannot put in words: no summary for its type, or
    a summary naming a field the event lacks. Reported as ``ProjectionFailed``:
    a line falling back to the bare event name would hide the gap."""


class _Line:
    """What the trail's line of one event type needs, worked out once per type:
    its name, its aggregate's kind, and its summary's compiled template.

    The template is looked up in :data:`SUMMARIES` again for every event (one
    dict lookup): an entry added, changed or removed takes effect at once, as
    it did when every line parsed its template.
    """

    __slots__ = ("event_type", "kind", "name", "outcome", "render", "template")

    def __init__(self, event_type: type) -> None:
        self.event_type = event_type
        self.name = name = event_type.__qualname__
        aggregate = name.split(".")[0]
        self.kind = KINDS.get(aggregate, aggregate.lower())
        fields = getattr(event_type, "model_fields", {})
        # Only events with a lab result or a pass/fail have an ``outcome`` to word.
        self.outcome = "result" in fields or "passed" in fields
        self.template: object = _UNCOMPILED  # the template ``render`` was compiled from
        self.render: Callable[[Mapping[str, Any]], str] = _unsummarised

    def summarise(self, fields: Mapping[str, Any]) -> str:
        template = SUMMARIES.get(self.name)
        if template is not self.template:
            self._compile(template)
        if self.outcome:
            result = fields.get("result")
            passed = result.passed if result is not None else fields.get("passed")
            if passed is not None:  # only then copied: most events' templates read their fields as they are
                items = ", ".join(result.nonconforming_items) if result is not None else ""
                fields = {**fields, "outcome": "passed" if passed else f"failed ({items})" if items else "failed"}
        try:
            return self.render(fields)
        except (AttributeError, KeyError, IndexError, ValueError) as e:
            msg = f"the audit-trail summary of {self.name} does not fit the event ({type(e).__name__}: {e})"
            raise Unsummarised(msg) from e

    def _compile(self, template: str | None) -> None:
        if template is None:
            msg = f"no audit-trail summary for {self.event_type.__module__}:{self.name}: add one to SUMMARIES"
            raise Unsummarised(msg)
        render = _templates.get(template)
        if render is None:
            render = _templates[template] = _compile(template)
        self.template, self.render = template, render


_UNCOMPILED = object()
"""No template: what a :class:`_Line` starts with (never an entry of :data:`SUMMARIES`, not even None)."""


def _unsummarised(fields: Mapping[str, Any]) -> str:
    """A :class:`_Line`'s renderer until its template is compiled (never called)."""
    raise KeyError


_lines: dict[type, _Line] = {}
"""The :class:`_Line` of each event type met so far."""


def _line_of(event_type: type) -> _Line:
    line = _lines.get(event_type)
    if line is None:
        line = _lines[event_type] = _Line(event_type)
    return line


_templates: dict[str, Callable[[Mapping[str, Any]], str]] = {}
"""Each template of :data:`SUMMARIES` as compiled by :func:`_compile` (keyed by
the template itself, so that a changed entry is compiled again)."""

_FIELD = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _compile(template: str) -> Callable[[Mapping[str, Any]], str]:
    """``template.format_map`` as one f-string: the same text (each field
    formatted with ``format(value, "")``, the same ``KeyError`` or
    ``AttributeError`` for a field the event lacks) without parsing the
    template again for every event. A template using anything but plain
    ``{field}`` or ``{field.attribute}`` keeps ``format_map``. The source
    holds only field names that match :data:`_FIELD`; the literal text is
    passed by reference."""
    namespace: dict[str, Any] = {}
    parts = []
    for n, (literal, field, spec, conversion) in enumerate(string.Formatter().parse(template)):
        if literal:
            namespace[f"t{n}"] = literal
            parts.append(f"{{t{n}}}")
        if field is None:
            continue
        if spec or conversion or not _FIELD.fullmatch(field):
            return template.format_map
        first, *attributes = field.split(".")
        parts.append(f"{{fields[{first!r}]{''.join('.' + a for a in attributes)}}}")
    render: Callable[[Mapping[str, Any]], str] = eval(f"lambda fields: f{''.join(parts)!r}", namespace)  # noqa: S307
    return render


def record(event: DomainEvent, rows: RowCache, position: int) -> None:
    """Append the event's line (every event has one: see :meth:`_Line.summarise`).
    One event's :func:`recorder`: the catch-up binds one per batch instead."""
    recorder(rows)(event, position)


def recorder(rows: RowCache) -> Callable[[DomainEvent, int], None]:
    """:func:`record` for one batch's ``rows``, with what it looks up once per
    batch (the trail's writer and compiled line) bound: ``record(event, position)``.

    The trail is the one view every event writes, so its line is the
    catch-up's most repeated piece of work: the values are taken straight
    from the event's and its meta's ``__dict__`` (where pydantic keeps the
    fields) and converted for the driver in one step (:data:`_LINE`)."""
    build, append = rows.appender(trail, _LINE)
    lines = _lines

    def record(event: DomainEvent, position: int) -> None:
        line = lines.get(type(event)) or _line_of(type(event))
        fields = event.__dict__
        meta = fields["meta"]
        append(build(position, fields, _NO_META if meta is None else meta.__dict__, line))

    return record


_NO_META: Mapping[str, Any] = dict.fromkeys(
    ("occurred_on", "user", "department", "command", "command_id", "correlation_id")
)
"""The meta of an event recorded without one (before the ledger attached it): every column empty."""


def _naive_utc(timestamp: datetime) -> datetime:
    """``timestamp.astimezone(UTC).replace(tzinfo=None)``: the same value, at a
    third of the cost for the timestamps events carry, all in one UTC zone
    object (pydantic's ``TzInfo(0)``), which ``astimezone`` and ``replace``
    ask for its offset through Python every time."""
    if timestamp.tzinfo is _utc_zone[0]:
        t = timestamp
        return datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)
    zone = timestamp.tzinfo
    if isinstance(zone, _FIXED_ZONES) and zone.utcoffset(None) == timedelta(0):
        _utc_zone[0] = zone  # fixed offsets only: a zone whose offset changes with the date is never taken for UTC
    return timestamp.astimezone(UTC).replace(tzinfo=None)


_FIXED_ZONES = (timezone, TzInfo)
"""Zone types whose offset never changes: the standard library's and pydantic's."""

_utc_zone: list[tzinfo | None] = [UTC]
"""The last fixed zone of offset zero seen (one slot: events decoded by one
pydantic share one zone object)."""


_LINE = RowForm(
    ("position", "f", "m", "line"),
    {
        "position": "position",
        # _naive_utc's first case written out: it runs once per event
        "recorded_at": "(datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)"
        " if (t := f['timestamp']).tzinfo is _utc_zone[0] else _naive_utc(t))",
        "occurred_on": "m['occurred_on']",
        "actor": "m['user']",
        "department": "m['department']",
        "command": "m['command']",
        "command_id": "m['command_id']",
        "correlation_id": "m['correlation_id']",
        "aggregate_id": "f['originator_id']",
        "aggregate_kind": "line.kind",
        "version": "f['originator_version']",
        "event": "line.name",
        "summary": "line.summarise(f)",
    },
    {"_naive_utc": _naive_utc, "_utc_zone": _utc_zone, "datetime": datetime},
)
"""The trail's line, from the position, the event's fields (``f``), its meta's (``m``) and its :class:`_Line`."""


# Query ------------------------------------------------------------------------


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
    """The trail stores recorded-at as naive UTC; naive input is taken as UTC."""
    return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo else instant
