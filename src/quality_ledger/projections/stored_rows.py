"""The log's rows as the views read them: a page of stored events by position.

eventsourcing's ``select_notifications`` makes each row a frozen
``Notification`` dataclass and turns the stored id text into a ``UUID``,
which the mapper turns back into text to splice into the JSON that pydantic
validates: on SQLite, a third of what reading and decoding an event cost
before any view saw it. On SQLite the views therefore read the same columns
of the same rows, in the same read transaction of the recorder's own
connection, as plain tuples made into :class:`StoredRow` (a named tuple,
built in C), with the id left as the 32 hex digits it is stored as. The
mapper validates it as ever (pydantic parses it into the event's ``UUID``),
so a damaged id still fails loudly; an id stored in any other spelling is
converted by ``UUID()`` first, as eventsourcing would, so that only hex
digits are ever spliced into the JSON. Other stores keep their recorder's
``select_notifications``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.sqlite import SQLiteApplicationRecorder

from quality_ledger.errors import ProjectionFailed
from quality_ledger.store.mapper import PydanticMapper


class Stored(Protocol):
    """A stored event with its log position: what the views read of a row
    (eventsourcing's ``Notification`` is one, and so is :class:`StoredRow`)."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


class StoredRow(NamedTuple):
    """One row of the SQLite log, in the columns' order of :data:`_SELECT`."""

    id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


Reader = Callable[[int, int, "int | None"], Sequence[Stored]]
"""``(start, limit, stop)``: up to ``limit`` rows from position ``start`` to
``stop`` (inclusive, or the head), in log order."""


def reader(recorder: ApplicationRecorder) -> Reader:
    """How the views read pages of ``recorder``'s log (see the module's docstring)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _SQLiteReader(recorder)

    def select(start: int, limit: int, stop: int | None) -> Sequence[Stored]:
        return recorder.select_notifications(start=start, limit=limit, stop=stop)

    return select


def decoder(mapper: Mapper[UUID]) -> Callable[[Stored], Any]:
    """The mapper's ``to_domain_event`` as the views call it on a :class:`Stored`
    row: it reads only the row's ``originator_id``, ``originator_version``,
    ``topic`` and ``state``, which every ``Stored`` has. The ledger's own
    mapper's ``decode`` is called directly (what its ``to_domain_event``
    does, one call less per event) unless a subclass changed that."""
    if isinstance(mapper, PydanticMapper) and type(mapper).to_domain_event is PydanticMapper.to_domain_event:
        return mapper.decode  # type: ignore[return-value]  # see above
    decode: Callable[[Stored], Any] = mapper.to_domain_event  # type: ignore[assignment]  # see above
    return decode


_SELECT = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
    "WHERE rowid >= ? AND rowid <= ? ORDER BY rowid LIMIT ?"
)
"""The rows ``select_notifications`` reads, without its ``SELECT *``."""

_LAST = (1 << 63) - 1
"""The largest rowid SQLite gives: ``stop`` when none is given."""

_HEX = re.compile(r"[0-9a-f]{32}").fullmatch
"""An id as eventsourcing stores it on SQLite (``UUID.hex``)."""
_HEXES = re.compile(r"[0-9a-f]*").fullmatch
"""Hex digits only: a page's ids joined, whose length says there are 32 each (one scan, not one a row)."""


class _SQLiteReader:
    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder
        self.sql = _SELECT.format(table=recorder.events_table_name)

    def __call__(self, start: int, limit: int, stop: int | None) -> Sequence[Stored]:
        with self.recorder.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor.connection.cursor()
            cursor.row_factory = None  # plain tuples, not the recorder's sqlite3.Row
            try:
                cursor.execute(self.sql, (start, _LAST if stop is None else stop, limit))
                tuples: list[tuple[Any, ...]] = cursor.fetchall()
            finally:
                cursor.close()
        rows = list(map(StoredRow._make, tuples))
        try:  # the page's ids checked in one scan: 32 hex digits each, nothing else
            ids = "".join([row[1] for row in tuples])
            spelled = len(ids) == 32 * len(tuples) and _HEXES(ids) is not None
        except TypeError:  # an id that is not text at all
            spelled = False
        if not spelled:
            rows = [row if isinstance(row[1], str) and _HEX(row[1]) else _converted(row) for row in rows]
        return rows


def _converted(row: StoredRow) -> StoredRow:
    """A row whose id is not stored as hex digits, with its id as ``UUID()`` reads it."""
    try:
        return row._replace(originator_id=UUID(str(row.originator_id)))
    except (ValueError, TypeError) as e:
        raise ProjectionFailed(row.id, row.topic, ValueError(f"originator id {row.originator_id!r}: {e}")) from e
