"""Versioned schemas: every stored class names its schema version and can read every earlier one.

A class at ``class_version`` N carries ``upcast_v1_v2`` ... ``upcast_v{N-1}_vN``
(static, pure functions of the stored dict); the mapper runs them on read, so
the stored bytes, which the hash chain covers, never change. The one real
change so far: ``Inspection.ResultObjected`` v2 records who lodged the
objection; v1 events read back as "not recorded" (None).
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from quality_ledger import AllowAll, DepartmentPolicy, Ledger
from quality_ledger.domain.base import DomainEvent, Snapshot
from quality_ledger.domain.inspection import Inspection, InspectionState
from quality_ledger.domain.values import LodgedBy
from quality_ledger.errors import IntegrityError
from quality_ledger.persistence import PydanticMapper
from tests.conftest import FDA, QTS, plan_campaign
from tests.integration.test_authorization import (
    REPRESENTATIVE,
    SUBJECT,
    SUBJECT_CODE,
    nonconforming_inspection,
    objection,
)

UPCASTER = re.compile(r"^upcast_v(\d+)_v(\d+)$")
ID = UUID("5d0c4d3e-2c39-4b8e-9d7a-0b8c1f0e6a11")

V1_OBJECTION = (
    b'{"timestamp":"2018-01-02T02:28:30Z","meta":{"user":"clerk.qts","department":"XA-QTS",'
    b'"command":"ObjectToResult","command_id":"03e2e3ad-36e0-4405-b7b5-45af7e59a8b4",'
    b'"correlation_id":"03e2e3ad-36e0-4405-b7b5-45af7e59a8b4","occurred_on":"2017-09-25"},'
    b'"sample_id":"DX01-1","lodged_on":"2017-09-25"}'
)
"""An objection exactly as 0.1.0 stored it (from the golden log): no class_version, no lodged_by."""

V1_SNAPSHOT = (
    b'{"timestamp":"2018-01-02T01:42:30Z","topic":"quality_ledger.domain.campaign:Campaign",'
    b'"state":{"created_on":"2018-01-02T01:00:00+00:00","modified_on":"2018-01-02T01:42:30+00:00",'
    b'"state":{"id":"5d0c4d3e-2c39-4b8e-9d7a-0b8c1f0e6a11","version":0}}}'
)
"""A snapshot as 0.1.0 stored it (shortened state): no class_version, no fingerprint."""

EARLIER_PAYLOADS: dict[tuple[type, int], tuple[str, bytes]] = {
    (Inspection.ResultObjected, 1): ("quality_ledger.domain.inspection:Inspection.ResultObjected", V1_OBJECTION),
    (Snapshot, 1): ("quality_ledger.domain.base:Snapshot", V1_SNAPSHOT),
}
"""One stored payload (topic, bytes) of every earlier version of every versioned class."""


def stored_classes() -> list[type]:
    """Every event class, and the snapshot class: what the mapper ever reads."""
    found: list[type] = [Snapshot]
    pending: list[type] = [DomainEvent]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=JSONTranscoder())


def stored(topic: str, state: bytes, version: int = 7) -> StoredEvent:
    return StoredEvent(originator_id=ID, originator_version=version, topic=topic, state=state)


@pytest.mark.parametrize("cls", stored_classes(), ids=lambda cls: cls.__qualname__)
def test_every_stored_class_has_the_whole_upcast_chain_and_nothing_beyond(cls: type) -> None:
    version = cls.class_version  # type: ignore[attr-defined]
    # then: an upcaster for each step up to its version, each a static function of the stored dict
    for n in range(1, version):
        upcaster = inspect.getattr_static(cls, f"upcast_v{n}_v{n + 1}", None)
        assert isinstance(upcaster, staticmethod), f"{cls.__qualname__} v{version} lacks a static upcast_v{n}_v{n + 1}"
    # and: no upcaster to a version the class does not declare (a forgotten class_version bump)
    for name in dir(cls):
        if match := UPCASTER.match(name):
            start, end = int(match[1]), int(match[2])
            assert end == start + 1 <= version, f"{cls.__qualname__}.{name} but class_version is {version}"


def test_every_earlier_version_of_every_versioned_class_has_a_stored_example() -> None:
    # given: every class whose schema changed since its first release
    versioned = [cls for cls in stored_classes() if cls.class_version > 1]  # type: ignore[attr-defined]
    assert Inspection.ResultObjected in versioned
    # then: an example of each earlier version is kept here, so its upcasting is tested below
    for cls in versioned:
        for n in range(1, cls.class_version):  # type: ignore[attr-defined]
            assert (cls, n) in EARLIER_PAYLOADS, f"add a stored v{n} payload of {cls.__qualname__}"


@pytest.mark.parametrize(("cls", "version"), list(EARLIER_PAYLOADS), ids=lambda x: getattr(x, "__qualname__", f"v{x}"))
def test_an_earlier_payload_upcasts_to_a_valid_event_of_todays_class(cls: type, version: int) -> None:
    topic, state = EARLIER_PAYLOADS[cls, version]
    # when: read through today's mapper
    event = mapper().to_domain_event(stored(topic, state))
    # then: it is today's class, validated, with the ids of its row
    assert type(event) is cls
    assert (event.originator_id, event.originator_version) == (ID, 7)


def test_an_objection_recorded_before_v2_reads_back_as_not_recorded() -> None:
    # when: the objection 0.1.0 stored is read
    event = mapper().to_domain_event(stored(EARLIER_PAYLOADS[Inspection.ResultObjected, 1][0], V1_OBJECTION))
    # then: who lodged it is not recorded (never guessed), and the rest is as stored
    assert isinstance(event, Inspection.ResultObjected)
    assert event.lodged_by is None
    assert (event.sample_id, event.lodged_on) == ("DX01-1", date(2017, 9, 25))
    assert event.meta is not None
    assert event.meta.department == "XA-QTS"


def test_a_new_objection_is_stored_as_v2_under_the_same_stable_name() -> None:
    # given
    event = Inspection.ResultObjected(
        originator_id=ID,
        originator_version=5,
        timestamp="2017-09-13T08:00:00Z",  # type: ignore[arg-type]
        sample_id="S1",
        lodged_on=date(2017, 9, 13),
        lodged_by=LodgedBy.SUBJECT,
    )
    # when
    row = mapper().to_stored_event(event)
    # then: the topic released in 0.1 is unchanged, the payload says its version, and it reads back equal
    assert row.topic == "quality-ledger/Inspection.ResultObjected"
    payload = json.loads(row.state)
    assert payload["class_version"] == 2
    assert payload["lodged_by"] == "subject"
    assert mapper().to_domain_event(row) == event


def test_a_payload_from_a_newer_schema_is_refused_naming_both_versions() -> None:
    # given: an objection as a later release (v3) might store it
    payload: dict[str, Any] = json.loads(V1_OBJECTION)
    payload.update(class_version=3, lodged_by="subject", channel="online")
    row = stored("quality-ledger/Inspection.ResultObjected", json.dumps(payload).encode())
    # when / then
    with pytest.raises(IntegrityError, match=r"schema v3, newer than the v2 .*upgrade quality_ledger"):
        mapper().to_domain_event(row)


@pytest.mark.parametrize("class_version", ["2", 0, True, None])
def test_a_payload_with_a_meaningless_class_version_is_refused(class_version: object) -> None:
    payload: dict[str, Any] = json.loads(V1_OBJECTION)
    payload.update(class_version=class_version)
    row = stored("quality-ledger/Inspection.ResultObjected", json.dumps(payload).encode())
    with pytest.raises(IntegrityError, match="is not a schema version"):
        mapper().to_domain_event(row)


# End to end: who lodged the objection, as the ledger records it ----------------------------------


def objected(ledger: Ledger, actor: Any) -> tuple[InspectionState, dict[str, Any]]:
    """The inspection after ``actor`` objected to its failed sample, and the recorded payload."""
    inspection_id = nonconforming_inspection(ledger, plan_campaign(ledger))
    ledger.execute(objection(inspection_id), actor)
    state = ledger.get(inspection_id)
    assert isinstance(state, InspectionState)
    return state, ledger.history(inspection_id)[-1].payload


def test_the_inspecting_department_recording_an_objection_is_recorded_as_such() -> None:
    with Ledger.in_memory() as ledger:
        # when
        state, payload = objected(ledger, QTS)
    # then
    assert state.samples[0].objection_lodged_by is LodgedBy.INSPECTING_DEPARTMENT
    assert payload["lodged_by"] == "inspecting-department"


def test_the_subjects_representative_lodging_an_objection_is_recorded_as_the_subject() -> None:
    # given: a policy that knows who speaks for the inspected subject
    with Ledger.in_memory(policy=DepartmentPolicy(subjects={SUBJECT_CODE: SUBJECT})) as ledger:
        # when
        state, payload = objected(ledger, REPRESENTATIVE)
    # then
    assert state.samples[0].objection_lodged_by is LodgedBy.SUBJECT
    assert payload["lodged_by"] == "subject"


def test_an_objection_a_custom_policy_let_in_for_neither_is_recorded_as_unknown() -> None:
    # given: AllowAll (an import, a migration) lets a department that did not inspect object
    with Ledger.in_memory(policy=AllowAll()) as ledger:
        # when
        state, payload = objected(ledger, FDA)
    # then: on whose behalf is not guessed
    assert state.samples[0].objected_on == date(2017, 9, 13)
    assert state.samples[0].objection_lodged_by is None
    assert payload["lodged_by"] is None
