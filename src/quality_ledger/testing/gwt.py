"""given / when / then: one business rule per test, in the domain's own words.

For an aggregate, with no I/O at all: given its past events, when a command
method is called, then these new events, or this error and no event::

    from quality_ledger.testing import gwt

    gwt.given(
        gwt.event(Inspection.Planned, campaign_id=campaign_id, ..., planned_on=date(2017, 9, 1)),
        gwt.event(Inspection.SampleTaken, sample_id="S-1", product="BV 2.5", batch="170901-A", taken_on=date(2017, 9, 2)),
    ).when(
        Inspection.order_rectification, date(2017, 9, 20), date(2017, 10, 20), "更换导线",
    ).then_raises(IllegalTransition)

For the ledger: given commands it accepted (or events it stored), when a
command is executed, then the events it recorded, or the error and nothing
recorded::

    gwt.given((plan, organiser), (enlist, organiser), ledger=ledger).when(launch, organiser).then(
        "Campaign.Launched"
    )

Import the module rather than ``given`` itself: ``hypothesis.given`` has the
same name. A failed expectation raises :class:`ThenFailed`, which lists the
expected and the actual events side by side with every differing field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast, overload
from uuid import uuid4

from quality_ledger import commands as c
from quality_ledger.domain.base import AggregateState, DomainEvent, LedgerAggregate
from quality_ledger.domain.values import Actor
from quality_ledger.errors import LedgerError
from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger
from quality_ledger.receipts import CommandRecord, Receipt
from quality_ledger.testing.expectations import EventSpec, Expected, ThenFailed, _check_error, _compare, _shown, event
from quality_ledger.testing.lifecycles import Step

__all__ = ["AggregateWhen", "EventSpec", "GivenFailed", "LedgerWhen", "ThenFailed", "event", "given"]


class GivenFailed(AssertionError):
    """A ``given`` fact could not be established (the ledger refused a given command)."""


# given --------------------------------------------------------------------------------------


Fact = EventSpec | DomainEvent | Step | tuple[c.Command, Actor]
"""What ``given`` accepts: events (specs or whole) of one aggregate, or steps for a ledger."""


@dataclass(frozen=True)
class Given:
    facts: tuple[Fact, ...]
    ledger: Ledger | None = None

    @overload
    def when(self, action: c.Command, actor: Actor, /) -> LedgerWhen: ...

    @overload
    def when(self, action: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AggregateWhen: ...

    def when(self, action: Any, /, *args: Any, **kwargs: Any) -> LedgerWhen | AggregateWhen:
        """A command and its actor (for the ledger), or a command method and its
        arguments (for an aggregate: ``Inspection.close, date(2017, 9, 30)``)."""
        if isinstance(action, c.Command):
            (actor,) = args
            return LedgerWhen.run(self, action, actor)
        if self.ledger is not None or any(isinstance(f, Step | tuple) for f in self.facts):
            msg = "given commands or a ledger: when(...) takes a command and an actor"
            raise TypeError(msg)
        return AggregateWhen.run(self, action, args, kwargs)


def given(*facts: Fact, ledger: Ledger | None = None) -> Given:
    """The past: an aggregate's events, or (with steps or a ``ledger``) what a ledger holds.

    Events may be :func:`event` specs (ids, versions and timestamps are filled
    in) or whole events. Steps are ``Step(command, actor)`` or
    ``(command, actor)`` pairs; the ledger must accept each. Without a
    ``ledger``, a fresh in-memory one is opened for the test and closed by
    ``then``.
    """
    return Given(facts, ledger)


# Aggregates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateWhen:
    """An aggregate command method called after its past events; ``then`` tells what it did."""

    before: AggregateState | None
    aggregate: LedgerAggregate[Any] | None
    error: BaseException | None

    @classmethod
    def run(
        cls, past: Given, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> AggregateWhen:
        aggregate = _replay(past.facts)
        before = aggregate.view() if aggregate is not None else None
        try:
            result = method(*args, **kwargs) if aggregate is None else method(aggregate, *args, **kwargs)
        except Exception as error:
            return cls(before, aggregate, error)
        if aggregate is None:
            if not isinstance(result, LedgerAggregate):
                msg = f"given no events, when({method!r}) must create an aggregate, it returned {result!r}"
                raise TypeError(msg)
            aggregate = result
        return cls(before, aggregate, None)

    def then(self, *expected: Expected) -> AggregateState:
        """The new events, in order; returns the aggregate's state after them."""
        if self.error is not None:
            msg = f"expected {len(expected)} event(s), but it raised {type(self.error).__name__}: {self.error}"
            raise ThenFailed(msg) from self.error
        assert self.aggregate is not None
        _compare(expected, _new_events(self.aggregate))
        state: AggregateState = self.aggregate.view()
        return state

    def then_raises(self, error: type[BaseException], *, rule: str | None = None) -> BaseException:
        """This error (and, for ``InvariantViolated``, this ``rule``), no new event, the state unchanged."""
        pending = _new_events(self.aggregate) if self.aggregate is not None else []
        found = _check_error(self.error, error, rule, f"it triggered {[_shown(e) for e in pending] or 'nothing'}")
        if pending:
            msg = f"{type(found).__name__} raised after events were triggered: {[_shown(e) for e in pending]}"
            raise ThenFailed(msg)
        if self.aggregate is not None and self.aggregate.view() != self.before:
            msg = f"{type(found).__name__} raised, but the state changed"
            raise ThenFailed(msg)
        return found


def _new_events(aggregate: LedgerAggregate[Any]) -> list[DomainEvent]:
    return [cast(DomainEvent, e) for e in aggregate.collect_events()]


def _replay(facts: Sequence[Fact]) -> LedgerAggregate[Any] | None:
    aggregate: LedgerAggregate[Any] | None = None
    aggregate_id = uuid4()
    for version, fact in enumerate(facts, 1):
        if isinstance(fact, EventSpec):
            past = fact.build(aggregate_id, version)
        elif isinstance(fact, DomainEvent):
            past = fact.model_copy(update={"originator_id": aggregate_id, "originator_version": version})
        else:
            msg = f"given {fact!r}: an aggregate's past is its events"
            raise TypeError(msg)
        aggregate = cast(LedgerAggregate[Any], past.mutate(aggregate))
    return aggregate


# The ledger -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerWhen:
    """A command executed on a ledger that holds the given facts; ``then`` tells what it recorded."""

    ledger: Ledger
    owned: bool
    """Opened by ``given``, so closed by ``then``."""
    position: int
    receipt: Receipt | None
    error: LedgerError | None

    @classmethod
    def run(cls, past: Given, command: c.Command, actor: Actor) -> LedgerWhen:
        ledger = past.ledger or Ledger.open("memory://")
        try:
            _establish(ledger, past.facts)
            position = ledger.position()
            try:
                receipt = ledger.execute(command, actor)
            except LedgerError as error:
                return cls(ledger, past.ledger is None, position, None, error)
            return cls(ledger, past.ledger is None, position, receipt, None)
        except BaseException:
            if past.ledger is None:
                ledger.close()
            raise

    def then(self, *expected: Expected) -> Receipt:
        """The events the command recorded, in order (names, classes, specs or whole events)."""
        try:
            if self.error is not None:
                msg = (
                    f"expected {len(expected)} event(s), but it was refused: {type(self.error).__name__}: {self.error}"
                )
                raise ThenFailed(msg) from self.error
            recorded = [
                e for _, e in self.ledger.events(start=self.position + 1) if not isinstance(e, CommandRecord.Event)
            ]
            _compare(expected, recorded)
            assert self.receipt is not None
            return self.receipt
        finally:
            self._done()

    def then_raises(self, error: type[LedgerError], *, rule: str | None = None) -> BaseException:
        """Refused with this error (and, for ``InvariantViolated``, this ``rule``), and nothing recorded."""
        try:
            what = f"it was recorded: {self.receipt.events}" if self.receipt else "nothing was raised"
            found = _check_error(self.error, error, rule, what)
            if self.ledger.position() != self.position:
                msg = (
                    f"{type(found).__name__} raised, yet the log grew from {self.position} to {self.ledger.position()}"
                )
                raise ThenFailed(msg)
            return found
        finally:
            self._done()

    def _done(self) -> None:
        if self.owned:
            self.ledger.close()


def _establish(ledger: Ledger, facts: Sequence[Fact]) -> None:
    events: list[DomainEvent] = []
    for n, fact in enumerate(facts, 1):
        if isinstance(fact, DomainEvent):
            events.append(fact)
            continue
        if isinstance(fact, EventSpec):
            msg = f"given fact {n}: an event spec has no aggregate id; give the ledger whole events or steps"
            raise TypeError(msg)
        if events:
            EventLog.of(ledger).save(*events)
            events = []
        step = fact if isinstance(fact, Step) else Step(*fact)
        try:
            ledger.execute(step.command, step.actor)
        except LedgerError as error:
            msg = f"given step {n} ({step.command.name} by {step.actor.department}) was refused: {error}"
            raise GivenFailed(msg) from error
    if events:
        EventLog.of(ledger).save(*events)
