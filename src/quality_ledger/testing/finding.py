"""Finding a failure: run a state machine until a program fails, then reduce it.

Apart from the machine, which re-exports :func:`find_failure`: it runs any
:class:`~quality_ledger.testing.machine.LedgerMachine` subclass it is given,
and hands what fails to :mod:`~quality_ledger.testing.reduction`, which only
replays programs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from quality_ledger.testing.reduction import MachineFailure, _reduced

if TYPE_CHECKING:
    from quality_ledger.testing.command_promises import CommandPromises

__all__ = ["find_failure"]


def find_failure(
    machine: type[CommandPromises], *, max_examples: int = 300, seed: int | None = None, **overrides: Any
) -> MachineFailure:
    """Run ``machine`` until a program fails, then reduce that program to the
    commands the failure needs.

    For proving that a machine catches a bug: plant the bug, expect a failure,
    look at how short the program is. Hypothesis generates (deterministically,
    without the example database); instead of its shrinker, which deletes
    steps slowly when each draws many values, the executed steps are replayed
    on fresh machines and every step the failure does not need is removed
    (delta debugging). Rules that act other than through ``execute`` are not
    replayed; if the failure needs them, the program is returned as found.
    ``overrides`` go to hypothesis's settings (e.g. ``stateful_step_count``).
    Without ``seed`` the programs derive from the machine's name and source
    (derandomized); with one, from the seed (as hypothesis's ``@seed``).
    Either way the same programs in every process that imports the same
    modules from the same files: hypothesis also draws string and number
    constants from the source of the modules imported from outside
    site-packages (tests/kit/test_reproducible.py says which).
    Raises ``AssertionError`` if no program fails.
    """
    runs: list[CommandPromises] = []

    def recorded() -> CommandPromises:
        run = machine()
        runs.append(run)
        return run

    if seed is not None:
        recorded._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]  # what @seed sets
    options: dict[str, Any] = {
        "derandomize": seed is None,
        "database": None,
        "deadline": None,
        "phases": [Phase.explicit, Phase.generate],
        "suppress_health_check": list(HealthCheck),
        **overrides,
    }
    try:
        # hypothesis accepts any factory of machines, though its annotation says a class
        factory = cast(type[RuleBasedStateMachine], recorded)
        run_state_machine_as_test(factory, settings=settings(max_examples=max_examples, **options))
    except Exception as error:
        found = tuple(runs[-1].executed) if runs else ()
        return _reduced(machine, error, found)
    msg = f"{machine.__name__} found no failing program in {max_examples} examples"
    raise AssertionError(msg)
