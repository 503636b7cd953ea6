"""The kit finds the bugs it promises to, planted one at a time as a service could.

``planted.py`` holds six ledgers, each broken in one rule: a late objection
accepted, a penalty on a conforming inspection, progress after completion,
a command recorded then refused, a scorecard counting cancelled activities
as completed, an activity board that loses outcomes. ``find_failure`` must
find each and reduce it to at most 8 commands, naming the rule or view
broken. Seeded, so every checkout runs the same programs; the benchmark
(``benchmarks/bench_planted.py``) measures the time over many seeds.
"""

from __future__ import annotations

import pytest

from quality_ledger import Ledger
from quality_ledger.domain import rules
from quality_ledger.domain.rules import OBJECTION_WINDOW, WindowRule
from quality_ledger.domain.values import Verdict
from quality_ledger.testing.invariants import InvariantBroken
from quality_ledger.testing.machine import MachineFailure, PromiseBroken, find_failure
from quality_ledger.testing.steps import WINDOW_EDGES
from tests.kit.planted import PLANTED

MAX_COMMANDS = 8
SEED = 2017


def found(bug: str) -> MachineFailure:
    """The failure the kit finds and reduces. Which check catches it first (a
    promise at the command, or an invariant after it) depends on the program
    drawn, and hypothesis also draws from the source of the modules a process
    imported: so only what holds for any program found is asserted."""
    failure = find_failure(PLANTED[bug], seed=SEED, max_examples=1000, stateful_step_count=50)
    assert len(failure.program) <= min(MAX_COMMANDS, len(failure.found)), str(failure)
    assert isinstance(failure.error, PromiseBroken | InvariantBroken), str(failure)
    return failure


def promise_broken(failure: MachineFailure) -> PromiseBroken:
    """For bugs only a promise can see (a view, a refused command that recorded)."""
    assert isinstance(failure.error, PromiseBroken), str(failure)
    return failure.error


def replayed_before_last(failure: MachineFailure) -> Ledger:
    """A ledger under the library's own rules with every step of the program but the last."""
    reference = Ledger.open("memory://")
    for executed in failure.program[:-1]:
        reference.execute(executed.step.command, executed.step.actor)
    return reference


def test_a_late_objection_accepted_is_found_just_outside_the_window() -> None:
    failure = found("late objection")
    assert failure.error.rule == OBJECTION_WINDOW.id  # type: ignore[attr-defined]
    assert failure.program[-1].step.command.name == "ObjectToResult"
    assert failure.commands[-1].endswith("Inspection.ResultObjected")


def test_a_penalty_without_a_nonconforming_verdict_is_found() -> None:
    failure = found("penalty on a conforming inspection")
    assert failure.error.rule == "penalty-after-nonconforming"  # type: ignore[attr-defined]
    last = failure.program[-1].step.command
    assert last.name == "ImposePenalty"
    # on an inspection with a verdict (the table allows a penalty then), not a final nonconforming one
    with replayed_before_last(failure) as reference:
        inspection = reference.get(last.inspection_id)  # type: ignore[attr-defined]
        assert inspection.verdict is not None
        assert not (inspection.has_final_verdict and inspection.verdict is Verdict.NONCONFORMING)


def test_progress_after_completion_is_found() -> None:
    failure = found("progress after completion")
    assert failure.error.rule == "transition table: cannot report progress when completed"  # type: ignore[attr-defined]
    assert failure.program[-1].step.command.name == "ReportProgress"


def test_a_command_recorded_then_refused_is_found() -> None:
    failure = found("a handler that records, then raises")
    assert promise_broken(failure).promise == "refusal-records-nothing"
    assert failure.program[-1].step.command.name == "TakeSample"


@pytest.mark.parametrize(
    ("bug", "view"),
    [("cancelled counted as completed", "department_scorecard"), ("activity_board bug", "activity_board")],
)
def test_a_view_that_differs_from_its_model_is_found_and_named(bug: str, view: str) -> None:
    error = promise_broken(found(bug))
    assert error.promise == "views-equal-models"
    assert error.detail.startswith(view)


def test_every_window_rule_has_steps_at_its_edges() -> None:
    window_rules = {v for v in vars(rules).values() if isinstance(v, WindowRule)}
    assert window_rules == set(WINDOW_EDGES)
