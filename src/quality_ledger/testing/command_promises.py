"""Executing what a state machine draws, with what every command promises
checked as it runs: a refusal is a LedgerError and records nothing; a valid
step is accepted, and a step just outside a rule refused by that rule; raw
input is parsed or refused as InvalidCommand; a receipt names exactly what the
log gained; a repeated idempotency key returns the first receipt. Broken, each
raises :class:`~quality_ledger.testing.promises.PromiseBroken` with the
commands so far.

:class:`CommandPromises` is mixed into
:class:`~quality_ledger.testing.machine.LedgerMachine` beside the store's
promises (:class:`~quality_ledger.testing.promises.StorePromises`): the machine
keeps its settings, hooks and rules (what to draw), this module how each step
is executed and checked, and the replay of a program with every check, which
the reduction of :func:`~quality_ledger.testing.machine.find_failure` runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.errors import InvalidCommand, LedgerError
from quality_ledger.ledger import Ledger, event_name
from quality_ledger.receipts import CommandRecord, Receipt
from quality_ledger.testing.edges import EdgeStep
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.pools import _pick
from quality_ledger.testing.promises import Executed, PromiseBroken
from quality_ledger.testing.raw import raw_commands
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import actors


class _Machine(Protocol):
    """What the per-command checks use of the machine they are mixed into (a
    :class:`~quality_ledger.testing.machine.LedgerMachine`)."""

    ledger: Ledger
    state: LedgerState
    campaign_ids: list[UUID]
    executed: list[Executed]
    journal: list[str]
    keyed: list[Step]
    receipts: dict[str, Receipt]
    focus: UUID | None
    steps_to_check: int
    valid_steps_succeed: ClassVar[bool]
    invariants: list[Any]

    def __init__(self) -> None: ...

    def execute(
        self, step: Step, *, must_succeed: bool = False, must_refuse: str | None = None
    ) -> Receipt | LedgerError: ...

    def _check_receipt(self, step: Step, receipt: Receipt, recorded: Sequence[Any]) -> None: ...

    def promise(self, condition: object, promise: str, detail: str) -> None: ...

    def story(self) -> str: ...

    def final_invariants(self) -> None: ...

    def close(self) -> None: ...


class CommandPromises:
    """Executing a step, a step at a rule's edge or raw input with every
    per-command check, and replaying a program with every invariant: mixed into
    :class:`~quality_ledger.testing.machine.LedgerMachine`."""

    # What :meth:`execute` assigns, declared (not set) so that mypy types them as the machine does.
    state: LedgerState
    focus: UUID | None
    executed: list[Executed]
    """Every step executed, in order (set by the machine): what find_failure replays."""

    def execute(
        self: _Machine, step: Step, *, must_succeed: bool = False, must_refuse: str | None = None
    ) -> Receipt | LedgerError:
        """Execute ``step`` and check what every command promises: a refusal is a
        LedgerError and records nothing; a receipt names exactly what the log
        gained; a repeated idempotency key returns the first receipt. With
        ``must_refuse``, the rule it names must refuse the step. Keeps
        ``state`` current. Anything but a LedgerError propagates and fails the run."""
        self.executed.append(Executed(step, must_succeed, must_refuse))
        before = self.ledger.position()
        command, who = step.command, f"{step.command.name} by {step.actor.department}"
        try:
            receipt = self.ledger.execute(command, step.actor)
        except LedgerError as error:
            self.journal.append(f"{who}: refused, {type(error).__name__}: {error}")
            after = self.ledger.position()
            self.promise(
                after == before, "refusal-records-nothing", f"{who} refused, yet the log grew {before} -> {after}"
            )
            self.promise(
                not must_succeed, "valid-command-accepted", f"{command!r} by {step.actor!r} refused: {error!r}"
            )
            return error
        self.journal.append(f"{who}: {', '.join(receipt.events) or 'nothing new'}")
        if must_refuse is not None:
            broken = PromiseBroken(
                "outside-rule-refused", f"{command!r} accepted, yet {must_refuse} refuses it", must_refuse
            )
            broken.add_note(self.story())
            raise broken
        recorded = [event for _, event in self.ledger.events(start=before + 1)]
        self._check_receipt(step, receipt, recorded)
        if receipt.events[:1] == ("Campaign.Planned",) and receipt.aggregate_id not in self.campaign_ids:
            self.campaign_ids.append(receipt.aggregate_id)
        self.focus = receipt.aggregate_id
        changed = {event.originator_id for event in recorded}
        self.state = self.state.refreshed(self.ledger.get, changed, self.campaign_ids)
        return receipt

    def execute_edge(self: _Machine, step: EdgeStep) -> None:
        """At a rule's edge the rule decides: inside, accepted (as a valid step); outside, refused."""
        inside = step.inside and self.valid_steps_succeed
        self.execute(step, must_succeed=inside, must_refuse=None if step.inside else step.rule)

    def execute_raw(self: _Machine, data: st.DataObject) -> None:
        """Raw input: parsed and executed, or refused as InvalidCommand."""
        raw = data.draw(raw_commands(), label="raw command")
        ids, samples = self.state.aggregate_ids, self.state.sample_ids
        # Aim some of it at what exists, so it meets the rules rather than NotFound.
        for name in [n for n in raw if n.endswith("_id")]:
            known = samples if name == "sample_id" else ids
            if known and data.draw(st.booleans(), label=f"{name} names what exists"):
                raw[name] = data.draw(_pick(known), label=name)
        actor = data.draw(actors(), label="actor")
        try:
            command = c.parse_obj(raw)
        except InvalidCommand as error:
            self.journal.append(f"{raw.get('command')!r}: invalid input ({str(error)[:80]})")
            return
        self.execute(Step(command, actor))

    def _check_receipt(self: _Machine, step: Step, receipt: Receipt, recorded: Sequence[Any]) -> None:
        key = step.command.idempotency_key
        names = tuple(event_name(e) for e in recorded if not isinstance(e, CommandRecord.Event))
        if key is not None and key in self.receipts:
            self.promise(not recorded, "idempotent-repeat", f"key {key!r} repeated, yet {names} were recorded")
            first = self.receipts[key]
            self.promise(receipt == first, "idempotent-repeat", f"key {key!r}: {receipt} differs from {first}")
            return
        self.promise(names == receipt.events, "receipt-matches-log", f"receipt {receipt.events}, log gained {names}")
        if key is not None:
            self.receipts[key] = receipt
            self.keyed.append(step)

    def promise(self: _Machine, condition: object, promise: str, detail: str) -> None:
        """Raise :class:`PromiseBroken` unless ``condition``, with the commands so far."""
        if not condition:
            error = PromiseBroken(promise, detail)
            error.add_note(self.story())
            raise error

    def story(self: _Machine) -> str:
        lines = [f"  {n}. {line}" for n, line in enumerate(self.journal, 1)]
        hint = f"find_failure({type(self).__name__}) reduces such a program to the commands the failure needs"
        return "commands executed:\n" + "\n".join(lines) + f"\n({hint})"

    @classmethod
    def replay(
        cls: type[_Machine], program: Sequence[Executed], *, final: bool = True, strict: bool = True, store: bool = True
    ) -> tuple[BaseException | None, list[str]]:
        """Execute ``program`` on a fresh machine with every invariant checked
        after every step (the store's promises too, unless ``store`` is off; and
        with ``final``, :meth:`final_invariants` at the end); the error it raised
        (None if none) and the journal. Unless ``strict``, a valid step that is
        now refused is let pass (it records nothing), so that a reduction can
        drop what made it valid.

        Only steps are replayed: rules that change the ledger other than through
        :meth:`execute` are not part of a program.
        """
        machine = cls()
        # The store's promises after every step, not every ``check_every``: a program
        # cut short of the step where the sparse checks fell would hide its failure.
        every = 1 if store else sys.maxsize
        error: BaseException | None = None
        try:
            for executed in program:
                must_succeed = executed.must_succeed and strict
                machine.execute(executed.step, must_succeed=must_succeed, must_refuse=executed.must_refuse)
                machine.steps_to_check = every
                for found in machine.invariants:
                    if all(holds(machine) for holds in found.preconditions):
                        found.function(machine)
            if final:
                machine.final_invariants()
        except Exception as raised:
            error = raised
        finally:
            machine.close()
        return error, machine.journal
