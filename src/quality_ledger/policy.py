"""Who may execute what: a pluggable authorization policy.

The ledger works out which departments are responsible for a command (the
organiser for campaign steps, the lead department for an activity's steps,
the inspecting department for an inspection's) and asks the policy whether
the actor may act. A policy that says no makes the ledger raise
:class:`~quality_ledger.errors.PermissionDenied` before anything is recorded.
"""

from __future__ import annotations

from typing import Protocol

from quality_ledger.commands import Command
from quality_ledger.domain.values import Actor


class Policy(Protocol):
    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        """True if ``actor`` may execute ``command``; ``responsible`` are the
        departments the default rules would accept."""
        ...


class DepartmentPolicy:
    """The default: an actor acts only for a responsible department."""

    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        return actor.department in responsible


class AllowAll:
    """Authorises everything: for migrations, replays and single-user tools."""

    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        return True
