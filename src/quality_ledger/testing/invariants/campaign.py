"""The campaign's invariants: its period, departments, listings, launch, conclusion and bulletins."""

from __future__ import annotations

from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.transitions import FINISHED_ACTIVITY
from quality_ledger.domain.values import CampaignStatus
from quality_ledger.testing.invariants.base import _blank, _unique, expect
from quality_ledger.testing.state import LedgerState

__all__ = ["check_campaign"]


def check_campaign(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    expect(campaign.starts_on <= campaign.ends_on, "campaign-period", i, "ends before it starts")
    codes = [d.code for d in campaign.departments]
    expect(not _unique(codes), "department-enlisted-once", i, f"enlisted twice: {_unique(codes)}")
    for kind, ids, count in (
        ("activities", state.activity_ids(i), campaign.activities),
        ("inspections", state.inspection_ids(i), campaign.inspections),
        ("commendations", state.commendation_ids(i), campaign.commendations),
    ):
        # the state lists the children the campaign's stream names; the campaign counts them
        expect(len(ids) == count, "children-counted", i, f"counts {count} {kind}, its stream lists {len(ids)}")
    if campaign.status is CampaignStatus.PLANNED:
        expect(campaign.launched_on is None, "launch-once", i, "planned, yet has a launch date")
    else:
        expect(campaign.launched_on is not None, "launch-once", i, f"{campaign.status} without a launch date")
        expect(campaign.departments, "launch-needs-departments", i, "launched with no department enlisted")
    if campaign.launched_on is not None:
        expect(campaign.launched_on >= campaign.starts_on, "launch-in-period", i, "launched before it starts")
    _check_conclusion(state, campaign)
    _check_bulletins(state, campaign)


def _check_conclusion(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    if campaign.status is not CampaignStatus.CONCLUDED:
        expect(campaign.concluded_on is None, "conclude-once", i, f"{campaign.status}, yet has a conclusion date")
        return
    expect(campaign.concluded_on is not None, "conclude-once", i, "concluded without a date")
    expect(not _blank(campaign.summary), "conclusion-summary", i, "concluded without a summary")
    if campaign.concluded_on is not None and campaign.launched_on is not None:
        expect(campaign.concluded_on >= campaign.launched_on, "conclude-after-launch", i, "concluded before its launch")
    # Completed and cancelled are final, so an activity unfinished now was unfinished at the conclusion.
    unfinished = [a for a in state.activity_ids(i) if state.activities[a].status not in FINISHED_ACTIVITY]
    expect(
        not unfinished or not _blank(campaign.override_reason),
        "conclude-when-activities-done",
        i,
        f"concluded without an override while {len(unfinished)} activities are unfinished",
    )


def _check_bulletins(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    ids = [b.bulletin_id for b in campaign.bulletins]
    expect(not _unique(ids), "bulletin-published-once", i, f"published twice: {_unique(ids)}")
    if campaign.bulletins:
        expect(campaign.status is not CampaignStatus.PLANNED, "bulletin-after-launch", i, "published before the launch")
    for bulletin in campaign.bulletins:
        expect(bulletin.inspection_ids, "bulletin-not-empty", i, f"bulletin {bulletin.title!r} lists nothing")
        for inspection_id in bulletin.inspection_ids:
            expect(
                inspection_id in state.inspection_ids(i),
                "bulletin-own-inspections",
                i,
                f"bulletin {bulletin.title!r} lists inspection {inspection_id} of another campaign",
            )
            inspection = state.inspections.get(inspection_id)
            expect(
                inspection is not None and inspection.verdict is not None,
                "bulletin-final-verdicts",
                i,
                f"bulletin {bulletin.title!r} lists inspection {inspection_id}, which has no verdict",
            )
