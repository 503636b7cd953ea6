"""Checking the log against its hash chain, and checkpoints to hold it to.

The verifier walks the events (by notification id) and the chain (by
position) side by side, recomputing every link. It names the first break:
an event whose content changed, one that went missing, one inserted
without a link, content that moved to another place (reordered or
swapped), or a chain whose links were altered. A chain can be recomputed
by whoever can write the database, so a checkpoint (size and head link,
kept elsewhere, optionally signed with Ed25519) pins what the log was;
verifying against it also catches a tail cut off or a rewritten history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from eventsourcing.persistence import Notification

from quality_ledger.audit.chain import GENESIS, ChainedRecorder, Link, content_digest, next_link
from quality_ledger.domain.values import Frozen
from quality_ledger.errors import IntegrityError

BreakKind = Literal[
    "content-changed", "missing", "inserted", "reordered", "chain-altered", "tail-cut", "rewritten", "checkpoint-forged"
]
PAGE = 2000


class Break(Frozen):
    """The first place where the log is not what was recorded."""

    position: int
    kind: BreakKind
    notification_id: int | None = None
    aggregate_id: UUID | None = None
    version: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f" ({self.aggregate_id} v{self.version})" if self.aggregate_id else ""
        return f"position {self.position}: {self.kind}{where}: {self.detail}"


class Checkpoint(Frozen):
    """What the log was at one moment: its size and the link at its head."""

    size: int
    head: str
    created_at: datetime
    public_key: str | None = None
    signature: str | None = None

    def message(self) -> bytes:
        return f"quality_ledger checkpoint v1\n{self.size}\n{self.head}\n{self.created_at.isoformat()}".encode()

    def signed(self, private_key_pem: bytes) -> Checkpoint:
        """This checkpoint signed with an Ed25519 private key (PEM)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            msg = "checkpoints are signed with an Ed25519 key"
            raise IntegrityError(msg)
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return self.model_copy(update={"public_key": public.hex(), "signature": key.sign(self.message()).hex()})

    def signature_valid(self, public_key_hex: str | None = None) -> bool:
        """True if signed by ``public_key_hex`` (default: the key it names)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key_hex = public_key_hex or self.public_key
        if not (key_hex and self.signature):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex)).verify(
                bytes.fromhex(self.signature), self.message()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


class VerifyReport(Frozen):
    ok: bool
    checked: int
    head: str
    first_break: Break | None = None
    checkpoint: Checkpoint | None = None
    certificate_ok: bool | None = None

    def raise_for_break(self) -> None:
        if not self.ok:
            msg = f"the log was altered: {self.first_break}"
            raise IntegrityError(msg)


def generate_key() -> tuple[bytes, str]:
    """A new Ed25519 key pair: (private key PEM, public key hex)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pem, public.hex()


def checkpoint(recorder: ChainedRecorder) -> Checkpoint:
    last = recorder.last_link()
    return Checkpoint(
        size=last.position if last else 0,
        head=(last.link if last else GENESIS).hex(),
        created_at=datetime.now(UTC),
    )


def _notifications(recorder: ChainedRecorder) -> Iterator[Notification]:
    start = 1
    while page := recorder.select_raw(start, PAGE):
        yield from page
        start = page[-1].id + 1


def links(recorder: ChainedRecorder) -> Iterator[Link]:
    start = 1
    while page := recorder.select_links(start, PAGE):
        yield from page
        start = page[-1].position + 1


def _find_digest(recorder: ChainedRecorder, digest: bytes) -> Link | None:
    """The link whose event content is ``digest``, wherever it is (rare path)."""
    return next((x for x in links(recorder) if x.digest == digest), None)


def _event_with(recorder: ChainedRecorder, digest: bytes) -> Notification | None:
    """The stored event whose content is ``digest``, wherever it is (rare path)."""
    return next((n for n in _notifications(recorder) if content_digest(n) == digest), None)


def walk(
    chain: ChainedRecorder,
    *,
    pin: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, bytes, bytes | None, Break | None]:
    """Recompute the chain; returns (checked, head link, link at ``pin``, first break)."""
    events, chained = _notifications(chain), links(chain)
    previous, position, pinned = GENESIS, 0, None
    total = (chain.last_link() or Link(0, 0, b"", b"")).position
    while True:
        event, link = next(events, None), next(chained, None)
        if event is None and link is None:
            return position, previous, pinned, None
        position += 1
        if progress is not None and position % PAGE == 0:
            progress(position, max(total, position))
        found = _check(position, previous, event, link, chain)
        if found is not None:
            return position - 1, previous, pinned, found
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
) -> Break | None:
    if link is None:
        assert event is not None
        return _break(position, "inserted", event, "an event without a link in the chain")
    if link.position != position:
        return Break(position=position, kind="missing", detail=f"the chain skips to position {link.position}")
    if event is None or event.id > link.notification_id:
        moved = _event_with(chain, link.digest)
        if moved is not None:
            return _break(position, "reordered", moved, f"the event recorded here now sits at {moved.id}")
        return Break(
            position=position,
            kind="missing",
            notification_id=link.notification_id,
            detail=f"event {link.notification_id} is gone from the log",
        )
    if event.id < link.notification_id:
        elsewhere = _find_digest(chain, content_digest(event))
        if elsewhere is not None:
            return _break(position, "reordered", event, f"holds the content recorded at position {elsewhere.position}")
        return _break(position, "inserted", event, f"event {event.id} sits before linked event {link.notification_id}")
    digest = content_digest(event)
    if digest != link.digest:
        elsewhere = _find_digest(chain, digest)
        if elsewhere is not None:
            detail = f"holds the content recorded at position {elsewhere.position}"
            return _break(position, "reordered", event, detail)
        return _break(position, "content-changed", event, "stored content differs from what was recorded")
    if next_link(previous, position, event.id, digest) != link.link:
        return _break(position, "chain-altered", event, "the chain's link does not follow from the one before")
    return None


def _break(position: int, kind: BreakKind, event: Notification, detail: str) -> Break:
    oid = event.originator_id
    aggregate = oid if isinstance(oid, UUID) else UUID(oid) if len(oid) == 32 else None
    return Break(
        position=position,
        kind=kind,
        notification_id=event.id,
        aggregate_id=aggregate,
        version=event.originator_version,
        detail=detail,
    )


def verify(
    chain: ChainedRecorder,
    *,
    against: Checkpoint | None = None,
    public_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    first: Break | None = None
    if against is not None and (against.signature or public_key) and not against.signature_valid(public_key):
        first = Break(position=0, kind="checkpoint-forged", detail="the checkpoint's signature does not verify")
    checked, head, pinned, broken = walk(chain, pin=against.size if against else 0, progress=progress)
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
    return VerifyReport(ok=first is None, checked=checked, head=head.hex(), first_break=first, checkpoint=against)
