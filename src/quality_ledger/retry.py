"""The one retry the ledger leaves to its caller: after a lost race, decide again.

``Ledger.execute`` never retries: a :class:`ConcurrencyConflict` means another
writer changed the aggregate after the command was decided, so resending the
same command could record a decision taken on state that no longer holds.
:func:`execute_with_retry` retries the safe way: it asks a callable for the
command each time, and that callable re-reads whatever the decision rests on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from quality_ledger.commands import Command
from quality_ledger.domain.values import Actor
from quality_ledger.errors import ConcurrencyConflict
from quality_ledger.receipts import Receipt

if TYPE_CHECKING:
    from quality_ledger.ledger import Ledger


def execute_with_retry(
    ledger: Ledger,
    make_command: Callable[[], Command],
    actor: Actor,
    *,
    attempts: int = 5,
    backoff: float = 0.01,
    max_backoff: float = 1.0,
    correlation_id: UUID | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Receipt:
    """Execute ``make_command()``, building it afresh after each conflict.

    ``make_command`` takes no argument and returns the command to run now; it
    should read the current state it decides on (``ledger.get(...)``), so
    that a retry decides on what the winner left, and it may raise to give
    up (a rule the new state breaks surfaces as usual). Only
    :class:`ConcurrencyConflict` is retried, at most ``attempts`` times in
    all; every other error, and the last conflict, propagate unchanged.
    Before retry ``n`` (1, 2, ...) it sleeps a random time up to
    ``min(max_backoff, backoff * 2**(n-1))`` seconds ("full jitter"), so
    writers that collided spread out instead of colliding again.

    A command with an idempotency key keeps it safe: a conflict recorded
    nothing, and a retry after the first success returns the first receipt.
    """
    if attempts < 1:
        msg = f"attempts must be 1 or more, got {attempts}"
        raise ValueError(msg)
    for attempt in range(1, attempts + 1):
        command = make_command()
        try:
            return ledger.execute(command, actor, correlation_id=correlation_id)
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
        sleep(random.uniform(0, min(max_backoff, backoff * 2 ** (attempt - 1))))  # noqa: S311  (jitter, not secrets)
    raise AssertionError("unreachable")  # pragma: no cover
