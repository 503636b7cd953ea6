"""What ``verify_views`` compares: every view row in a neutral form, matched
by primary key between the live views and a rebuild from zero."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from quality_ledger.domain.values import Frozen
from quality_ledger.projections.schema import VIEW_TABLES

Dump = dict[str, list[dict[str, Any]]]
"""Every view's rows, by table name."""


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


def dump(connection: Connection) -> Dump:
    """Every view row, ordered by primary key, with values in a neutral form."""
    return {
        table.name: [
            {k: _neutral(v) for k, v in row.items()}
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        ]
        for table in VIEW_TABLES
    }


def _neutral(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, datetime) and value.tzinfo is not None:
        # PostgreSQL returns timestamptz aware (in the session's zone), SQLite
        # returns what it stored without the zone: compare both as naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def compare(live: Dump, rebuilt: Dump) -> list[RowDifference]:
    """Rows matched by primary key (not by place, so one missing row does not
    shift every later one), then compared column by column."""
    differences = []
    for table in VIEW_TABLES:
        names = [column.name for column in table.primary_key.columns]
        live_rows = {tuple(row[k] for k in names): row for row in live.get(table.name, [])}
        rebuilt_rows = {tuple(row[k] for k in names): row for row in rebuilt.get(table.name, [])}
        for key in [*rebuilt_rows, *(k for k in live_rows if k not in rebuilt_rows)]:
            live_row, rebuilt_row = live_rows.get(key), rebuilt_rows.get(key)
            named = dict(zip(names, key, strict=True))
            if live_row is None or rebuilt_row is None:
                differences.append(
                    RowDifference(table=table.name, key=named, column=None, live=live_row, rebuilt=rebuilt_row)
                )
                continue
            differences.extend(
                RowDifference(table=table.name, key=named, column=column, live=live_row.get(column), rebuilt=value)
                for column, value in rebuilt_row.items()
                if live_row.get(column) != value
            )
    return differences
