"""Named business rules that carry a parameter.

A rule's id travels into :class:`~quality_ledger.errors.InvariantViolated`,
the docs and the tests; where the rule has a parameter (a window of days),
the id is made from the same value the check uses, so changing one cannot
leave the other behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class WindowRule:
    """``what`` must happen on the day of ``start`` or within ``days`` days after it."""

    what: str
    days: int

    @property
    def id(self) -> str:
        return f"{self.what}-within-{self.days}-days"

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.days)

    def holds(self, start: date, on: date) -> bool:
        """Compares the difference, never ``start + window``: no overflow near ``date.max``."""
        return timedelta(0) <= on - start <= self.window

    def detail(self, start: date, on: date) -> str:
        return f"{self.what} lodged {on}, notified {start}: window is {self.days} days"


OBJECTION_WINDOW = WindowRule("objection", 15)
"""How long after notification a subject may object to a result."""
