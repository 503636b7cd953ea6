"""One way to compare the project with its bare peer on a noisy, shared machine.

Running one side to the end and then the other lets the machine's load drift
between them: on the shared development disk such ratios swung from 0.88x to
1.85x (issue 14). Here the two sides run in alternating blocks in one process
(A B, B A, A B, ... so neither side always goes first), each block timed with
``time.perf_counter``; a round is one block of each, the ratio of a round is
the project's rate over the bare peer's in that round, and the report gives
the median of those ratios with their min-max. Load that drifts slowly hits
both blocks of a round alike and cancels out of its ratio.

Memory is measured per path, not per process tree: :func:`peak_rss` runs one
workload in a freshly spawned child and reads that child's own high-water
mark (``VmHWM``), so neither the parent's heap nor an earlier workload's
peak pollutes it.

Imported by the scripts beside it (``.venv/bin/python benchmarks/bench_x.py``
puts this directory on ``sys.path``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

MIN_ROUNDS = 5
"""Fewer rounds give a median that one disturbed round can move."""

T = TypeVar("T")

Block = Callable[[], int]
"""Runs one block of work and returns how many units (commands, events) it did.

A block that needs a fresh start each time (an empty views database before
a catch-up) has a ``prepare()`` method too: it is called before every block,
outside the timing."""


def rounds_argument(parser: argparse.ArgumentParser) -> None:
    """``--rounds``, default and minimum :data:`MIN_ROUNDS`."""

    def at_least_min(text: str) -> int:
        rounds = int(text)
        if rounds < MIN_ROUNDS:
            msg = f"--rounds must be at least {MIN_ROUNDS}, got {rounds}"
            raise argparse.ArgumentTypeError(msg)
        return rounds

    parser.add_argument(
        "--rounds",
        type=at_least_min,
        default=MIN_ROUNDS,
        help=f"rounds of alternating blocks (at least {MIN_ROUNDS})",
    )


@dataclass
class Comparison:
    """Rates of both sides, one per round, and what they add up to."""

    title: str
    unit: str
    project: str
    bare: str
    project_rates: list[float] = field(default_factory=list)
    bare_rates: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Per round: the project's rate over the bare peer's (above 1: the project is faster)."""
        return [p / b for p, b in zip(self.project_rates, self.bare_rates, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def project_rate(self) -> float:
        return statistics.median(self.project_rates)

    @property
    def bare_rate(self) -> float:
        return statistics.median(self.bare_rates)

    def spread(self) -> str:
        """``0.93x (0.88-1.01)``: the median ratio and its min-max."""
        return f"{self.ratio:.2f}x ({min(self.ratios):.2f}-{max(self.ratios):.2f})"

    def report(self) -> str:
        width = max(len(self.project), len(self.bare))
        lines = [f"{self.title} ({len(self.ratios)} rounds)"]
        for name, rates in ((self.bare, self.bare_rates), (self.project, self.project_rates)):
            lines.append(
                f"  {name:{width}} : median {statistics.median(rates):10,.0f} {self.unit}/s"
                f"  [{', '.join(f'{r:,.0f}' for r in rates)}]"
            )
        lines.append(f"  ratio ({self.project} / {self.bare}), median (min-max): {self.spread()}")
        return "\n".join(lines)


def timed(block: Block) -> float:
    """Units per second of one block (its ``prepare()``, if any, untimed)."""
    prepare: Callable[[], object] | None = getattr(block, "prepare", None)
    if prepare is not None:
        prepare()
    started = time.perf_counter()
    units = block()
    elapsed = time.perf_counter() - started
    if units <= 0:
        msg = f"a block did no work ({units} units): nothing to measure"
        raise RuntimeError(msg)
    return units / elapsed


def interleave(
    title: str,
    project: Block,
    bare: Block,
    *,
    rounds: int = MIN_ROUNDS,
    unit: str = "events",
    names: tuple[str, str] = ("ledger", "bare"),
    warm_up: bool = True,
    verbose: bool = True,
) -> Comparison:
    """Run ``project`` and ``bare`` in alternating blocks (A B, B A, ...) for
    ``rounds`` rounds and collect each block's rate.

    ``warm_up`` runs one untimed block of each first (imports, caches, the
    first page of a file), which would otherwise land on whichever side goes
    first.
    """
    if rounds < MIN_ROUNDS:
        msg = f"rounds must be at least {MIN_ROUNDS}, got {rounds}"
        raise ValueError(msg)
    result = Comparison(title=title, unit=unit, project=names[0], bare=names[1])
    if warm_up:
        timed(project)
        timed(bare)
    for n in range(rounds):
        order = ((project, result.project_rates), (bare, result.bare_rates))
        for block, rates in order if n % 2 == 0 else order[::-1]:
            rates.append(timed(block))
        if verbose:
            print(
                f"  {title}, round {n + 1}: {names[0]} {result.project_rates[-1]:,.0f}, "
                f"{names[1]} {result.bare_rates[-1]:,.0f} {unit}/s, "
                f"ratio {result.project_rates[-1] / result.bare_rates[-1]:.2f}",
                flush=True,
            )
    return result


# Memory ---------------------------------------------------------------------------


def own_peak_rss_mb() -> float:
    """This process's own peak resident set in MB (VmHWM; ``ru_maxrss`` is the
    fallback where /proc is missing)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _measured(fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, float, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started, own_peak_rss_mb()


def peak_rss(fn: Callable[..., T], *args: Any) -> tuple[T, float, float]:
    """Run ``fn(*args)`` in a freshly spawned child; returns its result, the
    seconds it took there and the child's peak RSS in MB.

    Spawned, not forked: a forked child starts with the parent's pages
    resident and would count them. ``fn`` must be importable (a module-level
    function) and its arguments and result picklable.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measured, fn, args).result()


def baseline_rss() -> float:
    """Peak RSS of a spawned child that only imports the ledger: the floor under every figure of :func:`peak_rss`."""
    _, _, mb = peak_rss(_import_only)
    return mb


def _import_only() -> None:
    import quality_ledger.ledger  # noqa: F401 - the import is the workload
