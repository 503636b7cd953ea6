"""A campaign's children come from its own stream, not from its state.

The state only counts activities, inspections and commendations (issue 14);
the rules that need their ids (concluding, a bulletin, a second nomination)
find them in the campaign's ``*Added`` events or on the children themselves,
on every engine, whether the command runs alone or later in a batch whose
earlier commands the store does not have yet.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.values import ActivityKind, FocusArea, SubjectKind
from quality_ledger.errors import BatchRefused, InvariantViolated
from tests.conftest import ORGANISER, QTS

SEPT_30 = date(2017, 9, 30)


def activity(campaign_id: UUID, title: str) -> c.PlanActivity:
    return c.PlanActivity(
        campaign_id=campaign_id,
        title=title,
        lead_department="XA-QTS",
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EDUCATION,
    )


def conclude(campaign_id: UUID) -> c.ConcludeCampaign:
    return c.ConcludeCampaign(campaign_id=campaign_id, concluded_on=SEPT_30, summary="done", override_reason=None)


def test_concluding_counts_the_activities_the_stream_lists(ledger: Ledger, campaign_id: UUID) -> None:
    # given two activities: one cancelled, one still planned
    first, second = activity(campaign_id, "lecture"), activity(campaign_id, "open day")
    ledger.execute(first, QTS)
    ledger.execute(second, QTS)
    ledger.execute(c.CancelActivity(activity_id=first.new_id(), reason="rain"), QTS)
    before = ledger.position()
    # when the campaign concludes without an override
    with pytest.raises(InvariantViolated, match="1 activities are neither completed nor cancelled") as refused:
        ledger.execute(conclude(campaign_id), ORGANISER)
    # then it is refused for the one unfinished activity, and nothing is recorded
    assert refused.value.rule == "conclude-when-activities-done"
    assert ledger.position() == before
    state = ledger.get(campaign_id)
    assert isinstance(state, CampaignState)
    assert (state.activities, state.inspections, state.commendations) == (2, 0, 0)


def test_a_batch_concluding_after_an_activity_it_planned_sees_that_activity(ledger: Ledger, campaign_id: UUID) -> None:
    # given a batch that plans an activity and concludes in the same chunk (the store has neither yet)
    before = ledger.position()
    pairs = [(activity(campaign_id, "late lecture"), QTS), (conclude(campaign_id), ORGANISER)]
    # when it runs
    with pytest.raises(BatchRefused) as refused:
        ledger.execute_many(pairs)
    # then the conclusion is refused for the activity planned earlier in the chunk, and nothing is recorded
    assert isinstance(refused.value.cause, InvariantViolated)
    assert refused.value.cause.rule == "conclude-when-activities-done"
    assert ledger.position() == before


def test_a_batch_sees_activities_of_earlier_chunks_and_of_its_own(ledger: Ledger, campaign_id: UUID) -> None:
    # given a batch of one-command chunks: an activity, another, then the conclusion
    pairs = [
        (activity(campaign_id, "one"), QTS),
        (activity(campaign_id, "two"), QTS),
        (conclude(campaign_id), ORGANISER),
    ]
    # when it runs
    with pytest.raises(BatchRefused, match="2 activities are neither completed nor cancelled"):
        ledger.execute_many(pairs, chunk_size=1)
    # then the two activities were recorded (their chunks), the conclusion not
    state = ledger.get(campaign_id)
    assert isinstance(state, CampaignState)
    assert (state.activities, state.concluded_on) == (2, None)


def test_a_bulletin_listing_an_inspection_that_does_not_exist_is_refused(ledger: Ledger, campaign_id: UUID) -> None:
    # given an id no inspection has
    before = ledger.position()
    command = c.PublishBulletin(campaign_id=campaign_id, title="Q3", published_on=SEPT_30, inspection_ids=(uuid4(),))
    # when the organiser publishes a bulletin listing it
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, ORGANISER)
    # then it is refused as not the campaign's, and nothing is recorded
    assert refused.value.rule == "bulletin-own-inspections"
    assert ledger.position() == before


def test_the_same_craftsman_is_nominated_once_per_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given a nomination
    nomination = c.NominateCraftsman(
        campaign_id=campaign_id, person="王师傅", employer="西安电缆厂", deeds="d", nominating_department="XA-QTS"
    )
    ledger.execute(nomination, QTS)
    before = ledger.position()
    # when the same person is nominated again
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(nomination.model_copy(update={"deeds": "again"}), QTS)
    # then it is refused by the campaign's rule, and nothing is recorded
    assert refused.value.rule == "commended-once-per-campaign"
    assert ledger.position() == before


def test_the_figures_from_events_list_every_child(ledger: Ledger, campaign_id: UUID) -> None:
    # given an activity and an inspection under it
    plan = activity(campaign_id, "lecture")
    ledger.execute(plan, QTS)
    ledger.execute(
        c.PlanInspection(
            campaign_id=campaign_id,
            activity_id=plan.new_id(),
            reference="XA-2017-001",
            inspecting_department="XA-QTS",
            inspection_kind="spot check",
            subject_name="Factory",
            subject_kind=SubjectKind.ENTERPRISE,
            product_category="cable",
            planned_on=date(2017, 9, 5),
        ),
        QTS,
    )
    # when the figures are computed from the aggregates (the views' reference)
    figures = ledger.campaign_status_from_events(campaign_id)
    # then they count both, as the views do
    assert figures == ledger.campaign_status(campaign_id)
    assert (sum(figures.activities_by_state.values()), sum(figures.inspections_by_verdict.values())) == (1, 1)
