"""The commendation's rules, on the bare aggregate through given/when/then: no
ledger, no store. The ceremony's campaign and kind are passed in, as the
application passes them from the ceremony activity."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from quality_ledger.domain.commendation import Commendation, MediaItem
from quality_ledger.domain.values import ActivityKind
from quality_ledger.errors import IllegalTransition, InvariantViolated
from quality_ledger.testing import gwt

CAMPAIGN = UUID("78ff37a2-4de8-55d7-ae55-0020b8778fbd")
OTHER_CAMPAIGN = UUID(int=2)
CEREMONY = UUID(int=3)

NOMINATED = gwt.event(
    Commendation.Nominated,
    campaign_id=CAMPAIGN,
    person="王師傅",
    employer="西安某廠",
    deeds="thirty years of precise work",
    nominated_by="XA-QTS",
)
APPROVED = gwt.event(Commendation.Approved, reviewed_on=date(2017, 9, 15))
CONFERRED = gwt.event(Commendation.Conferred, ceremony_id=CEREMONY, conferred_on=date(2017, 9, 28))


def test_a_rejection_needs_a_reason() -> None:
    gwt.given(NOMINATED).when(Commendation.review, False, None, date(2017, 9, 15)).then_raises(
        InvariantViolated, rule="rejection-reason"
    )
    gwt.given(NOMINATED).when(Commendation.review, False, "no evidence", date(2017, 9, 15)).then(
        gwt.event(Commendation.Rejected, reason="no evidence")
    )


def test_a_commendation_is_conferred_at_an_award_ceremony_of_its_own_campaign() -> None:
    gwt.given(NOMINATED, APPROVED).when(
        Commendation.confer, CEREMONY, OTHER_CAMPAIGN, ActivityKind.AWARD_CEREMONY, date(2017, 9, 28)
    ).then_raises(InvariantViolated, rule="conferred-at-own-ceremony")
    gwt.given(NOMINATED, APPROVED).when(
        Commendation.confer, CEREMONY, CAMPAIGN, ActivityKind.EXHIBITION, date(2017, 9, 28)
    ).then_raises(InvariantViolated, rule="conferred-at-own-ceremony")
    gwt.given(NOMINATED, APPROVED).when(
        Commendation.confer, CEREMONY, CAMPAIGN, ActivityKind.AWARD_CEREMONY, date(2017, 9, 28)
    ).then(gwt.event(Commendation.Conferred, ceremony_id=CEREMONY))


def test_a_commendation_not_approved_is_not_conferred() -> None:
    gwt.given(NOMINATED).when(
        Commendation.confer, CEREMONY, CAMPAIGN, ActivityKind.AWARD_CEREMONY, date(2017, 9, 28)
    ).then_raises(IllegalTransition)


def test_publicity_is_not_dated_before_the_conferral() -> None:
    early = MediaItem(outlet="西安日報", title="匠心", published_on=date(2017, 9, 27))
    gwt.given(NOMINATED, APPROVED, CONFERRED).when(Commendation.publicise, early).then_raises(
        InvariantViolated, rule="publicity-after-conferral"
    )
