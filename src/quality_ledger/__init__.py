"""quality_ledger: public quality campaigns as tamper-evident, event-sourced ledgers.

A city's "Quality Month" (its departments' activities, spot-check
inspections with verdicts, rectifications, bulletins, Quality Craftsman
awards) is kept as an append-only log of immutable events, so that the
ledger can answer where everything stands and who did what, when and why,
and an auditor can prove the log was not altered.

Main entry points:

- :class:`Ledger`: ``Ledger.open(url)`` (a SQLite file, PostgreSQL, or
  ``memory://``), then ``execute(command, actor)`` with a command from
  :mod:`quality_ledger.commands`; reads (``get``, ``history``,
  ``campaign_status``, ``audit_trail``), ``verify`` and ``as_of`` replays.
- :class:`Actor`, the policies (:class:`DepartmentPolicy`, :class:`AllowAll`)
  and :func:`execute_with_retry` for writers that race on PostgreSQL.
- :mod:`quality_ledger.errors`: every refusal is a :class:`LedgerError`.
- :mod:`quality_ledger.audit`: checkpoints, replay certificates, exports.
- :mod:`quality_ledger.testing`: strategies, a state machine and pytest
  fixtures for testing a service built on the ledger.
- ``quality-ledger`` (or ``python -m quality_ledger``): the same at the terminal.

The documentation is README.md and docs/ in the source distribution
(guide, views, audit, postgres, testing, benchmarks).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from quality_ledger import errors
from quality_ledger.errors import LedgerError

if TYPE_CHECKING:
    from quality_ledger import commands
    from quality_ledger.domain.values import Actor, EventMeta
    from quality_ledger.ledger import Ledger, RecordedEvent
    from quality_ledger.policy import AllowAll, DepartmentPolicy, Policy
    from quality_ledger.receipts import Receipt
    from quality_ledger.retry import execute_with_retry

# The public names below load on first use (PEP 562): importing the package
# (as the ``quality-ledger`` command and the pytest plugin do) then costs
# milliseconds instead of the half second SQLAlchemy, eventsourcing and the
# pydantic models take.
_LAZY = {
    "Actor": "quality_ledger.domain.values",
    "AllowAll": "quality_ledger.policy",
    "DepartmentPolicy": "quality_ledger.policy",
    "EventMeta": "quality_ledger.domain.values",
    "Ledger": "quality_ledger.ledger",
    "Policy": "quality_ledger.policy",
    "Receipt": "quality_ledger.receipts",
    "RecordedEvent": "quality_ledger.ledger",
    "commands": "",
    "execute_with_retry": "quality_ledger.retry",
}

__all__ = [
    "Actor",
    "AllowAll",
    "DepartmentPolicy",
    "EventMeta",
    "Ledger",
    "LedgerError",
    "Policy",
    "Receipt",
    "RecordedEvent",
    "commands",
    "errors",
    "execute_with_retry",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        msg = f"module 'quality_ledger' has no attribute {name!r}"
        raise AttributeError(msg)
    module = _LAZY[name]
    value = import_module(f"quality_ledger.{name}") if not module else getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
