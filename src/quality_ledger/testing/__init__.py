"""Test support for services built on quality_ledger.

* :mod:`~quality_ledger.testing.strategies`: every hypothesis strategy of the
  kit under one name: values (``values``), whole scenarios (``lifecycles``),
  the valid next steps of a ledger (``commands_for``) and any command aimed
  at it (``any_commands_for``, both in ``steps``);
* :mod:`~quality_ledger.testing.machine`: ``LedgerMachine``, a hypothesis state
  machine over a ledger, to subclass with a service's own rules and invariants;
* :mod:`~quality_ledger.testing.gwt`: given / when / then for aggregates and ledgers;
* :mod:`~quality_ledger.testing.invariants`: the business invariants, over a
  :class:`~quality_ledger.testing.state.LedgerState`;
* :mod:`~quality_ledger.testing.profiles`: settings profiles for CI and nightly runs;
* :mod:`~quality_ledger.testing.plugin`: pytest fixtures ``ledger``,
  ``sqlite_ledger``, ``postgres_ledger`` (loaded by pytest automatically).

Opt-in: all but the plugin need ``hypothesis`` (a test dependency), which
nothing else in quality_ledger imports. Names are imported on first use, so
pytest loading the plugin imports none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quality_ledger.testing import gwt, invariants, machine, profiles, strategies
    from quality_ledger.testing.lifecycles import Scenario, Step
    from quality_ledger.testing.machine import LedgerMachine, MachineFailure, SQLiteLedgerMachine, find_failure
    from quality_ledger.testing.state import LedgerState
    from quality_ledger.testing.steps import any_commands_for, commands_for

__all__ = [
    "LedgerMachine",
    "LedgerState",
    "MachineFailure",
    "SQLiteLedgerMachine",
    "Scenario",
    "Step",
    "any_commands_for",
    "commands_for",
    "find_failure",
    "gwt",
    "invariants",
    "machine",
    "profiles",
    "strategies",
]

_HOMES = {
    "LedgerMachine": "machine",
    "MachineFailure": "machine",
    "SQLiteLedgerMachine": "machine",
    "find_failure": "machine",
    "LedgerState": "state",
    "Scenario": "lifecycles",
    "Step": "lifecycles",
    "any_commands_for": "steps",
    "commands_for": "steps",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"quality_ledger.testing.{_HOMES[name]}"), name)
    if name in ("gwt", "invariants", "machine", "profiles", "strategies"):
        return importlib.import_module(f"quality_ledger.testing.{name}")
    msg = f"module 'quality_ledger.testing' has no attribute {name!r}"
    raise AttributeError(msg)
