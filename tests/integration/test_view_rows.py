"""The catch-up's shortcuts write exactly what the plain code wrote.

The audit trail's line is built and converted for the driver in one step
(``RowForm``), its recorded-at made naive UTC without ``astimezone``, UUIDs
and dates turned into text without SQLAlchemy's processors, and every batch
runs with the garbage collector paused. Each is checked here against the
plain way on the values that matter: both drivers' forms, every kind of
time zone, the edges of the types.
"""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from pydantic_core import TzInfo
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from quality_ledger.collector import collector_paused
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.values import EventMeta
from quality_ledger.projections import audit_trail, row_cache
from quality_ledger.projections.audit_trail import trail
from quality_ledger.projections.inspection_register import samples

DIALECTS: dict[str, Dialect] = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}  # type: ignore[attr-defined]

ZONES = [
    TzInfo(0),
    TzInfo(8 * 3600),
    TzInfo(-5 * 3600 - 30 * 60),
    UTC,
    timezone(timedelta(hours=8)),
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("Europe/London"),  # changes offset with the date: never taken for UTC
    None,
]

INSTANTS = [
    (2017, 9, 1, 0, 0, 0, 0),
    (2017, 3, 26, 0, 59, 59, 999_999),  # around London's change to summer time
    (2017, 10, 29, 1, 30, 0, 1),
    (2026, 11, 30, 23, 18, 1, 2940),
    (1, 1, 2, 0, 0, 0, 0),
    (9999, 12, 30, 23, 59, 59, 999_999),
]


def plain_naive_utc(instant: datetime) -> datetime:
    """What the trail's recorded-at was before the shortcut."""
    return instant.astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("zone", ZONES, ids=repr)
def test_recorded_at_is_the_naive_utc_of_astimezone_in_every_zone(zone: Any) -> None:
    # given instants in a zone, read in any order after a UTC zone was met (the shortcut's state)
    audit_trail._naive_utc(datetime(2017, 9, 1, tzinfo=TzInfo(0)))
    for parts in INSTANTS:
        instant = datetime(*parts, tzinfo=zone)
        if (zone is not None and instant.utcoffset() == timedelta(0)) or 1 < parts[0] < 9999:  # else out of range
            # then each gives what astimezone gives, value and text
            expected = plain_naive_utc(instant)
            got = audit_trail._naive_utc(instant)
            assert got == expected
            assert got.isoformat(" ", "microseconds") == expected.isoformat(" ", "microseconds")
            assert got.tzinfo is None
    # and only a fixed zone of offset zero is ever remembered as UTC
    remembered = audit_trail._utc_zone[0]
    assert isinstance(remembered, TzInfo | timezone)
    assert remembered.utcoffset(None) == timedelta(0)


def meta(occurred_on: date | None = None) -> EventMeta:
    return EventMeta(
        user="clerk", department="XA-QTS", command="ReportProgress",
        command_id=uuid.uuid4(), correlation_id=UUID(int=0), occurred_on=occurred_on,
    )  # fmt: skip


def progress(event_meta: EventMeta | None, instant: datetime) -> Activity.ProgressReported:
    return Activity.ProgressReported(
        originator_id=uuid.uuid4(), originator_version=7, timestamp=instant, meta=event_meta,
        metric="enterprises", amount=3, reported_on=date(2017, 9, 3),
    )  # fmt: skip


def plain_line(event: Any, position: int) -> tuple[Any, ...]:
    """The trail's line in column order, as ``record`` built it before ``RowForm``."""
    m = event.meta
    who = (None,) * 6 if m is None else (m.occurred_on, m.user, m.department, m.command, m.command_id, m.correlation_id)
    name = type(event).__qualname__
    kind = audit_trail.KINDS[name.split(".")[0]]
    summary = audit_trail.SUMMARIES[name].format_map(event.__dict__)
    return (
        position,
        plain_naive_utc(event.timestamp),
        *who,
        event.originator_id,
        kind,
        event.originator_version,
        name,
        summary,
    )


@pytest.mark.parametrize("engine", DIALECTS)
@pytest.mark.parametrize(
    "event",
    [
        progress(meta(), datetime(2017, 9, 3, 8, 0, 0, 123, tzinfo=TzInfo(0))),
        progress(meta(date(2017, 9, 2)), datetime(2017, 9, 3, 8, 0, tzinfo=TzInfo(8 * 3600))),
        progress(None, datetime(2017, 9, 3, tzinfo=ZoneInfo("Asia/Shanghai"))),
    ],
    ids=["utc", "occurred-on-and-offset", "no-meta"],
)
def test_the_trail_line_is_what_the_generic_converter_makes_of_the_plain_tuple(engine: str, event: Any) -> None:
    # given a cache on a dialect's writer (no database needed: nothing is flushed)
    dialect = DIALECTS[engine]
    writer = row_cache._writer(dialect, trail, "insert")
    rows = row_cache.RowCache(SimpleNamespace(dialect=dialect))  # type: ignore[arg-type]
    # when the event's line is recorded
    audit_trail.record(event, rows, 42)
    # then the driver gets exactly what the plain tuple converted gives
    ((_, (params,)),) = [(t.name, p) for t, (_, p) in rows._appended.items()]
    assert params == writer.convert(plain_line(event, 42))
    assert type(params) is type(writer.convert(plain_line(event, 42)))


@pytest.mark.parametrize("engine", DIALECTS)
def test_inline_conversions_give_what_sqlalchemy_s_processors_give(engine: str) -> None:
    # given the processors of a table with UUID, date and datetime columns on a dialect
    dialect = DIALECTS[engine]
    writer = row_cache._writer(dialect, samples, "upsert")
    uuids = [UUID(int=0), UUID(int=2**128 - 1), UUID(int=1), *(uuid.uuid4() for _ in range(50))]
    days = [date(1, 1, 1), date(999, 12, 31), date(2017, 9, 1), date(9999, 12, 31), None]
    # when rows of such values are converted, then each column holds what its own processor gives
    for n, (some_uuid, day) in enumerate(zip(uuids, days * 11, strict=False)):
        row = {
            "inspection_id": some_uuid, "sample_id": f"s{n}", "position": n, "product": "p", "batch": "b",
            "taken_on": day, "passed": n % 2 == 0, "nonconforming_items": None, "retested": False, "objected_on": day,
        }  # fmt: skip
        expected = []
        for name in writer.names:
            process = samples.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            expected.append(row[name] if process is None else process(row[name]))
        got = writer.convert_dict(row)
        assert list(got if writer.positional else got.values()) == expected


def test_a_row_form_must_name_every_column_once() -> None:
    writer = row_cache._writer(DIALECTS["sqlite"], trail, "insert")
    form = row_cache.RowForm(("position",), {"position": "position"}, {})
    with pytest.raises(ValueError, match="every column"):
        writer.compile_form(form)


def test_the_collector_is_paused_for_a_batch_and_left_as_it_was() -> None:
    was = gc.isenabled()
    try:
        # given the collector on: paused inside, on again after, even when the batch fails
        gc.enable()
        inside = []

        def failing_batch() -> None:
            with collector_paused():
                inside.append(gc.isenabled())
                raise RuntimeError

        with pytest.raises(RuntimeError):
            failing_batch()
        assert inside == [False]
        assert gc.isenabled()
        # given the collector off (the application's choice): still off after
        gc.disable()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
