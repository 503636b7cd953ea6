"""The latest snapshot and the events after it, read together (one transaction
on SQLite, one statement on PostgreSQL): the same rows and the same aggregate
as reading them one after the other, with a snapshot or without, a stale one,
and at every earlier version.

The reference reads are eventsourcing's own: its recorders' ``select_events``
(the two-step read) and a ``Repository`` that replays from the first event.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.base import AggregateState, Snapshot
from quality_ledger.errors import StoreUnavailable
from quality_ledger.eventlog import EventLog
from quality_ledger.snapshots import SnapshotRepository
from tests.conftest import QTS, plan_campaign, started_activity, with_query
from tests.integration.proxy import LoopbackProxy

EVERY = 3
"""A snapshot interval that puts several snapshots in a short stream."""
SNAPSHOT_TOPIC = "quality-ledger/Snapshot"


def repository(ledger: Ledger) -> SnapshotRepository:
    found = EventLog.of(ledger).repository
    assert isinstance(found, SnapshotRepository)
    return found


def replayed(ledger: Ledger, aggregate_id: UUID, version: int | None) -> AggregateState:
    """The state from the first event, no snapshot: what every read must equal."""
    state: AggregateState = (
        Repository(event_store=EventLog.of(ledger).aggregate_events).get(aggregate_id, version=version).view()
    )
    return state


def two_step(ledger: Ledger, aggregate_id: UUID, version: int | None) -> tuple[StoredEvent | None, list[StoredEvent]]:
    """The latest snapshot up to ``version``, then the events after it: two reads."""
    store = EventLog.of(ledger)
    found = store.snapshots.recorder.select_events(aggregate_id, desc=True, limit=1, lte=version)
    after = found[0].originator_version if found else None
    events = store.aggregate_events.recorder.select_events(aggregate_id, gt=after, lte=version)
    return (found[0] if found else None), list(events)


def snapshot_versions(ledger: Ledger, aggregate_id: UUID) -> list[int]:
    return [row.originator_version for row in EventLog.of(ledger).snapshots.recorder.select_events(aggregate_id)]


def campaign_with_snapshots(ledger: Ledger) -> UUID:
    """A campaign at version 8, snapshotted at 3 and 6 (plan, two enlistments, launch, four activities)."""
    EventLog.of(ledger).snapshot_every = EVERY
    campaign_id = plan_campaign(ledger)
    for n in range(4):
        ledger.execute(
            c.PlanActivity(
                campaign_id=campaign_id,
                title=f"visit {n}",
                lead_department="XA-QTS",
                focus_area="everyone-takes-part",
            ),
            QTS,
        )
    assert ledger.get(campaign_id).version == 8
    assert snapshot_versions(ledger, campaign_id) == [3, 6]
    return campaign_id


def unsnapshotted_activity(ledger: Ledger, campaign_id: UUID) -> UUID:
    """An activity at version 2: under the interval, so no snapshot."""
    activity_id = started_activity(ledger, campaign_id, "unsnapshotted")
    assert snapshot_versions(ledger, activity_id) == []
    return activity_id


def test_every_read_of_a_snapshotted_stream_equals_a_full_replay(ledger: Ledger) -> None:
    # given: a campaign snapshotted at 3 and 6, and an activity with no snapshot
    campaign_id = campaign_with_snapshots(ledger)
    activity_id = unsnapshotted_activity(ledger, campaign_id)
    # when: each is read at every version, and at its latest
    # then: each read equals the replay from the first event
    for aggregate_id in (campaign_id, activity_id):
        latest = ledger.get(aggregate_id).version
        for version in (None, *range(1, latest + 1)):
            assert ledger.get(aggregate_id, version=version) == replayed(ledger, aggregate_id, version)


def test_a_stale_latest_snapshot_is_read_around_at_every_version_and_replaced(ledger: Ledger) -> None:
    # given: a campaign snapshotted at 3 and 6, and at 8 a snapshot that cannot be read
    campaign_id = campaign_with_snapshots(ledger)
    store = EventLog.of(ledger).snapshots
    damaged = StoredEvent(originator_id=campaign_id, originator_version=8, topic=SNAPSHOT_TOPIC, state=b"\x00not json")
    store.recorder.insert_events([damaged])
    # when: it is read at every version
    # then: every read equals the replay
    for version in (None, *range(1, 9)):
        assert ledger.get(campaign_id, version=version) == replayed(ledger, campaign_id, version)
    # and: the damaged snapshot was replaced, in place, by a current one
    assert snapshot_versions(ledger, campaign_id) == [3, 6, 8]
    latest = store.mapper.to_domain_event(store.recorder.select_events(campaign_id, desc=True, limit=1)[0])
    assert isinstance(latest, Snapshot)
    assert latest.is_current()
    assert latest.mutate(None).view() == replayed(ledger, campaign_id, 8)


@pytest.mark.parametrize("version", [None, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_the_rows_read_together_are_the_rows_read_one_after_the_other(durable_url: str, version: int | None) -> None:
    # given: on SQLite and PostgreSQL, a campaign snapshotted at 3 and 6, and an activity with no snapshot
    with Ledger.open(durable_url) as ledger:
        campaign_id = campaign_with_snapshots(ledger)
        activity_id = unsnapshotted_activity(ledger, campaign_id)
        for aggregate_id in (campaign_id, activity_id):
            # when: the snapshot and the events after it are read together
            together = repository(ledger).read_together(aggregate_id, version)
            # then: they are read together (not left to the two-step read), and are the same rows
            assert together is not None
            assert together == two_step(ledger, aggregate_id, version)


def test_an_aggregate_that_is_not_there_is_read_as_nothing(durable_url: str) -> None:
    with Ledger.open(durable_url) as ledger:
        plan_campaign(ledger)
        missing = UUID(int=7)
        assert repository(ledger).read_together(missing, None) == (None, [])
        assert repository(ledger).read_together(missing, 3) == (None, [])


@pytest.mark.postgres
def test_an_aggregate_read_while_postgresql_is_out_of_reach_is_unavailable_and_the_same_ledger_recovers(
    postgres_url: str,
) -> None:
    # given: a ledger reaching the server through a proxy, with a snapshotted campaign
    with (
        LoopbackProxy.running(postgres_url) as proxy,
        Ledger.open(with_query(proxy.url(postgres_url), connect_timeout="1")) as ledger,
    ):
        campaign_id = campaign_with_snapshots(ledger)
        state = ledger.get(campaign_id)
        # when: the server drops out of reach
        proxy.cut()
        # then: reading the campaign says so, on one line
        with pytest.raises(StoreUnavailable, match=rf"PostgreSQL at 127\.0\.0\.1:{proxy.port}") as raised:
            ledger.get(campaign_id)
        assert "\n" not in str(raised.value)
        # when: it is back
        proxy.restore()
        # then: the same ledger reads it again
        assert ledger.get(campaign_id) == state
