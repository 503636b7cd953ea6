"""What a store's driver raised, as the ledger's own error: a damaged file,
a lock, a read-only store, a PostgreSQL server out of reach or refusing the
ledger. Only drivers' errors are translated (:func:`is_store_error`);
anything else is a bug to surface, not to rename."""

from __future__ import annotations

import re
import sqlite3

from eventsourcing.persistence import PersistenceError

from quality_ledger.errors import ConfigurationError, IntegrityError, LedgerError, ReadOnly, StoreUnavailable
from quality_ledger.store.settings import connect_kwargs

_DRIVERS = ("sqlalchemy", "psycopg", "psycopg_pool")


def is_store_error(error: BaseException) -> bool:
    """Raised by a store's driver (SQLite, PostgreSQL, SQLAlchemy, eventsourcing's
    persistence layer) rather than by the ledger's own code: these, and only
    these, become :meth:`~quality_ledger.store.locate.Location.failure`; anything else is a bug to surface."""
    if isinstance(error, LedgerError):
        return False
    if isinstance(error, PersistenceError | sqlite3.Error):
        return True
    return any(k.__module__.split(".")[0] in _DRIVERS for k in type(error).__mro__)


def failure(env: dict[str, str], where: str, error: BaseException) -> LedgerError:
    """What a driver raised while using the store opened with ``env`` and
    named ``where`` in messages, as the ledger's own error."""
    if isinstance(error, LedgerError):
        return error
    cause = _cause(error)
    low = cause.lower()
    if "malformed" in low or "not a database" in low:
        return IntegrityError(f"the ledger at {where} is damaged: {cause}")
    if "locked" in low or "busy" in low:
        return StoreUnavailable(f"the ledger at {where} is locked by another connection ({cause})")
    if "readonly" in low or "read-only" in low:
        return ReadOnly(f"the ledger at {where} cannot be written ({cause})")
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        return _postgres_failure(env, where, cause)
    return StoreUnavailable(f"the ledger at {where} failed: {cause}")


def _cause(error: BaseException) -> str:
    """The driver's own one-line message, under the wrappers (SQLAlchemy, eventsourcing)."""
    inner: BaseException = error
    while True:
        orig = getattr(inner, "orig", None)  # SQLAlchemy's DBAPIError
        nxt = orig if isinstance(orig, BaseException) else inner.__cause__
        if nxt is None or nxt is inner:
            break
        inner = nxt
    text = str(inner).strip() or str(error).strip() or type(inner).__name__
    return " ".join(text.split("\n", 1)[0].split())


_LIBPQ_PREFIX = re.compile(r'^connection failed: connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ')


def _postgres_failure(env: dict[str, str], where: str, cause: str) -> LedgerError:
    """Name host, port and cause. A pool that gave up waiting does not say
    why: then one direct connection attempt finds out."""
    server = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    if "couldn't get a connection" in cause or "pool" in cause.lower():
        cause = _diagnose(env) or cause
    cause = re.sub(r"\bFATAL:\s*", "", _LIBPQ_PREFIX.sub("", cause)).strip()
    if "authentication failed" in cause or "does not exist" in cause or "no password supplied" in cause:
        return ConfigurationError(f"PostgreSQL at {server} refused the ledger {where}: {cause}")
    return StoreUnavailable(f"cannot reach PostgreSQL at {server} ({where}): {cause}")


def _diagnose(env: dict[str, str]) -> str | None:
    """Why a new connection fails now, or None if one succeeds."""
    import psycopg

    try:
        psycopg.connect(**connect_kwargs(env)).close()
    except psycopg.Error as e:
        return _cause(e)
    return None
