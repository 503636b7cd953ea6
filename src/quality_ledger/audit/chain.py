"""The hash chain: one link per stored event, written in the event's own
transaction, so the log carries evidence of its own history.

Link n = SHA-256(link n-1 | n | notification id | digest n). The digest of an
event's content has two formats, and a ledger keeps the one it was created
with for good (stored chains must verify forever):

- format 1 (every ledger created before format 2): digest n =
  SHA-256(aggregate id | version | topic | stored payload bytes | actor |
  recorded-at), actor and recorded-at pulled out of the payload bytes by two
  regular expressions;
- format 2 (new ledgers): digest n = SHA-256(aggregate id | version | topic |
  stored payload bytes). Actor and recorded-at are inside those bytes
  already, so naming them again added nothing but two searches per event.

Each part is length-prefixed so no two different inputs encode alike.
Positions are dense (1, 2, 3, ...) even where the store's notification ids
have gaps (PostgreSQL sequences skip after a rollback). Each link row also
keeps the digest of its event's content alone, which lets the verifier tell
an event that was changed from one that was moved. A ledger's format is the
one row of the table ``ql_chain_format``, created with the chain table; a
ledger without it is format 1.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from quality_ledger.errors import IntegrityError

GENESIS = bytes(32)
"""The link before the first event."""

FORMAT_1 = 1
"""Digest over aggregate id, version, topic, payload, actor and recorded-at (regex-extracted)."""
FORMAT_2 = 2
"""Digest over aggregate id, version, topic and the stored payload bytes exactly."""
CURRENT_FORMAT = FORMAT_2
"""The format a new ledger's chain is created with."""
FORMATS = (FORMAT_1, FORMAT_2)
FORMAT_TABLE = "ql_chain_format"
"""One row, one column ``format``: the chain's format, written when the chain table is created."""


class Link(NamedTuple):
    """One row of the chain table, in its column order."""

    position: int
    notification_id: int
    digest: bytes
    link: bytes


LinkRow = tuple[int, int, bytes, bytes]
"""A chain row as the verifier reads it: position, notification id, digest, link."""
EventRow = tuple[int, Any, int, Any, Any]
"""An event row as the verifier reads it: notification id, aggregate id (its
hex string), version, topic, stored payload; typed loosely because a
tampered row may hold anything."""

_length = struct.Struct(">Q").pack


def _part(value: bytes | str | int | UUID) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode()
    return _length(len(data)) + data


_ACTOR = re.compile(rb'"meta":\{"user":"((?:[^"\\]|\\.)*)","department":"((?:[^"\\]|\\.)*)"')
_TIME = re.compile(rb'"timestamp":"([^"]*)"')


def actor_and_time(state: bytes) -> tuple[bytes, bytes]:
    """The actor (``user@department``) and recorded-at a stored payload names,
    as stored; empty where it names none. A byte-level match, not a JSON
    parse, so writing and verifying stay cheap; the payload itself is covered
    by the link in full anyway. Format 1 only."""
    actor = _ACTOR.search(state)
    time = _TIME.search(state)
    return (actor[1] + b"@" + actor[2] if actor else b""), (time[1] if time else b"")


def format_1_tail(state: bytes) -> bytes:
    """What format 1 hashes after the payload: actor and recorded-at, length-prefixed."""
    actor, recorded_at = actor_and_time(state)
    return _length(len(actor)) + actor + _length(len(recorded_at)) + recorded_at


TAILS: dict[int, Callable[[bytes], bytes] | None] = {FORMAT_1: format_1_tail, FORMAT_2: None}
"""Per format, what its digest adds after the length-prefixed payload (nothing for format 2)."""


def check_format(values: Collection[object]) -> int:
    """The chain format that the rows of ``ql_chain_format`` name: none is
    format 1 (ledgers created before the table existed); one known value is
    that format; anything else is refused, naming it, rather than guessed."""
    if not values:
        return FORMAT_1
    if len(values) == 1:
        (value,) = values
        if type(value) is int and value in FORMATS:
            return value
        msg = (
            f"the ledger's chain is format {value!r}, which this version of quality_ledger does not know "
            f"(it knows {', '.join(map(str, FORMATS))})"
        )
        raise IntegrityError(msg)
    msg = f"the table {FORMAT_TABLE} holds {len(values)} rows, where a ledger writes one"
    raise IntegrityError(msg)


def raw_digest(aggregate: bytes, version: int, topic: bytes, state: bytes, chain_format: int = FORMAT_1) -> bytes:
    """An event's content digest from its stored parts (aggregate id as its
    hex string's bytes, topic as UTF-8)."""
    number = str(version).encode()
    body = b"".join((
        _length(len(aggregate)), aggregate,
        _length(len(number)), number,
        _length(len(topic)), topic,
        _length(len(state)), state,
    ))  # fmt: skip
    tail = TAILS[chain_format]
    return hashlib.sha256(body + tail(state) if tail is not None else body).digest()


def content_digest(event: StoredEvent, chain_format: int = FORMAT_1) -> bytes:
    """What an event says, wherever it sits in the log. ``chain_format``
    defaults to 1, what this function computed before format 2 existed."""
    oid = event.originator_id
    aggregate = (oid.hex if isinstance(oid, UUID) else str(oid)).encode()
    return raw_digest(aggregate, event.originator_version, event.topic.encode(), event.state, chain_format)


def next_link(previous: bytes, position: int, notification_id: int, digest: bytes) -> bytes:
    """Binds an event's content to its place: position and notification id."""
    return hashlib.sha256(previous + _part(position) + _part(notification_id) + digest).digest()


def extend(
    last: Link | None,
    notification_ids: Sequence[int],
    events: Sequence[StoredEvent],
    chain_format: int = FORMAT_1,
) -> list[Link]:
    """The links that follow ``last`` for newly stored events, in order, in
    the chain's format (the recorders pass theirs; the default, 1, is what
    this function computed before format 2 existed)."""
    position, previous = (last.position, last.link) if last else (0, GENESIS)
    links = []
    for notification_id, event in zip(notification_ids, events, strict=True):
        position += 1
        digest = content_digest(event, chain_format)
        previous = next_link(previous, position, notification_id, digest)
        links.append(Link(position, notification_id, digest, previous))
    return links


class ChainedRecorder(Protocol):
    """What the verifier needs from a recorder besides its notifications."""

    def select_links(self, start: int, limit: int) -> Sequence[Link]: ...

    def last_link(self) -> Link | None: ...

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        """Notifications as stored, ids not converted: the verifier's slow, exact read."""
        ...

    def chain_format(self) -> int:
        """The chain's format as stored now (read afresh: the verifier checks what is there)."""
        ...

    def read_chain(
        self, after_position: int, after_notification_id: int
    ) -> AbstractContextManager[tuple[Iterable[LinkRow], Iterable[EventRow]]]:
        """The links after ``after_position`` (by position) and the events
        after ``after_notification_id`` (by notification id), as plain
        tuples streamed from one snapshot of the store: the verifier's fast
        read, which walks both by their primary keys, so its cost is that of
        the rows read, whatever the log's size."""
        ...


RECORDER_METHODS = tuple(sorted(name for name in vars(ChainedRecorder) if not name.startswith("_")))
"""What a recorder must offer to keep the chain: the protocol's methods, read
from it (``guarantees.check_store`` refuses a recorder without any of them)."""
