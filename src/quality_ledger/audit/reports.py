"""What verifying says: the first break, the report, and the checkpoints that pin a log (signed with Ed25519)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from quality_ledger.domain.values import Frozen
from quality_ledger.errors import IntegrityError

BreakKind = Literal[
    "content-changed", "missing", "inserted", "reordered", "chain-altered", "tail-cut", "rewritten", "checkpoint-forged"
]


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
    """The checkpoint the whole log was held to (``against``)."""
    certificate_ok: bool | None = None
    since: Checkpoint | None = None
    """The trusted checkpoint the walk started after: ``checked`` counts only what follows it."""
    chain_format: int | None = None
    """The digest format the chain was checked in (1 or 2; see :mod:`quality_ledger.audit.chain`)."""

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
