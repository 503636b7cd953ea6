"""What every lifecycle shares: a step (a command and who issues it) and a
clock of business dates that only moves forward.

Apart from the lifecycles, so that each aggregate's module imports it
without importing another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.values import Actor
from quality_ledger.testing.values import shift

__all__ = ["Step", "Strategy"]

Strategy = st.SearchStrategy
"""Short for hypothesis's ``SearchStrategy``, as the kit's signatures use it."""


@dataclass(frozen=True)
class Step:
    """One command and who issues it."""

    command: c.Command
    actor: Actor


class _Clock:
    """Business dates that only move forward, as a lifecycle's do."""

    def __init__(self, draw: st.DrawFn, today: date) -> None:
        self.draw = draw
        self.today = today

    def later(self, max_days: int = 3) -> date:
        self.today = shift(self.today, self.draw(st.integers(0, max_days)))
        return self.today
