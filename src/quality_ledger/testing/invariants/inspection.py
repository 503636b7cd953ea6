"""The inspection's invariants: samples and results, objections and re-tests,
the verdict, the follow-ups a nonconforming verdict allows, and dates in lifecycle order."""

from __future__ import annotations

from quality_ledger.domain.inspection import InspectionState, verdict_of
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.transitions import INSPECTION
from quality_ledger.domain.values import InspectionStatus, Verdict
from quality_ledger.testing.invariants.base import _unique, expect
from quality_ledger.testing.state import LedgerState

__all__ = ["check_inspection"]

_DECIDED = INSPECTION.reachable_from(INSPECTION.after("VerdictIssued"))
"""States that follow a verdict."""


def check_inspection(state: LedgerState, inspection: InspectionState) -> None:
    i = inspection.id
    campaign = state.campaigns[inspection.campaign_id]
    expect(
        inspection.inspecting_department in campaign.department_codes(),
        "inspecting-department-enlisted",
        i,
        f"inspected by {inspection.inspecting_department}, which is not enlisted",
    )
    if inspection.activity_id is not None:
        expect(
            inspection.activity_id in state.activity_ids(campaign.id),
            "inspection-activity-in-campaign",
            i,
            f"activity {inspection.activity_id} belongs to another campaign",
        )
    _check_samples(inspection)
    _check_follow_up(inspection)
    _check_verdict(inspection)
    _check_dates(inspection)


def _check_samples(inspection: InspectionState) -> None:
    i = inspection.id
    ids = [s.sample_id for s in inspection.samples]
    expect(not _unique(ids), "sample-id-unique", i, f"sample taken twice: {_unique(ids)}")
    for sample in inspection.samples:
        for result in (sample.result, sample.original_result):
            if result is not None:
                expect(
                    result.passed == (not result.nonconforming_items),
                    "failure-names-items",
                    i,
                    f"sample {sample.sample_id}: passed={result.passed} with items {result.nonconforming_items}",
                )
        if sample.original_result is not None:
            expect(
                sample.result is not None and sample.result.retest,
                "retest-replaces-result",
                i,
                f"sample {sample.sample_id} keeps an original result without a re-test",
            )
        if sample.result is not None and sample.result.retest:
            expect(
                sample.objected_on is not None,
                "retest-after-objection",
                i,
                f"sample {sample.sample_id} re-tested unasked",
            )
        expect(
            sample.objected_on is not None or sample.objection_lodged_by is None,
            "objection-lodged-by-with-objection",
            i,
            f"sample {sample.sample_id}: lodged by {sample.objection_lodged_by} without an objection",
        )
        if sample.objected_on is not None:
            objected = sample.original_result or sample.result
            expect(
                objected is not None and not objected.passed,
                "objection-to-failure",
                i,
                f"sample {sample.sample_id}: an objection to a result that passed",
            )
            notified = inspection.notified_on
            expect(
                notified is not None and OBJECTION_WINDOW.holds(notified, sample.objected_on),
                OBJECTION_WINDOW.id,
                i,
                f"sample {sample.sample_id}: objected {sample.objected_on}, notified {notified}",
            )


def _check_verdict(inspection: InspectionState) -> None:
    i = inspection.id
    status = inspection.status
    if status is InspectionStatus.PLANNED:
        expect(not inspection.samples, "sampling-state", i, "planned, yet samples were taken")
    if status is InspectionStatus.SAMPLING:
        expect(inspection.samples, "sampling-state", i, "sampling without a sample")
    if status not in _DECIDED:
        expect(inspection.verdict is None, "verdict-once", i, f"{status}, yet has a verdict")
        return
    expect(
        inspection.verdict is not None and inspection.notified_on is not None,
        "verdict-notified",
        i,
        f"{status} without a notified verdict",
    )
    untested = [s.sample_id for s in inspection.samples if s.result is None]
    expect(not untested, "verdict-after-all-results", i, f"{status} with untested samples {untested}")
    expect(
        inspection.verdict is verdict_of(inspection.samples),
        "verdict-nonconforming-iff-a-sample-failed",
        i,
        f"verdict {inspection.verdict}, results {[s.result.passed for s in inspection.samples if s.result]}",
    )


def _check_follow_up(inspection: InspectionState) -> None:
    i = inspection.id
    status = inspection.status
    final_nonconforming = inspection.verdict is Verdict.NONCONFORMING and inspection.has_final_verdict
    rectification = inspection.rectification
    for rule, present in (
        ("rectification-after-nonconforming", rectification is not None),
        ("penalty-after-nonconforming", inspection.penalty is not None),
        ("transfer-after-nonconforming", inspection.transferred_to is not None),
    ):
        if present:
            expect(
                final_nonconforming,
                rule,
                i,
                f"{status} with verdict {inspection.verdict} "
                f"({'a re-test pending' if inspection.awaiting_retest else 'no re-test pending'})",
            )
    if rectification is not None:
        expect(
            rectification.due_on > rectification.ordered_on, "rectification-due-after-order", i, "due before the order"
        )
        if rectification.verified_on is not None:
            expect(
                rectification.verified_on >= rectification.ordered_on,
                "follow-up-after-order",
                i,
                "verified before the order",
            )
    expected = {
        InspectionStatus.RECTIFICATION_ORDERED: rectification is not None and rectification.verified_on is None,
        InspectionStatus.RECTIFIED: rectification is not None and rectification.passed is True,
        InspectionStatus.RECTIFICATION_FAILED: rectification is not None and rectification.passed is False,
        InspectionStatus.PENALISED: inspection.penalty is not None,
        InspectionStatus.TRANSFERRED: inspection.transferred_to is not None,
        InspectionStatus.CLOSED: inspection.closed_on is not None and _closing_condition_held(inspection),
    }
    expect(expected.get(status, True), "state-matches-record", i, f"{status}, but the record says otherwise")
    if inspection.penalty is not None:
        expect(inspection.penalty.amount >= 0, "penalty-not-negative", i, f"penalty {inspection.penalty.amount}")


def _closing_condition_held(inspection: InspectionState) -> bool:
    conforming = inspection.verdict is Verdict.CONFORMING and inspection.has_final_verdict
    rectified = inspection.rectification is not None and inspection.rectification.passed is True
    return conforming or rectified or inspection.penalty is not None or inspection.transferred_to is not None


def _check_dates(inspection: InspectionState) -> None:
    """Business dates follow the lifecycle: planned, taken, tested, notified, decided."""
    i = inspection.id
    for sample in inspection.samples:
        expect(sample.taken_on >= inspection.planned_on, "sample-after-planning", i, f"sample {sample.sample_id}")
        first = sample.original_result or sample.result
        if first is None:
            continue
        expect(first.tested_on >= sample.taken_on, "tested-after-sampling", i, f"sample {sample.sample_id}")
        if inspection.notified_on is not None:
            expect(inspection.notified_on >= first.tested_on, "verdict-after-tests", i, f"sample {sample.sample_id}")
    notified = inspection.notified_on
    if notified is None:
        return
    if inspection.penalty is not None:
        expect(inspection.penalty.decided_on >= notified, "penalty-after-verdict", i, "decided before the notification")
    if inspection.closed_on is not None:
        expect(inspection.closed_on >= notified, "close-after-verdict", i, "closed before the notification")
