"""The rows one batch of events changes, held in memory while the batch
applies, then written in one go.

Handlers read and change plain dicts; the cache loads each row at most once
(by primary key) and writes every touched row back with one bulk upsert per
table, and appended rows (the audit trail's) with one bulk insert. So a
batch of 1,000 events costs a few statements, not thousands, and the whole
batch lands in the caller's transaction or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]


class RowCache:
    """One batch's rows, by table and primary key, until :meth:`flush`."""

    def __init__(self, connection: Connection, tables: Mapping[Table, Table] | None = None) -> None:
        """``tables`` maps a view to the table its rows really go to: a
        migration builds the views under other names (``projections.migration``)
        with the same handlers, which keep naming the public tables."""
        self.connection = connection
        self._tables: Mapping[Table, Table] = tables or {}
        self._rows: defaultdict[Table, dict[tuple[Any, ...], Row]] = defaultdict(dict)
        self._appended: defaultdict[Table, list[Row]] = defaultdict(list)

    def get(self, table: Table, *key: Any) -> Row:
        """The row with primary key ``key``, for the handler to change in place."""
        rows = self._rows[table]
        if key not in rows:
            target = self._tables.get(table, table)
            columns = list(target.primary_key.columns)
            query = select(target).where(*(c == v for c, v in zip(columns, key, strict=True)))
            found = self.connection.execute(query).mappings().first()
            if found is None:
                msg = f"{table.name} has no row {key}"
                raise LookupError(msg)
            rows[key] = dict(found)
        return rows[key]

    def add(self, table: Table, **row: Any) -> Row:
        """A new row (or one replacing the row of the same key), to change further in place."""
        key = tuple(row[c.name] for c in table.primary_key.columns)
        self._rows[table][key] = row
        return row

    def append(self, table: Table, **row: Any) -> None:
        """A row never read back nor changed in this batch: inserted, not upserted."""
        self._appended[table].append(row)

    def flush(self) -> None:
        """Write every row: the upserts first, then the appended rows."""
        for table, rows in self._rows.items():
            if rows:
                _executemany(self.connection, self._tables.get(table, table), "upsert", list(rows.values()))
        for table, appended in self._appended.items():
            if appended:
                _executemany(self.connection, self._tables.get(table, table), "insert", appended)


def _statement(dialect_name: str, table: Table, kind: str) -> Any:
    """``insert``, or ``upsert``: insert or replace by primary key (SQLite and PostgreSQL)."""
    if kind == "insert":
        return table.insert()
    statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    keys = [c.name for c in table.primary_key.columns]
    others = {c.name: statement.excluded[c.name] for c in table.columns if not c.primary_key}
    if others:
        return statement.on_conflict_do_update(index_elements=keys, set_=others)
    return statement.on_conflict_do_nothing(index_elements=keys)


_compiled: dict[tuple[str, str, str], tuple[str, list[str], list[Any]]] = {}


def _executemany(connection: Connection, table: Table, kind: str, rows: list[Row]) -> None:
    """``executemany`` of a statement compiled once per dialect, with the
    columns' own bind processors applied: the SQL and values SQLAlchemy would
    send, without its per-row bookkeeping (a third of catch-up time)."""
    dialect = connection.dialect
    key = (dialect.name, table.name, kind)
    cached = _compiled.get(key)
    if cached is None:
        statement = _statement(dialect.name, table, kind)
        compiled = statement.compile(dialect=dialect, column_keys=[c.name for c in table.columns])
        names = list(compiled.positiontup or ()) if dialect.positional else [c.name for c in table.columns]
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
        cached = _compiled[key] = (compiled.string, names, processors)
    sql, names, processors = cached
    pairs = list(zip(names, processors, strict=True))
    params: list[Any]
    if dialect.positional:
        params = [tuple(p(row[n]) if p else row[n] for n, p in pairs) for row in rows]
    else:
        params = [{n: p(row[n]) if p else row[n] for n, p in pairs} for row in rows]
    connection.exec_driver_sql(sql, params)
