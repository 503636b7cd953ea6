"""Personal fields sealed with AES-GCM under their subject's key, and opened again.

A sealed field is stored as a string in place of the value::

    "\\u0000ql-personal:1:<key id, 32 hex digits>:<base64url of nonce + ciphertext>"

A string, so that the event's model and its fast JSON path are unchanged;
starting with NUL, which no command ever lets into a name, a text or a
user name (they refuse control characters), so it cannot be mistaken for a
value written before fields were sealed. The associated data binds the
ciphertext to its key id, its event (aggregate id and version) and its
field: moved to another row or another field it fails to open, and such a
row is an :class:`~quality_ledger.errors.IntegrityError`, as a forged row is.

A field whose key was destroyed opens as :data:`ERASED`.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from quality_ledger.errors import IntegrityError, LedgerError, StoreUnavailable
from quality_ledger.privacy.keys import KeyStore
from quality_ledger.privacy.marks import FieldPlan, owner_of, plan, subject_of
from quality_ledger.store.failures import is_store_error

T = TypeVar("T")

__all__ = ["ERASED", "MARK", "FieldCipher", "sealed_key_id"]

ERASED = "[erased]"
"""What a personal field reads as once its subject was forgotten."""

PREFIX = "\x00ql-personal:1:"
"""How a sealed field's string starts."""

MARK = b"\\u0000ql-personal:1:"
"""The prefix as it appears in a stored row's JSON bytes: how a row is known to hold sealed fields without parsing it."""

_NONCE = 12


def _asked(method: Callable[[Any], T], argument: Any) -> T:
    """What a key store answers; a failure of its own (a KMS out of reach)
    as :class:`~quality_ledger.errors.StoreUnavailable`, naming it. The
    ledger's own tables fail as the store does, and are named as such."""
    try:
        return method(argument)
    except Exception as e:
        failure = _failure(e)
        if failure is e:
            raise
        raise failure from e


def _failure(error: Exception) -> Exception:
    """What :func:`_asked` raises for ``error``: itself if it is the ledger's
    or the store's, else a :class:`~quality_ledger.errors.StoreUnavailable` naming it."""
    if isinstance(error, LedgerError) or is_store_error(error):
        return error
    msg = f"the key store failed ({type(error).__name__}: {error})"
    return StoreUnavailable(msg)


_AAD = b"ql-personal:1|"
"""How a sealed field's associated data starts. The whole of it is this, the
key id's 16 bytes, the aggregate id's 16, the version's 8 (big-endian) and
the field's dotted name: its key, its event, its field (:class:`_Cipher`
keeps the first two parts per key)."""


def sealed_key_id(value: object) -> UUID | None:
    """The key id a sealed field's string names; None for anything else."""
    if isinstance(value, str) and value.startswith(PREFIX):
        try:
            return UUID(hex=value[len(PREFIX) : len(PREFIX) + 32])
        except ValueError:
            return None
    return None


class FieldCipher:
    """Seals and opens the personal fields of events (see the module)."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._ciphers: dict[UUID, _Cipher] = {}
        """Per key id: its key, cipher, and what every string sealed with it starts with."""
        self._heads: dict[str, UUID] = {}
        """Key ids by the 32 hex digits a sealed string names them with (parsing one was a tenth of opening)."""

    # Writing ------------------------------------------------------------------------

    def sealed(self, event: BaseModel) -> list[tuple[Any, str, Any]]:
        """Put sealed strings in place of ``event``'s personal values, in the
        ``__dict__`` of the models that hold them (the event, its ``meta``);
        the changes made, for :meth:`restore` once the event is encoded.

        In place, not in copies: a copy of the metadata per event was a third
        of sealing. The event was made a moment ago by its command, and
        nothing reads it, nor the metadata its command's events share, until
        it is stored (``writing.with_meta``); the caller restores it in a
        ``finally``, so an encoding that fails leaves it as it was."""
        plans = plan(type(event))
        if not plans:
            return []
        # Every subject is named before any value is sealed: a field that
        # identifies the subject (a nominee's name) is itself sealed.
        found: list[tuple[BaseModel, FieldPlan, str, str]] = []
        for field in plans:
            owner = owner_of(event, field)
            if owner is None:
                continue
            value = owner.__dict__.get(field.path[-1])
            if isinstance(value, str):
                found.append((owner, field, value, subject_of(event, owner, field)))
        if not found:
            return []
        ids = event.originator_id.bytes + event.originator_version.to_bytes(8, "big")  # type: ignore[attr-defined]
        changes: list[tuple[Any, str, Any]] = []
        try:
            for owner, field, value, subject in found:
                key_id, key = _asked(self.keys.key_for, subject)
                cipher = self._cipher(key_id, key)
                nonce = os.urandom(_NONCE)
                sealed = cipher.aes.encrypt(nonce, value.encode(), cipher.aad + ids + field.bound)
                name = field.path[-1]
                changes.append((owner, name, value))
                owner.__dict__[name] = cipher.head + base64.urlsafe_b64encode(nonce + sealed).decode()
        except BaseException:
            self.restore(changes)
            raise
        return changes

    def _cipher(self, key_id: UUID, key: bytes) -> _Cipher:
        """The cipher of ``key`` (the key store says afresh each time which key
        ``key_id`` has, if any: a key destroyed is never used from here)."""
        found = self._ciphers.get(key_id)
        if found is None or found.key != key:
            if len(self._ciphers) > 4096:
                self._ciphers.clear()
            found = self._ciphers[key_id] = _Cipher(key_id, key)
        return found

    @staticmethod
    def restore(changes: list[tuple[Any, str, Any]]) -> None:
        """Undo :meth:`sealed`: the event holds its own values again."""
        for model, name, value in reversed(changes):
            model.__dict__[name] = value

    # Reading ------------------------------------------------------------------------

    def open(self, event: BaseModel, *, metadata: bool = True) -> None:
        """Open ``event``'s sealed fields in place (a freshly decoded event:
        nothing else holds it yet); a destroyed key's read as :data:`ERASED`.
        Without ``metadata``, the fields of its ``meta`` stay sealed: replaying
        an aggregate never reads who recorded its events (a command replays
        seven events on average since the last snapshot)."""
        ids: bytes | None = None
        fields = event.__dict__
        for field in plan(type(event)):
            if field.in_meta and not metadata:
                continue
            path = field.path
            if len(path) == 2:  # in the event's meta, or another model it holds: owner_of, written out
                owner = fields.get(path[0])
                if not isinstance(owner, BaseModel):
                    continue
            else:
                owner = owner_of(event, field)
                if owner is None:
                    continue
            held = owner.__dict__
            name = path[-1]
            value = held.get(name)
            if isinstance(value, str) and value.startswith(PREFIX):
                originator_id: UUID = fields["originator_id"]
                version: int = fields["originator_version"]
                if ids is None:
                    ids = originator_id.bytes + version.to_bytes(8, "big")
                held[name] = self._opened(value, ids, originator_id, version, field)

    def _opened(self, value: str, ids: bytes, originator_id: UUID, version: int, field: FieldPlan) -> str:
        hexed = value[_HEX : _HEX + 32]
        key_id = self._heads.get(hexed)
        if key_id is None:
            key_id = sealed_key_id(value)
            if key_id is None:
                msg = f"the sealed {field.name} of {originator_id} v{version} names no key"
                raise IntegrityError(msg)
            if len(self._heads) > 4096:
                self._heads.clear()
            self._heads[hexed] = key_id
        try:
            key = self.keys.key(key_id)
        except Exception as e:  # what _asked does, written out: once per field read
            failure = _failure(e)
            if failure is e:
                raise
            raise failure from e
        if key is None:
            return ERASED
        try:
            raw = binascii.a2b_base64(value[_BODY:].encode().translate(_FROM_URLSAFE), strict_mode=True)
            cipher = self._cipher(key_id, key)
            plain = cipher.aes.decrypt(raw[:_NONCE], raw[_NONCE:], cipher.aad + ids + field.bound)
            return plain.decode()
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError) as e:
            msg = (
                f"the sealed {field.name} of {originator_id} v{version} does not open with its key: "
                "moved from another row or field, or altered"
            )
            raise IntegrityError(msg) from e


_HEX = len(PREFIX)
"""Where a sealed string's key id starts."""
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
"""base64url to base64, for ``binascii``: 0.2 us, where ``base64.urlsafe_b64decode`` took 0.35
(strict: a sealed string is ``urlsafe_b64encode``'s, and anything else in it is an alteration)."""
_BODY = _HEX + 33
"""Where its base64 starts, after the key id and a colon."""


class _Cipher:
    """One key's cipher, and the parts of what it seals that are the same every time."""

    __slots__ = ("aad", "aes", "head", "key")

    def __init__(self, key_id: UUID, key: bytes) -> None:
        self.key = key
        self.aes = AESGCM(key)
        self.head = PREFIX + key_id.hex + ":"
        """What every string sealed with it starts with."""
        self.aad = _AAD + key_id.bytes
        """The start of the associated data: the event's ids and the field follow (:data:`_AAD`)."""
