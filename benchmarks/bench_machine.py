"""What the kit's state machine costs: its checks beside the bare commands.

    .venv/bin/python benchmarks/bench_machine.py --programs 20 --runs 5

Per run, side by side: (a) ``LedgerMachine``: hypothesis generates
``--programs`` programs (derandomized, so every run the same ones) and runs
each with every check of the machine; the executed steps are kept; (b) bare:
the same steps executed on a fresh in-memory ``Ledger`` per program, no
checks, no generation. Then the same for ``SQLiteLedgerMachine`` against a
bare SQLite file. Last, ``find_failure`` on a planted bug (a rectification
ordered without its guards): seconds to find and reduce it.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any, cast

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from quality_ledger import Ledger, LedgerError
from quality_ledger import commands as c
from quality_ledger.domain.inspection import Inspection, Rectification
from quality_ledger.handlers import Changes, CommandContext, handle
from quality_ledger.testing.machine import Executed, LedgerMachine, SQLiteLedgerMachine, find_failure

SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "phases": [Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


def machine_side(machine: type[LedgerMachine], programs: int) -> tuple[float, list[list[Executed]]]:
    """Seconds to run ``programs`` programs with every check, and the steps each executed."""
    runs: list[LedgerMachine] = []

    def recorded() -> LedgerMachine:
        run = machine()
        runs.append(run)
        return run

    started = time.perf_counter()
    factory = cast(type[RuleBasedStateMachine], recorded)
    run_state_machine_as_test(factory, settings=settings(max_examples=programs, **SETTINGS))
    return time.perf_counter() - started, [run.executed for run in runs]


def bare_side(open_ledger: Callable[[], Ledger], executed: list[list[Executed]]) -> float:
    """Seconds to execute the same steps on fresh ledgers, without any check."""
    started = time.perf_counter()
    for program in executed:
        with open_ledger() as ledger:
            for step in program:
                with contextlib.suppress(LedgerError):
                    ledger.execute(step.step.command, step.step.actor)
    return time.perf_counter() - started


def order_without_guards(command: c.Command, ctx: CommandContext) -> Changes:
    if not isinstance(command, c.OrderRectification):
        return handle(command, ctx)
    inspection = ctx.load(Inspection, command.inspection_id)
    rectification = Rectification(
        ordered_on=command.ordered_on, due_on=command.due_on, requirements=command.requirements
    )
    inspection.trigger_event(Inspection.RectificationOrdered, rectification=rectification)
    return Changes(inspection)


class LaxLedger(Ledger):
    handle = staticmethod(order_without_guards)


class LaxMachine(LedgerMachine):
    def make_ledger(self) -> Ledger:
        return LaxLedger.open("memory://")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(10**9))
        sides: dict[str, tuple[type[LedgerMachine], Callable[[], Ledger]]] = {
            "memory": (LedgerMachine, lambda: Ledger.open("memory://")),
            "SQLite file": (SQLiteLedgerMachine, lambda: Ledger.open(f"sqlite:///{tmp}/bare-{next(files)}.db")),
        }
        for name, (machine, open_bare) in sides.items():
            checked: list[float] = []
            bare: list[float] = []
            commands = 0
            for _ in range(args.runs):
                seconds, executed = machine_side(machine, args.programs)
                checked.append(seconds)
                bare.append(bare_side(open_bare, executed))
                commands = sum(len(program) for program in executed)
            median_checked, median_bare = statistics.median(checked), statistics.median(bare)
            print(
                f"{name}: {args.programs} programs, {commands} commands; "
                f"machine {median_checked / args.programs:.3f} s/program, "
                f"bare {median_bare / args.programs:.3f} s/program, "
                f"ratio {median_checked / median_bare:.2f}x "
                f"(machine runs {', '.join(f'{s:.1f}' for s in checked)} s)"
            )
    found: list[float] = []
    sizes: list[tuple[int, int]] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        failure = find_failure(LaxMachine, max_examples=100, stateful_step_count=50)
        found.append(time.perf_counter() - started)
        sizes.append((len(failure.program), len(failure.found)))
    print(
        f"find_failure, rectification without guards: median {statistics.median(found):.1f} s "
        f"(runs {', '.join(f'{s:.1f}' for s in found)}), reduced {sizes[0][1]} -> {sizes[0][0]} commands"
    )


if __name__ == "__main__":
    main()
