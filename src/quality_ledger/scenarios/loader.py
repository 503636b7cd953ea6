"""Reading a case file, and recording a case through public commands.

:func:`read_case` turns a TOML file into a validated :class:`~.specs.Case`
(one-line errors naming the file and the field); :func:`load` executes the
case's :func:`~.planner.plan`, so that a case meets the same rules and
permissions a service would, and loading it again records nothing new.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from quality_ledger.errors import BatchRefused, ConfigurationError, InvalidCommand
from quality_ledger.ledger import BatchSummary, Ledger
from quality_ledger.receipts import Receipt
from quality_ledger.scenarios.planner import conclusion, plan
from quality_ledger.scenarios.specs import Case

__all__ = ["MAX_CASE_BYTES", "conclude", "load", "parse_case", "read_case", "rehearse"]

MAX_CASE_BYTES = 8 * 1024 * 1024
"""Largest case file read: a hundred times the Xi'an case, and small enough to parse in a moment."""


# Reading ---------------------------------------------------------------------------


def read_case(path: Path) -> Case:
    """The case in the TOML file at ``path``.

    Raises ``ConfigurationError`` if the file cannot be read, ``InvalidCommand``
    (one line naming the file and the field) if it is not a valid case.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CASE_BYTES + 1)
    except OSError as e:
        msg = f"cannot read the case file {path}: {e.strerror or type(e).__name__}"
        raise ConfigurationError(msg) from None
    if len(data) > MAX_CASE_BYTES:
        msg = f"{path} is not a case file: over the limit of {MAX_CASE_BYTES} bytes"
        raise InvalidCommand(msg)
    return parse_case(data, str(path))


def parse_case(data: bytes | str, source: str) -> Case:
    """The case a TOML document holds; ``source`` names it in errors."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = tomllib.loads(text)
    except UnicodeDecodeError as e:
        msg = f"{source} is not a case file: not UTF-8 at byte {e.start}"
        raise InvalidCommand(msg) from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        msg = f"{source} is not a case file: TOML: {e}"
        raise InvalidCommand(msg) from None
    try:
        return Case.model_validate(document)
    except ValidationError as e:
        details = e.errors(include_url=False)
        shown = [f"{_where(document, d['loc'])}{d['msg'].removeprefix('Value error, ')}" for d in details[:SHOWN]]
        more = f"; and {len(details) - SHOWN} more" if len(details) > SHOWN else ""
        msg = f"{source} is not a valid case: {'; '.join(shown)}{more}"
        raise InvalidCommand(msg, [dict(d) for d in details]) from None


SHOWN = 3
"""Faults one message names (a misspelt field is two: the one missing, the one unknown)."""

_NAMES = ("key", "reference", "sample_id", "code")
"""Fields that name an entry of a list: errors show ``activities[brands]``, not ``activities[9]``."""


def _where(document: Any, loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a reader of the TOML file finds it."""
    text, node = "", document
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            name = next((node[k] for k in _NAMES if isinstance(node, dict) and isinstance(node.get(k), str)), None)
            text += f"[{name}]" if name is not None else f"[{part}]"
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
    return f"{text[:200]}: " if text else ""


# Recording -------------------------------------------------------------------------


def load(ledger: Ledger, case: Case, *, progress: Callable[[int, int], None] | None = None) -> UUID:
    """Record ``case`` in ``ledger`` through commands; return the campaign's id.

    The plan (campaign, departments, activities with their dates and places) is
    recorded before the launch, as a press conference announces it; then the
    activities run, inspections follow their lifecycle, craftsmen are nominated
    and conferred, and bulletins are published. The campaign is left running:
    see :func:`conclude`. Every command is built and validated before the first
    is executed; they are recorded with :meth:`Ledger.execute_many`, a chunk
    at a time, and loading the same case again records nothing (each step has
    an idempotency key). ``progress`` is called with (commands done, commands
    in all) after each chunk.
    """
    steps = plan(case)
    total = len(steps)

    def chunk_done(summary: BatchSummary) -> None:
        if progress is not None:
            progress(summary.commands, total)

    receipts = ledger.execute_each(((step.command, step.actor) for step in steps), progress=chunk_done)
    try:
        first = next(receipts)
        receipts.drain()
    except BatchRefused as e:  # the refusal itself, saying which step of the case it refused
        cause = e.cause
        cause.args = (f"{steps[e.index].command.idempotency_key}: {cause}", *cause.args[1:])
        raise cause from None
    return first.aggregate_id


def rehearse(case: Case) -> None:
    """Load ``case`` into a fresh in-memory ledger, to find a step the rules
    refuse before a real ledger records the steps before it. Raises that step's error."""
    with Ledger.open("memory://") as scratch:
        load(scratch, case)


def conclude(ledger: Ledger, campaign_id: UUID, case: Case) -> Receipt:
    """Conclude the loaded campaign as the case's ``conclusion`` says (kept apart
    from :func:`load` so that demos show the campaign running)."""
    step = conclusion(case, campaign_id)
    if step is None:
        msg = f"the case {case.key!r} has no conclusion"
        raise InvalidCommand(msg)
    return ledger.execute(step.command, step.actor)
