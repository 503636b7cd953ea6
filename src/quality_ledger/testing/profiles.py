"""Hypothesis settings profiles for tests over a ledger: fast in CI, thorough at night.

Register them in a ``conftest.py`` (the pytest plugin does it for you) and
choose one with ``HYPOTHESIS_PROFILE`` or pytest's ``--hypothesis-profile``::

    from quality_ledger.testing import profiles

    profiles.register()
    profiles.load()  # $HYPOTHESIS_PROFILE, else "quality-ledger-ci"

A state machine program runs many commands, so a machine test costs as much
as dozens of plain examples: :func:`for_machines` scales the loaded profile
down for it, so one variable still sets the depth of every test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["CI", "THOROUGH", "for_machines", "load", "register"]

CI = "quality-ledger-ci"
"""Every push: about a minute for a service's whole property suite."""
THOROUGH = "quality-ledger-thorough"
"""Nightly: twenty times the examples, longer programs."""

MACHINE_COST = 4
"""Plain examples one state machine program costs, roughly (50 commands, each with its checks)."""


def register() -> None:
    """Register :data:`CI` and :data:`THOROUGH` (loading neither)."""
    slow = [HealthCheck.too_slow]
    settings.register_profile(CI, max_examples=60, deadline=None, suppress_health_check=slow)
    settings.register_profile(
        THOROUGH, max_examples=1000, stateful_step_count=80, deadline=None, suppress_health_check=slow
    )


def load(default: str = CI) -> None:
    """Load ``$HYPOTHESIS_PROFILE`` if set, else ``default`` (registering ours first)."""
    register()
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


def for_machines(cost: int = MACHINE_COST) -> settings:
    """The loaded profile with ``max_examples`` divided by ``cost`` (at least 5),
    and without hypothesis's shrinking.

    Each step of a machine draws dozens of values, and hypothesis deletes such
    steps slowly: minutes, for a program still long. A failure is reported
    with every command the program executed instead;
    :func:`~quality_ledger.testing.machine.find_failure` reduces it to the
    few that matter, in seconds. Assign it to a machine's test case:
    ``TestMyMachine.settings = profiles.for_machines()``.
    """
    base = settings()  # the loaded profile
    phases = [phase for phase in base.phases if phase is not Phase.shrink]
    return settings(base, max_examples=max(5, base.max_examples // cost), phases=phases)
