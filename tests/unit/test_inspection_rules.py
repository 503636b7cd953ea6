"""The inspection's rules, on the bare aggregate through given/when/then: no
ledger, no store. Each test gives the events so far, calls one command method
and asserts the event it triggers or the rule id it refuses with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quality_ledger.domain.inspection import Inspection, LabResult, Rectification
from quality_ledger.domain.values import Verdict
from quality_ledger.errors import IllegalTransition, InvariantViolated
from quality_ledger.testing import gwt
from tests.unit.inspection_events import (
    CONFORMING,
    FAILED,
    NONCONFORMING,
    NOTIFIED,
    OBJECTED,
    PASSED,
    PLANNED,
    TAKEN,
)

RECTIFICATION = Rectification(ordered_on=date(2017, 9, 11), due_on=date(2017, 10, 11), requirements="更換導體")
ORDERED = gwt.event(Inspection.RectificationOrdered, rectification=RECTIFICATION)


# Samples and results ------------------------------------------------------------------------


def test_a_sample_id_is_taken_once() -> None:
    # given a sample S-1 / when S-1 is taken again / then sample-id-unique refuses it
    gwt.given(PLANNED, TAKEN).when(Inspection.take_sample, "S-1", "BV 4", "170902-B", date(2017, 9, 6)).then_raises(
        InvariantViolated, rule="sample-id-unique"
    )


def test_a_sample_is_not_taken_before_the_inspection_is_planned() -> None:
    # given an inspection planned on 4 September / when a sample is taken on the 3rd / then it is refused
    gwt.given(PLANNED).when(Inspection.take_sample, "S-1", "BV 2.5", "170901-A", date(2017, 9, 3)).then_raises(
        InvariantViolated, rule="sample-after-planning"
    )


def test_a_failed_result_names_its_nonconforming_items() -> None:
    # given a sample / when it fails naming no item / then failure-names-items refuses it
    gwt.given(PLANNED, TAKEN).when(Inspection.record_result, "S-1", False, (), date(2017, 9, 8)).then_raises(
        InvariantViolated, rule="failure-names-items"
    )


def test_a_result_is_recorded_once() -> None:
    # given a failed result / when another result is recorded / then result-once refuses it
    gwt.given(PLANNED, TAKEN, FAILED).when(Inspection.record_result, "S-1", True, (), date(2017, 9, 9)).then_raises(
        InvariantViolated, rule="result-once"
    )


def test_a_verdict_follows_the_results_and_is_nonconforming_when_a_sample_failed() -> None:
    # given a failed sample / when the verdict is issued / then it is nonconforming
    gwt.given(PLANNED, TAKEN, FAILED).when(Inspection.issue_verdict, NOTIFIED).then(
        gwt.event(Inspection.VerdictIssued, verdict=Verdict.NONCONFORMING, notified_on=NOTIFIED)
    )


def test_a_verdict_is_not_notified_before_the_last_test() -> None:
    # given a sample tested on 8 September / when the verdict is notified on the 7th / then it is refused
    gwt.given(PLANNED, TAKEN, FAILED).when(Inspection.issue_verdict, date(2017, 9, 7)).then_raises(
        InvariantViolated, rule="verdict-after-tests"
    )


# Objections ---------------------------------------------------------------------------------


def test_an_objection_on_the_fifteenth_day_is_recorded() -> None:
    # given a failure notified on 10 September / when the subject objects on the 25th (day 15) / then it is recorded
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(Inspection.object_to_result, "S-1", date(2017, 9, 25)).then(
        gwt.event(Inspection.ResultObjected, sample_id="S-1", lodged_on=date(2017, 9, 25))
    )


def test_an_objection_on_the_sixteenth_day_is_refused_by_the_window() -> None:
    # given a failure notified on 10 September / when the subject objects on the 26th / then the window refuses it
    error = (
        gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING)
        .when(Inspection.object_to_result, "S-1", date(2017, 9, 26))
        .then_raises(InvariantViolated, rule="objection-within-15-days")
    )
    assert "2017-09-26" in str(error)


def test_an_objection_dated_before_the_notification_is_refused_by_the_window() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.object_to_result, "S-1", date(2017, 9, 9)
    ).then_raises(InvariantViolated, rule="objection-within-15-days")


def test_only_a_failed_result_can_be_objected_to() -> None:
    # given a conforming verdict / when the subject objects / then objection-to-failure refuses it
    gwt.given(PLANNED, TAKEN, PASSED, CONFORMING).when(
        Inspection.object_to_result, "S-1", date(2017, 9, 12)
    ).then_raises(InvariantViolated, rule="objection-to-failure")


def test_a_sample_is_objected_to_once() -> None:
    # given an objection, retested and failed again / when the subject objects again / then it is refused
    retested = gwt.event(
        Inspection.RetestResultRecorded,
        sample_id="S-1",
        result=LabResult(passed=False, nonconforming_items=("導體電阻",), tested_on=date(2017, 9, 14), retest=True),
        verdict=Verdict.NONCONFORMING,
    )
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING, OBJECTED, retested).when(
        Inspection.object_to_result, "S-1", date(2017, 9, 15)
    ).then_raises(InvariantViolated, rule="objection-once-per-sample")


def test_a_passing_retest_after_an_objection_makes_the_verdict_conforming() -> None:
    # given an objection / when the retest passes / then the retest records a conforming verdict
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING, OBJECTED).when(
        Inspection.record_retest, "S-1", True, (), date(2017, 9, 14)
    ).then(gwt.event(Inspection.RetestResultRecorded, sample_id="S-1", verdict=Verdict.CONFORMING))


# Rectification, penalty, closing ------------------------------------------------------------


def test_a_rectification_is_ordered_after_a_final_nonconforming_verdict() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.order_rectification, date(2017, 9, 11), date(2017, 10, 11), "更換導體"
    ).then(gwt.event(Inspection.RectificationOrdered, rectification=RECTIFICATION))


def test_no_rectification_while_an_objection_awaits_its_retest() -> None:
    # given an objection pending / when a rectification is ordered / then the verdict is not final yet
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING, OBJECTED).when(
        Inspection.order_rectification, date(2017, 9, 13), date(2017, 10, 13), "更換導體"
    ).then_raises(InvariantViolated, rule="rectification-after-nonconforming")


def test_a_rectification_is_due_after_it_is_ordered() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.order_rectification, date(2017, 9, 11), date(2017, 9, 11), "更換導體"
    ).then_raises(InvariantViolated, rule="rectification-due-after-order")


def test_a_rectification_needs_requirements() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.order_rectification, date(2017, 9, 11), date(2017, 10, 11), "   "
    ).then_raises(InvariantViolated, rule="rectification-requirements")


def test_a_rectification_is_not_verified_before_it_is_ordered() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING, ORDERED).when(
        Inspection.verify_rectification, date(2017, 9, 10), True, "done"
    ).then_raises(InvariantViolated, rule="follow-up-after-order")


def test_a_rectification_is_ordered_once() -> None:
    # given a rectification ordered / when another is ordered / then the lifecycle refuses it
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING, ORDERED).when(
        Inspection.order_rectification, date(2017, 9, 12), date(2017, 10, 12), "again"
    ).then_raises(IllegalTransition)


def test_a_penalty_on_a_conforming_inspection_is_refused() -> None:
    # given every sample passed / when a penalty is imposed / then penalty-after-nonconforming refuses it
    gwt.given(PLANNED, TAKEN, PASSED, CONFORMING).when(
        Inspection.impose_penalty, Decimal("5000"), "fraud", date(2017, 9, 12)
    ).then_raises(InvariantViolated, rule="penalty-after-nonconforming")


def test_a_penalty_is_not_decided_before_the_verdict_was_notified() -> None:
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.impose_penalty, Decimal("5000"), "fraud", date(2017, 9, 9)
    ).then_raises(InvariantViolated, rule="penalty-after-verdict")


def test_a_conforming_inspection_closes_after_its_notification() -> None:
    gwt.given(PLANNED, TAKEN, PASSED, CONFORMING).when(Inspection.close, date(2017, 9, 11)).then(
        gwt.event(Inspection.Closed, closed_on=date(2017, 9, 11))
    )
    gwt.given(PLANNED, TAKEN, PASSED, CONFORMING).when(Inspection.close, date(2017, 9, 9)).then_raises(
        InvariantViolated, rule="close-after-verdict"
    )


def test_a_nonconforming_inspection_does_not_close_before_it_is_dealt_with() -> None:
    # given a nonconforming verdict with nothing ordered / when it is closed / then the lifecycle refuses it
    gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(Inspection.close, date(2017, 9, 11)).then_raises(
        IllegalTransition
    )
