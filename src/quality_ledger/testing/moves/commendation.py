"""A commendation's moves: the review of a nomination, conferring it, publicising it."""

from __future__ import annotations

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.transitions import COMMENDATION
from quality_ledger.domain.values import ActivityKind
from quality_ledger.testing.pools import Offer, Tagged, _allowed, _issued_by, _on_or_after, _pick, _words
from quality_ledger.testing.state import LedgerState


def _commendation_moves(state: LedgerState, commendation: CommendationState) -> list[Tagged]:
    return _issued_by(state, _allowed(COMMENDATION, commendation.status, _commendation_offers(state, commendation)))


def _commendation_offers(state: LedgerState, commendation: CommendationState) -> list[Offer]:
    """Every step a commendation could take, whatever its status."""
    campaign = state.campaigns[commendation.campaign_id]
    cid = commendation.id
    ceremonies = [
        a for a in state.activity_ids(campaign.id) if state.activities[a].activity_kind is ActivityKind.AWARD_CEREMONY
    ]

    def review(draw: st.DrawFn) -> c.Command:
        approved = draw(st.booleans())
        return c.ReviewNomination(
            commendation_id=cid,
            approved=approved,
            reason=draw(st.one_of(st.none(), _words()) if approved else _words()),
            reviewed_on=_on_or_after(draw, campaign.starts_on, 30),
        )

    def confer(draw: st.DrawFn) -> c.Command:
        return c.ConferCommendation(
            commendation_id=cid,
            ceremony_id=draw(_pick(ceremonies)),
            conferred_on=_on_or_after(draw, campaign.starts_on, 30),
        )

    def publicise(draw: st.DrawFn) -> c.Command:
        return c.PubliciseCommendation(
            commendation_id=cid,
            outlet=draw(_words()),
            title=draw(_words()),
            published_on=_on_or_after(draw, commendation.conferred_on or campaign.starts_on),
        )

    offers: list[Offer] = [
        ("review", c.ReviewNomination, review, True),
        ("confer", c.ConferCommendation, confer, bool(ceremonies)),
        ("publicise", c.PubliciseCommendation, publicise, True),
    ]
    return offers
