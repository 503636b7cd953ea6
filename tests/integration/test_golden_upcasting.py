"""Every payload a released version stored at an earlier schema version upcasts to a valid event.

The golden logs (``tests/fixtures/golden/``) hold what released versions
actually wrote; here each of their rows whose class has since gained a
schema version is read through today's mapper, and the one real change so
far (``Inspection.ResultObjected`` v2, who lodged the objection) is checked
to read old events as "not recorded" (None), in the events and in the state.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import resolve_topic

from quality_ledger import Ledger
from quality_ledger.domain.inspection import Inspection, InspectionState
from quality_ledger.persistence import PydanticMapper
from tests.integration.test_golden_logs import GOLDEN, VERSIONS, rows


@pytest.mark.parametrize("version", VERSIONS)
def test_every_golden_row_of_an_earlier_schema_version_upcasts_to_a_valid_event(version: str) -> None:
    # given: every stored event and snapshot of a golden log
    path = GOLDEN / version / "ledger.db"
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    upcast: Counter[str] = Counter()
    for row in rows(path, "stored_events") + rows(path, "stored_snapshots"):
        cls = resolve_topic(row.topic)
        stored_version = json.loads(row.state).get("class_version", 1)
        if stored_version == cls.class_version:
            continue
        # when: read through today's mapper
        event = mapper.to_domain_event(row)
        # then: today's class, validated
        assert type(event) is cls
        upcast[cls.__qualname__] += 1
    if version == "0.1.0":
        assert upcast["Inspection.ResultObjected"] > 0
        assert upcast["Snapshot"] == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_objections_recorded_before_v2_read_back_as_not_recorded(version: str, tmp_path: Path) -> None:
    # given: a copy of a golden log, and which of its objections were stored at v1,
    # before objections said who lodged them (every one of 0.1.0's; none of a later log's)
    path = GOLDEN / version / "ledger.db"
    stored_v1 = {
        (UUID(row.originator_id), row.originator_version)
        for row in rows(path, "stored_events")
        if resolve_topic(row.topic) is Inspection.ResultObjected and "class_version" not in json.loads(row.state)
    }
    copy = tmp_path / "ledger.db"
    copy.write_bytes(path.read_bytes())
    with Ledger.open(f"sqlite:///{copy}", create=False) as ledger:
        objections = [
            e
            for _, e in ledger.events()
            if isinstance(e, Inspection.ResultObjected) and (e.originator_id, e.originator_version) in stored_v1
        ]
        assert len(objections) == len(stored_v1)
        if version == "0.1.0":
            assert objections
        # then: in the events, and in the state of each inspection objected to
        assert all(e.lodged_by is None for e in objections)
        for inspection_id in {e.originator_id for e in objections}:
            state = ledger.get(inspection_id)
            assert isinstance(state, InspectionState)
            objected = [s for s in state.samples if s.objected_on is not None]
            assert objected
            assert all(s.objection_lodged_by is None for s in objected)
