"""Fixtures shared by the suite: an in-memory ledger and a launched campaign."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ORGANISER = Actor(user="zhang.min", department="XA-QPC")
QTS = Actor(user="li.wei", department="XA-QTS")
FDA = Actor(user="chen.jing", department="XA-FDA")
OUTSIDER = Actor(user="wu.gang", department="XA-TOU")


def event_count(ledger: Ledger) -> int:
    """How many events the whole log holds: the measure of 'recorded nothing'."""
    return sum(1 for _ in ledger.events())


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as opened:
        yield opened


def plan_campaign(ledger: Ledger, *, launch: bool = True, title: str = "Xi'an 2017 Quality Month") -> UUID:
    """A campaign organised by XA-QPC with XA-QTS and XA-FDA enlisted."""
    campaign_id = ledger.execute(
        c.PlanCampaign(
            title=title,
            theme="建设品质西安",
            organiser="XA-QPC",
            starts_on=date(2017, 9, 1),
            ends_on=date(2017, 9, 30),
        ),
        ORGANISER,
    ).aggregate_id
    for code, zh, en in [
        ("XA-QTS", "市质监局", "Quality and Technical Supervision Bureau"),
        ("XA-FDA", "市食品药监局", "Food and Drug Administration"),
    ]:
        ledger.execute(c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh=zh, name_en=en), ORGANISER)
    if launch:
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    return campaign_id


@pytest.fixture
def campaign_id(ledger: Ledger) -> UUID:
    return plan_campaign(ledger)
