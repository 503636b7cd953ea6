"""Right after a transition the kit tries every step it just closed: each must be
refused, so a missing guard (progress on a completed activity) shows at once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quality_ledger import Ledger, LedgerError
from quality_ledger.testing.edges import EdgeStep, closed_steps
from quality_ledger.testing.state import LedgerState
from tests.conftest import event_count, plan_campaign
from tests.integration.test_activity import complete, plan_activity, report, start


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
        steps = data.draw(closed_steps(state, activity_id))

        # then they are what a started activity could do and a completed one cannot, all out of bounds
        assert sorted(s.command.name for s in steps) == ["CancelActivity", "CompleteActivity", "ReportProgress"]
        assert all(isinstance(s, EdgeStep) and not s.inside for s in steps)
        assert all(s.rule.endswith("when completed") for s in steps), [s.rule for s in steps]
        # and the ledger refuses each, recording nothing
        before = event_count(ledger)
        for step in steps:
            try:
                ledger.execute(step.command, step.actor)
            except LedgerError:
                continue
            raise AssertionError(f"{step.command.name} was accepted on a completed activity")
        assert event_count(ledger) == before


@settings(max_examples=5)
@given(data=st.data())
def test_a_status_no_transition_leads_to_closes_nothing(data: st.DataObject) -> None:
    # given an activity only planned: no transition leads to that status
    with Ledger.open("memory://") as ledger:
        campaign_id = plan_campaign(ledger)
        activity_id = plan_activity(ledger, campaign_id)
        state = LedgerState.read(ledger, [campaign_id])

        # then no step is closed
        assert data.draw(closed_steps(state, activity_id)) == []
