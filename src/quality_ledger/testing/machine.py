"""``LedgerMachine``: hypothesis writes programs of commands against a ledger and
checks, after every step, the promises the ledger makes.

Its rules execute valid next steps (:func:`~quality_ledger.testing.steps.commands_for`),
arbitrary commands aimed at what exists
(:func:`~quality_ledger.testing.steps.any_commands_for`) or raw JSON-like
input, and repeats of commands with idempotency keys. After each step the
business invariants must hold (:mod:`quality_ledger.testing.invariants`), a
refused command must have recorded nothing, and a receipt must name exactly
what the log gained. Every ``check_every`` steps and at the end, the store's
promises are checked too: reloading equals the live state, a snapshot plus
its tail equals a full replay, the views equal the pure model and the hash
chain verifies; at the end also a replay into a fresh store and the views
against a rebuild from zero.

A service subclasses it to add its own rules and invariants (see
``docs/testing.md``). :func:`find_failure` runs a machine until it fails and
reduces the failing program to the commands that matter.

The store's checks and :class:`PromiseBroken` live in
:mod:`~quality_ledger.testing.promises`, the reduction (and
:class:`MachineFailure`) in :mod:`~quality_ledger.testing.reduction`; both are
importable from here. ``find_failure`` stays beside the machine it runs: the
reduction only replays programs, so it needs no machine class of its own.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar, cast
from uuid import UUID

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from quality_ledger import commands as c
from quality_ledger.errors import InvalidCommand, LedgerError
from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger, event_name
from quality_ledger.receipts import CommandRecord, Receipt
from quality_ledger.testing.arbitrary import any_commands_for
from quality_ledger.testing.edges import EdgeStep, _edges, edge_steps
from quality_ledger.testing.invariants import check_domain
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.pools import _pick
from quality_ledger.testing.promises import Executed, PromiseBroken, StorePromises
from quality_ledger.testing.raw import raw_commands
from quality_ledger.testing.reduction import MachineFailure, _reduced
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.steps import commands_for
from quality_ledger.testing.values import _one_in, actors

__all__ = ["Executed", "LedgerMachine", "MachineFailure", "PromiseBroken", "SQLiteLedgerMachine", "find_failure"]


class LedgerMachine(StorePromises, RuleBasedStateMachine):
    """Programs of commands against one ledger, with the ledger's promises as invariants.

    Tune it with class attributes, extend it with hooks and rules:

    * :meth:`make_ledger` opens the ledger under test (in memory by default),
      :meth:`close` releases it;
    * :meth:`valid_steps` and :meth:`arbitrary_steps` are the strategies the
      rules draw from;
    * :meth:`domain_invariants` runs after every step, :meth:`store_invariants`
      every ``check_every`` steps, :meth:`final_invariants` at teardown:
      override and call ``super()``;
    * :meth:`execute` runs a step with every per-command check: use it in your
      own rules, so that :func:`find_failure` can replay them.
    """

    snapshot_every: ClassVar[int | None] = 3
    """Snapshot interval of the ledger under test: small, so short programs
    have snapshots and "snapshot plus tail" is really checked. None keeps the store's."""
    check_every: ClassVar[int] = 10
    """Steps between checks of :meth:`store_invariants`."""
    max_campaigns: ClassVar[int] = 1
    """Valid steps plan a new campaign while there are fewer."""
    periods: ClassVar[st.SearchStrategy[tuple[date, date]] | None] = None
    """Campaign periods for new campaigns (default: any in 2000-2099)."""
    burst: ClassVar[int] = 4
    """At most this many valid steps per rule (see :meth:`execute_valid`)."""
    certify: ClassVar[bool] = False
    """Also compare replay certificates at teardown: two more scratch databases per program."""
    valid_steps_succeed: ClassVar[bool] = True
    """A valid step that is refused fails the run: a rule refuses what it should allow.
    Turn off where a policy or a service rule refuses more than the defaults."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self._prepared(self.make_ledger())
        self.campaign_ids: list[UUID] = []
        self.state = LedgerState()
        self.executed: list[Executed] = []
        """Every step executed, in order: what :func:`find_failure` replays."""
        self.journal: list[str] = []
        """What each command did, in order: for failure messages."""
        self.keyed: list[Step] = []
        self.receipts: dict[str, Receipt] = {}
        self.steps_to_check = self.check_every
        self.focus: UUID | None = None
        """The aggregate the last accepted command was about: valid steps tend to take it further."""

    # Hooks ------------------------------------------------------------------------------

    def make_ledger(self) -> Ledger:
        """The ledger under test; called once per program."""
        return Ledger.open("memory://")

    def reopen_ledger(self) -> Ledger | None:
        """Another ledger on the same store, for "reloading equals live state"; None if it cannot be reopened."""
        return None

    def close(self) -> None:
        """Release the ledger (and whatever :meth:`make_ledger` made for it)."""
        self.ledger.close()

    def valid_steps(self) -> st.SearchStrategy[Step]:
        return commands_for(self.state, periods=self.periods, max_campaigns=self.max_campaigns, focus=self.focus)

    def arbitrary_steps(self) -> st.SearchStrategy[Step]:
        return any_commands_for(self.state, focus=self.focus)

    def domain_invariants(self, state: LedgerState) -> None:
        """Checked after every step; raise ``AssertionError`` (e.g. ``InvariantBroken``) when broken."""
        check_domain(state)

    def store_invariants(self) -> None:
        """The store's promises that need no scratch database: every ``check_every``
        steps and at teardown (a few milliseconds)."""
        self.check_reload()
        self.check_snapshots()
        self.check_chain()
        self.check_model()

    def final_invariants(self) -> None:
        """At teardown: the store's promises, and those that build a scratch
        database (tens of milliseconds each): a replay into a fresh store,
        the views against a rebuild, and with ``certify`` the replay certificate."""
        self.store_invariants()
        self.check_replay()
        self.check_rebuild()
        if self.certify:
            self.check_certificate()

    # Rules --------------------------------------------------------------------------------

    @initialize(data=st.data())
    def open_campaign(self, data: st.DataObject) -> None:
        """Every program starts with a campaign planned and a department enlisted:
        on an empty ledger those are the only valid steps."""
        for label in ("plan a campaign", "enlist a department"):
            step = data.draw(commands_for(self.state, periods=self.periods, max_campaigns=1), label=label)
            self.execute(step, must_succeed=self.valid_steps_succeed)

    @rule(data=st.data())
    def execute_valid(self, data: st.DataObject) -> None:
        """The next steps of some lifecycles (one to ``burst``): each accepted, or the run fails.

        Several per rule, because deep states (a rectification verified, a
        commendation publicised) need long lifecycles, and hypothesis's
        programs are a few dozen rules long."""
        for _ in range(data.draw(st.integers(1, self.burst), label="steps")):
            step = data.draw(self.valid_steps(), label="valid step")
            if data.draw(_one_in(4), label="with an idempotency key"):
                keyed = step.command.model_copy(update={"idempotency_key": f"key-{len(self.journal)}"})
                step = Step(keyed, step.actor)
            self.execute(step, must_succeed=self.valid_steps_succeed)
            # A rule's edge is often near only briefly (a conforming verdict is soon closed,
            # a completed activity is where progress must stop): now and then, try it at once.
            if self.focus is None:
                continue
            named = bool(_edges(self.state, self.focus, out_of_turn=False))
            near = named or bool(_edges(self.state, self.focus))
            if near and data.draw(_one_in(2 if named else 3), label="edge now"):
                edge = edge_steps(self.state, focus=self.focus, only_focus=True)
                self.execute_edge(data.draw(edge, label="step at an edge"))

    @rule(data=st.data())
    def execute_arbitrary(self, data: st.DataObject) -> None:
        """Any command aimed at what exists, or (one time in three) raw input as a
        service receives it: accepted keeping every invariant, or refused cleanly.
        One rule for both, so that valid steps are half of all steps."""
        if data.draw(_one_in(3), label="raw input"):
            self.execute_raw(data)
            return
        step = data.draw(self.arbitrary_steps(), label="arbitrary step")
        if isinstance(step, EdgeStep):
            self.execute_edge(step)
        else:
            self.execute(step)

    def execute_edge(self, step: EdgeStep) -> None:
        """At a rule's edge the rule decides: inside, accepted (as a valid step); outside, refused."""
        inside = step.inside and self.valid_steps_succeed
        self.execute(step, must_succeed=inside, must_refuse=None if step.inside else step.rule)

    def execute_raw(self, data: st.DataObject) -> None:
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

    @precondition(lambda self: bool(self.keyed))
    @rule(data=st.data())
    def repeat_with_key(self, data: st.DataObject) -> None:
        """An accepted command sent again with its key: the first receipt, nothing recorded."""
        self.execute(data.draw(_pick(self.keyed), label="repeated step"))

    # Invariants ---------------------------------------------------------------------------

    @invariant()
    def business_rules_hold(self) -> None:
        try:
            self.domain_invariants(self.state)
        except AssertionError as error:
            error.add_note(self.story())
            raise

    @invariant()
    def store_keeps_its_promises(self) -> None:
        self.steps_to_check -= 1
        if self.steps_to_check <= 0:
            self.steps_to_check = self.check_every
            self.store_invariants()

    def teardown(self) -> None:
        try:
            # When a step or an invariant failed, that failure is what hypothesis
            # reports and shrinks: checking more here would only mask it.
            if sys.exc_info()[1] is None:
                self.final_invariants()
        finally:
            self.close()

    # Executing ------------------------------------------------------------------------------

    def execute(
        self, step: Step, *, must_succeed: bool = False, must_refuse: str | None = None
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

    def _check_receipt(self, step: Step, receipt: Receipt, recorded: Sequence[Any]) -> None:
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

    def promise(self, condition: object, promise: str, detail: str) -> None:
        """Raise :class:`PromiseBroken` unless ``condition``, with the commands so far."""
        if not condition:
            error = PromiseBroken(promise, detail)
            error.add_note(self.story())
            raise error

    def story(self) -> str:
        lines = [f"  {n}. {line}" for n, line in enumerate(self.journal, 1)]
        hint = f"find_failure({type(self).__name__}) reduces such a program to the commands the failure needs"
        return "commands executed:\n" + "\n".join(lines) + f"\n({hint})"

    def _prepared(self, ledger: Ledger) -> Ledger:
        if self.snapshot_every is not None:
            EventLog.of(ledger).snapshot_every = self.snapshot_every
        return ledger

    # Replays ----------------------------------------------------------------------------------------

    @classmethod
    def replay(
        cls, program: Sequence[Executed], *, final: bool = True, strict: bool = True, store: bool = True
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


class SQLiteLedgerMachine(LedgerMachine):
    """The same programs on a SQLite file, closed and reopened along the way."""

    def make_ledger(self) -> Ledger:
        self.directory = tempfile.mkdtemp(prefix="quality-ledger-machine-")
        return Ledger.open(f"sqlite:///{self.directory}/ledger.db")

    def reopen_ledger(self) -> Ledger | None:
        return Ledger.open(self.ledger.url)

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    @rule()
    def reopen(self) -> None:
        """Close the file and open it again: every state comes back from what was stored."""
        self.ledger.close()
        self.ledger = self._prepared(Ledger.open(self.ledger.url))
        again = LedgerState.read(self.ledger, self.campaign_ids)
        self.promise(again == self.state, "reload-equals-live", "\n".join(again.differences(self.state)))


# Finding failures -------------------------------------------------------------------------------


def find_failure(
    machine: type[LedgerMachine], *, max_examples: int = 300, seed: int | None = None, **overrides: Any
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
    Raises ``AssertionError`` if no program fails.
    """
    runs: list[LedgerMachine] = []

    def recorded() -> LedgerMachine:
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
