"""A campaign's state does not grow with its children (issue 14).

Its activities, inspections and commendations join by ``*Added`` events;
the state counts them and lists none, so applying one costs the same however
many came before (replay is linear), and a snapshot of a campaign with a
thousand activities is the size of one with ten. Nothing here times anything:
it measures the state itself.
"""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID, uuid5

from quality_ledger.domain.base import Snapshot
from quality_ledger.domain.campaign import Campaign, Department
from quality_ledger.domain.values import FocusArea

QTS = Department(code="XA-QTS", name_zh="市质监局", name_en="Quality and Technical Supervision Bureau")


def campaign_with(children: int) -> Campaign:
    """A launched campaign with ``children`` activities, inspections and commendations each."""
    campaign = Campaign.plan(
        UUID(int=1),
        title="Xi'an 2017 Quality Month",
        theme="建设品质西安",
        purpose="",
        organiser="XA-QPC",
        partners=(),
        starts_on=date(2017, 9, 1),
        ends_on=date(2017, 9, 30),
        focus_areas=(FocusArea.LIVELIHOOD,),
    )
    campaign.enlist(QTS)
    campaign.launch(date(2017, 9, 1))
    for n in range(children):
        campaign.add_activity(uuid5(campaign.id, f"activity {n}"), "XA-QTS")
        campaign.add_inspection(uuid5(campaign.id, f"inspection {n}"), "XA-QTS")
        campaign.add_commendation(uuid5(campaign.id, f"commendation {n}"), "XA-QTS", nominated=False)
    return campaign


def snapshot_bytes(campaign: Campaign) -> int:
    return len(json.dumps(Snapshot.take(campaign).state, ensure_ascii=False).encode())


def test_a_campaign_snapshot_is_the_same_size_with_ten_or_a_thousand_children() -> None:
    # given two campaigns, one with 10 activities, inspections and commendations, one with 1,000
    small, large = campaign_with(10), campaign_with(1_000)
    # then their snapshots differ only by the digits of their counts and version
    assert large.version == small.version + 3 * 990
    assert abs(snapshot_bytes(large) - snapshot_bytes(small)) <= 12


def test_adding_a_child_changes_only_its_count() -> None:
    # given a campaign with 100 of each child, and one with one activity more
    before = campaign_with(100)
    after = campaign_with(100)
    after.add_activity(uuid5(after.id, "one more"), "XA-QTS")
    # then the states differ in the activity count alone: no field holds the children
    old, new = before.state.model_dump(), after.state.model_dump()
    assert {k for k in old if old[k] != new[k]} == {"activities"}
    assert (new["activities"], new["inspections"], new["commendations"]) == (101, 100, 100)


def test_a_campaign_replayed_from_its_events_counts_its_children() -> None:
    # given a campaign with 50 of each child, its events collected as the store would get them
    live = campaign_with(50)
    events = live.collect_events()
    # when it is replayed from those events
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    # then the replay has the live state
    assert isinstance(replayed, Campaign)
    assert replayed.state == live.state
    assert (replayed.state.activities, replayed.state.inspections, replayed.state.commendations) == (50, 50, 50)
