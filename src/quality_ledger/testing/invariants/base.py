"""What every invariant check shares: the failure it raises and the helper that raises it.

Apart from the checks, so that each aggregate's module and the package that
runs them all import it without importing one another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID


class InvariantBroken(AssertionError):
    """A business invariant does not hold (``rule``, ``aggregate_id``, ``detail``)."""

    def __init__(self, rule: str, aggregate_id: UUID, detail: str) -> None:
        super().__init__(f"[{rule}] {aggregate_id}: {detail}")
        self.rule = rule
        self.aggregate_id = aggregate_id
        self.detail = detail


def expect(condition: object, rule: str, aggregate_id: UUID, detail: str) -> None:
    """Raise :class:`InvariantBroken` unless ``condition``; unlike ``assert``, also under ``-O``."""
    if not condition:
        raise InvariantBroken(rule, aggregate_id, detail)


def _unique(values: Iterable[object]) -> list[object]:
    """The values that repeat."""
    return [v for v, n in Counter(values).items() if n > 1]


def _blank(text: str | None) -> bool:
    return not (text or "").strip()
