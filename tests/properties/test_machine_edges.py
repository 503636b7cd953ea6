"""The machine reaches the edges of the rules: bugs planted there are found and reduced.

Each test plants one bug as a downstream service could (a handler that lost
one check, in the style of ``test_machine.py``'s ``LaxMachine``), runs
``find_failure`` and expects the failure reduced to a few commands. The
steps at the edges come from the rule table and the transition tables
(``quality_ledger.testing.steps.edge_steps``): an objection on the last day
of the window and the day after it, a penalty on an inspection whose samples
all passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain import rules
from quality_ledger.domain.base import LedgerAggregate
from quality_ledger.domain.rules import OBJECTION_WINDOW, WindowRule
from quality_ledger.domain.values import Verdict
from quality_ledger.handlers import Context, Work, handle, inspected, lodged_by
from quality_ledger.testing.machine import LedgerMachine, MachineFailure, PromiseBroken, find_failure
from quality_ledger.testing.steps import WINDOW_EDGES

MAX_COMMANDS = 8


@contextmanager
def lenient(aggregate: LedgerAggregate[Any], rule: str) -> Iterator[None]:
    """``aggregate`` with the check of ``rule`` lost (for one command: snapshots never see it)."""
    strict = aggregate.check
    aggregate.check = lambda condition, name, detail: strict(condition or name == rule, name, detail)  # type: ignore[method-assign]
    try:
        yield
    finally:
        del aggregate.check


def late_objections_accepted(command: c.Command, ctx: Context) -> Work:
    """A broken rule: the objection window is not checked."""
    if not isinstance(command, c.ObjectToResult):
        return handle(command, ctx)
    inspection = inspected(command, ctx, command.inspection_id)
    with lenient(inspection, OBJECTION_WINDOW.id):
        inspection.object_to_result(command.sample_id, command.lodged_on, lodged_by=lodged_by(ctx, inspection.state))
    return Work(inspection)


def penalties_on_any_verdict(command: c.Command, ctx: Context) -> Work:
    """A broken rule: a penalty needs a verdict, not a nonconforming one."""
    if not isinstance(command, c.ImposePenalty):
        return handle(command, ctx)
    inspection = inspected(command, ctx, command.inspection_id)
    with lenient(inspection, "penalty-after-nonconforming"):
        inspection.impose_penalty(command.amount, command.reason, command.decided_on)
    return Work(inspection)


def planted(handler: Callable[[c.Command, Context], Work]) -> type[LedgerMachine]:
    class PlantedLedger(Ledger):
        handle = staticmethod(handler)

    class PlantedMachine(LedgerMachine):
        def make_ledger(self) -> Ledger:
            return PlantedLedger.open("memory://")

    PlantedMachine.__name__ = f"Machine_{handler.__name__}"
    return PlantedMachine


def found(handler: Callable[[c.Command, Context], Work]) -> MachineFailure:
    failure = find_failure(planted(handler), max_examples=1000, stateful_step_count=50)
    names = [e.step.command.name for e in failure.program]
    assert len(names) <= MAX_COMMANDS < len(failure.found), str(failure)
    return failure


def test_a_late_objection_accepted_is_found_at_the_day_after_the_window() -> None:
    # given a ledger that accepts objections however late
    # when the machine runs it
    failure = found(late_objections_accepted)
    # then the step just outside the window was accepted, where the rule refuses it
    assert isinstance(failure.error, PromiseBroken)
    assert failure.error.rule == OBJECTION_WINDOW.id
    last = failure.program[-1].step.command
    assert isinstance(last, c.ObjectToResult)
    assert failure.commands[-1].endswith("Inspection.ResultObjected")


def test_a_penalty_on_a_conforming_inspection_is_found() -> None:
    # given a ledger that imposes penalties on inspections whose samples all passed
    # when the machine runs it
    failure = found(penalties_on_any_verdict)
    # then the penalty was accepted against the rule, and the reduced program ends with it
    assert failure.error.rule == "penalty-after-nonconforming"  # type: ignore[attr-defined]
    assert isinstance(failure.program[-1].step.command, c.ImposePenalty)
    with Ledger.open("memory://") as reference:
        for executed in failure.program[:-1]:
            reference.execute(executed.step.command, executed.step.actor)
        inspection = reference.get(failure.program[-1].step.command.inspection_id)
        assert inspection.verdict is not Verdict.NONCONFORMING or not inspection.has_final_verdict


def test_every_window_rule_has_steps_at_its_edges() -> None:
    window_rules = {v for v in vars(rules).values() if isinstance(v, WindowRule)}
    assert window_rules == set(WINDOW_EDGES)
