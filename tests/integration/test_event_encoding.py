"""Stored bytes never change with the encoder: the mapper's fast encoding
(pydantic's own JSON) writes exactly what ``json.dumps(model_dump(mode="json"))``
wrote, for every event of the Xi'an case and of every golden log, and for
awkward values: Chinese text, escapes, line separators, decimals, dates,
UUIDs, enums, None. The hash chain covers these bytes, so one byte of
difference would break every chain written before."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder
from pydantic import BaseModel

from quality_ledger import Ledger
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.inspection import Inspection
from quality_ledger.domain.values import Frozen
from quality_ledger.scenarios.xian2017 import load
from quality_ledger.store.mapper import PydanticMapper, _encodes_natively

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
VERSIONS = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
MAPPER = PydanticMapper(transcoder=JSONTranscoder())

AWKWARD = [
    "西安市质量技术监督局",  # Chinese
    'quote " backslash \\ slash /',
    "tab\tnew line\ncarriage\rform\fbell\x07 unit\x1f",
    "line\u2028paragraph\u2029separators",
    "emoji 🧪 and accents é ü ñ, full-width ＡＢＣ",
    "",
]


def previous_encoding(event: BaseModel) -> bytes:
    """What the mapper wrote before it used pydantic's JSON: the stored-bytes contract."""
    state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()


def assert_same_bytes(events: list[DomainEvent]) -> None:
    assert events, "no events to compare"
    for event in events:
        assert MAPPER.to_stored_event(event).state == previous_encoding(event), type(event).__qualname__


@pytest.fixture(scope="module")
def xian_events(tmp_path_factory: pytest.TempPathFactory) -> list[DomainEvent]:
    with Ledger.open(f"sqlite:///{tmp_path_factory.mktemp('xian')}/xian.db") as ledger:
        load(ledger)
        return [event for _, event in ledger.events()]


@pytest.fixture(scope="module", params=VERSIONS)
def golden_events(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[DomainEvent]]:
    """Every event of a golden log (a copy: opening may write to the file), decoded by today's classes."""
    copy = tmp_path_factory.mktemp(f"golden-{request.param}") / "ledger.db"
    shutil.copyfile(GOLDEN / request.param / "ledger.db", copy)
    with Ledger.open(f"sqlite:///{copy}") as ledger:
        yield [event for _, event in ledger.events()]


def test_every_event_of_the_xian_case_encodes_to_the_same_bytes(xian_events: list[DomainEvent]) -> None:
    # then: the case's every event type, with its Chinese names, dates, ids and enums, is byte-identical
    assert len({type(e) for e in xian_events}) >= 15
    assert any(not e.model_dump_json().isascii() for e in xian_events)
    assert_same_bytes(xian_events)


def test_every_event_of_each_golden_log_decoded_and_encoded_again_gives_the_same_bytes(
    golden_events: list[DomainEvent],
) -> None:
    assert_same_bytes(golden_events)


def test_awkward_text_in_every_text_field_encodes_to_the_same_bytes(xian_events: list[DomainEvent]) -> None:
    # given: one event of each type, each of its text fields (top level and in its metadata) set to awkward text
    samples = list({type(e): e for e in xian_events}.values())
    changed: list[DomainEvent] = []
    for event in samples:
        for text in AWKWARD:
            fields = {name: text for name, value in event.__dict__.items() if type(value) is str}  # not enums
            meta = event.meta.model_copy(update={"user": text, "command": text}) if event.meta else None
            changed.append(event.model_copy(update={**fields, "meta": meta}))
    # then: every one of them encodes to the same bytes both ways
    assert_same_bytes(changed)


def test_decimals_none_and_odd_instants_encode_to_the_same_bytes(xian_events: list[DomainEvent]) -> None:
    # given: the case's penalty with decimals of every shape, no metadata, timestamps with and without microseconds
    penalised = next(e for e in xian_events if isinstance(e, Inspection.PenaltyImposed))
    events: list[DomainEvent] = []
    for amount in ("0", "0.10", "1E+3", "123456789012.34", "5000"):
        for timestamp in (datetime(2017, 9, 1, tzinfo=UTC), datetime(2017, 9, 1, 8, 30, 0, 123, tzinfo=UTC)):
            penalty = penalised.penalty.model_copy(update={"amount": Decimal(amount)})
            events.append(penalised.model_copy(update={"penalty": penalty, "timestamp": timestamp, "meta": None}))
    assert_same_bytes(events)


def test_an_event_of_a_later_schema_version_keeps_class_version_last(xian_events: list[DomainEvent]) -> None:
    # given: the case's objections, stored at schema version 2
    objected = [e for e in xian_events if isinstance(e, Inspection.ResultObjected)]
    assert objected
    assert type(objected[0]).class_version == 2
    # then: class_version is written after every field, as before
    assert all(MAPPER.to_stored_event(e).state.endswith(b',"class_version":2}') for e in objected)
    assert_same_bytes(objected)


class Measured(Frozen):
    """A stand-in event with floats, which pydantic writes otherwise than json.dumps
    (``1e-7`` against ``1e-07``). Not a ``DomainEvent``: that would register a topic
    for every other test in the process."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    reading: float
    extra: Any = None


def test_an_event_class_with_a_float_keeps_the_previous_encoding() -> None:
    # given: an event whose floats json.dumps and pydantic write differently
    event = Measured(
        originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC), reading=1e-7, extra={"x": 2.5e-9}
    )
    assert event.model_dump_json().encode() != previous_encoding(event)
    # then: the mapper does not take pydantic's path for it, and writes the previous bytes
    assert not _encodes_natively(Measured)
    assert MAPPER.to_stored_event(event).state == previous_encoding(event)
    assert b'"reading":1e-07' in MAPPER.to_stored_event(event).state


def test_the_domain_events_take_the_fast_path(xian_events: list[DomainEvent]) -> None:
    # the equality tests above would hold on the old path alone: they test the new one only if it is taken
    assert all(_encodes_natively(type(e)) for e in xian_events)
