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

from quality_ledger.domain.values import Frozen
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
        if isinstance(e, LedgerError) or is_store_error(e):
            raise
        msg = f"the key store failed ({type(e).__name__}: {e})"
        raise StoreUnavailable(msg) from e


def _aad(key_id: UUID, originator_id: UUID, version: int, field: str) -> bytes:
    return b"ql-personal:1|" + key_id.bytes + originator_id.bytes + version.to_bytes(8, "big") + field.encode()


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
        self._ciphers: dict[UUID, tuple[bytes, AESGCM, str]] = {}
        """Per key id: the key, its cipher and the start of every string sealed with it."""

    # Writing ------------------------------------------------------------------------

    def sealed(self, event: BaseModel) -> list[tuple[Any, str, Any]]:
        """Put sealed strings in place of ``event``'s personal values, in its
        ``__dict__`` (and in copies of the nested models that hold them); the
        changes made, for :meth:`restore` once the event is encoded."""
        plans = plan(type(event))
        if not plans:
            return []
        originator_id: UUID = event.originator_id  # type: ignore[attr-defined]
        version: int = event.originator_version  # type: ignore[attr-defined]
        changes: list[tuple[Any, str, Any]] = []
        copies: dict[tuple[str, ...], BaseModel] = {}
        # Every subject is named before any value is sealed: a field that
        # identifies the subject (a nominee's name) is itself sealed.
        subjects = [self._subject(event, field) for field in plans]
        for field, subject in zip(plans, subjects, strict=True):
            if subject is None:
                continue
            owner = self._owner(event, field.path[:-1], copies, changes)
            name = field.path[-1]
            value = owner.__dict__[name] if owner is not None else None
            if owner is None or not isinstance(value, str):
                continue
            key_id, key = _asked(self.keys.key_for, subject)
            aes, head = self._cipher(key_id, key)
            nonce = os.urandom(_NONCE)
            sealed = aes.encrypt(nonce, value.encode(), _aad(key_id, originator_id, version, field.name))
            if owner is event:
                changes.append((event, name, value))
            owner.__dict__[name] = head + base64.urlsafe_b64encode(nonce + sealed).decode()
        return changes

    def _cipher(self, key_id: UUID, key: bytes) -> tuple[AESGCM, str]:
        """The cipher of ``key`` and the start of every string sealed with it
        (the key store says afresh each time which key ``key_id`` has, if any)."""
        found = self._ciphers.get(key_id)
        if found is None or found[0] != key:
            if len(self._ciphers) > 4096:
                self._ciphers.clear()
            found = self._ciphers[key_id] = (key, AESGCM(key), PREFIX + key_id.hex + ":")
        return found[1], found[2]

    @staticmethod
    def _subject(event: BaseModel, field: FieldPlan) -> str | None:
        """The subject whose data ``field`` of ``event`` is; None if it holds no text."""
        owner = owner_of(event, field)
        if owner is None or not isinstance(owner.__dict__.get(field.path[-1]), str):
            return None
        return subject_of(event, owner, field)

    @staticmethod
    def _owner(
        event: BaseModel,
        path: tuple[str, ...],
        copies: dict[tuple[str, ...], BaseModel],
        changes: list[tuple[Any, str, Any]],
    ) -> BaseModel | None:
        """The model at ``path`` in ``event``: a copy, put in place, that may be sealed."""
        owner: BaseModel = event
        for depth in range(len(path)):
            at = path[: depth + 1]
            copy = copies.get(at)
            if copy is None:
                child = owner.__dict__.get(path[depth])
                if not isinstance(child, BaseModel):
                    return None
                # shallow: only this model's own fields change
                copy = copies[at] = child.replaced() if isinstance(child, Frozen) else child.model_copy()
                if owner is event:
                    changes.append((event, path[depth], child))
                owner.__dict__[path[depth]] = copy
            owner = copy
        return owner

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
        originator_id: UUID = event.originator_id  # type: ignore[attr-defined]
        version: int = event.originator_version  # type: ignore[attr-defined]
        for field in plan(type(event)):
            if not metadata and field.path[0] == "meta":
                continue
            owner = owner_of(event, field)
            value = owner.__dict__.get(field.path[-1]) if owner is not None else None
            if isinstance(value, str) and value.startswith(PREFIX):
                owner.__dict__[field.path[-1]] = self.opened(value, originator_id, version, field)

    def opened(self, value: str, originator_id: UUID, version: int, field: FieldPlan) -> str:
        """The value a sealed string holds, or :data:`ERASED`."""
        key_id = sealed_key_id(value)
        if key_id is None:
            msg = f"the sealed {field.name} of {originator_id} v{version} names no key"
            raise IntegrityError(msg)
        key = _asked(self.keys.key, key_id)
        if key is None:
            return ERASED
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX) + 33 :])
            aes = self._cipher(key_id, key)[0]
            plain = aes.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(key_id, originator_id, version, field.name))
            return plain.decode()
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError) as e:
            msg = (
                f"the sealed {field.name} of {originator_id} v{version} does not open with its key: "
                "moved from another row or field, or altered"
            )
            raise IntegrityError(msg) from e
