"""Guarantees no setting can switch off: the chain, durability, plain stored bytes.

``eventsourcing`` builds an application's settings from ``os.environ`` and
lets a variable named with the application's prefix
(``QUALITY_LEDGER_APPLICATION_RECORDER_TOPIC``) beat the value the ledger
chose. One exported variable could then swap in a recorder without the hash
chain, keep a ``sqlite:///`` ledger's events in memory, insert through a
database function that skips the chain, or ask for a cipher the ledger's
mapper would silently not apply. So the ledger builds its settings itself
(see ``_Store.construct_env``), reads only the variables it documents, and
refuses at open any variable that would have changed how events are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quality_ledger.audit.chain import RECORDER_METHODS
from quality_ledger.errors import ConfigurationError

PREFIX = "QUALITY_LEDGER_"
"""eventsourcing's prefix for this application's settings (its name, upper-cased)."""

DOCUMENTED = frozenset(
    {"QUALITY_LEDGER_URL", "QUALITY_LEDGER_TEST_POSTGRES_URL", "QUALITY_LEDGER_PG_PORT", "QUALITY_LEDGER_TEST_CHROMIUM"}
)
"""The only ``QUALITY_LEDGER_*`` variables the project reads (docs/guide.md)."""

STORAGE_SETTINGS = frozenset(
    {
        "PERSISTENCE_MODULE",
        "INFRASTRUCTURE_FACTORY",  # eventsourcing's legacy names for PERSISTENCE_MODULE
        "FACTORY_TOPIC",
        "APPLICATION_RECORDER_TOPIC",
        "TRACKING_RECORDER_TOPIC",
        "PROCESS_RECORDER_TOPIC",
        "MAPPER_TOPIC",
        "TRANSCODER_TOPIC",
        "CIPHER_TOPIC",
        "CIPHER_KEY",
        "COMPRESSOR_TOPIC",
        "POSTGRES_ENABLE_DB_FUNCTIONS",
    }
)
"""eventsourcing settings that decide what is stored and how: set in the
environment, with or without the prefix, they are refused."""


def refuse_overrides(environ: Mapping[str, str]) -> None:
    """Raise :class:`ConfigurationError` naming the first variable that would
    change how events are stored, or an undocumented ``QUALITY_LEDGER_*``
    one (which eventsourcing would have read as a setting)."""
    for name in sorted(environ):
        bare = name.removeprefix(PREFIX)
        if bare in STORAGE_SETTINGS:
            msg = (
                f"environment variable {name} would change how the ledger stores events "
                "(recorder, persistence module, database functions, cipher or compressor): unset it"
            )
            raise ConfigurationError(msg)
        if name.startswith(PREFIX) and name not in DOCUMENTED:
            known = ", ".join(sorted(DOCUMENTED))
            msg = f"environment variable {name} is not a quality_ledger setting (known: {known}): unset it"
            raise ConfigurationError(msg)


def check_store(recorder: Any, mapper: Any) -> None:
    """Refuse a store whose recorder does not keep the hash chain, or whose
    mapper would transform the stored bytes (the chain covers them as stored)."""
    if not all(callable(getattr(recorder, name, None)) for name in RECORDER_METHODS):
        msg = f"the event store's recorder {type(recorder).__name__} does not keep the hash chain"
        raise ConfigurationError(msg)
    if getattr(mapper, "cipher", None) is not None or getattr(mapper, "compressor", None) is not None:
        msg = "the event store's mapper encrypts or compresses events: not supported, the chain covers plain bytes"
        raise ConfigurationError(msg)
