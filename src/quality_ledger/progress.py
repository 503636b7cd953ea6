"""A small progress bar on stderr for long work (rebuilds, replays, exports).

No dependency: a bar redrawn in place when stderr is a terminal, and a line
every ten percent when it is not (CI logs, pipes), so long work always says
that it is moving.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Bar:
    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.tty = self.stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        text = f"{self.label} {done:,}/{total:,} ({fraction:.0%}, {rate:,.0f}/s)"
        if self.tty:
            filled = int(self.width * fraction)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {text}")
            self.stream.flush()
        elif int(fraction * 10) > self._last_tenth:
            self._last_tenth = int(fraction * 10)
            print(text, file=self.stream, flush=True)

    def close(self, summary: str = "") -> None:
        elapsed = time.perf_counter() - self.started
        end = "\n" if self.tty else ""
        self.stream.write(f"{end}{self.label}: {summary} in {elapsed:.1f} s\n")
        self.stream.flush()
