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
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

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
        self._appended: defaultdict[Table, list[tuple[Any, ...]]] = defaultdict(list)

    def get(self, table: Table, *key: Any) -> Row:
        """The row with primary key ``key``, for the handler to change in place."""
        rows = self._rows[table]
        row = rows.get(key)
        if row is None:
            target = self._tables.get(table, table)
            columns = target.primary_key.columns
            query = select(target).where(*(c == v for c, v in zip(columns, key, strict=True)))
            found = self.connection.execute(query).mappings().first()
            if found is None:
                msg = f"{table.name} has no row {key}"
                raise LookupError(msg)
            row = rows[key] = dict(found)
        return row

    def add(self, table: Table, **row: Any) -> Row:
        """A new row (or one replacing the row of the same key), to change further in place."""
        self._rows[table][_key_of(table)(row)] = row
        return row

    def append(self, table: Table, values: tuple[Any, ...]) -> None:
        """A row never read back nor changed in this batch, as its values in
        the order of ``table.columns``: inserted, not upserted. Plain tuples
        (not keyword rows) because the audit trail appends one per event."""
        self._appended[table].append(values)

    def flush(self) -> None:
        """Write every row: the upserts first, then the appended rows."""
        for table, rows in self._rows.items():
            if rows:
                target = self._tables.get(table, table)
                _writer(self.connection.dialect, target, "upsert").write(self.connection, list(rows.values()))
        for table, appended in self._appended.items():
            if appended:
                target = self._tables.get(table, table)
                _writer(self.connection.dialect, target, "insert").write(self.connection, appended)


_keys: dict[Table, Callable[[Row], tuple[Any, ...]]] = {}


def _key_of(table: Table) -> Callable[[Row], tuple[Any, ...]]:
    """What picks a row's primary key out of it (as a tuple, even of one column)."""
    pick = _keys.get(table)
    if pick is None:
        pick = _keys[table] = _picker([c.name for c in table.primary_key.columns])
    return pick


def _picker(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """``itemgetter`` that always returns a tuple (``itemgetter`` of one key returns the bare item)."""
    if len(keys) == 1:
        (only,) = keys
        return lambda row: (row[only],)
    return itemgetter(*keys)


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


class _Writer:
    """One table's ``insert`` or ``upsert``, compiled once per dialect, with
    the columns' own bind processors applied: the SQL and values SQLAlchemy
    would send, without its per-row bookkeeping (a third of catch-up time).

    Upserted rows come as dicts (handlers change them by column name),
    appended rows as tuples in column order; both become one ``executemany``.
    Only the columns that have a bind processor (on SQLite: dates, times,
    UUIDs, booleans, decimals) are converted, in place, in the parameters.
    """

    def __init__(self, dialect: Dialect, table: Table, kind: str) -> None:
        columns = [c.name for c in table.columns]
        compiled = _statement(dialect.name, table, kind).compile(dialect=dialect, column_keys=columns)
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        self.names = list(compiled.positiontup or ()) if self.positional else columns
        self.by_name = _picker(self.names)
        self.by_index = _picker([columns.index(name) for name in self.names])
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names]
        self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]

    def write(self, connection: Connection, rows: Sequence[Row] | Sequence[tuple[Any, ...]]) -> None:
        pick = self.by_name if isinstance(rows[0], dict) else self.by_index
        params: list[Any] = []
        if self.processors:
            processors = self.processors
            for row in rows:
                values = list(pick(row))
                for i, process in processors:
                    values[i] = process(values[i])
                params.append(tuple(values))
        else:
            params = [pick(row) for row in rows]
        if not self.positional:
            names = self.names
            params = [dict(zip(names, values, strict=True)) for values in params]
        connection.exec_driver_sql(self.sql, params)


_writers: dict[tuple[str, str, str], _Writer] = {}


def _writer(dialect: Dialect, table: Table, kind: str) -> _Writer:
    key = (dialect.name, table.name, kind)
    writer = _writers.get(key)
    if writer is None:
        writer = _writers[key] = _Writer(dialect, table, kind)
    return writer
