"""Properties of the ledger over generated campaigns (quality_ledger.testing.strategies).

* replaying the log reproduces every state, on another store and after reopening;
* a refused command records nothing, and every refusal is a LedgerError;
* whatever the order of commands, every business invariant holds after each step
  (the kit's, quality_ledger.testing.invariants; test_machine.py runs the kit's
  state machine too).
"""

from __future__ import annotations

import tempfile
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from quality_ledger import Actor, Ledger, LedgerError
from quality_ledger import commands as c
from quality_ledger.domain.base import AggregateState
from quality_ledger.errors import NotFound
from quality_ledger.testing import LedgerState, Scenario, Step
from quality_ledger.testing import strategies as qs
from quality_ledger.testing.invariants import check_domain
from tests.conftest import event_count

ANY_PERIOD = st.one_of(qs.campaign_periods(), qs.end_of_calendar_periods())
"""Campaign periods anywhere, the calendar's last weeks included."""


def outcome(ledger: Ledger, step: Step) -> str:
    """What executing ``step`` did: the events recorded, or the refusal's type.

    Anything but a LedgerError propagates and fails the property."""
    before = event_count(ledger)
    try:
        receipt = ledger.execute(step.command, step.actor)
    except LedgerError as error:
        refusal = error
    else:
        return ",".join(receipt.events)
    assert event_count(ledger) == before, f"refused {step.command.name} recorded events: {refusal}"
    return type(refusal).__name__


def state_or_none(ledger: Ledger, aggregate_id: UUID) -> AggregateState | None:
    try:
        return ledger.get(aggregate_id)
    except NotFound:
        return None


def recorded(ledger: Ledger, aggregate_id: UUID) -> list[tuple[str, int, dict[str, object]]]:
    try:
        return [(e.name, e.version, e.payload) for e in ledger.history(aggregate_id)]
    except NotFound:
        return []


# (a) Replay ---------------------------------------------------------------------------


@given(scenario=qs.scenarios(noise=True))
def test_replaying_the_log_reproduces_every_state(scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # given: the same commands executed on an in-memory ledger and on a SQLite file
        url = f"sqlite:///{tmp}/ledger.db"
        live = Ledger.open("memory://")
        on_disk = Ledger.open(url)
        for step in scenario.steps:
            assert outcome(live, step) == outcome(on_disk, step)
        before_close = {i: on_disk.history(i) for i in scenario.aggregate_ids if recorded(on_disk, i)}
        on_disk.close()

        # when: the file is reopened, so every state is rebuilt from stored events alone
        with Ledger.open(url) as reopened:
            # then
            for aggregate_id in scenario.aggregate_ids:
                state = state_or_none(live, aggregate_id)
                assert state_or_none(reopened, aggregate_id) == state
                assert recorded(reopened, aggregate_id) == recorded(live, aggregate_id)
                if state is None:
                    continue
                assert reopened.history(aggregate_id) == before_close[aggregate_id]
                versions = [e.version for e in reopened.history(aggregate_id)]
                assert versions == list(range(1, state.version + 1))
                assert reopened.get(aggregate_id, version=state.version) == state
                for version in versions[:-1]:
                    earlier = reopened.get(aggregate_id, version=version)
                    assert earlier.version == version
                    assert earlier == live.get(aggregate_id, version=version)
        live.close()


# (b) Refusals -------------------------------------------------------------------------


def attempt_raw(ledger: Ledger, raw: dict[str, object], actor: Actor) -> None:
    """Parse and execute arbitrary input: success, or a LedgerError that records nothing."""
    before = event_count(ledger)
    try:
        ledger.execute(c.parse_obj(raw), actor)
    except LedgerError as error:
        refusal = error
    else:
        return
    assert event_count(ledger) == before, f"refused {raw.get('command')} recorded events: {refusal}"


@given(scenario=qs.scenarios(ANY_PERIOD, noise=True), data=st.data())
def test_a_refused_command_records_nothing_and_is_a_ledger_error(scenario: Scenario, data: st.DataObject) -> None:
    # given: a campaign being run, with arbitrary input arriving between its steps
    ledger = Ledger.open("memory://")
    departments = (*scenario.departments, qs.ORGANISER)
    arbitrary_actors = st.one_of(qs.actors(departments), qs.actors())
    for step in scenario.steps:
        # when / then: each command is recorded, or refused with a LedgerError and nothing recorded
        outcome(ledger, step)
        if data.draw(st.integers(0, 2), label="arbitrary input now") == 0:
            raw = data.draw(qs.raw_commands(scenario.aggregate_ids, scenario.sample_ids), label="raw command")
            attempt_raw(ledger, raw, data.draw(arbitrary_actors, label="actor"))
    ledger.close()


# (c) Invariants -------------------------------------------------------------------------


def check_invariants(ledger: Ledger, scenario: Scenario) -> None:
    """Every business invariant of the kit (quality_ledger.testing.invariants) over the campaign's aggregates."""
    if state_or_none(ledger, scenario.campaign_id) is None:
        return  # the plan itself was refused (a noisy step)
    check_domain(LedgerState.read(ledger, [scenario.campaign_id]))


@given(scenario=qs.scenarios(noise=True), data=st.data())
def test_every_invariant_holds_after_every_step_in_any_order(scenario: Scenario, data: st.DataObject) -> None:
    # given: a campaign's commands, with now and then one of them again out of its order
    ledger = Ledger.open("memory://")
    steps = list(scenario.steps)
    for step in steps:
        # when
        outcome(ledger, step)
        if data.draw(st.integers(0, 3), label="out of order now") == 0:
            outcome(ledger, data.draw(st.sampled_from(steps), label="out-of-order step"))

        # then
        check_invariants(ledger, scenario)
    ledger.close()
