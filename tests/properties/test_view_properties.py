"""Views never drift: after any command sequence, live views equal views
rebuilt from zero, which equal the pure model computed from the aggregates."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings

from quality_ledger import Ledger, LedgerError
from quality_ledger.errors import NotFound
from quality_ledger.status import CampaignFigures
from quality_ledger.testing import Scenario
from quality_ledger.testing import strategies as qs


@settings(max_examples=30)
@given(scenario=qs.scenarios(noise=True))
def test_live_views_equal_a_rebuild_and_the_pure_model(scenario: Scenario) -> None:
    # given a ledger whose views follow every command as it is executed
    with Ledger.open("memory://") as ledger:
        for step in scenario.steps:
            with contextlib.suppress(LedgerError):  # noisy steps are refused; refusals must not move the views
                ledger.execute(step.command, step.actor)
            ledger.views.catch_up()
        # when the views are compared with a rebuild and with the model
        report = ledger.verify_views()
        live = status(ledger, scenario)
        ledger.views.rebuild()
        rebuilt = status(ledger, scenario)
        # then all three agree
        assert report.ok, report.differences
        assert live == rebuilt
        if live is not None:
            assert live == ledger.campaign_status_from_events(scenario.campaign_id)
        assert ledger.views.position() == ledger.position()


def status(ledger: Ledger, scenario: Scenario) -> CampaignFigures | None:
    """The campaign's status, or None where a noisy step kept it from being planned."""
    try:
        return ledger.campaign_status(scenario.campaign_id)
    except NotFound:
        return None


@settings(max_examples=20)
@given(scenario=qs.scenarios())
def test_catching_up_in_any_batch_size_gives_the_same_views(scenario: Scenario) -> None:
    # given the same commands on two ledgers whose views apply 1 and 1000 events per batch
    with Ledger.open("memory://", batch_size=1) as small, Ledger.open("memory://") as large:
        for step in scenario.steps:
            for ledger in (small, large):
                with contextlib.suppress(LedgerError):
                    ledger.execute(step.command, step.actor)
        # then both give the same figures, and applying again changes nothing
        assert status(small, scenario) == status(large, scenario)
        assert small.views.catch_up() == 0
        assert small.verify_views().ok
