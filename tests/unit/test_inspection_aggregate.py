"""The inspection aggregate on its own, driven method by method (no ledger,
no store): verdicts, a refused result, a retest, the objection window.
Moved from the ledger tests, which now live in tests/integration."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from quality_ledger.domain.inspection import Inspection, Subject
from quality_ledger.domain.values import SubjectKind, Verdict
from quality_ledger.errors import InvariantViolated

PLANNED_ON = date(2017, 9, 4)
TAKEN_ON = date(2017, 9, 5)
TESTED_ON = date(2017, 9, 8)
NOTIFIED_ON = date(2017, 9, 11)
ITEMS = ("conductor resistance", "絕緣厚度")


def new_aggregate() -> Inspection:
    """An inspection aggregate on its own: no ledger, no store."""
    return Inspection.plan(
        uuid4(),
        campaign_id=uuid4(),
        activity_id=None,
        inspecting_department="XA-QTS",
        inspection_kind="spot check",
        reference="XA-QTS-2017-DX-01",
        subject=Subject(name="西安某電線電纜有限公司", subject_kind=SubjectKind.ENTERPRISE),
        product_category="wires and cables",
        planned_on=PLANNED_ON,
    )


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ((True,), Verdict.CONFORMING),
        ((False,), Verdict.NONCONFORMING),
        ((True, True, True), Verdict.CONFORMING),
        ((True, False, True), Verdict.NONCONFORMING),
        ((False, False), Verdict.NONCONFORMING),
    ],
)
def test_the_aggregate_finds_nonconformity_if_and_only_if_a_sample_failed(
    results: tuple[bool, ...], verdict: Verdict
) -> None:
    # given
    aggregate = new_aggregate()
    for n, passed in enumerate(results):
        aggregate.take_sample(f"S{n}", "cable", "B1", TAKEN_ON)
        aggregate.record_result(f"S{n}", passed, () if passed else ITEMS, TESTED_ON)

    # when
    issued = aggregate.issue_verdict(NOTIFIED_ON)

    # then
    assert issued is verdict
    assert aggregate.state.verdict is verdict
    events = aggregate.collect_events()
    assert type(events[-1]) is Inspection.VerdictIssued


def test_the_aggregate_refuses_a_result_for_an_untaken_sample_before_any_event_exists() -> None:
    # given
    aggregate = new_aggregate()
    aggregate.take_sample("S1", "cable", "B1", TAKEN_ON)
    pending = [type(e).__qualname__ for e in aggregate.collect_events()]

    # when
    with pytest.raises(InvariantViolated) as refused:
        aggregate.record_result("S9", True, (), TESTED_ON)

    # then
    assert refused.value.rule == "results-for-taken-samples"
    assert pending == ["Inspection.Planned", "Inspection.SampleTaken"]
    assert aggregate.collect_events() == []
    assert aggregate.version == 2


def test_the_aggregate_keeps_the_original_result_when_a_retest_replaces_it() -> None:
    # given
    aggregate = new_aggregate()
    aggregate.take_sample("S1", "cable", "B1", TAKEN_ON)
    aggregate.record_result("S1", False, ITEMS, TESTED_ON)
    aggregate.issue_verdict(NOTIFIED_ON)
    aggregate.object_to_result("S1", NOTIFIED_ON + timedelta(days=15))

    # when
    aggregate.record_retest("S1", True, (), NOTIFIED_ON + timedelta(days=20))

    # then
    sample = aggregate.state.samples[0]
    assert sample.result is not None
    assert sample.original_result is not None
    assert (sample.result.passed, sample.original_result.passed) == (True, False)
    assert aggregate.state.verdict is Verdict.CONFORMING
    assert type(aggregate.collect_events()[-1]) is Inspection.RetestResultRecorded


def test_the_aggregate_refuses_an_objection_on_the_sixteenth_day() -> None:
    # given
    aggregate = new_aggregate()
    aggregate.take_sample("S1", "cable", "B1", TAKEN_ON)
    aggregate.record_result("S1", False, ITEMS, TESTED_ON)
    aggregate.issue_verdict(NOTIFIED_ON)
    version = aggregate.version

    # when
    with pytest.raises(InvariantViolated) as refused:
        aggregate.object_to_result("S1", NOTIFIED_ON + timedelta(days=16))

    # then
    assert refused.value.rule == "objection-within-15-days"
    assert aggregate.version == version
