"""given / when / then (quality_ledger.testing.gwt): each way to pass, and each way to fail, readably."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.inspection import Inspection, InspectionState, Rectification, Subject
from quality_ledger.domain.values import SubjectKind, Verdict
from quality_ledger.errors import IllegalTransition, InvariantViolated, PermissionDenied
from quality_ledger.testing import gwt
from quality_ledger.testing.strategies import Step
from tests.unit.inspection_events import CAMPAIGN, FAILED, NONCONFORMING, PLANNED, TAKEN

ORGANISER = Actor(user="zhang.min", department="XA-QPC")
QTS = Actor(user="li.wei", department="XA-QTS")


# Aggregates ---------------------------------------------------------------------------------


def test_then_compares_the_new_events_and_returns_the_state() -> None:
    # given a nonconforming verdict / when a rectification is ordered / then exactly that event
    state = (
        gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING)
        .when(Inspection.order_rectification, date(2017, 9, 11), date(2017, 10, 11), "更換導體")
        .then(
            gwt.event(
                Inspection.RectificationOrdered,
                rectification=Rectification(
                    ordered_on=date(2017, 9, 11), due_on=date(2017, 10, 11), requirements="更換導體"
                ),
            )
        )
    )
    assert isinstance(state, InspectionState)
    assert state.version == 5


def test_then_compares_only_the_fields_a_spec_names() -> None:
    # given samples all tested / when the verdict is issued / then its verdict is checked, not its date
    gwt.given(PLANNED, TAKEN, FAILED).when(Inspection.issue_verdict, date(2017, 9, 10)).then(
        gwt.event(Inspection.VerdictIssued, verdict=Verdict.NONCONFORMING)
    )


def test_then_raises_checks_the_error_and_the_rule_and_that_nothing_happened() -> None:
    # given a sample not yet tested / when the verdict is issued / then the named rule refuses it
    error = (
        gwt.given(PLANNED, TAKEN)
        .when(Inspection.issue_verdict, date(2017, 9, 10))
        .then_raises(InvariantViolated, rule="verdict-after-all-results")
    )
    assert "S-1" in str(error)


def test_a_creation_command_needs_no_past() -> None:
    # given nothing / when an inspection is planned / then it was planned
    gwt.given().when(
        Inspection.plan,
        UUID(int=1),
        campaign_id=CAMPAIGN,
        activity_id=None,
        inspecting_department="XA-QTS",
        inspection_kind="spot check",
        reference="R-1",
        subject=Subject(name="某廠", subject_kind=SubjectKind.ENTERPRISE),
        product_category="seeds",
        planned_on=date(2017, 9, 4),
    ).then(Inspection.Planned)


def test_a_wrong_expectation_shows_expected_and_actual_events_with_the_differing_field() -> None:
    # given a nonconforming verdict / when a rectification is ordered / then expecting another due date fails readably
    when = gwt.given(PLANNED, TAKEN, FAILED, NONCONFORMING).when(
        Inspection.order_rectification, date(2017, 9, 11), date(2017, 10, 11), "更換導體"
    )
    wrong = Rectification(ordered_on=date(2017, 9, 11), due_on=date(2017, 10, 12), requirements="更換導體")
    with pytest.raises(gwt.ThenFailed) as failed:
        when.then(gwt.event(Inspection.RectificationOrdered, rectification=wrong))
    message = str(failed.value)
    assert (
        "1. Inspection.RectificationOrdered: rectification.due_on: "
        "expected datetime.date(2017, 10, 12), got datetime.date(2017, 10, 11)"
    ) in message
    assert "expected:\n  Inspection.RectificationOrdered(rectification=Rectification(" in message


def test_too_few_expected_events_are_reported_by_position() -> None:
    # given a planned inspection / when a sample is taken / then expecting nothing fails, counting events
    when = gwt.given(PLANNED).when(Inspection.take_sample, "S-1", "BV 2.5", "170901-A", date(2017, 9, 5))
    with pytest.raises(gwt.ThenFailed, match=r"expected 0 event\(s\), got 1"):
        when.then()


def test_then_raises_fails_when_the_command_succeeded() -> None:
    # given a planned inspection / when a sample is taken / then expecting a refusal fails, naming the event
    when = gwt.given(PLANNED).when(Inspection.take_sample, "S-1", "BV 2.5", "170901-A", date(2017, 9, 5))
    with pytest.raises(gwt.ThenFailed, match="expected IllegalTransition, but it triggered"):
        when.then_raises(IllegalTransition)


def test_then_raises_fails_on_another_rule() -> None:
    # given an untested sample / when the verdict is issued / then expecting another rule fails
    when = gwt.given(PLANNED, TAKEN).when(Inspection.issue_verdict, date(2017, 9, 10))
    with pytest.raises(gwt.ThenFailed, match="expected rule 'objection-within-15-days'"):
        when.then_raises(InvariantViolated, rule="objection-within-15-days")


def test_then_fails_when_the_command_raised() -> None:
    # given a planned inspection / when a verdict is issued too early / then expecting an event fails
    when = gwt.given(PLANNED).when(Inspection.issue_verdict, date(2017, 9, 10))
    with pytest.raises(gwt.ThenFailed, match="but it raised IllegalTransition"):
        when.then(Inspection.VerdictIssued)


# The ledger ---------------------------------------------------------------------------------

PLAN = c.PlanCampaign(
    title="Xi'an 2017 Quality Month",
    theme="建设品质西安",
    organiser="XA-QPC",
    starts_on=date(2017, 9, 1),
    ends_on=date(2017, 9, 30),
)
ENLIST = c.EnlistDepartment(campaign_id=PLAN.new_id(), code="XA-QTS", name_zh="市质监局", name_en="QTS")
LAUNCH = c.LaunchCampaign(campaign_id=PLAN.new_id(), launched_on=date(2017, 9, 1))


def test_a_command_on_a_ledger_records_the_expected_events() -> None:
    # given a planned campaign with a department (on a ledger the helper opens and closes)
    # when it is launched / then the launch is recorded
    receipt = gwt.given(Step(PLAN, ORGANISER), (ENLIST, ORGANISER)).when(LAUNCH, ORGANISER).then("Campaign.Launched")
    assert receipt.events == ("Campaign.Launched",)


def test_a_refused_command_records_nothing(ledger: Ledger) -> None:
    # given a planned campaign on the test's ledger / when an outsider launches it / then it is refused
    error = (
        gwt.given((PLAN, ORGANISER), (ENLIST, ORGANISER), ledger=ledger).when(LAUNCH, QTS).then_raises(PermissionDenied)
    )
    assert "XA-QPC" in str(error)
    assert ledger.get(PLAN.new_id()).version == 2


def test_then_on_a_ledger_compares_payloads_too() -> None:
    # given a planned campaign / when it is launched / then expecting another launch date fails, naming the field
    when = gwt.given((PLAN, ORGANISER), (ENLIST, ORGANISER)).when(LAUNCH, ORGANISER)
    with pytest.raises(gwt.ThenFailed, match=r"launched_on: expected datetime\.date\(2017, 9, 2\)"):
        when.then(gwt.event(Campaign.Launched, launched_on=date(2017, 9, 2)))


def test_a_refused_given_step_says_which_and_why() -> None:
    # given a launch before any department is enlisted / then the given itself fails, naming the step
    with pytest.raises(gwt.GivenFailed, match="given step 2 \\(LaunchCampaign by XA-QPC\\) was refused"):
        gwt.given((PLAN, ORGANISER), (LAUNCH, ORGANISER)).when(ENLIST, ORGANISER)


def test_a_ledger_takes_no_method_calls() -> None:
    # given steps for a ledger / when an aggregate method is called / then it is a mistake, said plainly
    with pytest.raises(TypeError, match="takes a command and an actor"):
        gwt.given((PLAN, ORGANISER)).when(Inspection.close, date(2017, 9, 30))
