"""The state machine of quality_ledger.testing over the project's own ledger.

* ``TestLedgerMachine`` and ``TestSQLiteLedgerMachine`` run the machine: after
  every step the business invariants hold and a refusal records nothing; the
  store's promises (reload, snapshots, replay, views, chain) hold every few
  steps and at the end;
* the valid-step strategy draws only what the ledger accepts;
* the machine catches planted bugs, in either direction (a rule that lets
  through what it must refuse, and one that refuses what it must allow), and
  ``find_failure`` reduces each to the few commands it needs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from quality_ledger import Actor, Ledger, LedgerError
from quality_ledger import commands as c
from quality_ledger.domain.inspection import Inspection, Rectification
from quality_ledger.domain.values import CampaignStatus, InspectionStatus
from quality_ledger.errors import IllegalTransition
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import Changes, CommandContext, handle
from quality_ledger.testing import profiles
from quality_ledger.testing import strategies as qs
from quality_ledger.testing.invariants import InvariantBroken
from quality_ledger.testing.machine import LedgerMachine, PromiseBroken, SQLiteLedgerMachine, find_failure
from quality_ledger.testing.state import LedgerState

TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = profiles.for_machines()

TestSQLiteLedgerMachine = SQLiteLedgerMachine.TestCase
TestSQLiteLedgerMachine.settings = profiles.for_machines(cost=12)  # a file, fsynced on every command


# The valid-step strategy ------------------------------------------------------------------------


@settings(max_examples=max(10, settings().max_examples // 3))
@given(data=st.data(), campaigns=st.integers(1, 2))
def test_every_valid_step_is_accepted_in_the_state_it_was_drawn_for(data: st.DataObject, campaigns: int) -> None:
    # given an empty ledger
    with Ledger.open("memory://") as ledger:
        ids: list[Any] = []
        state = LedgerState()
        for _ in range(40):
            # when the next valid step for its current state is executed
            step = data.draw(qs.commands_for(state, max_campaigns=campaigns), label="step")
            try:
                receipt = ledger.execute(step.command, step.actor)
            except LedgerError as error:
                # then it is never refused
                pytest.fail(f"a valid step was refused: {step}: {error!r}")
            if receipt.events[0] == "Campaign.Planned":
                ids.append(receipt.aggregate_id)
            state = LedgerState.read(ledger, ids)
        # and a campaign beyond the limit was planned only when nothing else could happen
        older = list(state.campaigns.values())[:-campaigns]
        assert all(campaign.status is CampaignStatus.CONCLUDED for campaign in older)


# Planted bugs ----------------------------------------------------------------------------------


def order_without_guards(command: c.Command, ctx: CommandContext) -> Changes:
    """A broken rule: a rectification may be ordered at any time, even before any verdict."""
    if not isinstance(command, c.OrderRectification):
        return handle(command, ctx)
    inspection = ctx.load(Inspection, command.inspection_id)
    ctx.authorize(command, inspection.state.inspecting_department)
    rectification = Rectification(
        ordered_on=command.ordered_on, due_on=command.due_on, requirements=command.requirements
    )
    inspection.trigger_event(Inspection.RectificationOrdered, rectification=rectification)
    return Changes(inspection)


class LaxLedger(Ledger):
    handle = staticmethod(order_without_guards)


class LaxMachine(LedgerMachine):
    def make_ledger(self) -> Ledger:
        return LaxLedger.open("memory://")


def never_close(command: c.Command, ctx: CommandContext) -> Changes:
    """A broken rule: closing is refused even when the case is settled."""
    if isinstance(command, c.CloseInspection):
        raise IllegalTransition("inspection", "any", "close")
    return handle(command, ctx)


class StrictLedger(Ledger):
    handle = staticmethod(never_close)


class StrictMachine(LedgerMachine):
    def make_ledger(self) -> Ledger:
        return StrictLedger.open("memory://")


def test_a_rectification_allowed_before_the_verdict_is_found_and_reduced_to_a_few_commands() -> None:
    # given a ledger whose rule for ordering a rectification lost its guards
    # when the machine runs it
    failure = find_failure(LaxMachine, max_examples=1000, stateful_step_count=50)
    # then the failure names a guard the rule skipped: the transition table, for an order
    # aimed at an inspection before its verdict, or an invariant the order then broke
    assert isinstance(failure.error, PromiseBroken | InvariantBroken)
    skipped = ("rectification-after-nonconforming", "rectification-due-after-order")
    assert failure.error.rule in skipped or failure.error.rule.startswith(
        "transition table: cannot order a rectification when "
    )
    # and the failing program is reduced to the commands it needs: four before any verdict
    # (campaign, department, inspection, order), seven after one (sample, result, verdict)
    names = [e.step.command.name for e in failure.program]
    assert names[:3] == ["PlanCampaign", "EnlistDepartment", "PlanInspection"]
    assert names[-1] == "OrderRectification"
    assert len(names) <= 7 < len(failure.found)
    assert failure.commands[-1].endswith("Inspection.RectificationOrdered")


def test_a_rule_that_refuses_a_settled_case_is_found_by_the_valid_steps() -> None:
    # given a ledger that refuses to close any inspection
    # when the machine runs it
    failure = find_failure(StrictMachine, max_examples=1000, stateful_step_count=50)
    # then a valid step was refused: the closing, at the end of a program reduced to what makes it valid
    assert isinstance(failure.error, PromiseBroken)
    assert failure.error.promise == "valid-command-accepted"
    names = [e.step.command.name for e in failure.program]
    assert names[:3] == ["PlanCampaign", "EnlistDepartment", "PlanInspection"]
    assert names[-1] == "CloseInspection"
    assert len(names) <= 8 < len(failure.found)  # with a sample, its result, a verdict (and a transfer)
    # and the library's own rules accept every one of its commands, the closing too
    with Ledger.open("memory://") as reference:
        for executed in failure.program:
            reference.execute(executed.step.command, executed.step.actor)
        assert reference.get(failure.program[-1].step.command.inspection_id).status is InspectionStatus.CLOSED


def test_running_the_machine_as_a_test_raises_what_it_found() -> None:
    # given the ledger with the broken rule
    # when hypothesis runs the machine as a test (without shrinking: find_failure reduces faster)
    chosen = settings(
        max_examples=1000,  # it stops at the first failure: a few dozen programs at most, mostly
        stateful_step_count=50,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # then it fails with the broken rule, and says which commands led there
    with pytest.raises((PromiseBroken, InvariantBroken)) as raised:
        run_state_machine_as_test(LaxMachine, settings=chosen)
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    assert "OrderRectification by" in notes
    assert "Inspection.RectificationOrdered" in notes
    assert "find_failure(LaxMachine) reduces" in notes  # and how to get the short program


def test_the_machine_checks_snapshots_it_actually_takes() -> None:
    # given the machine's ledger, which snapshots every 3 versions
    machine = LedgerMachine()
    organiser = Actor(user="zhang.min", department=qs.ORGANISER)
    try:
        plan = c.PlanCampaign(
            title="質量月",
            theme="品質西安",
            organiser=qs.ORGANISER,
            starts_on=date(2017, 9, 1),
            ends_on=date(2017, 9, 30),
        )
        # when a campaign reaches version 4
        machine.execute(qs.Step(plan, organiser))
        campaign_id = plan.new_id()
        for code, name_zh, name_en in qs.DEPARTMENTS[:3]:
            enlist = c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh=name_zh, name_en=name_en)
            machine.execute(qs.Step(enlist, organiser))
        # then a snapshot at version 3 exists, and the store's promises hold
        snapshots = EventLog.of(machine.ledger).snapshots
        assert snapshots is not None
        assert [s.originator_version for s in snapshots.get(campaign_id)] == [3]
        machine.final_invariants()
    finally:
        machine.close()
