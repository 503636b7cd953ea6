"""Snapshots: a cache that makes long streams load fast and never changes an answer."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import Repository

from quality_ledger import Ledger
from quality_ledger.eventlog import EventLog
from quality_ledger.scenarios import xian2017


def test_snapshot_plus_tail_equals_a_full_replay_at_every_version(tmp_path: Path) -> None:
    # given the Xi'an campaign, whose stream passes the snapshot interval
    with Ledger.open(f"sqlite:///{tmp_path}/x.db") as ledger:
        campaign_id = xian2017.load(ledger)
        store = EventLog.of(ledger)
        assert store.snapshots is not None
        snapshots = list(store.snapshots.get(campaign_id))
        assert [s.originator_version for s in snapshots] == [50]
        # when loaded with the snapshot, and replayed from the first event without it
        replay = Repository(event_store=store.aggregate_events)
        latest = ledger.get(campaign_id).version
        # then both agree at every version, before and after the snapshot
        for version in (1, 49, 50, 51, latest):
            assert ledger.get(campaign_id, version=version) == replay.get(campaign_id, version=version).view()


def test_snapshots_survive_a_reopen_and_a_replay_ignores_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    with Ledger.open(url) as ledger:
        campaign_id = xian2017.load(ledger)
        expected = ledger.get(campaign_id)
    with Ledger.open(url) as reopened:
        assert reopened.get(campaign_id) == expected
        with reopened.as_of(position=reopened.position()) as replayed:
            assert EventLog.of(replayed).snapshots is not None
            assert list(EventLog.of(replayed).snapshots.get(campaign_id)) == []
            assert replayed.get(campaign_id) == expected
