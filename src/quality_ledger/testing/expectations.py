"""Events as :mod:`~quality_ledger.testing.gwt` states and compares them: an
:class:`EventSpec` names an event by class and the fields that matter, and a
``then`` that does not hold raises :class:`ThenFailed` with expected and
actual side by side, every differing field named (inside nested models too).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import BaseModel

from quality_ledger.domain.base import ENVELOPE, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.errors import InvariantViolated
from quality_ledger.ledger import event_name

__all__ = ["GIVEN_AT", "EventSpec", "Expected", "ThenFailed", "event"]

GIVEN_AT = datetime(2017, 9, 1, tzinfo=UTC)
"""Recorded-at of the events ``given`` builds from specs: any fixed instant will do."""


class ThenFailed(AssertionError):
    """What happened is not what ``then`` expected."""


# Events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    """An event by class and payload, without id, version or timestamp.

    In ``given`` every payload field is needed; in ``then`` only the fields
    named are compared, so ``event(Inspection.VerdictIssued, verdict=...)``
    ignores the notification date.
    """

    cls: type[DomainEvent]
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.cls.__qualname__

    def build(self, aggregate_id: UUID, version: int) -> DomainEvent:
        envelope: dict[str, Any] = {"originator_id": aggregate_id, "originator_version": version, "timestamp": GIVEN_AT}
        if issubclass(self.cls, CreationEvent):
            envelope["originator_topic"] = get_topic(_aggregate_class(self.cls))
        return self.cls(**envelope, **self.fields)

    def differences(self, actual: DomainEvent) -> list[str]:
        if type(actual) is not self.cls:
            return [f"expected {self.name}, got {event_name(actual)}"]
        return [
            line for name, value in self.fields.items() for line in _diff(name, value, getattr(actual, name, _MISSING))
        ]

    def __str__(self) -> str:
        return _describe(self.name, self.fields)


_MISSING = object()


def _diff(path: str, expected: Any, actual: Any) -> list[str]:
    """The differences between two values, field by field inside pydantic models."""
    if expected == actual:
        return []
    if isinstance(expected, BaseModel) and type(actual) is type(expected):
        fields = type(expected).model_fields
        return [
            line for name in fields for line in _diff(f"{path}.{name}", getattr(expected, name), getattr(actual, name))
        ]
    shown = "(no such field)" if actual is _MISSING else repr(actual)
    return [f"{path}: expected {expected!r}, got {shown}"]


def event(cls: type[DomainEvent], /, **fields: Any) -> EventSpec:
    """``event(Inspection.SampleTaken, sample_id="S-1", ...)``: for ``given`` and ``then``."""
    return EventSpec(cls, fields)


Expected = EventSpec | DomainEvent | type[DomainEvent] | str
"""What ``then`` accepts for one event: a spec, a whole event, an event class or its name."""


def _spec(expected: Expected) -> EventSpec | str:
    if isinstance(expected, EventSpec | str):
        return expected
    if isinstance(expected, DomainEvent):
        return EventSpec(type(expected), _payload(expected))
    return EventSpec(expected)


def _payload(e: DomainEvent) -> dict[str, Any]:
    """The payload as the event holds it (nested models kept, unlike ``DomainEvent.payload``)."""
    return {name: getattr(e, name) for name in type(e).model_fields if name not in ENVELOPE}


def _describe(name: str, payload: dict[str, Any]) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in payload.items())})"


def _aggregate_class(cls: type[DomainEvent]) -> type[LedgerAggregate[Any]]:
    """``Inspection`` for ``Inspection.Planned``: events are nested in their aggregate."""
    owner: Any = sys.modules[cls.__module__]
    for part in cls.__qualname__.split(".")[:-1]:
        owner = getattr(owner, part)
    if not (isinstance(owner, type) and issubclass(owner, LedgerAggregate)):
        msg = f"{cls.__qualname__} is not nested in an aggregate class"
        raise TypeError(msg)
    return owner


def _compare(expected: Sequence[Expected], actual: Sequence[DomainEvent]) -> None:
    """Raise ThenFailed listing expected against actual, with the differing fields."""
    specs = [_spec(e) for e in expected]
    problems: list[str] = []
    for n in range(max(len(specs), len(actual))):
        spec = specs[n] if n < len(specs) else None
        got = actual[n] if n < len(actual) else None
        if spec is None or got is None:
            problems.append(f"  {n + 1}. expected {spec or '(nothing)'}, got {_shown(got) if got else '(nothing)'}")
            continue
        if isinstance(spec, str):
            differences = [] if event_name(got) == spec else [f"expected {spec}, got {event_name(got)}"]
        else:
            differences = spec.differences(got)
        if differences:
            problems.append(f"  {n + 1}. {event_name(got)}: " + "; ".join(differences))
    if problems:
        lines = [
            f"expected {len(specs)} event(s), got {len(actual)}:",
            *problems,
            "expected:",
            *(f"  {s}" for s in specs),
            "actual:",
            *(f"  {_shown(a)}" for a in actual),
        ]
        raise ThenFailed("\n".join(lines))


def _shown(e: DomainEvent) -> str:
    return _describe(event_name(e), _payload(e))


def _check_error(
    error: BaseException | None, expected: type[BaseException], rule: str | None, what: str
) -> BaseException:
    if error is None:
        msg = f"expected {expected.__name__}, but {what}"
        raise ThenFailed(msg)
    if not isinstance(error, expected):
        msg = f"expected {expected.__name__}, got {type(error).__name__}: {error}"
        raise ThenFailed(msg) from error
    if rule is not None and (not isinstance(error, InvariantViolated) or error.rule != rule):
        msg = f"expected rule {rule!r} to be violated, got {type(error).__name__}: {error}"
        raise ThenFailed(msg) from error
    return error
