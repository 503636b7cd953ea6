"""The chain's two digest formats and the format a ``ql_chain_format`` table names: the
formulas themselves, no store (here rather than in tests/unit, which imports nothing of audit)."""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from quality_ledger.audit.chain import FORMAT_1, FORMAT_2, check_format, content_digest, extend
from quality_ledger.errors import IntegrityError

AGGREGATE = UUID("0123456789abcdef0123456789abcdef")
STATE = b'{"meta":{"user":"li.wei","department":"XA-QTS"},"timestamp":"2017-09-01T08:00:00+00:00","x":1}'
EVENT = StoredEvent(originator_id=AGGREGATE, originator_version=3, topic="quality_ledger:Campaign.Planned", state=STATE)


def _part(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def test_format_2_hashes_the_stored_bytes_exactly_and_nothing_else() -> None:
    expected = _part(AGGREGATE.hex.encode()) + _part(b"3") + _part(EVENT.topic.encode()) + _part(STATE)
    assert content_digest(EVENT, FORMAT_2) == hashlib.sha256(expected).digest()


def test_format_1_also_names_actor_and_recorded_at_and_is_the_default() -> None:
    expected = (
        _part(AGGREGATE.hex.encode())
        + _part(b"3")
        + _part(EVENT.topic.encode())
        + _part(STATE)
        + _part(b"li.wei@XA-QTS")
        + _part(b"2017-09-01T08:00:00+00:00")
    )
    assert content_digest(EVENT, FORMAT_1) == content_digest(EVENT) == hashlib.sha256(expected).digest()


def test_the_two_formats_never_give_the_same_digest_even_without_actor_or_time() -> None:
    bare = StoredEvent(originator_id=AGGREGATE, originator_version=1, topic="t", state=b"{}")
    assert content_digest(bare, FORMAT_1) != content_digest(bare, FORMAT_2)


def test_extend_links_in_the_format_it_is_given() -> None:
    (link_1,) = extend(None, [7], [EVENT], FORMAT_1)
    (link_2,) = extend(None, [7], [EVENT], FORMAT_2)
    assert (link_1.position, link_1.notification_id) == (link_2.position, link_2.notification_id) == (1, 7)
    assert link_1.digest == content_digest(EVENT, FORMAT_1)
    assert link_2.digest == content_digest(EVENT, FORMAT_2)
    assert link_1.link != link_2.link


@pytest.mark.parametrize(("rows", "chain_format"), [([], FORMAT_1), ([1], FORMAT_1), ([2], FORMAT_2)])
def test_no_format_row_is_format_1_and_one_known_row_is_its_format(rows: list[object], chain_format: int) -> None:
    assert check_format(rows) == chain_format


@pytest.mark.parametrize(
    ("rows", "named"),
    [([3], "format 3"), ([0], "format 0"), (["2"], "format '2'"), ([True], "format True"), ([2, 2], "2 rows")],
)
def test_any_other_format_table_is_refused_naming_what_it_holds(rows: list[object], named: str) -> None:
    with pytest.raises(IntegrityError, match=named):
        check_format(rows)
