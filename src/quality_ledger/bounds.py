"""The range of every number, id and instant the read API takes, declared once.

Each read method checks its arguments here before touching the store, so
a bad argument is one :class:`InvalidCommand` naming it and its range,
never an ``IndexError`` from a slice, an ``OverflowError`` from the driver
(SQLite and PostgreSQL integers stop at 2**63 - 1) or a query that quietly
returns nothing for a negative position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from quality_ledger.errors import InvalidCommand

MAX_INTEGER = 2**63 - 1
"""The largest integer both stores keep (SQLite INTEGER, PostgreSQL bigint)."""


@dataclass(frozen=True)
class Bound:
    """An inclusive range of whole numbers, with what a number in it means."""

    low: int
    high: int
    means: str

    def check(self, name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            msg = f"{name} must be a whole number from {self.low} to {self.high} ({self.means}), got {shown(value)}"
            raise InvalidCommand(msg)
        return value


def shown(value: object) -> str:
    """A value for a one-line message: short, on one line, even for a huge int."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


POSITION = Bound(0, MAX_INTEGER, "a log position; 0 is before the first event")
START = Bound(1, MAX_INTEGER, "the first log position to read")
VERSION = Bound(0, MAX_INTEGER, "an aggregate version; 0 is before it was created")
PAGE = Bound(1, 10_000, "how many entries one page holds")
CHUNK_SIZE = Bound(1, 5_000, "commands recorded in one transaction")
"""``execute_many``'s chunks: at most a few thousand commands, so one chunk's
rows stay far below the ~25,000 events at which a single PostgreSQL save
stalls (docs/guide.md, "Bulk import")."""
DEFAULT_CHUNK_SIZE = 1_000
"""Commands per transaction unless asked otherwise: past a hundred or so a
bigger chunk saves little (deciding the commands, not committing them, is
then the cost: 5,600 events per CPU-second at 100, 5,700 at 1,000, 6,000
at 5,000 on a synthetic campaign on SQLite)."""
CHUNK_BYTES = 4 * 1024 * 1024
"""A chunk is also cut once its stored payloads reach this many bytes, so
that a run of large commands (up to 64 KiB each) cannot make one write of
hundreds of megabytes."""
CACHED_AGGREGATES = 10_000
"""Aggregates a batch keeps loaded between its chunks, least recently used
evicted first: the memory of a batch is bounded whatever its length."""


def check_id(name: str, value: object) -> UUID:
    """A UUID, or its text form (as ids arrive in JSON)."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    msg = f"{name} must be a UUID, got {shown(value)}"
    raise InvalidCommand(msg)


def check_optional_id(name: str, value: object) -> UUID | None:
    return None if value is None else check_id(name, value)


def check_instant(name: str, value: object) -> datetime | None:
    """An instant (``datetime``, naive meaning UTC) or ``None``."""
    if value is None or isinstance(value, datetime):
        return value
    msg = f"{name} must be a datetime, got {shown(value)}"
    raise InvalidCommand(msg)


def check_day(name: str, value: object) -> date | None:
    """A calendar day (``date``, not a ``datetime``) or ``None``."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    msg = f"{name} must be a date, got {shown(value)}"
    raise InvalidCommand(msg)


def check_text(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    msg = f"{name} must be text, got {shown(value)}"
    raise InvalidCommand(msg)
