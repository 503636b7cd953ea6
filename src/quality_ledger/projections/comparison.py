"""What ``verify_views`` compares and ``replay_certificate`` digests: every
view row in a neutral form, read in primary-key order a batch at a time, so
neither ever holds a whole view in memory.

Both sides of a comparison are read in the same order whatever the engine:
keys are UUIDs (ordered as their bytes by PostgreSQL, as their lowercase hex
by SQLite: the same order), numbers, and strings, which PostgreSQL is told to
order by ``COLLATE "C"`` (byte order, as SQLite's default and as Python
compares them). A key out of that order is refused rather than compared
wrongly (:func:`compare`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, Table, select

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import ConfigurationError
from quality_ledger.projections.schema import VIEW_TABLES

BATCH = 1000
"""Rows fetched per round trip (a server-side cursor on PostgreSQL)."""

Row = dict[str, Any]
"""One view row, column name to neutral value, columns in the table's order."""


class RowDifference(Frozen):
    """One view row that differs from a rebuild, named by its primary key:
    a column whose values differ, or (``column`` None) a row on one side only."""

    table: str
    key: dict[str, Any]
    column: str | None
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        if self.column is not None:
            return f"{self.table} ({key}) {self.column}: live {self.live!r} vs rebuilt {self.rebuilt!r}"
        return f"{self.table} ({key}): {'only in the live views' if self.rebuilt is None else 'missing from the live views'}"


class ViewsReport(Frozen):
    """What ``verify_views`` found: live views against a rebuild from zero."""

    position: int
    differences: tuple[str, ...]
    rows: tuple[RowDifference, ...] = ()
    """The same differences, structured (one per differing column or row)."""

    @property
    def ok(self) -> bool:
        return not self.differences


def ordered(table: Table, dialect: str) -> Select[Any]:
    """Every row of ``table`` in primary-key order, the same order on every engine."""
    keys: list[ColumnElement[Any]] = [
        column.collate("C") if dialect == "postgresql" and isinstance(column.type, String) else column
        for column in table.primary_key.columns
    ]
    return select(table).order_by(*keys)


def batches(connection: Connection, table: Table) -> Iterator[list[Row]]:
    """The rows of ``table`` in primary-key order with values in a neutral
    form, :data:`BATCH` at a time (never the whole table at once)."""
    result = connection.execute(ordered(table, connection.dialect.name), execution_options={"yield_per": BATCH})
    for part in result.mappings().partitions():
        yield [{k: _neutral(v) for k, v in row.items()} for row in part]


def rows(connection: Connection, table: Table) -> Iterator[Row]:
    """:func:`batches`, one row at a time."""
    for batch in batches(connection, table):
        yield from batch


def _neutral(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, datetime) and value.tzinfo is not None:
        # PostgreSQL returns timestamptz aware (in the session's zone), SQLite
        # returns what it stored without the zone: compare both as naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def compare(live: Connection, rebuilt: Connection) -> Iterator[RowDifference]:
    """Rows matched by primary key (not by place, so one missing row does not
    shift every later one), then compared column by column.

    A merge of the two sides read in key order, one row of each at a time.
    Per table, the differences come in the rebuilt rows' key order (a changed
    column, or a row missing from the live views), then the rows only in the
    live views, in key order."""
    for table in VIEW_TABLES:
        names = [column.name for column in table.primary_key.columns]
        live_rows = _keyed(rows(live, table), table.name, names, "live")
        rebuilt_rows = _keyed(rows(rebuilt, table), table.name, names, "rebuilt")
        only_live: list[RowDifference] = []
        here, there = next(live_rows, None), next(rebuilt_rows, None)
        while here is not None or there is not None:
            if there is not None and (here is None or there[0] < here[0]):
                key, rebuilt_row = there
                yield RowDifference(
                    table=table.name, key=_named(names, key), column=None, live=None, rebuilt=rebuilt_row
                )
                there = next(rebuilt_rows, None)
            elif here is not None and (there is None or here[0] < there[0]):
                key, live_row = here
                only_live.append(
                    RowDifference(table=table.name, key=_named(names, key), column=None, live=live_row, rebuilt=None)
                )
                here = next(live_rows, None)
            else:
                assert here is not None  # neither side is ahead: both hold the same key
                assert there is not None
                (key, live_row), (_, rebuilt_row) = here, there
                yield from (
                    RowDifference(
                        table=table.name,
                        key=_named(names, key),
                        column=column,
                        live=live_row.get(column),
                        rebuilt=value,
                    )
                    for column, value in rebuilt_row.items()
                    if live_row.get(column) != value
                )
                here, there = next(live_rows, None), next(rebuilt_rows, None)
        yield from only_live


def _keyed(source: Iterator[Row], table: str, names: list[str], side: str) -> Iterator[tuple[tuple[Any, ...], Row]]:
    """Each row with its key, checking the keys rise as the merge needs."""
    previous: tuple[Any, ...] | None = None
    for row in source:
        key = tuple(row[k] for k in names)
        if previous is not None and not previous < key:
            msg = (
                f"cannot compare {table}: the {side} views returned key {key} after {previous}, "
                "out of byte order (a database collation this comparison does not know)"
            )
            raise ConfigurationError(msg)
        previous = key
        yield key, row


def _named(names: list[str], key: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(names, key, strict=True))
