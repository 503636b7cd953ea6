"""Every stored class has a stable name; released names are never dropped or reused;
every topic a released version wrote still resolves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from quality_ledger import Ledger
from quality_ledger.domain.base import DomainEvent, LedgerAggregate, Snapshot
from quality_ledger.eventlog import EventLog
from quality_ledger.names import LEGACY_TOPICS, PREFIX, STORED, name_of
from tests.conftest import plan_campaign

RELEASED = frozenset(
    PREFIX + name
    for name in [
        "Activity",
        "Activity.Planned",
        "Activity.Scheduled",
        "Activity.Postponed",
        "Activity.Started",
        "Activity.ProgressReported",
        "Activity.Completed",
        "Activity.Cancelled",
        "Campaign",
        "Campaign.Planned",
        "Campaign.DepartmentEnlisted",
        "Campaign.Launched",
        "Campaign.ActivityAdded",
        "Campaign.InspectionAdded",
        "Campaign.CommendationAdded",
        "Campaign.BulletinPublished",
        "Campaign.Concluded",
        "Commendation",
        "Commendation.Nominated",
        "Commendation.Approved",
        "Commendation.Rejected",
        "Commendation.Conferred",
        "Commendation.Publicised",
        "Inspection",
        "Inspection.Planned",
        "Inspection.SampleTaken",
        "Inspection.SampleResultRecorded",
        "Inspection.VerdictIssued",
        "Inspection.ResultObjected",
        "Inspection.RetestResultRecorded",
        "Inspection.RectificationOrdered",
        "Inspection.RectificationVerified",
        "Inspection.PenaltyImposed",
        "Inspection.CaseTransferred",
        "Inspection.Closed",
        "CommandRecord",
        "CommandRecord.Accepted",
        "Erasure",
        "Erasure.SubjectForgotten",
        "Snapshot",
    ]
)
"""Every stable name a release has written. Add new ones here; never remove one."""

RETIRED: frozenset[str] = frozenset()
"""Names of classes no longer written: they keep resolving and may never name another class."""

TOPICS_0_1 = [
    "quality_ledger.domain.activity:Activity",
    "quality_ledger.domain.activity:Activity.Cancelled",
    "quality_ledger.domain.activity:Activity.Completed",
    "quality_ledger.domain.activity:Activity.Planned",
    "quality_ledger.domain.activity:Activity.Postponed",
    "quality_ledger.domain.activity:Activity.ProgressReported",
    "quality_ledger.domain.activity:Activity.Scheduled",
    "quality_ledger.domain.activity:Activity.Started",
    "quality_ledger.domain.campaign:Campaign",
    "quality_ledger.domain.campaign:Campaign.ActivityAdded",
    "quality_ledger.domain.campaign:Campaign.BulletinPublished",
    "quality_ledger.domain.campaign:Campaign.CommendationAdded",
    "quality_ledger.domain.campaign:Campaign.Concluded",
    "quality_ledger.domain.campaign:Campaign.DepartmentEnlisted",
    "quality_ledger.domain.campaign:Campaign.InspectionAdded",
    "quality_ledger.domain.campaign:Campaign.Launched",
    "quality_ledger.domain.campaign:Campaign.Planned",
    "quality_ledger.domain.commendation:Commendation",
    "quality_ledger.domain.commendation:Commendation.Approved",
    "quality_ledger.domain.commendation:Commendation.Conferred",
    "quality_ledger.domain.commendation:Commendation.Nominated",
    "quality_ledger.domain.commendation:Commendation.Publicised",
    "quality_ledger.domain.commendation:Commendation.Rejected",
    "quality_ledger.domain.inspection:Inspection",
    "quality_ledger.domain.inspection:Inspection.CaseTransferred",
    "quality_ledger.domain.inspection:Inspection.Closed",
    "quality_ledger.domain.inspection:Inspection.PenaltyImposed",
    "quality_ledger.domain.inspection:Inspection.Planned",
    "quality_ledger.domain.inspection:Inspection.RectificationOrdered",
    "quality_ledger.domain.inspection:Inspection.RectificationVerified",
    "quality_ledger.domain.inspection:Inspection.ResultObjected",
    "quality_ledger.domain.inspection:Inspection.RetestResultRecorded",
    "quality_ledger.domain.inspection:Inspection.SampleResultRecorded",
    "quality_ledger.domain.inspection:Inspection.SampleTaken",
    "quality_ledger.domain.inspection:Inspection.VerdictIssued",
    "quality_ledger.receipts:CommandRecord",
    "quality_ledger.receipts:CommandRecord.Accepted",
    "quality_ledger.domain.base:Snapshot",
]
"""The topics 0.1.0 stored (module paths), as they stand in its logs."""


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _concrete_stored_classes() -> set[type]:
    """The project's own classes that reach the store: concrete events (not the
    per-aggregate ``Event`` bases), aggregates, and the snapshot class."""
    events = {
        cls
        for cls in _subclasses(DomainEvent)
        if cls.__module__.startswith("quality_ledger.") and cls.__name__ not in ("Event", "CreationEvent")
    }
    aggregates = {cls for cls in _subclasses(LedgerAggregate) if cls.__module__.startswith("quality_ledger.")}
    return events | aggregates | {Snapshot}


@pytest.mark.parametrize("cls", sorted(_concrete_stored_classes(), key=lambda c: c.__qualname__), ids=str)
def test_every_stored_class_has_a_stable_name_of_its_own(cls: type) -> None:
    # given a class whose topic is stored; then it is stored under its stable name
    name = name_of(cls)
    assert name is not None, f"{cls.__qualname__} has no stable name: add it to quality_ledger.names.STORED"
    assert get_topic(cls) == name


def test_released_names_are_never_dropped_and_new_ones_are_released_on_purpose() -> None:
    # then every released name is still in the table, and the table holds nothing unreleased
    assert sorted(RELEASED - set(STORED)) == [], "a released stable name was dropped"
    assert sorted(set(STORED) - RELEASED) == [], "a new stable name: add it to RELEASED in this test"


def test_no_name_is_reused() -> None:
    # then no class is stored under two names, and no retired name names a class again
    assert len(set(STORED.values())) == len(STORED)
    assert not (RETIRED & set(STORED))


@pytest.mark.parametrize("topic", TOPICS_0_1)
def test_every_topic_written_by_0_1_still_resolves_to_its_class(topic: str) -> None:
    # when a 0.1.0 topic is resolved, then it is the class now stored under the same name
    cls = resolve_topic(topic)
    assert LEGACY_TOPICS[topic] is cls
    assert name_of(cls) == PREFIX + topic.split(":")[1]


def test_new_events_are_stored_under_stable_names(ledger: Ledger) -> None:
    # given a ledger with a planned campaign
    plan_campaign(ledger)
    # then every stored topic is a stable name
    topics = {n.topic for n in ledger.chain.select_raw(1, 1000)}
    assert topics, "nothing stored"
    assert all(t.startswith(PREFIX) for t in topics), topics


def test_an_event_stored_under_its_0_1_topic_reads_back(ledger: Ledger) -> None:
    # given an event as 0.1.0 stored it: module-path topic, and its creation payload naming the aggregate by path
    plan_campaign(ledger)
    mapper = EventLog.of(ledger).mapper  # with the ledger's keys: the clerk's name is sealed
    stored = ledger.chain.select_raw(1, 1)[0]
    legacy_topic = {name: topic for topic, name in ((t, PREFIX + t.split(":")[1]) for t in TOPICS_0_1)}[stored.topic]
    old_state = stored.state.replace(b'"quality-ledger/Campaign"', b'"quality_ledger.domain.campaign:Campaign"')
    old = StoredEvent(stored.originator_id, stored.originator_version, legacy_topic, old_state)
    # when it is read, then it is the same event, and it still creates the aggregate
    event = mapper.to_domain_event(old)
    assert event == mapper.to_domain_event(
        StoredEvent(stored.originator_id, stored.originator_version, stored.topic, stored.state)
    ).model_copy(update={"originator_topic": "quality_ledger.domain.campaign:Campaign"})
    assert event.mutate(None).id == event.originator_id
