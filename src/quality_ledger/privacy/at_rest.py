"""Whole events encrypted at rest: compressed, then sealed with AES-GCM.

An option a ledger takes when it is created (``Ledger.open(url,
encryption_key=...)``) and keeps for good: a row in ``ql_at_rest`` holds
a check value of the key (a constant sealed under it), never the key. A
ledger created with a key is opened only with that key: without one, or
with another, opening is an :class:`~quality_ledger.errors.EncryptionKeyError`
and reads nothing. A ledger created without one stays plain.

Each stored row (events and snapshots) holds ``QLE1``, a 12-byte nonce and
the ciphertext of the zlib-compressed JSON; the associated data binds it to
its aggregate id, version and topic, so a row moved elsewhere fails to
open. The hash chain covers the stored bytes (chain format 2, which every
ledger created today writes), so ``verify()`` checks the ciphertext itself.
Personal fields are sealed per subject inside the JSON before it is
compressed, so ``forget`` works the same in an encrypted ledger.

The topic stays in the clear (the store needs it to route a row), and the
views, which are a projection for queries, are not encrypted (docs/privacy.md).
"""

from __future__ import annotations

import os
import zlib
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from quality_ledger.audit.recorders import TABLE_EXISTS
from quality_ledger.errors import EncryptionKeyError, IntegrityError

__all__ = ["MAGIC", "EventCipher", "check_at_rest"]

MAGIC = b"QLE1"
"""How an encrypted row starts (a plain row is JSON: it starts with ``{``)."""

AT_REST_TABLE = "ql_at_rest"
_CHECK = b"quality-ledger: the at-rest key of this ledger"
_CHECK_AAD = b"ql-at-rest-check:1"
_NONCE = 12


class EventCipher:
    """Compresses and seals whole rows, and opens them (see the module)."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            msg = "an encryption key is 32 bytes (AES-256): make one with os.urandom(32) and keep it apart from the ledger"
            raise EncryptionKeyError(msg)
        self._aes = AESGCM(key)

    @staticmethod
    def _aad(originator_id: UUID | str, version: int, topic: str) -> bytes:
        identity = originator_id.bytes if isinstance(originator_id, UUID) else _id_bytes(originator_id)
        return b"ql-at-rest:1|" + identity + version.to_bytes(8, "big") + topic.encode()

    def seal(self, state: bytes, originator_id: UUID | str, version: int, topic: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return (
            MAGIC + nonce + self._aes.encrypt(nonce, zlib.compress(state, 6), self._aad(originator_id, version, topic))
        )

    def open(self, state: bytes, originator_id: UUID | str, version: int, topic: str) -> bytes:
        if not state.startswith(MAGIC):
            msg = "it is not encrypted, in a ledger whose every row is"
            raise IntegrityError(msg)
        nonce, sealed = state[len(MAGIC) : len(MAGIC) + _NONCE], state[len(MAGIC) + _NONCE :]
        try:
            return zlib.decompress(self._aes.decrypt(nonce, sealed, self._aad(originator_id, version, topic)))
        except (InvalidTag, zlib.error) as e:
            msg = "it does not open with the ledger's key: moved from another row, or altered"
            raise IntegrityError(msg) from e

    def check_value(self) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aes.encrypt(nonce, _CHECK, _CHECK_AAD)

    def matches(self, check: bytes) -> bool:
        try:
            return self._aes.decrypt(check[:_NONCE], check[_NONCE:], _CHECK_AAD) == _CHECK
        except InvalidTag:
            return False


def check_at_rest(recorder: ApplicationRecorder, key: bytes | None) -> EventCipher | None:
    """The cipher the ledger behind ``recorder`` is read and written with:
    None for a plain ledger. A new (empty) ledger given a key records its
    check value; anything that does not fit is an :class:`EncryptionKeyError`."""
    cipher = EventCipher(key) if key is not None else None
    check = _read_check(recorder)
    if check is None:
        if cipher is None:
            return None
        if recorder.max_notification_id():  # asked only here: opening a plain ledger costs no count
            msg = "this ledger was created without encryption: it cannot be opened with a key (its rows are plain)"
            raise EncryptionKeyError(msg)
        _write_check(recorder, cipher.check_value())
        return cipher
    if cipher is None:
        msg = "this ledger is encrypted at rest: open it with its key (encryption_key=...)"
        raise EncryptionKeyError(msg)
    if not cipher.matches(check):
        msg = "this ledger is encrypted at rest with another key: the key given does not open it"
        raise EncryptionKeyError(msg)
    return cipher


def _read_check(recorder: ApplicationRecorder) -> bytes | None:
    if isinstance(recorder, POPOApplicationRecorder):
        found: bytes | None = getattr(recorder, "_ql_at_rest", None)
        return found
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(TABLE_EXISTS, (AT_REST_TABLE,))
            if c.fetchone() is None:
                return None
            c.execute(f"SELECT key_check FROM {AT_REST_TABLE}")  # noqa: S608 - our own table
            row = c.fetchone()
        return bytes(row[0]) if row else None
    return _read_check_postgres(recorder)


def _write_check(recorder: ApplicationRecorder, check: bytes) -> None:
    if isinstance(recorder, POPOApplicationRecorder):
        recorder._ql_at_rest = check  # type: ignore[attr-defined]
        return
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {AT_REST_TABLE} (format INTEGER NOT NULL, key_check BLOB NOT NULL)")
            c.execute(f"INSERT INTO {AT_REST_TABLE} VALUES (1, ?)", (check,))  # noqa: S608
        return
    _write_check_postgres(recorder, check)


def _pg_table(recorder: Any) -> Any:
    from psycopg.sql import SQL, Identifier

    return SQL("{}.{}").format(Identifier(recorder.datastore.schema or "public"), Identifier(AT_REST_TABLE))


def _read_check_postgres(recorder: Any) -> bytes | None:
    from psycopg.sql import SQL

    from quality_ledger.audit.postgres import table_absent

    with recorder.datastore.transaction(commit=False) as curs:
        if table_absent(curs, recorder.datastore.schema, AT_REST_TABLE):
            return None
        curs.execute(SQL("SELECT key_check FROM {}").format(_pg_table(recorder)))
        row = curs.fetchone()
    return bytes(row["key_check"]) if row else None


def _write_check_postgres(recorder: Any, check: bytes) -> None:
    from psycopg.sql import SQL

    table = _pg_table(recorder)
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            SQL("CREATE TABLE IF NOT EXISTS {} (format integer NOT NULL, key_check bytea NOT NULL)").format(table)
        )
        curs.execute(SQL("INSERT INTO {} VALUES (1, %s)").format(table), (check,))


def _id_bytes(originator_id: str) -> bytes:
    """The 16 bytes of an id given as text: 32 hex digits, as SQLite stores it
    (the views read it so), through ``bytes.fromhex`` (a microsecond a row
    less than parsing a ``UUID``); any other spelling as ``UUID()`` reads it.
    32 characters give 16 bytes only if all are hex digits, which ``UUID``
    reads the same way."""
    if len(originator_id) == 32:
        try:
            identity = bytes.fromhex(originator_id)
        except ValueError:
            identity = b""
        if len(identity) == 16:
            return identity
    return UUID(str(originator_id)).bytes
