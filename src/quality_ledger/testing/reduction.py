"""Reducing a failing program: delta debugging over the steps a machine executed.

Hypothesis's shrinker deletes steps slowly when each draws many values; here
the executed steps are replayed on fresh machines and every step the failure
does not need is removed, then optional fields are left out, until nothing
changes. :func:`~quality_ledger.testing.machine.find_failure` runs a machine
until a program fails and hands it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from quality_ledger.errors import LedgerError
from quality_ledger.ledger import Ledger
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.promises import Executed

__all__ = ["MachineFailure"]


@dataclass(frozen=True)
class MachineFailure:
    """What :func:`find_failure` found: the error, and the shortest program that raises it."""

    error: BaseException
    program: tuple[Executed, ...]
    """The steps that still raise the same error after every other was removed."""
    commands: tuple[str, ...]
    """What each step of ``program`` did, as the machine's journal says."""
    found: tuple[Executed, ...]
    """The program hypothesis found, before the reduction."""

    def __str__(self) -> str:
        lines = [
            f"{type(self.error).__name__}: {self.error}",
            f"in {len(self.program)} commands (of {len(self.found)} in the program found):",
        ]
        lines += [f"  {n}. {line}" for n, line in enumerate(self.commands, 1)]
        return "\n".join(lines)


class Replays(Protocol):
    """A machine class as the reduction uses it: it replays a program on a fresh
    machine (:meth:`~quality_ledger.testing.machine.LedgerMachine.replay`)."""

    def replay(
        self, program: Sequence[Executed], *, final: bool = True, strict: bool = True, store: bool = True
    ) -> tuple[BaseException | None, list[str]]: ...


def _signature(error: BaseException | None) -> tuple[object, ...]:
    """Two errors are the same failure if of one type and naming one rule or promise."""
    if error is None:
        return ()
    return (type(error), getattr(error, "rule", None), getattr(error, "promise", None))


def _reduced(machine: Replays, error: BaseException, found: tuple[Executed, ...]) -> MachineFailure:
    """Delta debugging (drop chunks of steps, halving the chunks, while the same
    failure remains), then simpler steps (optional fields left out, such as an
    inspection's activity), then delta debugging again, until nothing changes."""
    target = _signature(error)
    # A refused valid step is the failure itself only when the promise broken says so.
    strict = getattr(error, "promise", None) == "valid-command-accepted"
    refusing = getattr(error, "promise", None) == "outside-rule-refused"
    # Every check the failure needs, after every step: the per-command promises and
    # the business invariants always; the store's promises (tens of times dearer)
    # and the teardown's only if the program found fails without them otherwise.
    for store, final in ((False, False), (True, False), (True, True)):
        again = machine.replay(found, final=final, strict=strict, store=store)
        if _signature(again[0]) == target:
            break
    else:
        return MachineFailure(error, found, tuple(again[1]), found)

    def fails(program: list[Executed]) -> tuple[BaseException | None, list[str]] | None:
        outcome = machine.replay(program, final=final, strict=strict, store=store)
        if _signature(outcome[0]) != target:
            return None
        # A refused valid step fails only if it is still valid: dropping what led
        # up to it (the inspection a closing closes) leaves a step every ledger refuses.
        if strict and not _valid_under_library_rules(program[: len(outcome[1])]):
            return None
        # Likewise an accepted step outside a rule fails only while the library's rules refuse it.
        if refusing and _valid_under_library_rules(program[: len(outcome[1])]):
            return None
        return outcome

    program, last = list(found), again
    while True:
        program, last = _drop_steps(program, last, fails)
        simpler = _simplify(program, fails) or (_drop_dependents(program, fails) if strict else None)
        if simpler is None:
            break
        program, last = simpler
    final_error, final_journal = last
    assert final_error is not None
    return MachineFailure(final_error, tuple(program), tuple(final_journal), found)


Outcome = tuple[BaseException | None, list[str]]


def _reference_refusals(program: Sequence[Executed]) -> set[int]:
    """The steps of ``program`` that a plain in-memory :class:`Ledger` (the
    library's own rules) refuses: the oracle for "valid" when reducing a
    refused valid step."""
    refused: set[int] = set()
    with Ledger.open("memory://") as reference:
        for n, executed in enumerate(program):
            try:
                reference.execute(executed.step.command, executed.step.actor)
            except LedgerError:
                refused.add(n)
    return refused


def _valid_under_library_rules(program: Sequence[Executed]) -> bool:
    """Whether the library's own rules accept the last step of ``program`` after those before it."""
    return len(program) - 1 not in _reference_refusals(program)


def _drop_dependents(
    program: list[Executed], fails: Callable[[list[Executed]], Outcome | None]
) -> tuple[list[Executed], Outcome] | None:
    """The first program that still fails with one step dropped together with
    the later steps the library's rules then refuse (a sample and its result,
    which are rarely next to each other for chunks to take both)."""
    for n in range(len(program) - 1):
        rest = program[:n] + program[n + 1 :]
        refused = _reference_refusals(rest)
        candidate = [step for k, step in enumerate(rest) if k not in refused or k == len(rest) - 1]
        outcome = fails(candidate)
        if outcome is not None:
            return candidate, outcome
    return None


def _drop_steps(
    program: list[Executed], last: Outcome, fails: Callable[[list[Executed]], Outcome | None]
) -> tuple[list[Executed], Outcome]:
    chunk = max(1, len(program) // 2)
    while program:
        start, removed = 0, False
        while start < len(program):
            candidate = program[:start] + program[start + chunk :]
            outcome = fails(candidate)
            if outcome is not None:
                program, last, removed = candidate, outcome, True
            else:
                start += chunk
        if chunk == 1 and not removed:
            break
        chunk = max(1, chunk // 2)
    return program, last


def _simplify(
    program: list[Executed], fails: Callable[[list[Executed]], Outcome | None]
) -> tuple[list[Executed], Outcome] | None:
    """The first simpler program that still fails: one optional field of one step left out."""
    for n, executed in enumerate(program):
        command = executed.step.command
        for name, field in type(command).model_fields.items():
            if field.is_required() or name == "command":
                continue
            default = field.get_default(call_default_factory=True)
            if getattr(command, name) == default:
                continue
            simpler = command.model_copy(update={name: default})
            candidate = [
                *program[:n],
                Executed(Step(simpler, executed.step.actor), executed.must_succeed, executed.must_refuse),
                *program[n + 1 :],
            ]
            outcome = fails(candidate)
            if outcome is not None:
                return candidate, outcome
    return None
