"""Inspection rules: the supervision spot check from planning to closing.

Planned in a campaign by an enlisted department; samples taken and tested;
a verdict once every sample has a result; objections within 15 days and
re-tests that replace the original result; rectification, follow-up,
penalty or transfer; closing only where the case is settled. Every refusal
records nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.domain.values import FocusArea, InspectionStatus, SubjectKind, Verdict
from quality_ledger.errors import IllegalTransition, InvariantViolated, NotFound, PermissionDenied
from tests.conftest import FDA, ORGANISER, OUTSIDER, QTS, event_count, plan_campaign

PLANNED_ON = date(2017, 9, 4)
TAKEN_ON = date(2017, 9, 5)
TESTED_ON = date(2017, 9, 8)
NOTIFIED_ON = date(2017, 9, 11)
ORDERED_ON = date(2017, 9, 20)
DUE_ON = date(2017, 10, 20)
ITEMS = ("conductor resistance", "絕緣厚度")


# Helpers: one command each, with the reference case's defaults ---------------------


def plan_inspection(
    ledger: Ledger,
    campaign_id: UUID,
    *,
    reference: str = "QTS-2017-電線-001",
    department: str = "XA-QTS",
    activity_id: UUID | None = None,
    actor: Actor = QTS,
) -> UUID:
    command = c.PlanInspection(
        campaign_id=campaign_id,
        activity_id=activity_id,
        reference=reference,
        inspecting_department=department,
        inspection_kind="special rectification 監(jiān)督抽查",
        subject_name="西安某電線電纜有限公司",
        subject_kind=SubjectKind.ENTERPRISE,
        product_category="wires and cables",
        planned_on=PLANNED_ON,
    )
    return ledger.execute(command, actor).aggregate_id


def take_sample(
    ledger: Ledger, inspection_id: UUID, sample_id: str = "S1", *, taken_on: date = TAKEN_ON, actor: Actor = QTS
) -> None:
    command = c.TakeSample(
        inspection_id=inspection_id,
        sample_id=sample_id,
        product="BV 2.5mm² cable",
        batch="20170815-A",
        taken_on=taken_on,
    )
    ledger.execute(command, actor)


def record_result(
    ledger: Ledger,
    inspection_id: UUID,
    sample_id: str = "S1",
    *,
    passed: bool,
    items: tuple[str, ...] | None = None,
    tested_on: date = TESTED_ON,
    actor: Actor = QTS,
) -> None:
    command = c.RecordSampleResult(
        inspection_id=inspection_id,
        sample_id=sample_id,
        passed=passed,
        nonconforming_items=items if items is not None else (() if passed else ITEMS),
        tested_on=tested_on,
    )
    ledger.execute(command, actor)


def issue_verdict(ledger: Ledger, inspection_id: UUID, notified_on: date = NOTIFIED_ON) -> None:
    ledger.execute(c.IssueVerdict(inspection_id=inspection_id, notified_on=notified_on), QTS)


def object_to_result(
    ledger: Ledger, inspection_id: UUID, sample_id: str = "S1", *, lodged_on: date = NOTIFIED_ON + timedelta(days=3)
) -> None:
    ledger.execute(c.ObjectToResult(inspection_id=inspection_id, sample_id=sample_id, lodged_on=lodged_on), QTS)


def record_retest(
    ledger: Ledger,
    inspection_id: UUID,
    sample_id: str = "S1",
    *,
    passed: bool,
    tested_on: date = NOTIFIED_ON + timedelta(days=6),
) -> None:
    command = c.RecordRetestResult(
        inspection_id=inspection_id,
        sample_id=sample_id,
        passed=passed,
        nonconforming_items=() if passed else ITEMS[:1],
        tested_on=tested_on,
    )
    ledger.execute(command, QTS)


def order_rectification(
    ledger: Ledger, inspection_id: UUID, *, ordered_on: date = ORDERED_ON, due_on: date = DUE_ON
) -> None:
    command = c.OrderRectification(
        inspection_id=inspection_id, ordered_on=ordered_on, due_on=due_on, requirements="更換不合格批次並整改生產工藝"
    )
    ledger.execute(command, QTS)


def verify_rectification(ledger: Ledger, inspection_id: UUID, *, passed: bool) -> None:
    command = c.VerifyRectification(
        inspection_id=inspection_id, verified_on=DUE_ON, passed=passed, notes="復查 follow-up on site"
    )
    ledger.execute(command, QTS)


def impose_penalty(ledger: Ledger, inspection_id: UUID) -> None:
    command = c.ImposePenalty(
        inspection_id=inspection_id, amount=Decimal("50000.00"), reason="生產銷售不合格產品", decided_on=DUE_ON
    )
    ledger.execute(command, QTS)


def transfer_case(ledger: Ledger, inspection_id: UUID) -> None:
    command = c.TransferCase(inspection_id=inspection_id, authority="市公安局", transferred_on=ORDERED_ON)
    ledger.execute(command, QTS)


def close_inspection(ledger: Ledger, inspection_id: UUID) -> None:
    ledger.execute(c.CloseInspection(inspection_id=inspection_id, closed_on=date(2017, 10, 25)), QTS)


def inspection(ledger: Ledger, inspection_id: UUID) -> InspectionState:
    state = ledger.get(inspection_id)
    assert isinstance(state, InspectionState)
    return state


def event_names(ledger: Ledger, aggregate_id: UUID) -> list[str]:
    return [e.name for e in ledger.history(aggregate_id)]


def last_event(ledger: Ledger, aggregate_id: UUID) -> str:
    return event_names(ledger, aggregate_id)[-1]


# Fixtures: inspections at the points of the lifecycle the rules speak about ----------


@pytest.fixture
def inspection_id(ledger: Ledger, campaign_id: UUID) -> UUID:
    """Planned by XA-QTS, no sample yet."""
    return plan_inspection(ledger, campaign_id)


@pytest.fixture
def sampled(ledger: Ledger, inspection_id: UUID) -> UUID:
    """Sample S1 taken, not yet tested."""
    take_sample(ledger, inspection_id)
    return inspection_id


@pytest.fixture
def nonconforming(ledger: Ledger, sampled: UUID) -> UUID:
    """S1 failed; nonconforming verdict notified on NOTIFIED_ON."""
    record_result(ledger, sampled, passed=False)
    issue_verdict(ledger, sampled)
    return sampled


@pytest.fixture
def conforming(ledger: Ledger, sampled: UUID) -> UUID:
    """S1 passed; conforming verdict notified on NOTIFIED_ON."""
    record_result(ledger, sampled, passed=True)
    issue_verdict(ledger, sampled)
    return sampled


@pytest.fixture
def rectification_ordered(ledger: Ledger, nonconforming: UUID) -> UUID:
    order_rectification(ledger, nonconforming)
    return nonconforming


# Planning -------------------------------------------------------------------------


def test_planning_an_inspection_records_it_in_its_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    command = c.PlanInspection(
        campaign_id=campaign_id,
        reference="QTS-2017-電線-001",
        inspecting_department="XA-QTS",
        inspection_kind="special rectification",
        subject_name="西安某電線電纜有限公司",
        product_category="wires and cables",
        planned_on=PLANNED_ON,
    )

    # when
    receipt = ledger.execute(command, QTS)

    # then
    assert receipt.events == ("Inspection.Planned", "Campaign.InspectionAdded")
    assert event_names(ledger, receipt.aggregate_id) == ["Inspection.Planned"]
    assert last_event(ledger, campaign_id) == "Campaign.InspectionAdded"
    state = inspection(ledger, receipt.aggregate_id)
    assert state.status is InspectionStatus.PLANNED
    assert state.campaign_id == campaign_id
    assert state.inspecting_department == "XA-QTS"
    assert ledger.history(campaign_id)[-1].payload == {"inspection_id": str(receipt.aggregate_id)}


def test_an_inspection_needs_an_existing_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(NotFound):
        plan_inspection(ledger, uuid4())

    # then
    assert event_count(ledger) == before


def test_an_inspection_may_belong_to_an_activity_of_its_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="Special rectification of key consumer goods",
            lead_department="XA-QTS",
            focus_area=FocusArea.LIVELIHOOD,
        ),
        QTS,
    ).aggregate_id

    # when
    inspection_id = plan_inspection(ledger, campaign_id, activity_id=activity_id)

    # then
    assert inspection(ledger, inspection_id).activity_id == activity_id
    assert event_names(ledger, inspection_id) == ["Inspection.Planned"]


def test_an_inspection_cannot_belong_to_an_activity_of_another_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    other_campaign = plan_campaign(ledger, title="Xi'an 2018 Quality Month")
    other_activity = ledger.execute(
        c.PlanActivity(
            campaign_id=other_campaign,
            title="Seed quality spot checks",
            lead_department="XA-QTS",
            focus_area=FocusArea.LIVELIHOOD,
        ),
        QTS,
    ).aggregate_id
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        plan_inspection(ledger, campaign_id, activity_id=other_activity)

    # then
    assert refused.value.rule == "inspection-activity-in-campaign"
    assert event_count(ledger) == before


def test_an_inspection_cannot_belong_to_an_unknown_activity(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(NotFound):
        plan_inspection(ledger, campaign_id, activity_id=uuid4())

    # then
    assert event_count(ledger) == before


def test_the_inspecting_department_must_be_enlisted_in_the_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given: XA-TOU is not enlisted, though the organiser may plan on its behalf
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        plan_inspection(ledger, campaign_id, department="XA-TOU", actor=ORGANISER)

    # then
    assert refused.value.rule == "inspecting-department-enlisted"
    assert event_count(ledger) == before


# Samples and results ----------------------------------------------------------------


def test_taking_a_sample_starts_sampling_and_records_who_took_it(ledger: Ledger, inspection_id: UUID) -> None:
    # given: a planned inspection

    # when
    take_sample(ledger, inspection_id, "S1")

    # then
    history = ledger.history(inspection_id)
    assert [e.name for e in history] == ["Inspection.Planned", "Inspection.SampleTaken"]
    assert history[-1].payload["sample_id"] == "S1"
    assert history[-1].meta is not None
    assert (history[-1].meta.user, history[-1].meta.department) == (QTS.user, QTS.department)
    assert history[-1].meta.command == "TakeSample"
    state = inspection(ledger, inspection_id)
    assert state.status is InspectionStatus.SAMPLING
    assert [s.sample_id for s in state.samples] == ["S1"]


def test_a_sample_id_is_taken_only_once(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        take_sample(ledger, sampled, "S1")

    # then
    assert refused.value.rule == "sample-id-unique"
    assert event_count(ledger) == before


def test_a_result_is_recorded_only_for_a_sample_taken(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_result(ledger, sampled, "S2", passed=True)

    # then
    assert refused.value.rule == "results-for-taken-samples"
    assert event_count(ledger) == before


def test_a_failed_result_is_recorded_with_its_nonconforming_items(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 taken

    # when
    record_result(ledger, sampled, passed=False, items=ITEMS)

    # then
    assert last_event(ledger, sampled) == "Inspection.SampleResultRecorded"
    result = inspection(ledger, sampled).samples[0].result
    assert result is not None
    assert (result.passed, result.nonconforming_items, result.retest) == (False, ITEMS, False)


def test_a_result_is_recorded_once_per_sample(ledger: Ledger, sampled: UUID) -> None:
    # given
    record_result(ledger, sampled, passed=False)
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_result(ledger, sampled, passed=True)

    # then
    assert refused.value.rule == "result-once"
    assert event_count(ledger) == before


def test_a_failed_result_must_name_its_nonconforming_items(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_result(ledger, sampled, passed=False, items=())

    # then
    assert refused.value.rule == "failure-names-items"
    assert event_count(ledger) == before


def test_a_passing_result_names_no_nonconforming_items(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_result(ledger, sampled, passed=True, items=ITEMS)

    # then
    assert refused.value.rule == "failure-names-items"
    assert event_count(ledger) == before


# Verdict ----------------------------------------------------------------------------


def test_a_verdict_waits_until_every_sample_has_a_result(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 tested, S2 not
    record_result(ledger, sampled, passed=True)
    take_sample(ledger, sampled, "S2")
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        issue_verdict(ledger, sampled)

    # then
    assert refused.value.rule == "verdict-after-all-results"
    assert event_count(ledger) == before


def test_a_verdict_needs_samples(ledger: Ledger, inspection_id: UUID) -> None:
    # given: planned, nothing sampled
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        issue_verdict(ledger, inspection_id)

    # then
    assert event_count(ledger) == before


def test_a_verdict_is_nonconforming_when_a_sample_failed(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 passed, S2 failed
    take_sample(ledger, sampled, "S2")
    record_result(ledger, sampled, "S1", passed=True)
    record_result(ledger, sampled, "S2", passed=False)

    # when
    issue_verdict(ledger, sampled)

    # then
    assert last_event(ledger, sampled) == "Inspection.VerdictIssued"
    assert ledger.history(sampled)[-1].payload["verdict"] == "nonconforming"
    state = inspection(ledger, sampled)
    assert (state.status, state.verdict, state.notified_on) == (
        InspectionStatus.VERDICT_ISSUED,
        Verdict.NONCONFORMING,
        NOTIFIED_ON,
    )


def test_a_verdict_is_conforming_when_every_sample_passed(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 and S2 passed
    take_sample(ledger, sampled, "S2")
    record_result(ledger, sampled, "S1", passed=True)
    record_result(ledger, sampled, "S2", passed=True)

    # when
    issue_verdict(ledger, sampled)

    # then
    assert ledger.history(sampled)[-1].payload["verdict"] == "conforming"
    assert inspection(ledger, sampled).verdict is Verdict.CONFORMING


def test_no_sample_is_taken_after_the_verdict(ledger: Ledger, conforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        take_sample(ledger, conforming, "S2")

    # then
    assert event_count(ledger) == before


# Objections -------------------------------------------------------------------------


def test_an_objection_to_a_failed_result_is_recorded(ledger: Ledger, nonconforming: UUID) -> None:
    # given: S1 failed, verdict notified

    # when
    object_to_result(ledger, nonconforming, "S1", lodged_on=NOTIFIED_ON + timedelta(days=2))

    # then
    assert last_event(ledger, nonconforming) == "Inspection.ResultObjected"
    state = inspection(ledger, nonconforming)
    assert state.samples[0].objected_on == NOTIFIED_ON + timedelta(days=2)
    assert state.awaiting_retest


def test_only_a_failed_result_can_be_objected_to(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 passed, S2 failed
    take_sample(ledger, sampled, "S2")
    record_result(ledger, sampled, "S1", passed=True)
    record_result(ledger, sampled, "S2", passed=False)
    issue_verdict(ledger, sampled)
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        object_to_result(ledger, sampled, "S1")

    # then
    assert refused.value.rule == "objection-to-failure"
    assert event_count(ledger) == before


def test_an_objection_on_the_fifteenth_day_after_notification_is_accepted(ledger: Ledger, nonconforming: UUID) -> None:
    # given: notified on NOTIFIED_ON

    # when
    object_to_result(ledger, nonconforming, lodged_on=NOTIFIED_ON + timedelta(days=15))

    # then
    assert last_event(ledger, nonconforming) == "Inspection.ResultObjected"


def test_an_objection_on_the_sixteenth_day_after_notification_is_refused(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        object_to_result(ledger, nonconforming, lodged_on=NOTIFIED_ON + timedelta(days=16))

    # then
    assert refused.value.rule == "objection-within-15-days"
    assert event_count(ledger) == before


def test_an_objection_before_the_notification_is_refused(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        object_to_result(ledger, nonconforming, lodged_on=NOTIFIED_ON - timedelta(days=1))

    # then
    assert refused.value.rule == "objection-within-15-days"
    assert event_count(ledger) == before


def test_an_objection_in_the_last_days_of_the_calendar_is_judged_by_the_window(ledger: Ledger, sampled: UUID) -> None:
    # given: a verdict notified six days before the calendar ends
    notified_on = date.max - timedelta(days=6)
    record_result(ledger, sampled, passed=False)
    issue_verdict(ledger, sampled, notified_on=notified_on)

    # when: the objection is lodged on day 6, well inside the window
    object_to_result(ledger, sampled, lodged_on=date.max)

    # then
    assert last_event(ledger, sampled) == "Inspection.ResultObjected"


def test_a_sample_is_objected_to_only_once(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming, lodged_on=NOTIFIED_ON + timedelta(days=1))
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        object_to_result(ledger, nonconforming, lodged_on=NOTIFIED_ON + timedelta(days=2))

    # then
    assert refused.value.rule == "objection-once-per-sample"
    assert event_count(ledger) == before


def test_no_objection_before_a_verdict(ledger: Ledger, sampled: UUID) -> None:
    # given: S1 failed, no verdict yet
    record_result(ledger, sampled, passed=False)
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        object_to_result(ledger, sampled)

    # then
    assert event_count(ledger) == before


# Re-tests ---------------------------------------------------------------------------


def test_a_retest_needs_a_pending_objection(ledger: Ledger, nonconforming: UUID) -> None:
    # given: S1 failed, not objected to
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_retest(ledger, nonconforming, passed=True)

    # then
    assert refused.value.rule == "retest-after-objection"
    assert event_count(ledger) == before


def test_a_retest_result_replaces_the_original_which_is_kept(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming)

    # when
    record_retest(ledger, nonconforming, passed=False)

    # then
    assert last_event(ledger, nonconforming) == "Inspection.RetestResultRecorded"
    sample = inspection(ledger, nonconforming).samples[0]
    assert sample.result is not None
    assert sample.original_result is not None
    assert (sample.result.retest, sample.result.nonconforming_items) == (True, ITEMS[:1])
    assert (sample.original_result.retest, sample.original_result.nonconforming_items) == (False, ITEMS)


def test_a_passing_retest_of_the_only_failed_sample_makes_the_verdict_conforming(
    ledger: Ledger, nonconforming: UUID
) -> None:
    # given
    object_to_result(ledger, nonconforming)

    # when
    record_retest(ledger, nonconforming, passed=True)

    # then
    state = inspection(ledger, nonconforming)
    assert state.verdict is Verdict.CONFORMING
    assert state.has_final_verdict


def test_a_failing_retest_keeps_the_verdict_nonconforming(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming)

    # when
    record_retest(ledger, nonconforming, passed=False)

    # then
    state = inspection(ledger, nonconforming)
    assert state.verdict is Verdict.NONCONFORMING
    assert state.has_final_verdict


def test_a_passing_retest_leaves_the_verdict_nonconforming_while_another_sample_failed(
    ledger: Ledger, sampled: UUID
) -> None:
    # given: S1 and S2 failed; S1 objected to
    take_sample(ledger, sampled, "S2")
    record_result(ledger, sampled, "S1", passed=False)
    record_result(ledger, sampled, "S2", passed=False)
    issue_verdict(ledger, sampled)
    object_to_result(ledger, sampled, "S1")

    # when
    record_retest(ledger, sampled, "S1", passed=True)

    # then
    assert inspection(ledger, sampled).verdict is Verdict.NONCONFORMING


def test_a_sample_is_retested_only_once(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming)
    record_retest(ledger, nonconforming, passed=False)
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_retest(ledger, nonconforming, passed=True)

    # then
    assert refused.value.rule == "retest-after-objection"
    assert event_count(ledger) == before


# Rectification, penalty, transfer -------------------------------------------------


def test_a_rectification_is_ordered_after_a_nonconforming_verdict(ledger: Ledger, nonconforming: UUID) -> None:
    # given: a final nonconforming verdict

    # when: due the day after the order, the earliest allowed
    order_rectification(ledger, nonconforming, ordered_on=ORDERED_ON, due_on=ORDERED_ON + timedelta(days=1))

    # then
    assert last_event(ledger, nonconforming) == "Inspection.RectificationOrdered"
    state = inspection(ledger, nonconforming)
    assert state.status is InspectionStatus.RECTIFICATION_ORDERED
    assert state.rectification is not None
    assert state.rectification.due_on == ORDERED_ON + timedelta(days=1)


def test_a_rectification_is_refused_after_a_conforming_verdict(ledger: Ledger, conforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        order_rectification(ledger, conforming)

    # then
    assert refused.value.rule == "rectification-after-nonconforming"
    assert event_count(ledger) == before


def test_a_rectification_is_refused_while_a_retest_is_pending(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming)
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        order_rectification(ledger, nonconforming)

    # then
    assert refused.value.rule == "rectification-after-nonconforming"
    assert event_count(ledger) == before


def test_a_rectification_is_refused_before_a_verdict(ledger: Ledger, sampled: UUID) -> None:
    # given
    record_result(ledger, sampled, passed=False)
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        order_rectification(ledger, sampled)

    # then
    assert event_count(ledger) == before


def test_a_rectification_due_on_the_day_of_the_order_is_refused(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        order_rectification(ledger, nonconforming, ordered_on=ORDERED_ON, due_on=ORDERED_ON)

    # then
    assert refused.value.rule == "rectification-due-after-order"
    assert event_count(ledger) == before


def test_a_passed_follow_up_marks_the_inspection_rectified(ledger: Ledger, rectification_ordered: UUID) -> None:
    # given: a rectification ordered

    # when
    verify_rectification(ledger, rectification_ordered, passed=True)

    # then
    assert last_event(ledger, rectification_ordered) == "Inspection.RectificationVerified"
    state = inspection(ledger, rectification_ordered)
    assert state.status is InspectionStatus.RECTIFIED
    assert state.rectification is not None
    assert (state.rectification.passed, state.rectification.verified_on) == (True, DUE_ON)


def test_a_failed_follow_up_marks_the_rectification_failed(ledger: Ledger, rectification_ordered: UUID) -> None:
    # given: a rectification ordered

    # when
    verify_rectification(ledger, rectification_ordered, passed=False)

    # then
    state = inspection(ledger, rectification_ordered)
    assert state.status is InspectionStatus.RECTIFICATION_FAILED
    assert state.rectification is not None
    assert state.rectification.passed is False


def test_a_follow_up_needs_a_rectification_order(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        verify_rectification(ledger, nonconforming, passed=True)

    # then
    assert event_count(ledger) == before


def test_a_penalty_is_imposed_after_a_nonconforming_verdict(ledger: Ledger, nonconforming: UUID) -> None:
    # given: a final nonconforming verdict

    # when
    impose_penalty(ledger, nonconforming)

    # then
    assert last_event(ledger, nonconforming) == "Inspection.PenaltyImposed"
    state = inspection(ledger, nonconforming)
    assert state.status is InspectionStatus.PENALISED
    assert state.penalty is not None
    assert state.penalty.amount == Decimal("50000.00")


def test_a_penalty_is_refused_after_a_conforming_verdict(ledger: Ledger, conforming: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        impose_penalty(ledger, conforming)

    # then
    assert refused.value.rule == "penalty-after-nonconforming"
    assert event_count(ledger) == before


def test_a_penalty_may_follow_a_failed_rectification(ledger: Ledger, rectification_ordered: UUID) -> None:
    # given
    verify_rectification(ledger, rectification_ordered, passed=False)

    # when
    impose_penalty(ledger, rectification_ordered)

    # then
    assert inspection(ledger, rectification_ordered).status is InspectionStatus.PENALISED


def test_a_case_is_transferred_after_a_nonconforming_verdict(ledger: Ledger, nonconforming: UUID) -> None:
    # given: a final nonconforming verdict

    # when
    transfer_case(ledger, nonconforming)

    # then
    assert last_event(ledger, nonconforming) == "Inspection.CaseTransferred"
    state = inspection(ledger, nonconforming)
    assert (state.status, state.transferred_to) == (InspectionStatus.TRANSFERRED, "市公安局")


# Closing ----------------------------------------------------------------------------


def test_a_conforming_inspection_can_be_closed(ledger: Ledger, conforming: UUID) -> None:
    # given: a conforming verdict

    # when
    close_inspection(ledger, conforming)

    # then
    assert last_event(ledger, conforming) == "Inspection.Closed"
    assert inspection(ledger, conforming).status is InspectionStatus.CLOSED


def test_an_inspection_conforming_after_a_retest_can_be_closed(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    object_to_result(ledger, nonconforming)
    record_retest(ledger, nonconforming, passed=True)

    # when
    close_inspection(ledger, nonconforming)

    # then
    assert inspection(ledger, nonconforming).status is InspectionStatus.CLOSED


def test_a_rectified_inspection_can_be_closed(ledger: Ledger, rectification_ordered: UUID) -> None:
    # given
    verify_rectification(ledger, rectification_ordered, passed=True)

    # when
    close_inspection(ledger, rectification_ordered)

    # then
    assert inspection(ledger, rectification_ordered).status is InspectionStatus.CLOSED


def test_a_penalised_inspection_can_be_closed(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    impose_penalty(ledger, nonconforming)

    # when
    close_inspection(ledger, nonconforming)

    # then
    assert inspection(ledger, nonconforming).status is InspectionStatus.CLOSED


def test_a_transferred_inspection_can_be_closed(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    transfer_case(ledger, nonconforming)

    # when
    close_inspection(ledger, nonconforming)

    # then
    assert inspection(ledger, nonconforming).status is InspectionStatus.CLOSED


def test_closing_is_refused_while_a_rectification_awaits_its_follow_up(
    ledger: Ledger, rectification_ordered: UUID
) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        close_inspection(ledger, rectification_ordered)

    # then
    assert event_count(ledger) == before


def test_closing_is_refused_after_a_failed_follow_up_without_a_penalty(
    ledger: Ledger, rectification_ordered: UUID
) -> None:
    # given
    verify_rectification(ledger, rectification_ordered, passed=False)
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        close_inspection(ledger, rectification_ordered)

    # then
    assert event_count(ledger) == before


def test_closing_is_refused_after_a_nonconforming_verdict_with_no_follow_up(
    ledger: Ledger, nonconforming: UUID
) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        close_inspection(ledger, nonconforming)

    # then
    assert event_count(ledger) == before


def test_closing_is_refused_before_a_verdict(ledger: Ledger, sampled: UUID) -> None:
    # given
    record_result(ledger, sampled, passed=True)
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        close_inspection(ledger, sampled)

    # then
    assert event_count(ledger) == before


def test_a_closed_inspection_stays_closed(ledger: Ledger, conforming: UUID) -> None:
    # given
    close_inspection(ledger, conforming)
    before = event_count(ledger)

    # when
    with pytest.raises(IllegalTransition):
        close_inspection(ledger, conforming)

    # then
    assert event_count(ledger) == before


# Business dates -----------------------------------------------------------------------


def test_a_sample_cannot_be_taken_before_the_inspection_was_planned(ledger: Ledger, inspection_id: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        take_sample(ledger, inspection_id, taken_on=PLANNED_ON - timedelta(days=1))

    # then
    assert refused.value.rule == "sample-after-planning"
    assert event_count(ledger) == before


def test_a_sample_cannot_be_tested_before_it_was_taken(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        record_result(ledger, sampled, passed=True, tested_on=TAKEN_ON - timedelta(days=1))

    # then
    assert refused.value.rule == "tested-after-sampling"
    assert event_count(ledger) == before


def test_a_verdict_cannot_be_notified_before_the_last_test(ledger: Ledger, sampled: UUID) -> None:
    # given
    record_result(ledger, sampled, passed=False, tested_on=TESTED_ON)
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        issue_verdict(ledger, sampled, notified_on=TESTED_ON - timedelta(days=1))

    # then
    assert refused.value.rule == "verdict-after-tests"
    assert event_count(ledger) == before


def test_a_follow_up_cannot_precede_the_rectification_order(ledger: Ledger, rectification_ordered: UUID) -> None:
    # given
    before = event_count(ledger)
    command = c.VerifyRectification(
        inspection_id=rectification_ordered, verified_on=ORDERED_ON - timedelta(days=1), passed=True
    )

    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, QTS)

    # then
    assert refused.value.rule == "follow-up-after-order"
    assert event_count(ledger) == before


def test_a_penalty_cannot_be_decided_before_the_verdict_was_notified(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)
    command = c.ImposePenalty(
        inspection_id=nonconforming, amount=Decimal(1000), reason="不合格", decided_on=NOTIFIED_ON - timedelta(days=1)
    )

    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, QTS)

    # then
    assert refused.value.rule == "penalty-after-verdict"
    assert event_count(ledger) == before


def test_a_case_cannot_be_transferred_before_the_verdict_was_notified(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)
    command = c.TransferCase(
        inspection_id=nonconforming, authority="市公安局", transferred_on=NOTIFIED_ON - timedelta(days=1)
    )

    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, QTS)

    # then
    assert refused.value.rule == "transfer-after-verdict"
    assert event_count(ledger) == before


def test_an_inspection_cannot_be_closed_before_the_verdict_was_notified(ledger: Ledger, conforming: UUID) -> None:
    # given
    before = event_count(ledger)
    command = c.CloseInspection(inspection_id=conforming, closed_on=NOTIFIED_ON - timedelta(days=1))

    # when
    with pytest.raises(InvariantViolated) as refused:
        ledger.execute(command, QTS)

    # then
    assert refused.value.rule == "close-after-verdict"
    assert event_count(ledger) == before


# Permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [FDA, ORGANISER], ids=["another-department", "the-organiser"])
def test_only_the_inspecting_department_takes_samples(ledger: Ledger, inspection_id: UUID, actor: Actor) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied):
        take_sample(ledger, inspection_id, "S1", actor=actor)

    # then
    assert event_count(ledger) == before


def test_only_the_inspecting_department_records_results(ledger: Ledger, sampled: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied):
        record_result(ledger, sampled, passed=True, actor=FDA)

    # then
    assert event_count(ledger) == before


def test_only_the_inspecting_department_orders_a_rectification(ledger: Ledger, nonconforming: UUID) -> None:
    # given
    before = event_count(ledger)
    command = c.OrderRectification(
        inspection_id=nonconforming, ordered_on=ORDERED_ON, due_on=DUE_ON, requirements="整改"
    )

    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(command, FDA)

    # then
    assert event_count(ledger) == before


def test_an_outsider_cannot_plan_an_inspection_for_another_department(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied):
        plan_inspection(ledger, campaign_id, department="XA-QTS", actor=OUTSIDER)

    # then
    assert event_count(ledger) == before


def test_the_organiser_may_plan_an_inspection_for_an_enlisted_department(ledger: Ledger, campaign_id: UUID) -> None:
    # given: XA-FDA is enlisted

    # when
    inspection_id = plan_inspection(ledger, campaign_id, department="XA-FDA", actor=ORGANISER)

    # then
    assert inspection(ledger, inspection_id).inspecting_department == "XA-FDA"


# The whole lifecycle ----------------------------------------------------------------


def test_the_full_inspection_lifecycle_is_recorded_in_order(ledger: Ledger, campaign_id: UUID) -> None:
    # given: an inspection with two samples, one of which fails twice
    inspection_id = plan_inspection(ledger, campaign_id)
    take_sample(ledger, inspection_id, "S1")
    take_sample(ledger, inspection_id, "S2")
    record_result(ledger, inspection_id, "S1", passed=True)
    record_result(ledger, inspection_id, "S2", passed=False)
    issue_verdict(ledger, inspection_id)
    object_to_result(ledger, inspection_id, "S2")
    record_retest(ledger, inspection_id, "S2", passed=False)
    order_rectification(ledger, inspection_id)
    verify_rectification(ledger, inspection_id, passed=True)

    # when
    close_inspection(ledger, inspection_id)

    # then
    assert event_names(ledger, inspection_id) == [
        "Inspection.Planned",
        "Inspection.SampleTaken",
        "Inspection.SampleTaken",
        "Inspection.SampleResultRecorded",
        "Inspection.SampleResultRecorded",
        "Inspection.VerdictIssued",
        "Inspection.ResultObjected",
        "Inspection.RetestResultRecorded",
        "Inspection.RectificationOrdered",
        "Inspection.RectificationVerified",
        "Inspection.Closed",
    ]
    state = inspection(ledger, inspection_id)
    assert (state.status, state.verdict, state.version) == (InspectionStatus.CLOSED, Verdict.NONCONFORMING, 11)
    assert [e.version for e in ledger.history(inspection_id)] == list(range(1, 12))


def test_a_service_can_run_the_whole_inspection_lifecycle_through_execute_alone(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given: a service that only has JSON messages, the command parser and execute
    inspector = Actor(user="li.wei", department="XA-QTS")
    plan = {
        "command": "PlanInspection",
        "campaign_id": str(campaign_id),
        "reference": "2017年第三批流通領域抽查-017",
        "inspecting_department": "XA-QTS",
        "inspection_kind": "market-circulation sampling",
        "subject_name": "西安市某裝飾材料市場",
        "subject_kind": "market",
        "product_category": "decoration materials 裝飾裝修材料",
        "planned_on": "2017-09-04",
    }
    inspection_id = ledger.execute(c.parse(json.dumps(plan)), inspector).aggregate_id
    steps = [
        {"command": "TakeSample", "sample_id": "S1", "product": "乳膠漆", "batch": "B-0817", "taken_on": "2017-09-05"},
        {"command": "TakeSample", "sample_id": "S2", "product": "木地板", "batch": "B-0901", "taken_on": "2017-09-05"},
        {"command": "RecordSampleResult", "sample_id": "S1", "passed": True, "tested_on": "2017-09-08"},
        {
            "command": "RecordSampleResult",
            "sample_id": "S2",
            "passed": False,
            "nonconforming_items": ["甲醛釋放量 formaldehyde"],
            "tested_on": "2017-09-08",
        },
        {"command": "IssueVerdict", "notified_on": "2017-09-11"},
        {"command": "ObjectToResult", "sample_id": "S2", "lodged_on": "2017-09-26"},
        {
            "command": "RecordRetestResult",
            "sample_id": "S2",
            "passed": False,
            "nonconforming_items": ["甲醛釋放量"],
            "tested_on": "2017-09-28",
        },
        {
            "command": "OrderRectification",
            "ordered_on": "2017-09-29",
            "due_on": "2017-10-29",
            "requirements": "下架整改",
        },
        {"command": "VerifyRectification", "verified_on": "2017-10-30", "passed": True, "notes": "復查合格"},
        {"command": "CloseInspection", "closed_on": "2017-11-01"},
    ]

    # when
    receipts = [
        ledger.execute(c.parse(json.dumps({**step, "inspection_id": str(inspection_id)})), inspector) for step in steps
    ]

    # then
    assert [r.events for r in receipts][-5:] == [
        ("Inspection.ResultObjected",),
        ("Inspection.RetestResultRecorded",),
        ("Inspection.RectificationOrdered",),
        ("Inspection.RectificationVerified",),
        ("Inspection.Closed",),
    ]
    assert all(r.aggregate_id == inspection_id for r in receipts)
    state = inspection(ledger, inspection_id)
    assert state.status is InspectionStatus.CLOSED
    assert state.subject.subject_kind is SubjectKind.MARKET
    s2 = state.sample("S2")
    assert s2 is not None
    assert s2.original_result is not None
    assert s2.original_result.nonconforming_items == ("甲醛釋放量 formaldehyde",)
    assert state.rectification is not None
    assert state.rectification.passed is True
