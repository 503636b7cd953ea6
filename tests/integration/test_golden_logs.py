"""Golden logs: every released version's ledger still opens, verifies and gives the same figures.

Each directory under ``tests/fixtures/golden/`` holds a SQLite ledger written by
one released version (``ledger.db``, with its ``SHA256``, the ``VERSION`` that
wrote it, and ``expected.json``: the figures that version gave). Today's code
must open a copy of each, verify it clean, rebuild the views from zero and
reproduce every figure. A golden file is never changed: a failure here means
today's code can no longer read what was recorded, not that the file is stale.

Comparison rule: state and figure models (and an event's payload) may GAIN
fields in later versions, so every field the expected document holds must be
present and equal, and fields the actual has beyond those are allowed. Lists
must have the same length and order; mappings that are data (counts by state,
ids to figures) must have exactly the same keys; every value is equal exactly,
with the same JSON type, once serialised as ``model_dump(mode="json")`` would.

One documented exception, :data:`RETIRED`: a state field dropped on purpose
(a campaign's id lists, which made replay quadratic: issue 14) is checked
where its information now lives: the count that replaced it, and the
campaign's own ``*Added`` events, which must list the same ids in the same order.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from quality_ledger import Ledger
from quality_ledger.errors import EncryptionKeyError

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
VERSIONS = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
FILES = {"ledger.db", "SHA256", "VERSION", "expected.json"}
AT_REST = GOLDEN / "_at_rest"
"""Golden logs of ledgers encrypted at rest (``encryption_key=``), from 0.2.0
on: one directory per release, as above, with the log's ``key`` (hex) beside it."""
LOGS = [GOLDEN / v for v in VERSIONS] + sorted(
    p for p in AT_REST.iterdir() if p.is_dir() and not p.name.startswith(".")
)
"""Every golden log's directory: the plain ones, then those encrypted at rest."""


def rows(path: Path, table: str) -> list[StoredEvent]:
    """The stored rows of ``table``, read without writing anything beside the fixture."""
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        found = connection.execute(f"SELECT originator_id, originator_version, topic, state FROM {table}")
        return [StoredEvent(originator_id=i, originator_version=v, topic=t, state=s) for i, v, t, s in found]
    finally:
        connection.close()


def log_id(directory: Path) -> str:
    return directory.name + ("-at-rest" if directory.parent == AT_REST else "")


def encryption_key(directory: Path) -> bytes | None:
    """The key a golden log encrypted at rest is opened with; None for a plain one."""
    key = directory / "key"
    return bytes.fromhex(key.read_text().strip()) if key.exists() else None


def assert_matches(expected: Any, actual: Any, where: str = "", *, document: bool = False) -> None:
    """``actual`` holds everything ``expected`` (JSON) holds, by the module's comparison rule.

    ``document``: inside an event's payload, whose mappings are the event's
    (and its values') fields, so they may gain keys as models do.
    """
    if isinstance(actual, BaseModel):
        assert isinstance(expected, dict), f"{where}: expected {expected!r}, got a {type(actual).__name__}"
        fields = type(actual).model_fields
        for key, value in expected.items():
            assert key in fields, f"{where}: {type(actual).__name__} no longer has the field {key!r}"
            assert_matches(value, getattr(actual, key), f"{where}.{key}", document=key == "payload")
    elif isinstance(actual, Mapping):
        assert isinstance(expected, dict), f"{where}: expected {expected!r}, got a mapping"
        items = {str(to_jsonable_python(k)): v for k, v in actual.items()}
        if not document:
            assert set(items) == set(expected), f"{where}: keys {sorted(items)} != expected {sorted(expected)}"
        for key, value in expected.items():
            assert key in items, f"{where}: no key {key!r}"
            assert_matches(value, items[key], f"{where}.{key}", document=document)
    elif isinstance(actual, list | tuple):
        assert isinstance(expected, list), f"{where}: expected {expected!r}, got a sequence"
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, expected {len(expected)}"
        for n, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_matches(e, a, f"{where}[{n}]", document=document)
    else:
        value = to_jsonable_python(actual)
        assert (type(value), value) == (type(expected), expected), f"{where}: {value!r} != expected {expected!r}"


RETIRED: dict[tuple[str, str], tuple[str, str]] = {
    ("CampaignState", "activity_ids"): ("activities", "activity_id"),
    ("CampaignState", "inspection_ids"): ("inspections", "inspection_id"),
    ("CampaignState", "commendation_ids"): ("commendations", "commendation_id"),
}
"""(state model, retired field) -> (the count replacing it, the ``*Added`` payload field listing the ids)."""


def assert_state_matches(expected: dict[str, Any], ledger: Ledger, aggregate_id: UUID, version: int | None) -> None:
    """``assert_matches`` for an aggregate's state, the :data:`RETIRED` fields checked where they live now."""
    actual = ledger.get(aggregate_id, version=version)
    where = f"state {aggregate_id}" + (f" v{version}" if version is not None else "")
    remaining = dict(expected)
    for (model, field), (count, listed) in RETIRED.items():
        if type(actual).__name__ != model or field not in remaining:
            continue
        ids = remaining.pop(field)
        upto = actual.version
        added = [e.payload[listed] for e in ledger.history(aggregate_id) if e.version <= upto and listed in e.payload]
        assert added == ids, f"{where}.{field}: the stream lists {added}, expected {ids}"
        assert getattr(actual, count) == len(ids), f"{where}.{count}: {getattr(actual, count)} != {len(ids)}"
    assert_matches(remaining, actual, where)


@dataclass(frozen=True)
class Golden:
    """A golden log opened by today's code, on a copy, with what its writer recorded."""

    version: str
    ledger: Ledger
    expected: dict[str, Any]
    verified: Any
    """``Ledger.verify()``'s report, before the views were rebuilt (typed loosely: the test
    imports only the public package, so a module move cannot break it)."""
    rebuilt: int


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=LOGS, ids=log_id)
def golden(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Golden]:
    """Given a copy of a golden log (never the fixture itself: opening a SQLite
    file may write to it), opened with today's code, verified, views rebuilt."""
    directory: Path = request.param
    version = directory.name
    copy = tmp_path_factory.mktemp(f"golden-{version}") / "ledger.db"
    shutil.copyfile(directory / "ledger.db", copy)
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    ledger = Ledger.open(f"sqlite:///{copy}", encryption_key=encryption_key(directory))
    try:
        verified = ledger.verify()
        rebuilt = ledger.views.rebuild()
        yield Golden(version, ledger, expected, verified, rebuilt)
    finally:
        ledger.close()


def test_there_is_a_golden_log_of_the_first_release() -> None:
    assert "0.1.0" in VERSIONS


@pytest.mark.parametrize("directory", LOGS, ids=log_id)
def test_golden_files_are_exactly_as_written(directory: Path) -> None:
    """A golden file is never changed: its digest is the one written beside it,
    and no journal of an opened database sits next to it."""
    at_rest = directory.parent == AT_REST
    assert {p.name for p in directory.iterdir()} == (FILES | {"key"} if at_rest else FILES)
    digest, name = (directory / "SHA256").read_text().split()
    assert name == "ledger.db"
    assert sha256(directory / "ledger.db") == digest
    assert (directory / "VERSION").read_text().startswith(f"quality_ledger {directory.name}\n")


def test_there_is_a_golden_log_encrypted_at_rest_from_0_2_0() -> None:
    assert AT_REST / "0.2.0" in LOGS


@pytest.mark.parametrize("directory", [d for d in LOGS if d.parent == AT_REST], ids=log_id)
def test_a_golden_log_encrypted_at_rest_holds_no_event_in_the_clear_and_opens_only_with_its_key(
    directory: Path, tmp_path: Path
) -> None:
    states = [row.state for row in rows(directory / "ledger.db", "stored_events")]
    snapshots = [row.state for row in rows(directory / "ledger.db", "stored_snapshots")]
    assert states
    assert snapshots
    assert all(state.startswith(b"QLE1") for state in states + snapshots)
    copy = tmp_path / "ledger.db"
    shutil.copyfile(directory / "ledger.db", copy)
    with pytest.raises(EncryptionKeyError):
        Ledger.open(f"sqlite:///{copy}")
    with pytest.raises(EncryptionKeyError):
        Ledger.open(f"sqlite:///{copy}", encryption_key=bytes(32))


def test_golden_log_verifies_clean(golden: Golden) -> None:
    # then: the whole chain checks out, to the same head, and nothing is missing
    assert golden.verified.ok, golden.verified.first_break
    assert_matches(golden.expected["verify"], golden.verified, "verify")
    assert_matches(golden.expected["checkpoint"], golden.ledger.checkpoint(), "checkpoint")
    assert golden.ledger.position() == golden.expected["position"]


def test_golden_log_events_read_as_recorded(golden: Golden) -> None:
    # when: every stored event is read back through today's classes
    counts = Counter(type(event).__qualname__ for _, event in golden.ledger.events())
    # then: the same events, with the same payloads and metadata, in the same order
    assert_matches(golden.expected["event_counts"], counts, "event_counts")
    for aggregate_id, history in golden.expected["histories"].items():
        assert_matches(history, golden.ledger.history(UUID(aggregate_id)), f"history {aggregate_id}")


def test_golden_log_aggregates_have_the_recorded_states(golden: Golden) -> None:
    # then: every aggregate, now and at versions around its snapshot, is as its writer saw it
    for aggregate_id, state in golden.expected["aggregates"].items():
        assert_state_matches(state, golden.ledger, UUID(aggregate_id), None)
    assert golden.expected["versions"], "the golden log should hold a snapshotted aggregate"
    for aggregate_id, versions in golden.expected["versions"].items():
        for version, state in versions.items():
            assert_state_matches(state, golden.ledger, UUID(aggregate_id), int(version))


def test_golden_log_rebuilt_views_give_the_recorded_figures(golden: Golden) -> None:
    # given: views rebuilt from zero by today's projections
    assert golden.rebuilt == golden.expected["position"]
    ledger = golden.ledger
    as_of = date.fromisoformat(golden.expected["as_of"])
    # then: every campaign's figures are as recorded
    assert_matches(golden.expected["campaigns"], ledger.campaigns(), "campaigns")
    for campaign, figures in golden.expected["per_campaign"].items():
        cid = UUID(campaign)
        actual = {
            "campaign_status": ledger.campaign_status(cid),
            "campaign_status_from_events": ledger.campaign_status_from_events(cid),
            "activity_board": ledger.activity_board(cid),
            "inspection_register": ledger.inspection_register(cid, as_of=as_of),
            "bulletin": ledger.bulletin(cid),
            "bulletins": {b: ledger.bulletin(cid, UUID(b)) for b in figures["bulletins"]},
            "department_scorecard": ledger.department_scorecard(cid, as_of=as_of),
        }
        assert_matches(figures, actual, f"campaign {campaign}")


def test_golden_log_audit_trail_is_as_recorded(golden: Golden) -> None:
    entries: list[Any] = []
    after: int | None = 0
    while after is not None:
        page = golden.ledger.audit_trail(after=after, limit=100)
        entries.extend(page.entries)
        after = page.next_after
    assert_matches(golden.expected["audit_trail"], entries, "audit_trail")


def test_golden_log_replays_as_of_give_the_recorded_figures(golden: Golden) -> None:
    recorded = golden.expected["as_of_replays"]
    at = recorded["position"]
    with golden.ledger.as_of(position=at["position"]) as replay:
        campaign = UUID(at["campaign_status"]["campaign_id"])
        assert_matches(at["campaigns"], replay.campaigns(), "as_of(position).campaigns")
        assert_matches(at["campaign_status"], replay.campaign_status(campaign), "as_of(position).campaign_status")
    at = recorded["instant"]
    with golden.ledger.as_of(datetime.fromisoformat(at["instant"])) as replay:
        assert replay.as_of_position == at["position"]
        assert_matches(at["campaigns"], replay.campaigns(), "as_of(instant).campaigns")


def test_comparison_allows_new_fields_but_not_lost_or_changed_ones() -> None:
    """The rule the golden tests rely on, checked on its own so it cannot silently loosen."""

    class Before(BaseModel):
        n: int
        counts: dict[str, int]

    class After(Before):
        added: str = "new"

    assert_matches({"n": 1, "counts": {"a": 1}}, After(n=1, counts={"a": 1}))
    with pytest.raises(AssertionError, match="no longer has the field"):
        assert_matches({"n": 1, "counts": {}, "gone": 0}, Before(n=1, counts={}))
    with pytest.raises(AssertionError, match="keys"):
        assert_matches({"n": 1, "counts": {"a": 1}}, Before(n=1, counts={"a": 1, "b": 0}))
    with pytest.raises(AssertionError, match="expected 1"):
        assert_matches({"n": 1, "counts": {}}, Before(n=2, counts={}))
    with pytest.raises(AssertionError, match="expected True"):
        assert_matches(True, 1)
