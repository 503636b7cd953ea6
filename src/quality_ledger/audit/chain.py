"""The hash chain: one link per stored event, written in the event's own
transaction, so the log carries evidence of its own history.

Link n = SHA-256(link n-1 | n | notification id | digest n), where digest n =
SHA-256(aggregate id | version | topic | stored payload bytes | actor |
recorded-at), each part length-prefixed so no two different inputs encode
alike. Positions are
dense (1, 2, 3, ...) even where the store's notification ids have gaps
(PostgreSQL sequences skip after a rollback). Each link row also keeps the
digest of its event's content alone, which lets the verifier tell an event
that was changed from one that was moved.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

GENESIS = bytes(32)
"""The link before the first event."""


class Link(NamedTuple):
    """One row of the chain table, in its column order."""

    position: int
    notification_id: int
    digest: bytes
    link: bytes


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
    by the link in full anyway."""
    actor = _ACTOR.search(state)
    time = _TIME.search(state)
    return (actor[1] + b"@" + actor[2] if actor else b""), (time[1] if time else b"")


def content_digest(event: StoredEvent) -> bytes:
    """What an event says, wherever it sits in the log."""
    actor, recorded_at = actor_and_time(event.state)
    oid = event.originator_id
    aggregate = (oid.hex if isinstance(oid, UUID) else str(oid)).encode()
    version = str(event.originator_version).encode()
    topic = event.topic.encode()
    state = event.state
    return hashlib.sha256(
        b"".join((
            _length(len(aggregate)), aggregate,
            _length(len(version)), version,
            _length(len(topic)), topic,
            _length(len(state)), state,
            _length(len(actor)), actor,
            _length(len(recorded_at)), recorded_at,
        ))
    ).digest()  # fmt: skip


def next_link(previous: bytes, position: int, notification_id: int, digest: bytes) -> bytes:
    """Binds an event's content to its place: position and notification id."""
    return hashlib.sha256(previous + _part(position) + _part(notification_id) + digest).digest()


def extend(last: Link | None, notification_ids: Sequence[int], events: Sequence[StoredEvent]) -> list[Link]:
    """The links that follow ``last`` for newly stored events, in order."""
    position, previous = (last.position, last.link) if last else (0, GENESIS)
    links = []
    for notification_id, event in zip(notification_ids, events, strict=True):
        position += 1
        digest = content_digest(event)
        previous = next_link(previous, position, notification_id, digest)
        links.append(Link(position, notification_id, digest, previous))
    return links


class ChainedRecorder(Protocol):
    """What the verifier needs from a recorder besides its notifications."""

    def select_links(self, start: int, limit: int) -> Sequence[Link]: ...

    def last_link(self) -> Link | None: ...

    def select_raw(self, start: int, limit: int) -> Sequence[Notification]:
        """Notifications as stored, ids not converted: the verifier's fast read."""
        ...
