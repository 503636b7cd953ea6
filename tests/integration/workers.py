"""Real processes for the tests that need many writers or followers.

Workers are spawned (not forked: a fork would share the parent's pooled
connections and threads), each runs a module-level function, and sends back
one result or its traceback. Every wait is bounded: a worker still running
after its deadline is killed and the test fails saying which; the first
worker to fail fails the test at once, killing the others.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.context import SpawnProcess
from typing import Any

import pytest

from quality_ledger import Ledger

CONTEXT = multiprocessing.get_context("spawn")


def _run(results: Any, index: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        results.put((index, True, target(*args)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


class Workers:
    """Processes started together, each running ``target(*args)``."""

    def __init__(self, target: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> None:
        self.results: Any = CONTEXT.Queue()
        self.processes: list[SpawnProcess] = [
            CONTEXT.Process(target=_run, args=(self.results, i, target, a), daemon=True) for i, a in enumerate(args)
        ]
        for process in self.processes:
            process.start()

    def wait(self, timeout: float) -> list[Any]:
        """Each worker's result in order; fails the test on an error or when ``timeout`` s pass."""
        deadline = time.monotonic() + timeout
        found: dict[int, Any] = {}
        while len(found) < len(self.processes):
            remaining = deadline - time.monotonic()
            try:
                index, ok, value = self.results.get(timeout=max(0.01, min(remaining, 1.0)))
            except queue.Empty:
                if remaining <= 0:
                    self.kill()
                    pytest.fail(f"workers still running after {timeout} s: {self.running()}")
                dead = [i for i, p in enumerate(self.processes) if p.exitcode not in (None, 0) and i not in found]
                if dead:
                    self.kill()
                    pytest.fail(f"workers {dead} died without a result")
                continue
            if not ok:  # fail fast: the others may be waiting for the one that failed
                self.kill()
                pytest.fail(f"worker {index}:\n{value}", pytrace=False)
            found[index] = value
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
        return [found[i] for i in range(len(self.processes))]

    def running(self) -> list[int]:
        return [i for i, p in enumerate(self.processes) if p.is_alive()]

    def kill(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join(5)


def wait_until(condition: Callable[[], Any], what: str, timeout: float) -> None:
    """Polls ``condition`` until it holds; fails the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {timeout} s for {what}")
        time.sleep(0.02)


# Workers shared by several test modules ------------------------------------------


def follow(url: str, views_url: str, done: Any, head: Any, timeout: float) -> int:
    """A projection runner in its own process: follows until told the final head, then stops."""
    with Ledger.open(url, views_url=views_url, read_your_writes=False) as ledger:
        ledger.views.start(interval=30.0)  # woken by NOTIFY; the interval is only a safety net
        done.wait(timeout)
        deadline = time.monotonic() + timeout
        while ledger.views.position() < head.value and time.monotonic() < deadline:
            time.sleep(0.05)
        ledger.views.stop()  # re-raises whatever stopped the runner
        return ledger.views.position()
