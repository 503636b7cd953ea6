"""Right after a step the kit may try every step at an edge that the aggregate must
refuse now: those its last transition closed and those just outside its named
rules. Each must be refused, so a missing guard (progress on a completed activity,
a penalty on a conforming inspection, an objection on day 16) shows at once."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from quality_ledger import Ledger, LedgerError
from quality_ledger.testing.edges import EdgeStep, refused_steps
from quality_ledger.testing.state import LedgerState
from tests.conftest import event_count, plan_campaign
from tests.integration.test_activity import complete, plan_activity, report, start
from tests.integration.test_inspection import NOTIFIED_ON, issue_verdict, plan_inspection, record_result, take_sample


def assert_each_refused(ledger: Ledger, steps: list[EdgeStep]) -> None:
    before = event_count(ledger)
    for step in steps:
        try:
            ledger.execute(step.command, step.actor)
        except LedgerError:
            continue
        raise AssertionError(f"{step.command.name} was accepted, where {step.rule!r} refuses it")
    assert event_count(ledger) == before


@settings(max_examples=10)
@given(data=st.data())
def test_every_step_a_completion_closed_is_drawn_and_refused(data: st.DataObject) -> None:
    # given an activity with targets, started, reported on and just completed
    with Ledger.open("memory://") as ledger:
        campaign_id = plan_campaign(ledger)
        activity_id = plan_activity(ledger, campaign_id)
        start(ledger, activity_id)
        report(ledger, activity_id, "experts", 10)
        complete(ledger, activity_id)
        state = LedgerState.read(ledger, [campaign_id])

        # when the steps that completion closed are drawn
        steps = data.draw(refused_steps(state, activity_id))

        # then they are what a started activity could do and a completed one cannot, all out of bounds
        assert sorted(s.command.name for s in steps) == ["CancelActivity", "CompleteActivity", "ReportProgress"]
        assert all(isinstance(s, EdgeStep) and not s.inside for s in steps)
        assert all(s.rule.endswith("when completed") for s in steps), [s.rule for s in steps]
        # and the ledger refuses each, recording nothing
        assert_each_refused(ledger, steps)


@settings(max_examples=10)
@given(data=st.data(), passed=st.booleans())
def test_after_a_verdict_the_steps_just_outside_its_rules_are_drawn_and_refused(
    data: st.DataObject, passed: bool
) -> None:
    # given an inspection whose one sample passed (or failed), with its verdict just notified
    with Ledger.open("memory://") as ledger:
        campaign_id = plan_campaign(ledger)
        inspection_id = plan_inspection(ledger, campaign_id)
        take_sample(ledger, inspection_id)
        record_result(ledger, inspection_id, passed=passed)
        issue_verdict(ledger, inspection_id)
        state = LedgerState.read(ledger, [campaign_id])

        # when the steps it must refuse are drawn
        steps = data.draw(refused_steps(state, inspection_id))

        # then they hold what the verdict closed (another sample or verdict); after a passed
        # sample the follow-ups that need a nonconforming verdict; after a failed one the
        # objections on the day before the window and the day after it
        rules = {s.rule for s in steps}
        assert all(isinstance(s, EdgeStep) and not s.inside for s in steps)
        guarded = {"penalty-after-nonconforming", "rectification-after-nonconforming", "transfer-after-nonconforming"}
        assert (guarded <= rules) is passed, rules
        objections = [s.command.lodged_on for s in steps if s.rule == "objection-within-15-days"]  # type: ignore[attr-defined]
        assert sorted(objections) == (
            [] if passed else [NOTIFIED_ON - timedelta(days=1), NOTIFIED_ON + timedelta(days=16)]
        )
        assert any(s.command.name == "TakeSample" for s in steps)
        # and the ledger refuses each, recording nothing
        assert_each_refused(ledger, steps)


@settings(max_examples=5)
@given(data=st.data())
def test_a_status_no_transition_leads_to_closes_nothing(data: st.DataObject) -> None:
    # given an activity only planned: no transition leads to that status
    with Ledger.open("memory://") as ledger:
        campaign_id = plan_campaign(ledger)
        activity_id = plan_activity(ledger, campaign_id)
        state = LedgerState.read(ledger, [campaign_id])

        # then no step is closed
        assert data.draw(refused_steps(state, activity_id)) == []
