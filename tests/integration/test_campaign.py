"""Campaign rules: period, enlistment, launch, conclusion, bulletins."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.values import ActivityKind, CampaignStatus, FocusArea
from quality_ledger.errors import IllegalTransition, InvariantViolated, PermissionDenied
from tests.conftest import FDA, ORGANISER, QTS, event_count, plan_campaign

SEPT_30 = date(2017, 9, 30)


def plan_activity(ledger: Ledger, campaign_id: UUID, title: str = "Quality lecture hall") -> UUID:
    command = c.PlanActivity(
        campaign_id=campaign_id,
        title=title,
        lead_department="XA-QTS",
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EDUCATION,
    )
    return ledger.execute(command, QTS).aggregate_id


def start_activity(ledger: Ledger, activity_id: UUID) -> None:
    ledger.execute(c.StartActivity(activity_id=activity_id, started_on=date(2017, 9, 5)), QTS)


def conclude(campaign_id: UUID, override_reason: str | None = None) -> c.ConcludeCampaign:
    return c.ConcludeCampaign(
        campaign_id=campaign_id,
        concluded_on=SEPT_30,
        summary="Quality Month closed with every department taking part",
        override_reason=override_reason,
    )


def plan_inspection(ledger: Ledger, campaign_id: UUID, reference: str = "XA-2017-Q3-001") -> UUID:
    command = c.PlanInspection(
        campaign_id=campaign_id,
        reference=reference,
        inspecting_department="XA-QTS",
        inspection_kind="market-circulation spot check",
        subject_name="Xi'an Cable Works",
        product_category="wires and cables",
        planned_on=date(2017, 9, 4),
    )
    return ledger.execute(command, QTS).aggregate_id


def sample_and_test(ledger: Ledger, inspection_id: UUID, *, passed: bool) -> None:
    ledger.execute(
        c.TakeSample(
            inspection_id=inspection_id, sample_id="S1", product="BV 2.5mm²", batch="B17", taken_on=date(2017, 9, 5)
        ),
        QTS,
    )
    ledger.execute(
        c.RecordSampleResult(
            inspection_id=inspection_id,
            sample_id="S1",
            passed=passed,
            nonconforming_items=() if passed else ("conductor resistance",),
            tested_on=date(2017, 9, 8),
        ),
        QTS,
    )


def inspection_with_verdict(
    ledger: Ledger, campaign_id: UUID, *, passed: bool = True, reference: str = "XA-2017-Q3-001"
) -> UUID:
    inspection_id = plan_inspection(ledger, campaign_id, reference)
    sample_and_test(ledger, inspection_id, passed=passed)
    ledger.execute(c.IssueVerdict(inspection_id=inspection_id, notified_on=date(2017, 9, 10)), QTS)
    return inspection_id


def bulletin(campaign_id: UUID, *inspection_ids: UUID) -> c.PublishBulletin:
    return c.PublishBulletin(
        campaign_id=campaign_id,
        title="Q3 product-quality supervision spot-check results",
        published_on=date(2017, 9, 25),
        inspection_ids=inspection_ids,
    )


# Period -----------------------------------------------------------------------


def test_a_campaign_that_ends_before_it_starts_is_refused(ledger: Ledger) -> None:
    # given
    command = c.PlanCampaign(
        title="Backwards month", theme="质量", organiser="XA-QPC", starts_on=date(2017, 9, 30), ends_on=date(2017, 9, 1)
    )
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, ORGANISER)
    # then
    assert refused.value.rule == "campaign-period"
    assert event_count(ledger) == 0


def test_a_campaign_may_end_on_the_day_it_starts(ledger: Ledger) -> None:
    # given
    command = c.PlanCampaign(
        title="Press day", theme="质量", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 1)
    )
    # when
    receipt = ledger.execute(command, ORGANISER)
    # then
    assert receipt.events == ("Campaign.Planned",)
    assert ledger.get(receipt.aggregate_id).status is CampaignStatus.PLANNED


# Enlistment -------------------------------------------------------------------


def test_enlisted_departments_are_listed_on_the_campaign(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    campaign = ledger.get(campaign_id)
    # then
    assert campaign.department_codes() == {"XA-QTS", "XA-FDA"}
    assert [e.name for e in ledger.history(campaign_id)].count("Campaign.DepartmentEnlisted") == 2


def test_a_department_is_enlisted_only_once(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(
            c.EnlistDepartment(campaign_id=campaign_id, code="XA-QTS", name_zh="市质监局", name_en="QTS again"),
            ORGANISER,
        )
    # then
    assert refused.value.rule == "department-enlisted-once"
    assert event_count(ledger) == before


# Launch -----------------------------------------------------------------------


def test_launching_records_the_launch_date(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    receipt = ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    # then
    assert receipt.events == ("Campaign.Launched",)
    campaign = ledger.get(campaign_id)
    assert campaign.status is CampaignStatus.LAUNCHED
    assert campaign.launched_on == date(2017, 9, 1)


def test_a_campaign_launches_only_once(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 2)), ORGANISER)
    # then
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).launched_on == date(2017, 9, 1)


def test_a_campaign_without_departments_cannot_launch(ledger: Ledger) -> None:
    # given
    campaign_id = ledger.execute(
        c.PlanCampaign(title="Empty", theme="质量", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=SEPT_30),
        ORGANISER,
    ).aggregate_id
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    # then
    assert refused.value.rule == "launch-needs-departments"
    assert ledger.get(campaign_id).status is CampaignStatus.PLANNED


# Conclusion -------------------------------------------------------------------


def test_a_campaign_with_an_unfinished_activity_cannot_conclude(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    start_activity(ledger, plan_activity(ledger, campaign_id))
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(conclude(campaign_id), ORGANISER)
    # then
    assert refused.value.rule == "conclude-when-activities-done"
    assert event_count(ledger) == before


def test_a_campaign_concludes_when_every_activity_is_completed_or_cancelled(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    done = plan_activity(ledger, campaign_id, "Quality lecture hall")
    start_activity(ledger, done)
    ledger.execute(c.CompleteActivity(activity_id=done, completed_on=date(2017, 9, 20), outcome="3 lectures"), QTS)
    dropped = plan_activity(ledger, campaign_id, "Brand promotion")
    ledger.execute(c.CancelActivity(activity_id=dropped, reason="merged into the lecture hall"), QTS)
    # when
    receipt = ledger.execute(conclude(campaign_id), ORGANISER)
    # then
    assert receipt.events == ("Campaign.Concluded",)
    campaign = ledger.get(campaign_id)
    assert campaign.status is CampaignStatus.CONCLUDED
    assert campaign.concluded_on == SEPT_30
    assert campaign.override_reason is None


def test_an_override_reason_concludes_despite_unfinished_activities_and_is_recorded(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given
    plan_activity(ledger, campaign_id)
    reason = "lecture hall continues into October under the provincial bureau"
    # when
    ledger.execute(conclude(campaign_id, override_reason=reason), ORGANISER)
    # then
    assert ledger.get(campaign_id).override_reason == reason
    concluded = ledger.history(campaign_id)[-1]
    assert concluded.name == "Campaign.Concluded"
    assert concluded.payload["override_reason"] == reason


def test_a_blank_override_reason_does_not_excuse_unfinished_activities(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    plan_activity(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(conclude(campaign_id, override_reason="   "), ORGANISER)
    # then
    assert refused.value.rule == "conclude-when-activities-done"
    assert event_count(ledger) == before


def test_a_campaign_that_never_launched_cannot_conclude(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    with pytest.raises(IllegalTransition):
        ledger.execute(conclude(campaign_id), ORGANISER)
    # then
    assert ledger.get(campaign_id).status is CampaignStatus.PLANNED


def test_no_activity_is_planned_in_a_concluded_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    ledger.execute(conclude(campaign_id), ORGANISER)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        plan_activity(ledger, campaign_id, "Late lecture")
    # then
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).activities == 0


def test_no_inspection_is_planned_in_a_concluded_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    ledger.execute(conclude(campaign_id), ORGANISER)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        plan_inspection(ledger, campaign_id)
    # then
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).inspections == 0


# Bulletins --------------------------------------------------------------------


def test_a_bulletin_lists_inspections_with_a_final_verdict(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    conforming = inspection_with_verdict(ledger, campaign_id, passed=True, reference="XA-2017-Q3-001")
    failing = inspection_with_verdict(ledger, campaign_id, passed=False, reference="XA-2017-Q3-002")
    # when
    receipt = ledger.execute(bulletin(campaign_id, conforming, failing), ORGANISER)
    # then
    assert receipt.events == ("Campaign.BulletinPublished",)
    (published,) = ledger.get(campaign_id).bulletins
    assert published.inspection_ids == (conforming, failing)
    assert published.published_on == date(2017, 9, 25)


def test_a_bulletin_refuses_an_inspection_without_a_verdict(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    inspection_id = plan_inspection(ledger, campaign_id)
    sample_and_test(ledger, inspection_id, passed=True)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(bulletin(campaign_id, inspection_id), ORGANISER)
    # then
    assert refused.value.rule == "bulletin-final-verdicts"
    assert event_count(ledger) == before


def test_a_bulletin_refuses_an_inspection_awaiting_a_retest(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    inspection_id = inspection_with_verdict(ledger, campaign_id, passed=False)
    ledger.execute(c.ObjectToResult(inspection_id=inspection_id, sample_id="S1", lodged_on=date(2017, 9, 12)), QTS)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(bulletin(campaign_id, inspection_id), ORGANISER)
    # then
    assert refused.value.rule == "bulletin-final-verdicts"
    assert event_count(ledger) == before


def test_a_bulletin_accepts_an_inspection_once_its_retest_is_recorded(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    inspection_id = inspection_with_verdict(ledger, campaign_id, passed=False)
    ledger.execute(c.ObjectToResult(inspection_id=inspection_id, sample_id="S1", lodged_on=date(2017, 9, 12)), QTS)
    ledger.execute(
        c.RecordRetestResult(inspection_id=inspection_id, sample_id="S1", passed=True, tested_on=date(2017, 9, 18)),
        QTS,
    )
    # when
    ledger.execute(bulletin(campaign_id, inspection_id), ORGANISER)
    # then
    assert ledger.get(campaign_id).bulletins[0].inspection_ids == (inspection_id,)


def test_a_bulletin_refuses_an_inspection_of_another_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    other_campaign = plan_campaign(ledger, title="Xi'an 2017 Food Safety Week")
    foreign = inspection_with_verdict(ledger, other_campaign)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(bulletin(campaign_id, foreign), ORGANISER)
    # then
    assert refused.value.rule == "bulletin-own-inspections"
    assert event_count(ledger) == before


def test_a_bulletin_by_a_department_that_did_not_inspect_everything_needs_the_organiser(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given
    inspection_id = inspection_with_verdict(ledger, campaign_id)
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(bulletin(campaign_id, inspection_id), FDA)
    # then
    assert ledger.get(campaign_id).bulletins == ()
