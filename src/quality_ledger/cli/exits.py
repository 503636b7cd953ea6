"""Exit codes scripts can trust, one per kind of outcome (docs/cli.md has the table).

Kept apart from the commands so that the mapping is one table, and light
(``quality_ledger.errors`` only) so that ``--help`` stays fast.
"""

from __future__ import annotations

from quality_ledger.errors import (
    ConcurrencyConflict,
    IntegrityError,
    LedgerError,
    ProjectionFailed,
    StoreUnavailable,
)

OK = 0
FINDING = 1
"""The command ran and found something wrong: a broken chain, differing views."""
USAGE = 2
"""The command line, a configuration or an input file is wrong: fix it and rerun."""
UNAVAILABLE = 3
"""The store could not be reached or changed under us: rerunning later may work."""
INTERNAL = 70
"""A bug in quality_ledger (sysexits' EX_SOFTWARE): please report it."""
INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT), as shells report it."""
BROKEN_PIPE = 141
"""Whoever read stdout stopped (``| head``): 128 + SIGPIPE, as shells report it."""


class Finding(LedgerError):
    """The command ran to the end and what it checked does not hold
    (views that differ from a rebuild). A broken hash chain is an
    :class:`~quality_ledger.errors.IntegrityError`, also a finding."""


def exit_code(error: LedgerError) -> int:
    if isinstance(error, Finding | IntegrityError):
        return FINDING
    if isinstance(error, StoreUnavailable | ConcurrencyConflict | ProjectionFailed):
        return UNAVAILABLE
    return USAGE
