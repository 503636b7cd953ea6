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

Here are the machine's settings, hooks and rules; what it checks lives
beside it, mixed in: each command's promises (and the replay of a program) in
:mod:`~quality_ledger.testing.command_promises`, the store's (and
:class:`PromiseBroken`) in :mod:`~quality_ledger.testing.promises`.
:func:`find_failure` is in :mod:`~quality_ledger.testing.finding`, the
reduction it hands a failure to (and :class:`MachineFailure`) in
:mod:`~quality_ledger.testing.reduction`; all are importable from here.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import date
from typing import ClassVar
from uuid import UUID

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger
from quality_ledger.receipts import Receipt
from quality_ledger.testing.arbitrary import any_commands_for
from quality_ledger.testing.command_promises import CommandPromises
from quality_ledger.testing.edges import EdgeStep, _edges, edge_steps, refused_steps
from quality_ledger.testing.finding import find_failure
from quality_ledger.testing.invariants import check_domain
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.pools import _pick
from quality_ledger.testing.promises import Executed, PromiseBroken, StorePromises
from quality_ledger.testing.reduction import MachineFailure
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.steps import commands_for
from quality_ledger.testing.values import _one_in

__all__ = ["Executed", "LedgerMachine", "MachineFailure", "PromiseBroken", "SQLiteLedgerMachine", "find_failure"]


class LedgerMachine(CommandPromises, StorePromises, RuleBasedStateMachine):
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
            # Half the time, every step at an edge that the aggregate must refuse now (progress
            # after completion, a penalty on a conforming inspection, an objection on day 16):
            # refusals leave the state as it is, and a step inside an edge may still follow.
            if data.draw(st.booleans(), label="the refusals due now"):
                for refused in data.draw(refused_steps(self.state, self.focus), label="steps to be refused"):
                    self.execute_edge(refused)
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

    def _prepared(self, ledger: Ledger) -> Ledger:
        if self.snapshot_every is not None:
            EventLog.of(ledger).snapshot_every = self.snapshot_every
        return ledger


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
