"""Commands for a state machine: the valid next steps of a ledger state, and
any command, possibly invalid, aimed at what it holds or as raw input.

:func:`commands_for` draws what the ledger accepts now; :func:`any_commands_for`
draws commands of every kind aimed at what exists, many out of turn, which the
rules must refuse; :func:`raw_commands` draws JSON-like dicts with any field
values, for :func:`quality_ledger.commands.parse_obj`.

The public entry of the kit's commands: each concern has a module of its own,
and every name it made public is importable from here too.

* :mod:`~quality_ledger.testing.moves`: the valid moves of each aggregate
  (one module per aggregate), by kind of command;
* :mod:`~quality_ledger.testing.pools`: what those moves share (names, users,
  the actor a policy accepts, days);
* :mod:`~quality_ledger.testing.arbitrary`: any command aimed at what exists,
  many out of turn (:func:`any_commands_for`);
* :mod:`~quality_ledger.testing.edges`: steps at the edges of the rules
  (:func:`edge_steps`, :data:`WINDOW_EDGES`);
* :mod:`~quality_ledger.testing.raw`: JSON-like input (:func:`raw_commands`).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.testing.arbitrary import any_commands_for
from quality_ledger.testing.edges import WINDOW_EDGES, EdgeStep, edge_steps
from quality_ledger.testing.lifecycles import Step

# The table of kinds, as steps._KINDS: tests/integration/test_completeness.py checks it lists every command.
from quality_ledger.testing.moves import _KINDS as _KINDS
from quality_ledger.testing.moves import _moves, _pick_kind
from quality_ledger.testing.moves.campaign import _new_campaign
from quality_ledger.testing.pools import Strategy, _pick
from quality_ledger.testing.raw import raw_commands, texts
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import ORGANISER, _one_in

__all__ = ["WINDOW_EDGES", "EdgeStep", "any_commands_for", "commands_for", "edge_steps", "raw_commands", "texts"]

_CREATING = frozenset({c.PlanCampaign, c.EnlistDepartment, c.PlanActivity, c.PlanInspection, c.NominateCraftsman})
"""Kinds of command that add to a campaign rather than take something further."""


def commands_for(
    state: LedgerState,
    *,
    periods: Strategy[tuple[date, date]] | None = None,
    organiser: str = ORGANISER,
    max_campaigns: int = 1,
    focus: UUID | None = None,
) -> Strategy[Step]:
    """A step the ledger accepts in ``state``: a command and the actor responsible for it.

    Each aggregate offers the steps its lifecycle allows now, with dates
    that keep its rules (tested on or after sampling, objected within the
    window, due after the order, ...). Deep states need long lifecycles, so
    two draws in three take the ``focus`` aggregate further if it can go
    further (a state machine passes the one its last step touched), two in
    three of the others take something further rather than add to a
    campaign, and concluding a campaign is rare. A new campaign (by
    ``organiser``, in one of ``periods``) is offered while ``state`` holds
    fewer than ``max_campaigns``, and whenever nothing else can happen, so
    the strategy is never empty.
    """
    return _next_step(state, periods, organiser, max_campaigns, focus)


@st.composite
def _next_step(
    draw: st.DrawFn,
    state: LedgerState,
    periods: Strategy[tuple[date, date]] | None,
    organiser: str,
    max_campaigns: int,
    focus: UUID | None,
) -> Step:
    focused = _moves(state, focus) if focus is not None else {}
    if focused and not draw(_one_in(3)):
        return draw(_pick(focused[_pick_kind(draw, focused)]))(draw)
    moves = _moves(state)
    if len(state.campaigns) < max_campaigns or not moves:
        moves.setdefault(c.PlanCampaign, []).append(_new_campaign(state, periods, organiser))
    # Concluding ends every lifecycle of a campaign: rarely, unless nothing else is left.
    if c.ConcludeCampaign in moves and len(moves) > 1 and not draw(_one_in(10)):
        del moves[c.ConcludeCampaign]
    # Two times in three, a step of what exists rather than something new: deep states need long lifecycles.
    advancing = [kind for kind in moves if kind not in _CREATING]
    kind = _pick_kind(draw, advancing if advancing and not draw(_one_in(3)) else moves)
    move = draw(_pick(moves[kind]))
    return move(draw)
