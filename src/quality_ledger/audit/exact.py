"""The exact walk: events and links merged one by one, naming the first break.

The fast pass in :mod:`quality_ledger.audit.verify` only says whether
everything holds; where it does not, this walk says where and how (changed,
missing, inserted, reordered, chain altered), always the same way whichever
pass found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from eventsourcing.persistence import Notification

from quality_ledger.audit.chain import (
    GENESIS,
    ChainedRecorder,
    Link,
    content_digest,
    next_link,
)
from quality_ledger.audit.reports import Break, BreakKind

PAGE = 2000


Digest = Callable[[Notification], bytes | None]


def _digester(chain_format: int) -> Digest:
    """The content digest in ``chain_format``; ``None`` for a row whose
    columns no longer hold what a stored event holds (text for bytes, and
    the like): its content changed."""

    def digest(event: Notification) -> bytes | None:
        try:
            return content_digest(event, chain_format)
        except (TypeError, AttributeError, ValueError):
            return None

    return digest


def _notifications(recorder: ChainedRecorder, start: int = 1) -> Iterator[Notification]:
    while page := recorder.select_raw(start, PAGE):
        yield from page
        start = page[-1].id + 1


def links(recorder: ChainedRecorder, start: int = 1) -> Iterator[Link]:
    """Every link from position ``start`` on, read in pages."""
    while page := recorder.select_links(start, PAGE):
        yield from page
        start = page[-1].position + 1


def _find_digest(recorder: ChainedRecorder, digest: bytes | None) -> Link | None:
    """The link whose event content is ``digest``, wherever it is (rare path)."""
    return next((x for x in links(recorder) if x.digest == digest), None) if digest is not None else None


def _event_with(recorder: ChainedRecorder, digest: bytes, of: Digest) -> Notification | None:
    """The stored event whose content is ``digest``, wherever it is (rare path)."""
    return next((n for n in _notifications(recorder) if of(n) == digest), None)


def _exact_walk(
    chain: ChainedRecorder,
    of: Digest,
    *,
    pin: int,
    progress: Callable[[int, int], None] | None,
    total: int,
    after: Link | None,
) -> tuple[int, bytes, bytes | None, Break | None]:
    """The walk that names the first break: events and links merged one by one."""
    start, previous = (after.position, after.link) if after else (0, GENESIS)
    events = _notifications(chain, after.notification_id + 1 if after else 1)
    chained = links(chain, start + 1)
    position, pinned = start, None
    while True:
        event, link = next(events, None), next(chained, None)
        if event is None and link is None:
            return position - start, previous, pinned, None
        position += 1
        if progress is not None and position % PAGE == 0:
            progress(position, max(total, position))
        found = _check(position, previous, event, link, chain, of)
        if found is not None:
            return position - 1 - start, previous, pinned, found
        assert link is not None  # checked above
        previous = link.link
        if position == pin:
            pinned = previous


def _check(
    position: int,
    previous: bytes,
    event: Notification | None,
    link: Link | None,
    chain: ChainedRecorder,
    of: Digest,
) -> Break | None:
    if link is None:
        assert event is not None
        return _break(position, "inserted", event, "an event without a link in the chain")
    if link.position != position:
        return Break(position=position, kind="missing", detail=f"the chain skips to position {link.position}")
    if event is None or event.id > link.notification_id:
        moved = _event_with(chain, link.digest, of)
        if moved is not None:
            return _break(position, "reordered", moved, f"the event recorded here now sits at {moved.id}")
        return Break(
            position=position,
            kind="missing",
            notification_id=link.notification_id,
            detail=f"event {link.notification_id} is gone from the log",
        )
    if event.id < link.notification_id:
        elsewhere = _find_digest(chain, of(event))
        if elsewhere is not None:
            return _break(position, "reordered", event, f"holds the content recorded at position {elsewhere.position}")
        return _break(position, "inserted", event, f"event {event.id} sits before linked event {link.notification_id}")
    digest = of(event)
    if digest != link.digest:
        elsewhere = _find_digest(chain, digest)
        if elsewhere is not None:
            detail = f"holds the content recorded at position {elsewhere.position}"
            return _break(position, "reordered", event, detail)
        return _break(position, "content-changed", event, "stored content differs from what was recorded")
    assert digest is not None  # equal to the link's
    if next_link(previous, position, event.id, digest) != link.link:
        return _break(position, "chain-altered", event, "the chain's link does not follow from the one before")
    return None


def _break(position: int, kind: BreakKind, event: Notification, detail: str) -> Break:
    oid = event.originator_id
    aggregate = oid if isinstance(oid, UUID) else UUID(oid) if isinstance(oid, str) and len(oid) == 32 else None
    return Break(
        position=position,
        kind=kind,
        notification_id=event.id,
        aggregate_id=aggregate,
        version=event.originator_version if isinstance(event.originator_version, int) else None,
        detail=detail,
    )
