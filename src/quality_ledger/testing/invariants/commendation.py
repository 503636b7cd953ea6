"""The commendation's invariants: who nominates, one commendation per person and
campaign, the reasons and the ceremony its status needs, publicity after conferral."""

from __future__ import annotations

from quality_ledger.commands import natural_key
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.values import ActivityKind, CommendationStatus
from quality_ledger.testing.invariants.base import _blank, expect
from quality_ledger.testing.state import LedgerState

__all__ = ["check_commendation"]


def check_commendation(state: LedgerState, commendation: CommendationState) -> None:
    i = commendation.id
    campaign = state.campaigns[commendation.campaign_id]
    expect(
        commendation.nominated_by in campaign.department_codes(),
        "nominating-department-enlisted",
        i,
        f"nominated by {commendation.nominated_by}, which is not enlisted",
    )
    same_person = [
        other.id
        for other in (state.commendations[c] for c in state.commendation_ids(campaign.id))
        if other.id != i
        and (natural_key(other.person), natural_key(other.employer))
        == (natural_key(commendation.person), natural_key(commendation.employer))
    ]
    expect(not same_person, "commended-once-per-campaign", i, f"the same person as {same_person}")
    status = commendation.status
    if status is CommendationStatus.REJECTED:
        expect(not _blank(commendation.review_reason), "rejection-reason", i, "rejected without a reason")
    if status is CommendationStatus.CONFERRED:
        ceremony = state.activities.get(commendation.ceremony_id) if commendation.ceremony_id else None
        expect(
            ceremony is not None
            and ceremony.activity_kind is ActivityKind.AWARD_CEREMONY
            and ceremony.campaign_id == campaign.id,
            "conferred-at-own-ceremony",
            i,
            f"conferred at {commendation.ceremony_id}",
        )
        expect(commendation.conferred_on is not None, "conferral-dated", i, "conferred without a date")
    else:
        expect(commendation.ceremony_id is None, "confer-once", i, f"{status}, yet has a ceremony")
        expect(not commendation.publicity, "publicity-after-conferral", i, f"{status}, yet publicised")
    for item in commendation.publicity:
        if commendation.conferred_on is not None:
            expect(
                item.published_on >= commendation.conferred_on,
                "publicity-after-conferral",
                i,
                f"{item.title!r} published {item.published_on}, conferred {commendation.conferred_on}",
            )
