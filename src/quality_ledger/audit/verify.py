"""Checking the log against its hash chain, and checkpoints to hold it to.

The verifier walks the events (by notification id) and the chain (by
position) side by side, recomputing every link. It names the first break:
an event whose content changed, one that went missing, one inserted
without a link, content that moved to another place (reordered or
swapped), or a chain whose links were altered. A chain can be recomputed
by whoever can write the database, so a checkpoint (size and head link,
kept elsewhere, optionally signed with Ed25519) pins what the log was;
verifying against it also catches a tail cut off or a rewritten history,
and verifying since it checks only what was appended after it.

Two passes, so that an intact log costs little more than reading it: a
fast one over plain tuples (one read of each table by its primary key,
hashlib in a tight loop, no object per row) that only says whether
everything holds, and, where it does not, the exact one that names the
first break (the same walk as before the fast pass existed, so the break
reported never depends on which pass found it).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from datetime import UTC, datetime

from quality_ledger.audit.chain import (
    GENESIS,
    TAILS,
    ChainedRecorder,
    Link,
)
from quality_ledger.audit.exact import PAGE, _digester, _exact_walk, links
from quality_ledger.audit.reports import Break, BreakKind, Checkpoint, VerifyReport, generate_key
from quality_ledger.errors import InvalidCommand

__all__ = [
    "PAGE",
    "Break",
    "BreakKind",
    "Checkpoint",
    "VerifyReport",
    "checkpoint",
    "generate_key",
    "links",
    "verify",
    "walk",
]


_LENGTH = struct.Struct(">Q").pack


_SHORT = tuple(_LENGTH(n) for n in range(1024))
"""Length prefixes of ids, versions, topics and positions, looked up rather
than packed (a longer part takes the exact walk, which packs any length)."""


def checkpoint(recorder: ChainedRecorder) -> Checkpoint:
    last = recorder.last_link()
    return Checkpoint(
        size=last.position if last else 0,
        head=(last.link if last else GENESIS).hex(),
        created_at=datetime.now(UTC),
    )


def walk(
    chain: ChainedRecorder,
    *,
    pin: int = 0,
    progress: Callable[[int, int], None] | None = None,
    after: Link | None = None,
    chain_format: int | None = None,
) -> tuple[int, bytes, bytes | None, Break | None]:
    """Recompute the chain; returns (checked, head link, link at ``pin``, first break).

    ``after``: a trusted link to start from (the events after its
    notification id, the links after its position), rather than the
    genesis; ``checked`` then counts what follows it. ``chain_format``:
    as the chain says if not given.
    """
    of = chain.chain_format() if chain_format is None else chain_format
    total = (chain.last_link() or Link(0, 0, b"", b"")).position
    fast = _fast_walk(chain, of, pin=pin, progress=progress, total=total, after=after)
    if fast is not None:
        return (*fast, None)
    return _exact_walk(chain, _digester(of), pin=pin, progress=progress, total=total, after=after)


def _fast_walk(
    chain: ChainedRecorder,
    chain_format: int,
    *,
    pin: int,
    progress: Callable[[int, int], None] | None,
    total: int,
    after: Link | None,
) -> tuple[int, bytes, bytes | None] | None:
    """(checked, head, link at ``pin``) if every link holds, else ``None``.

    Exactly the exact walk's condition for "no break", checked on plain
    tuples: the n-th link has position n, its notification id is the n-th
    event's, the event's recomputed digest is the link's and the link
    follows from the one before; both tables end together (``zip(strict)``).
    Anything unexpected in a row (a tampered column of another type) is
    "not intact" too: the exact walk names it.
    """
    position, previous = (after.position, after.link) if after else (0, GENESIS)
    start, pinned = position, None
    tail = TAILS[chain_format]
    sha256, length, short = hashlib.sha256, _LENGTH, _SHORT
    topics: dict[str, bytes] = {}
    report_at = (position // PAGE + 1) * PAGE if progress is not None else -1
    with chain.read_chain(position, after.notification_id if after else 0) as (chained, events):
        try:
            for (at, notification_id, digest, link), (event_id, aggregate, version, topic, state) in zip(
                chained, events, strict=True
            ):
                position += 1
                if at != position or event_id != notification_id:
                    return None
                topic_part = topics.get(topic)
                if topic_part is None:  # a few dozen topics in a log: each encoded once
                    encoded = topic.encode()
                    topic_part = topics[topic] = short[len(encoded)] + encoded
                if version.__class__ is not int:  # b"%d" would print 3.5 as 3: the exact walk judges it
                    return None
                aggregate, number = aggregate.encode(), b"%d" % version
                body = b"".join((
                    short[len(aggregate)], aggregate, short[len(number)], number, topic_part, length(len(state)), state
                ))  # fmt: skip
                if tail is not None:
                    body += tail(state)
                if sha256(body).digest() != digest:
                    return None
                at_bytes, id_bytes = b"%d" % position, b"%d" % event_id
                here = b"".join((previous, short[len(at_bytes)], at_bytes, short[len(id_bytes)], id_bytes, digest))
                if sha256(here).digest() != link:
                    return None
                previous = link
                if position == pin:
                    pinned = link
                if position == report_at:
                    assert progress is not None  # report_at is -1 without it
                    progress(position, max(total, position))
                    report_at += PAGE
        except (ValueError, TypeError, AttributeError, IndexError):
            return None
    return position - start, previous, pinned


def verify(
    chain: ChainedRecorder,
    *,
    against: Checkpoint | None = None,
    since: Checkpoint | None = None,
    public_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """The whole log checked, held to ``against`` if given; or, ``since`` a
    trusted checkpoint, only what was appended after it."""
    for name, given in (("against", against), ("since", since)):
        if given is not None and not isinstance(given, Checkpoint):
            msg = (
                f"verify's {name} takes a Checkpoint (Checkpoint.model_validate_json(...)), not {type(given).__name__}"
            )
            raise InvalidCommand(msg)
    if against is not None and since is not None:
        msg = "verify holds the log to a checkpoint (against) or starts after one (since), not both"
        raise InvalidCommand(msg)
    trusted = against if against is not None else since
    first: Break | None = None
    if trusted is not None and (trusted.signature or public_key) and not trusted.signature_valid(public_key):
        first = Break(position=0, kind="checkpoint-forged", detail="the checkpoint's signature does not verify")
    of = chain.chain_format()
    if since is not None:
        return _verify_since(chain, since, first, progress, of)
    checked, head, pinned, broken = walk(chain, pin=against.size if against else 0, progress=progress, chain_format=of)
    first = first or broken
    if first is None and against is not None:
        if checked < against.size:
            first = Break(
                position=checked + 1,
                kind="tail-cut",
                detail=f"the checkpoint saw {against.size} events, the log holds {checked}",
            )
        elif against.size and (pinned or b"").hex() != against.head:
            first = Break(position=against.size, kind="rewritten", detail="history up to the checkpoint was rewritten")
        elif not against.size and against.head != GENESIS.hex():
            first = Break(position=0, kind="checkpoint-forged", detail="an empty checkpoint with a head")
    return VerifyReport(
        ok=first is None, checked=checked, head=head.hex(), first_break=first, checkpoint=against, chain_format=of
    )


def _verify_since(
    chain: ChainedRecorder,
    since: Checkpoint,
    forged: Break | None,
    progress: Callable[[int, int], None] | None,
    chain_format: int,
) -> VerifyReport:
    """First the checkpoint itself (its signature, then the stored link at
    its size, which must be its head), then the walk from there. Nothing
    before the checkpoint is read: that is what makes a daily audit of a
    growing log cost what was appended that day."""
    first, base = forged, None
    if first is None and since.size == 0 and since.head != GENESIS.hex():
        first = Break(position=0, kind="checkpoint-forged", detail="an empty checkpoint with a head")
    elif first is None and since.size:
        found = chain.select_links(since.size, 1)
        base = found[0] if found and found[0].position == since.size else None
        if base is None:
            held = (chain.last_link() or Link(0, 0, b"", b"")).position
            first = Break(
                position=min(held, since.size - 1) + 1,
                kind="tail-cut",
                detail=f"the checkpoint saw {since.size} events, the log holds {held}",
            )
        elif base.link.hex() != since.head:
            first = Break(
                position=since.size,
                kind="rewritten",
                detail="the link at the checkpoint's size is not its head: history up to the checkpoint was rewritten",
            )
    if first is not None:
        return VerifyReport(
            ok=False, checked=0, head=since.head, first_break=first, since=since, chain_format=chain_format
        )
    checked, head, _, broken = walk(chain, progress=progress, after=base, chain_format=chain_format)
    return VerifyReport(
        ok=broken is None,
        checked=checked,
        head=head.hex(),
        first_break=broken,
        since=since,
        chain_format=chain_format,
    )
