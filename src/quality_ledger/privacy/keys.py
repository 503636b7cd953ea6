"""The keys of data subjects, kept apart from the events they encrypt.

One random 256-bit AES key per subject, under a random key id. The events
hold only the key id and ciphertext; the key table maps the subject's id
to its key. Destroying the row is what erases the subject: the ciphertext
stays in the hash-chained log, unreadable, and ``verify()`` still holds.

:class:`KeyStore` is the interface a key management service (KMS) would
implement: four methods. :func:`key_store_for` builds the default, a table
beside the events in the ledger's own database (``ql_subject_keys``),
created the first time a key is made, never by merely opening a ledger.

Keys are cached in the process for :data:`CACHE_SECONDS`: decoding a
million events must not be a million queries. So another process that
read a subject's key before a ``forget`` can read it for up to that long
after (docs/privacy.md says so); the process that forgets drops it at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from quality_ledger.audit.recorders import TABLE_EXISTS

__all__ = ["CACHE_SECONDS", "KEY_TABLE", "KeyStore", "MemoryKeyStore", "WithoutKeys", "key_store_for"]

KEY_TABLE = "ql_subject_keys"
"""The key table's name, on every engine."""

CACHE_SECONDS = 60.0
"""How long a process trusts a key (or a key's absence) it read from the store."""


class KeyStore(Protocol):
    """Where subjects' keys live: the interface a KMS adapter implements."""

    def key_for(self, subject: str) -> tuple[UUID, bytes]:
        """The subject's key id and key, made (and stored durably) if it has none."""
        ...

    def key(self, key_id: UUID) -> bytes | None:
        """The key under ``key_id``; None once it is destroyed (or never was)."""
        ...

    def key_id(self, subject: str) -> UUID | None:
        """The subject's key id, without making one."""
        ...

    def destroy(self, subject: str) -> UUID | None:
        """Destroy the subject's key for good; its key id, or None if it had none."""
        ...


class _Cached:
    """The caching every store shares: by subject and by key id, for a while."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_subject: dict[str, tuple[UUID, bytes, float]] = {}
        self._by_id: dict[UUID, tuple[bytes | None, float]] = {}

    def key_for(self, subject: str) -> tuple[UUID, bytes]:
        found = self._by_subject.get(subject)
        if found is not None and found[2] > self._clock():
            return found[0], found[1]
        key_id, key = self._load_or_make(subject)
        self._remember(subject, key_id, key)
        return key_id, key

    def key(self, key_id: UUID) -> bytes | None:
        found = self._by_id.get(key_id)
        if found is not None and found[1] > self._clock():
            return found[0]
        key = self._load(key_id)
        with self._lock:
            self._by_id[key_id] = (key, self._clock() + CACHE_SECONDS)
        return key

    def key_id(self, subject: str) -> UUID | None:
        return self._find(subject)

    def destroy(self, subject: str) -> UUID | None:
        key_id = self._delete(subject)
        with self._lock:
            self._by_subject.pop(subject, None)
            if key_id is not None:
                self._by_id[key_id] = (None, self._clock() + CACHE_SECONDS)
        return key_id

    def _remember(self, subject: str, key_id: UUID, key: bytes) -> None:
        until = self._clock() + CACHE_SECONDS
        with self._lock:
            self._by_subject[subject] = (key_id, key, until)
            self._by_id[key_id] = (key, until)

    # What each store does ----------------------------------------------------------

    def _load_or_make(self, subject: str) -> tuple[UUID, bytes]:
        raise NotImplementedError

    def _load(self, key_id: UUID) -> bytes | None:
        raise NotImplementedError

    def _find(self, subject: str) -> UUID | None:
        raise NotImplementedError

    def _delete(self, subject: str) -> UUID | None:
        raise NotImplementedError


def new_key() -> bytes:
    """A fresh AES-256 key from the operating system's generator."""
    return os.urandom(32)


class MemoryKeyStore(_Cached):
    """Keys in this process only: the in-memory ledger's."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, tuple[UUID, bytes]] = {}
        self._by_key_id: dict[UUID, bytes] = {}

    def _load_or_make(self, subject: str) -> tuple[UUID, bytes]:
        with self._lock:
            found = self._keys.get(subject)
            if found is None:
                found = self._keys[subject] = (uuid4(), new_key())
                self._by_key_id[found[0]] = found[1]
            return found

    def _load(self, key_id: UUID) -> bytes | None:
        return self._by_key_id.get(key_id)

    def _find(self, subject: str) -> UUID | None:
        found = self._keys.get(subject)
        return found[0] if found else None

    def _delete(self, subject: str) -> UUID | None:
        with self._lock:
            found = self._keys.pop(subject, None)
            if found is not None:
                del self._by_key_id[found[0]]
        return found[0] if found else None


_SQLITE_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
    "key_id TEXT PRIMARY KEY, subject TEXT NOT NULL UNIQUE, key BLOB NOT NULL, created_at TEXT NOT NULL)"
)


class SQLiteKeyStore(_Cached):
    """The key table in the ledger's SQLite file, on the recorder's connections."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        super().__init__()
        self._recorder = recorder
        self._datastore = recorder.datastore

    def _row(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        """The first row ``sql`` reads, or None (also while the key table does not exist)."""
        with self._datastore.transaction(commit=False) as c:
            c.execute(TABLE_EXISTS, (KEY_TABLE,))
            if c.fetchone() is None:
                return None
            c.execute(sql, parameters)
            return c.fetchone()

    def _load_or_make(self, subject: str) -> tuple[UUID, bytes]:
        row = self._row(f"SELECT key_id, key FROM {KEY_TABLE} WHERE subject=?", (subject,))  # noqa: S608
        if row is not None:  # most subjects have a key: read without the write lock
            return UUID(row[0]), bytes(row[1])
        refuse = getattr(self._recorder, "refuse_if_read_only", None)
        if refuse is not None:
            refuse()  # a read-only ledger records nothing, a key included
        # Each write transaction opens with a write, so that it waits for the
        # lock (the busy timeout) rather than failing at once when a read
        # begun first finds that another process wrote since.
        with self._datastore.transaction(commit=True) as c:
            c.execute(_SQLITE_CREATE)
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {KEY_TABLE} VALUES (?,?,?,datetime('now')) ON CONFLICT(subject) DO NOTHING",  # noqa: S608 - our own table name
                (uuid4().hex, subject, new_key()),
            )
            c.execute(f"SELECT key_id, key FROM {KEY_TABLE} WHERE subject=?", (subject,))  # noqa: S608
            row = c.fetchone()
        return UUID(row[0]), bytes(row[1])

    def _load(self, key_id: UUID) -> bytes | None:
        row = self._row(f"SELECT key FROM {KEY_TABLE} WHERE key_id=?", (key_id.hex,))  # noqa: S608
        return bytes(row[0]) if row else None

    def _find(self, subject: str) -> UUID | None:
        row = self._row(f"SELECT key_id FROM {KEY_TABLE} WHERE subject=?", (subject,))  # noqa: S608
        return UUID(row[0]) if row else None

    def _delete(self, subject: str) -> UUID | None:
        key_id = self._find(subject)
        if key_id is None:
            return None
        with self._datastore.transaction(commit=True) as c:
            # Overwrite the freed bytes with zeros as they are freed: the key must not
            # linger in a free page of the file (docs/privacy.md).
            c.execute("PRAGMA secure_delete=ON")
            c.execute(f"DELETE FROM {KEY_TABLE} WHERE key_id=?", (key_id.hex,))  # noqa: S608
        return key_id


class PostgresKeyStore(_Cached):
    """The key table in the ledger's PostgreSQL schema."""

    def __init__(self, recorder: Any) -> None:
        super().__init__()
        from psycopg.sql import SQL, Identifier

        self._datastore = recorder.datastore
        table = SQL("{}.{}").format(Identifier(recorder.datastore.schema or "public"), Identifier(KEY_TABLE))
        self._create = SQL(
            "CREATE TABLE IF NOT EXISTS {} (key_id uuid PRIMARY KEY, subject text NOT NULL UNIQUE, "
            "key bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        ).format(table)
        self._insert = SQL(
            "INSERT INTO {} (key_id, subject, key) VALUES (%s, %s, %s) ON CONFLICT (subject) DO NOTHING"
        ).format(table)
        self._by_subject_sql = SQL("SELECT key_id, key FROM {} WHERE subject = %s").format(table)
        self._by_id_sql = SQL("SELECT key FROM {} WHERE key_id = %s").format(table)
        self._delete_sql = SQL("DELETE FROM {} WHERE subject = %s RETURNING key_id").format(table)

    def _present(self, curs: Any) -> bool:
        from quality_ledger.audit.postgres import table_absent

        return not table_absent(curs, self._datastore.schema, KEY_TABLE)

    def _row(self, sql: Any, parameters: tuple[Any, ...], *, commit: bool = False) -> Any:
        """The first row ``sql`` gives, or None (also while the key table does not exist)."""
        with self._datastore.transaction(commit=commit) as curs:
            if not self._present(curs):
                return None
            curs.execute(sql, parameters)
            return curs.fetchone()

    def _load_or_make(self, subject: str) -> tuple[UUID, bytes]:
        with self._datastore.transaction(commit=False) as curs:  # most subjects have a key: read only
            present = self._present(curs)
            if present:
                curs.execute(self._by_subject_sql, (subject,))
                row = curs.fetchone()
                if row is not None:
                    return UUID(str(row["key_id"])), bytes(row["key"])
        if not present:
            self._create_table()
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(self._insert, (uuid4(), subject, new_key()))
            curs.execute(self._by_subject_sql, (subject,))
            row = curs.fetchone()
        return UUID(str(row["key_id"])), bytes(row["key"])

    def _create_table(self) -> None:
        """Create the key table; another process creating it at the same moment
        is no error (``IF NOT EXISTS`` alone races in PostgreSQL's catalog)."""
        from eventsourcing.persistence import IntegrityError as StoreIntegrityError
        from eventsourcing.persistence import ProgrammingError

        try:
            with self._datastore.transaction(commit=True) as curs:
                curs.execute(self._create)
        except (StoreIntegrityError, ProgrammingError):
            with self._datastore.transaction(commit=False) as curs:
                if not self._present(curs):
                    raise

    def _load(self, key_id: UUID) -> bytes | None:
        row = self._row(self._by_id_sql, (key_id,))
        return bytes(row["key"]) if row else None

    def _find(self, subject: str) -> UUID | None:
        row = self._row(self._by_subject_sql, (subject,))
        return UUID(str(row["key_id"])) if row else None

    def _delete(self, subject: str) -> UUID | None:
        row = self._row(self._delete_sql, (subject,), commit=True)
        return UUID(str(row["key_id"])) if row else None


class WithoutKeys:
    """A key store as it will be once the keys ``destroyed`` are: reads only."""

    def __init__(self, keys: KeyStore, destroyed: set[UUID]) -> None:
        self.keys = keys
        self.destroyed = destroyed

    def key_for(self, subject: str) -> tuple[UUID, bytes]:
        msg = "a key store seen as after a forget only reads"
        raise TypeError(msg)

    def key(self, key_id: UUID) -> bytes | None:
        return None if key_id in self.destroyed else self.keys.key(key_id)

    def key_id(self, subject: str) -> UUID | None:
        found = self.keys.key_id(subject)
        return None if found in self.destroyed else found

    def destroy(self, subject: str) -> UUID | None:
        msg = "a key store seen as after a forget only reads"
        raise TypeError(msg)


def key_store_for(recorder: ApplicationRecorder) -> _Cached:
    """The default key store of a ledger whose events ``recorder`` keeps."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteKeyStore(recorder)
    if isinstance(recorder, POPOApplicationRecorder):
        return MemoryKeyStore()
    return PostgresKeyStore(recorder)
