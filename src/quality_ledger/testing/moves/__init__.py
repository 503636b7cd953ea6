"""The valid next steps of every aggregate a ledger state holds, by kind of command.

One module per aggregate (:mod:`.campaign`, :mod:`.activity`,
:mod:`.inspection`, :mod:`.commendation`) lists the steps it could take, each
with a maker that draws the command; the domain's transition tables decide
which it may take now, so no lifecycle is written again here.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.testing.moves.activity import _activity_moves
from quality_ledger.testing.moves.campaign import _campaign_moves, _creation_moves
from quality_ledger.testing.moves.commendation import _commendation_moves
from quality_ledger.testing.moves.inspection import _inspection_moves
from quality_ledger.testing.pools import Move, T, _pick
from quality_ledger.testing.state import LedgerState


def _pick_kind(draw: st.DrawFn, available: typing.Collection[type[c.Command]]) -> type[c.Command]:
    """One of the ``available`` kinds of command, uniformly; in :data:`_KINDS`'s
    order, so the draws hypothesis favours (and shrinks to) go deepest."""
    return draw(_pick([kind for kind in _KINDS if kind in available]))


_KINDS: tuple[type[c.Command], ...] = (
    c.TakeSample,
    c.RecordSampleResult,
    c.IssueVerdict,
    c.ObjectToResult,
    c.RecordRetestResult,
    c.OrderRectification,
    c.VerifyRectification,
    c.ImposePenalty,
    c.TransferCase,
    c.CloseInspection,
    c.StartActivity,
    c.ScheduleActivity,
    c.ReportProgress,
    c.CompleteActivity,
    c.PostponeActivity,
    c.CancelActivity,
    c.ReviewNomination,
    c.ConferCommendation,
    c.PubliciseCommendation,
    c.LaunchCampaign,
    c.PlanInspection,
    c.PlanActivity,
    c.NominateCraftsman,
    c.EnlistDepartment,
    c.PlanCampaign,
    c.PublishBulletin,
    c.ConcludeCampaign,
)
"""Every kind of command: lifecycle steps first, the deepest lifecycle (inspections) leading;
then creations; last the campaign's repeatable bulletin and its end, which take nothing deeper
(first among a campaign's steps, hypothesis's favoured draws published bulletin after bulletin)."""


def _moves(state: LedgerState, aggregate_id: UUID | None = None) -> dict[type[c.Command], list[Move]]:
    """Every lifecycle step ``state`` allows now (not a new campaign), by kind of
    command; of one aggregate only, if ``aggregate_id`` is given."""

    def of(views: Mapping[UUID, T]) -> list[T]:
        if aggregate_id is None:
            return list(views.values())
        return [views[aggregate_id]] if aggregate_id in views else []

    campaigns = of(state.campaigns)
    tagged = [
        *(m for campaign in campaigns for m in _campaign_moves(state, campaign)),
        *(m for campaign in campaigns for m in _creation_moves(state, campaign)),
        *(m for a in of(state.activities) for m in _activity_moves(state, state.campaigns[a.campaign_id], a)),
        *(m for inspection in of(state.inspections) for m in _inspection_moves(state, inspection)),
        *(m for commendation in of(state.commendations) for m in _commendation_moves(state, commendation)),
    ]
    moves: dict[type[c.Command], list[Move]] = {}
    for kind, move in tagged:
        moves.setdefault(kind, []).append(move)
    return moves
