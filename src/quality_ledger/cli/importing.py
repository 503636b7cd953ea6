"""``quality-ledger import FILE.jsonl``: record a file of commands in bulk.

One command a line, with the actor who issues it::

    {"actor": {"user": "li.wei", "department": "XA-QTS"}, "command": {"command": "TakeSample", ...}}

``command`` is exactly what :func:`quality_ledger.commands.parse` reads (and
``schema export`` describes), so a service that already sends commands as
JSON writes the same object here. The file is read a line at a time and
recorded with :meth:`Ledger.execute_many`, a chunk per transaction, so its
size is bounded by the disk, not by memory; any fault names its line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

from quality_ledger import commands as c
from quality_ledger import files, render
from quality_ledger.bounds import CHUNK_SIZE
from quality_ledger.domain.values import Actor
from quality_ledger.errors import BatchRefused, ConfigurationError, InvalidCommand, LedgerError
from quality_ledger.ledger import BatchSummary, Ledger

__all__ = ["MAX_LINE_BYTES", "Lines", "line_of", "run"]

MAX_LINE_BYTES = c.MAX_JSON_BYTES + 4096
"""Longest line read: the largest command :func:`~quality_ledger.commands.parse`
takes, and room for its actor."""

STDIN = "-"


def key_of(args: argparse.Namespace) -> bytes | None:
    """The at-rest key ``--key-file`` names, if any (every command that opens a ledger takes it)."""
    path: Path | None = getattr(args, "key_file", None)
    return files.encryption_key(path) if path is not None else None


def line_of(command: c.Command, actor: Actor) -> str:
    """``command`` issued by ``actor`` as one line of an import file (without the newline)."""
    document = {"actor": actor.model_dump(mode="json"), "command": command.model_dump(mode="json")}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


class Lines:
    """The (command, actor) pairs of an import file, read and checked one line
    at a time; remembers the line numbers of the latest commands, so that a
    refusal by index can be told by line."""

    def __init__(self, stream: BinaryIO, source: str) -> None:
        self.stream = stream
        self.source = source
        self.read = 0
        """Lines read so far."""
        self.commands = 0
        """Commands read so far (blank lines are skipped)."""
        self._recent: deque[int] = deque(maxlen=CHUNK_SIZE.high + 1)

    def line(self, index: int) -> int | None:
        """The line of the command at ``index`` (0-based), if still remembered."""
        offset = index - (self.commands - len(self._recent))
        return self._recent[offset] if 0 <= offset < len(self._recent) else None

    def __iter__(self) -> Iterator[tuple[c.Command, Actor]]:
        while raw := self.stream.readline(MAX_LINE_BYTES + 1):
            self.read += 1
            if len(raw) > MAX_LINE_BYTES:
                self._fault(f"over the limit of {MAX_LINE_BYTES} bytes")
            if not raw.strip():
                continue
            pair = self._parse(raw)
            self._recent.append(self.read)
            self.commands += 1
            yield pair

    def _parse(self, raw: bytes) -> tuple[c.Command, Actor]:
        try:
            document = json.loads(raw)
        except UnicodeDecodeError as e:
            self._fault(f"not UTF-8 at byte {e.start}")
        except (ValueError, RecursionError) as e:
            self._fault(f"not JSON: {e}")
        if not isinstance(document, dict) or set(document) != {"actor", "command"}:
            keys = sorted(document) if isinstance(document, dict) else type(document).__name__
            self._fault(f'expected an object with the keys "actor" and "command", got {render_short(keys)}')
        try:
            actor = _actor(document["actor"])
            command = c.parse_obj(document["command"])
        except InvalidCommand as e:
            self._fault(str(e), e.errors)
        return command, actor

    def _fault(self, problem: str, errors: list[dict[str, Any]] | None = None) -> NoReturn:
        msg = f"{self.source} line {self.read}: {problem}"
        raise InvalidCommand(msg, errors)


def _actor(data: object) -> Actor:
    if not isinstance(data, dict):
        msg = f'"actor" must be an object {{"user": ..., "department": ...}}, got {type(data).__name__}'
        raise InvalidCommand(msg)
    if not all(isinstance(key, str) for key in data):
        msg = "an actor's field names are strings"
        raise InvalidCommand(msg)
    return Actor(**data)


def render_short(value: object) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


class _Progress:
    """A line on stderr after each chunk: redrawn in place on a terminal, at
    most one a second otherwise (when asked for with ``--progress``)."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self.started = self.shown = time.perf_counter()
        self.summary: BatchSummary | None = None
        self.printed: BatchSummary | None = None

    def __call__(self, summary: BatchSummary) -> None:
        self.summary = summary
        if self.tty or time.perf_counter() - self.shown >= 1.0:
            self._show(summary)

    def _show(self, summary: BatchSummary) -> None:
        self.shown = time.perf_counter()
        self.printed = summary
        rate = summary.events / max(self.shown - self.started, 1e-9)
        text = f"{self.label}: {summary.commands:,} commands, {summary.events:,} events ({rate:,.0f} events/s)"
        self.stream.write(f"\r{text}" if self.tty else f"{text}\n")
        self.stream.flush()

    def close(self) -> None:
        """The last figures, if not shown yet, then the end of the line."""
        if self.summary is not None and self.summary is not self.printed:
            self._show(self.summary)
        if self.tty and self.printed is not None:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """The ``import`` command. The file is opened and its first line checked
    before the ledger is opened: a missing, empty or wrong file creates no ledger."""
    source = "stdin" if str(args.file) == STDIN else str(args.file)
    with ExitStack() as stack:
        stream = sys.stdin.buffer if source == "stdin" else stack.enter_context(_open(args.file))
        lines = Lines(stream, source)
        pairs = iter(lines)
        first = next(pairs, None)
        summary = BatchSummary()
        if first is not None:
            ledger = stack.enter_context(
                Ledger.open(args.url, views_url=args.views_url, create=True, encryption_key=key_of(args))
            )
            summary = _record(ledger, chain([first], pairs), lines, args)
    if args.json:
        print(render.document(summary.model_dump(mode="json")))
    else:
        print(_said(summary, source))
    return 0


def _record(
    ledger: Ledger, pairs: Iterable[tuple[c.Command, Actor]], lines: Lines, args: argparse.Namespace
) -> BatchSummary:
    show = args.progress or sys.stderr.isatty()
    progress = _Progress(f"importing {lines.source}", sys.stderr) if show else None
    receipts = ledger.execute_each(pairs, chunk_size=args.chunk_size, progress=progress)
    try:
        return receipts.drain()
    except LedgerError as e:
        raise _at_line(e, lines, receipts.summary.commands) from e.__cause__
    except KeyboardInterrupt:  # Ctrl-C: the summary says what was recorded, the chunk being stored included
        raise KeyboardInterrupt(_interrupted(lines, receipts.summary.commands)) from None
    finally:
        if progress is not None:
            progress.close()


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as e:
        msg = f"cannot read the import file {path}: {e.strerror or type(e).__name__}"
        raise ConfigurationError(msg) from None


def _at_line(error: LedgerError, lines: Lines, done: int) -> LedgerError:
    """``error`` in the words of the file: lines, not command indices, and
    the line to resume from. ``done`` commands were recorded (or found
    recorded before): every chunk before the one that failed."""
    if done == 0:
        resume = "nothing was recorded"
    else:
        line = lines.line(done) if done < lines.commands else lines.read
        resume = f"nothing was recorded from line {line} on, every line before it was"
    if isinstance(error, BatchRefused):
        cause = f"{type(error.cause).__name__}: {error.cause}"
        error.args = (f"{lines.source} line {lines.line(error.index)} ({error.command}): {cause}; {resume}",)
    else:
        error.args = (f"{error}; {resume}",)
    return error


def _interrupted(lines: Lines, done: int) -> str:
    """Where an interrupted import resumes: the line after the last command
    recorded (a blank line between is read again, harmlessly)."""
    last = lines.line(done - 1) if done else None
    if last is None:
        return f"{lines.source}: nothing was recorded" if not done else f"{lines.source}: {done:,} commands recorded"
    return f"{lines.source}: nothing was recorded from line {last + 1} on, every line before it was"


def _said(summary: BatchSummary, source: str) -> str:
    repeated = f", {summary.repeated:,} of them recorded before" if summary.repeated else ""
    where = (
        f" at positions {summary.first_position}-{summary.last_position}" if summary.first_position is not None else ""
    )
    return f"{source}: {summary.commands:,} commands{repeated}; {summary.events:,} events recorded{where}"
