"""Business invariants: what holds for every aggregate after any sequence of commands.

The aggregates check their rules one command at a time; these checks look at
the result, across aggregates, after the fact. A handler that skips a guard,
a projection of the wrong field, an event applied twice: each leaves a state
that breaks one of these, whatever commands led there. They read a
:class:`~quality_ledger.testing.state.LedgerState` only, so they run on the
live ledger, on a replay or on a state a test built by hand.

A broken invariant raises :class:`InvariantBroken` (an ``AssertionError``, so
pytest and hypothesis treat it as a failed check) naming the rule, in the
domain's own words where an aggregate guard has one, and the aggregate.

One module per aggregate (``campaign``, ``activity``, ``inspection``,
``commendation``), as the moves are; every check is importable from here.
"""

from __future__ import annotations

from quality_ledger.testing.invariants.activity import check_activity
from quality_ledger.testing.invariants.base import InvariantBroken
from quality_ledger.testing.invariants.base import expect as expect  # importable from here, as it was
from quality_ledger.testing.invariants.campaign import check_campaign
from quality_ledger.testing.invariants.commendation import check_commendation
from quality_ledger.testing.invariants.inspection import check_inspection
from quality_ledger.testing.state import LedgerState

__all__ = [
    "InvariantBroken",
    "check_activity",
    "check_campaign",
    "check_commendation",
    "check_domain",
    "check_inspection",
]


def check_domain(state: LedgerState) -> None:
    """Every invariant, over every aggregate ``state`` holds."""
    for campaign in state.campaigns.values():
        check_campaign(state, campaign)
    for activity in state.activities.values():
        check_activity(state, activity)
    for inspection in state.inspections.values():
        check_inspection(state, inspection)
    for commendation in state.commendations.values():
        check_commendation(state, commendation)
