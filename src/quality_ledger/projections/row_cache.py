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
from datetime import date, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, bindparam, select
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
        self._appended: dict[Table, tuple[_Writer, list[Any]]] = {}

    def get(self, table: Table, *key: Any) -> Row:
        """The row with primary key ``key``, for the handler to change in place."""
        rows = self._rows[table]
        row = rows.get(key)
        if row is None:
            target = self._tables.get(table, table)
            found = _loader(self.connection.dialect, target).load(self.connection, key)
            if found is None:
                msg = f"{table.name} has no row {key}"
                raise LookupError(msg)
            row = rows[key] = found
        return row

    def add(self, table: Table, **row: Any) -> Row:
        """A new row (or one replacing the row of the same key), to change further in place."""
        self._rows[table][_key_of(table)(row)] = row
        return row

    def appender(self, table: Table, form: RowForm) -> tuple[Callable[..., Any], Callable[[Any], None]]:
        """For rows never read back nor changed in this batch (inserted, not
        upserted): the row ``form`` gives, its values taken and converted for
        the driver in one step by code compiled once per form and table
        (:class:`RowForm`), and what appends such a row to the batch. Looked
        up once per batch, for the one row every event appends (the audit
        trail's), where finding the writer and the compiled form again for
        each event cost a tenth of the line.

        Converted at once, not at :meth:`flush`: the converted row holds only
        strings, numbers and None, which the garbage collector stops
        tracking, where a batch of rows holding UUIDs would be traversed by
        every collection until the batch ends."""
        writer, params = self._appended.get(table) or self._appending(table)
        build = writer.forms.get(form) or writer.compile_form(form)
        return build, params.append

    def _appending(self, table: Table) -> tuple[_Writer, list[Any]]:
        writer = _writer(self.connection.dialect, self._tables.get(table, table), "insert")
        appended = self._appended[table] = (writer, [])
        return appended

    def flush(self) -> None:
        """Write every row: the upserts first, then the appended rows."""
        for table, rows in self._rows.items():
            if rows:
                target = self._tables.get(table, table)
                _writer(self.connection.dialect, target, "upsert").write(self.connection, list(rows.values()))
        for writer, params in self._appended.values():
            if params:
                self.connection.exec_driver_sql(writer.sql, params)


class RowForm:
    """How one kind of appended row is made from a few arguments: each
    column's value as a Python expression of them (``sources``, by column
    name), evaluated in ``scope``. Compiled per writer into one function
    that also applies the columns' bind processors (:func:`_converter`), so
    the row exists only once, already as the driver takes it: for the audit
    trail's line, a third less work than a tuple converted afterwards.

    The expressions are the caller's own code, fixed in its module, never
    data (the same trust as a ``lambda``)."""

    def __init__(self, arguments: Sequence[str], sources: Mapping[str, str], scope: Mapping[str, Any]) -> None:
        self.arguments = tuple(arguments)
        self.sources = dict(sources)
        self.scope = dict(scope)


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
    appended rows as tuples in column order (:attr:`convert`, one row at a
    time as they come); both become one ``executemany``. Only the columns
    that have a bind processor (on SQLite: dates, times, UUIDs, booleans,
    decimals) are converted.
    """

    def __init__(self, dialect: Dialect, table: Table, kind: str) -> None:
        columns = [c.name for c in table.columns]
        compiled = _statement(dialect.name, table, kind).compile(dialect=dialect, column_keys=columns)
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        self.names = list(compiled.positiontup or ()) if self.positional else columns
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names]
        self.processors = processors
        by_name = None if self.positional else self.names
        self.convert = _converter(
            ("row",), [f"row[{columns.index(name)!r}]" for name in self.names], processors, by_name
        )
        """A tuple in column order to the parameters the driver takes."""
        self.convert_dict = _converter(("row",), [f"row[{name!r}]" for name in self.names], processors, by_name)
        """A dict by column name to the parameters the driver takes."""
        self.forms: dict[RowForm, Callable[..., Any]] = {}
        """Each :class:`RowForm` compiled for this table, as it is first used."""

    def compile_form(self, form: RowForm) -> Callable[..., Any]:
        """``form`` as one function of its arguments to the parameters the driver takes."""
        if set(form.sources) != set(self.names):
            msg = f"a row form must give every column of the table once, got {sorted(form.sources)}"
            raise ValueError(msg)
        sources = [form.sources[name] for name in self.names]
        by_name = None if self.positional else self.names
        build = self.forms[form] = _converter(form.arguments, sources, self.processors, by_name, form.scope)
        return build

    def write(self, connection: Connection, rows: Sequence[Row]) -> None:
        """Upsert rows given as dicts by column name."""
        convert = self.convert_dict
        connection.exec_driver_sql(self.sql, [convert(row) for row in rows])


def _converter(
    arguments: Sequence[str],
    sources: Sequence[str],
    processors: Sequence[Callable[[Any], Any] | None],
    names: Sequence[str] | None,
    scope: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    """One function, compiled once per table, of ``arguments`` that takes each
    value the statement needs by its expression in ``sources`` (an index into
    a tuple, a name in a dict, or a :class:`RowForm`'s own), in the
    statement's order, and applies each column's processor: a tuple for a
    positional driver, a dict by ``names`` otherwise.

    Written out as code (as ``dataclasses`` writes ``__init__``) because it
    runs once per event: a loop over the processors building a list and then
    a tuple cost half as much again, and the commonest processors (SQLite's
    UUIDs, dates and datetimes) are written inline (:func:`_inline`) rather
    than called. The source holds only the expressions given and the column
    names' ``repr``; processors are passed by reference."""
    namespace: dict[str, Any] = {**(scope or {}), **_SCOPE}
    lines = [f"def convert({', '.join(arguments)}):"]
    items = []
    for n, (source, process) in enumerate(zip(sources, processors, strict=True)):
        item = source
        if process is not None:
            namespace[f"p{n}"] = process
            lines.append(f"    v{n} = {item}")
            item = _inline(process, f"v{n}", f"p{n}")
        items.append(item if names is None else f"{names[n]!r}: {item}")
    body = f"({', '.join(items)},)" if names is None else f"{{{', '.join(items)}}}"
    lines.append(f"    return {body}")
    exec("\n".join(lines), namespace)  # noqa: S102  # see above
    convert: Callable[..., Any] = namespace["convert"]
    return convert


_DATES: dict[date, str] = {}
"""Dates as ISO text, as converted so far: a log names few distinct days (its
campaigns' periods), and a dict lookup costs a seventh of ``isoformat``."""

_DATES_KEPT = 65_536
"""At most this many dates are kept (about 180 years of days)."""


def _iso_date(day: date) -> str:
    text = day.isoformat()
    if len(_DATES) < _DATES_KEPT:
        _DATES[day] = text
    return text


_SCOPE: dict[str, Any] = {"date": date, "datetime": datetime, "UUID": UUID, "_DATES": _DATES, "_iso_date": _iso_date}
"""The names the expressions of :data:`_INLINE` use."""

_INLINE: tuple[tuple[str, tuple[Any, ...]], ...] = (
    (
        # ``UUID.hex`` is '%032x' % int, through a Python property: the same
        # text from the 16 bytes' hex, in half the time.
        "(None if {v} is None else {v}.int.to_bytes(16, 'big').hex() if type({v}) is UUID else {p}({v}))",
        (None, UUID("00000000-0000-0000-0000-000000000000"), UUID("2c925821-bb96-5b2c-8cd9-b309b699625b")),
    ),
    (
        "(None if {v} is None else (_DATES.get({v}) or _iso_date({v})) if type({v}) is date else {p}({v}))",
        (None, date(1, 2, 3), date(2017, 9, 1), date(9999, 12, 31)),
    ),
    (
        "(None if {v} is None else {v}.isoformat(' ', 'microseconds')"
        " if type({v}) is datetime and {v}.tzinfo is None else {p}({v}))",
        (None, datetime(1, 2, 3, 4, 5, 6, 7), datetime(2017, 9, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)),
    ),
)
"""Expressions that do what SQLite's UUID, DATE and DATETIME bind processors
do (``{v}`` the value, ``{p}`` the processor itself, for anything else), each
with values of the type it is for."""


def _inline(process: Callable[[Any], Any], value: str, name: str) -> str:
    """The first expression of :data:`_INLINE` that gives what ``process``
    gives for that expression's sample values (and refuses nothing it
    accepts), else a call of ``process``: so a processor another SQLAlchemy
    version writes differently is called, never imitated wrongly."""
    for template, samples in _INLINE:
        scope = {**_SCOPE, "process": process}
        check = eval(f"lambda value: {template.format(v='value', p='process')}", scope)  # noqa: S307
        try:
            if all(check(sample) == process(sample) for sample in samples):
                return template.format(v=value, p=name)
        except (AttributeError, TypeError, ValueError):
            continue
    return f"{name}({value})"


class _Loader:
    """One table's select of a row by primary key, compiled once per dialect,
    sent straight to the driver's cursor with the key's bind processors
    applied, and the row's values passed through the columns' result
    processors: the row SQLAlchemy's ``select`` gives, in a fifth of the
    time. A handler changing a row that no event of the batch touched before
    loads it (10 to 15 us on SQLite, against 80 to 100 through ``Connection.execute``):
    in a log whose aggregates' events are interleaved, or in small batches
    (each read-your-writes query), nearly every event does."""

    def __init__(self, dialect: Dialect, table: Table) -> None:
        keys = list(table.primary_key.columns)
        compiled = select(table).where(*(c == bindparam(f"k{n}") for n, c in enumerate(keys))).compile(dialect=dialect)
        self.sql = compiled.string
        order = {f"k{n}": n for n in range(len(keys))}
        self.params: list[int] | None = (
            [order[name] for name in compiled.positiontup or ()] if dialect.positional else None
        )
        self.dialect = dialect
        self.key_processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in keys]
        self.names = [c.name for c in table.columns]
        self.types = [c.type.dialect_impl(dialect) for c in table.columns]
        self._processors: dict[tuple[Any, ...], list[Callable[[Any], Any] | None]] = {}

    def load(self, connection: Connection, key: tuple[Any, ...]) -> Row | None:
        """The row of primary key ``key``, or None, read in ``connection``'s transaction."""
        values = [v if p is None else p(v) for p, v in zip(self.key_processors, key, strict=True)]
        params: Any = (
            [values[n] for n in self.params] if self.params is not None else {f"k{n}": v for n, v in enumerate(values)}
        )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # open: the transaction holds it
        try:
            cursor.execute(self.sql, params)
            found = cursor.fetchone()
            codes = tuple(column[1] for column in cursor.description)
        finally:
            cursor.close()
        if found is None:
            return None
        processors = self._processors.get(codes) or self._result_processors(codes)
        return {name: v if p is None else p(v) for name, p, v in zip(self.names, processors, found, strict=True)}

    def _result_processors(self, codes: tuple[Any, ...]) -> list[Callable[[Any], Any] | None]:
        """Each column's result processor for the driver's type codes, as
        SQLAlchemy's own results pick them (some depend on the code: a
        PostgreSQL numeric's), once per distinct codes."""
        processors = self._processors[codes] = [
            kind.result_processor(self.dialect, code) for kind, code in zip(self.types, codes, strict=True)
        ]
        return processors


_loaders: dict[tuple[str, str], _Loader] = {}


def _loader(dialect: Dialect, table: Table) -> _Loader:
    key = (dialect.name, table.name)
    loader = _loaders.get(key)
    if loader is None:
        loader = _loaders[key] = _Loader(dialect, table)
    return loader


_writers: dict[tuple[str, str, str], _Writer] = {}


def _writer(dialect: Dialect, table: Table, kind: str) -> _Writer:
    key = (dialect.name, table.name, kind)
    writer = _writers.get(key)
    if writer is None:
        writer = _writers[key] = _Writer(dialect, table, kind)
    return writer
