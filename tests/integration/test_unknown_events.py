"""Nothing unhandled passes silently: an event type the views have no handler
for stops them with ProjectionFailed naming it, unless it is declared not
projected; the audit trail, which shows every event, needs a summary for each.

The events here are stored around the rules, as a newer version of the
library (or a forgotten handler) would leave them in a log.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.campaign import Campaign
from quality_ledger.errors import ProjectionFailed
from quality_ledger.eventlog import EventLog
from quality_ledger.projections import audit_trail, dispatch
from tests.conftest import ORGANISER, plan_campaign


class Noted(Campaign.Event):
    """An event type this library's views know nothing about."""

    note: str


class Relaunched(Campaign.Launched):
    """A subclass of a handled event: a new stored type, with no handler of its own."""


def record_around_the_rules(ledger: Ledger, campaign_id: UUID, cls: type[Any], **fields: Any) -> int:
    """Store an event no command records; its position."""
    campaign: Campaign = EventLog.of(ledger).repository.get(campaign_id)
    campaign.trigger_event(cls, **fields)
    EventLog.of(ledger).save(campaign)
    return ledger.position()


def test_an_event_type_with_no_summary_stops_the_views_naming_its_position_and_topic(ledger: Ledger) -> None:
    # given views up to date, then an event of a type neither the views nor the audit trail know
    campaign_id = plan_campaign(ledger)
    ledger.views.catch_up()
    before = ledger.views.position()
    position = record_around_the_rules(ledger, campaign_id, Noted, note="a note")
    # when the views catch up
    with pytest.raises(ProjectionFailed) as failed:
        ledger.views.catch_up()
    # then the failure names the event's position and topic, and why; the views stay where they were
    assert failed.value.position == position
    assert failed.value.topic == f"{__name__}:Noted"
    assert "no audit-trail summary" in str(failed.value)
    assert ledger.views.position() == before


def test_an_event_type_with_no_view_handler_stops_the_views(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    # given an unknown event type that the audit trail can summarise but no view handles
    monkeypatch.setitem(audit_trail.SUMMARIES, "Noted", "noted {note}")
    campaign_id = plan_campaign(ledger)
    position = record_around_the_rules(ledger, campaign_id, Noted, note="a note")
    # when a query catches the views up, then it fails naming the event and the missing handler
    with pytest.raises(ProjectionFailed) as failed:
        ledger.campaign_status(campaign_id)
    assert failed.value.position == position
    assert failed.value.topic == f"{__name__}:Noted"
    assert "no view handles" in str(failed.value)


def test_a_subclass_of_a_handled_event_is_not_handled_by_inheritance(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an event whose class extends a handled one (summarised like its parent)
    monkeypatch.setitem(audit_trail.SUMMARIES, "Relaunched", "relaunched on {launched_on}")
    campaign_id = plan_campaign(ledger, launch=False)
    position = record_around_the_rules(ledger, campaign_id, Relaunched, launched_on=date(2017, 9, 1))
    # when the views catch up, then they refuse it: the parent's handler is not silently borrowed
    with pytest.raises(ProjectionFailed) as failed:
        ledger.views.catch_up()
    assert failed.value.position == position
    assert failed.value.topic == f"{__name__}:Relaunched"


def test_an_event_type_declared_not_projected_passes_the_views_and_shows_in_the_audit_trail(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an unknown event type declared not projected, with a summary
    monkeypatch.setitem(dispatch.NOT_PROJECTED, Noted, "a note changes no figure")
    monkeypatch.setitem(audit_trail.SUMMARIES, "Noted", "noted {note}")
    campaign_id = plan_campaign(ledger)
    position = record_around_the_rules(ledger, campaign_id, Noted, note="a note")
    # when the views catch up
    ledger.views.catch_up()
    # then they pass it, the audit trail shows it in words, and a rebuild agrees
    assert ledger.views.position() == position
    (entry,) = ledger.audit_trail(aggregate_id=campaign_id, after=position - 1).entries
    assert (entry.event, entry.summary) == ("Noted", "noted a note")
    assert ledger.verify_views().ok


def test_the_declared_idempotency_records_change_no_view_but_show_in_the_audit_trail(ledger: Ledger) -> None:
    # given a command executed with an idempotency key (its CommandRecord.Accepted is declared not projected)
    receipt = ledger.execute(
        c.PlanCampaign(
            title="keyed",
            theme="t",
            organiser="XA-QPC",
            starts_on=date(2017, 9, 1),
            ends_on=date(2017, 9, 30),
            idempotency_key="plan/keyed",
        ),
        ORGANISER,
    )
    # when the views catch up, then the audit trail shows the record in words and the views verify
    ledger.views.catch_up()
    events = {e.event: e.summary for e in ledger.audit_trail().entries}
    assert events["CommandRecord.Accepted"] == "accepted idempotency key plan/keyed"
    assert ledger.campaign_status(receipt.aggregate_id).title == "keyed"
    assert ledger.verify_views().ok
