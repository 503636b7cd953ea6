"""How fast the kit finds the bugs a service could plant, and that it raises no false alarm.

    .venv/bin/python benchmarks/bench_planted.py --rounds 7 --clean 500

Each round runs ``find_failure`` once on each of the six ledgers of
``tests/kit/planted.py`` (a late objection, a penalty on a conforming
inspection, progress after completion, a command recorded then refused, a
scorecard counting cancelled activities as completed, an activity-board
bug), with a fresh seed per round and bug; the bugs alternate within the
round, so the machine's noise falls on all of them alike. Reported per bug:
the median seconds to find and reduce (min-max) and the most commands a
reduced program kept. Last, the unmodified machine runs ``--clean`` programs:
any failure there is a false alarm. Issue 13's targets: median under 60 s,
at most 8 commands, no false alarm in 500 programs.

There is no bare peer to interleave with: the time measured is the kit's
own (generation, checks and reduction), not an overhead over something else.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the service-side suite, tests/kit/planted.py

from tests.kit.planted import PLANTED

from quality_ledger.testing.machine import LedgerMachine, find_failure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="seeds per bug (at least 5)")
    parser.add_argument("--clean", type=int, default=500, help="programs of the unmodified machine")
    parser.add_argument("--only", default="", help="only the bugs whose name contains this")
    args = parser.parse_args()
    bugs = [name for name in PLANTED if args.only in name]
    seconds: dict[str, list[float]] = {name: [] for name in bugs}
    commands: dict[str, list[int]] = {name: [] for name in bugs}
    for round_ in range(args.rounds):
        order = bugs if round_ % 2 == 0 else bugs[::-1]
        for n, name in enumerate(order):
            started = time.perf_counter()
            failure = find_failure(PLANTED[name], seed=1000 * round_ + n, max_examples=2000, stateful_step_count=50)
            seconds[name].append(time.perf_counter() - started)
            commands[name].append(len(failure.program))
            print(f"round {round_ + 1}: {name}: {seconds[name][-1]:.1f} s, {commands[name][-1]} commands", flush=True)
    print(f"\n{'bug':<40} {'median s':>9} {'min-max s':>13} {'most commands':>14}")
    for name in bugs:
        runs = seconds[name]
        spread = f"{min(runs):.1f}-{max(runs):.1f}"
        print(f"{name:<40} {statistics.median(runs):>9.1f} {spread:>13} {max(commands[name]):>14}")
    if args.clean:
        started = time.perf_counter()
        chosen = settings(
            max_examples=args.clean,
            stateful_step_count=50,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        run_state_machine_as_test(LedgerMachine, settings=chosen)  # raises on a false alarm
        print(f"\nunmodified machine: {args.clean} programs, no failure, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
