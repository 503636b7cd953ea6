"""A downstream service tested with quality_ledger's kit, as the service's own suite would.

This module imports only what any service can: quality_ledger's public API and
``quality_ledger.testing``. The service, ``RectificationDesk``, sends notices
for overdue rectifications and closes settled cases. Its tests subclass the
kit's ``LedgerMachine`` with the desk's own rule and invariant, and prove that
the machine catches a bug planted in the desk, reduced to the few commands
it needs. (Bugs planted in the ledger's own rules, through a ``Ledger``
subclass, are in ``tests/properties/test_machine.py``.) ``docs/testing.md`` walks
through the same code.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.inspection import Inspection
from quality_ledger.errors import IllegalTransition
from quality_ledger.testing import LedgerMachine, Step, find_failure, gwt, profiles
from quality_ledger.testing.strategies import shift

# The service ------------------------------------------------------------------------------------

SETTLED = ("rectified", "penalised", "transferred")


class RectificationDesk:
    """Which subjects get a notice that their rectification is overdue, and
    which settled inspections to close; reads the ledger's inspection register."""

    def __init__(self, ledger: Ledger, clerk: str = "desk.bot") -> None:
        self.ledger = ledger
        self.clerk = clerk

    def overdue(self, campaign_id: UUID, on: date) -> set[UUID]:
        return {row.inspection_id for row in self.ledger.inspection_register(campaign_id, as_of=on) if row.overdue}

    def closings(self, campaign_id: UUID, on: date) -> list[Step]:
        return [
            Step(
                c.CloseInspection(inspection_id=row.inspection_id, closed_on=on),
                Actor(user=self.clerk, department=row.inspecting_department),
            )
            for row in self.ledger.inspection_register(campaign_id, as_of=on)
            if row.status in SETTLED
        ]


# The service's machine -----------------------------------------------------------------------------


class DeskMachine(LedgerMachine):
    """The kit's machine (its rules, invariants and checks), plus the desk's."""

    def __init__(self) -> None:
        super().__init__()
        self.desk = self.make_desk()

    def make_desk(self) -> RectificationDesk:
        return RectificationDesk(self.ledger)

    @rule(days=st.integers(0, 40))
    def close_settled_cases(self, days: int) -> None:
        """Every closing the desk proposes is accepted."""
        on = shift(max(self.state.dates(), default=date(2017, 9, 1)), days)
        for campaign_id in self.campaign_ids:
            for step in self.desk.closings(campaign_id, on):
                self.execute(step, must_succeed=True)

    @invariant()
    def notices_go_to_overdue_rectifications_only(self) -> None:
        """On a rectification's due date and the day after, the desk's notices
        are exactly the open rectifications due before that day."""
        for campaign_id in self.state.campaigns:
            inspections = [self.state.inspections[i] for i in self.state.inspection_ids(campaign_id)]
            due = {i.rectification.due_on for i in inspections if i.rectification is not None}
            for on in {day for d in due for day in (d, shift(d, 1))}:
                expected = {i.id for i in inspections if i.rectification_overdue(on)}
                notices = self.desk.overdue(campaign_id, on)
                assert notices == expected, f"notices on {on}: {notices} != {expected}"


TestDeskMachine = DeskMachine.TestCase
TestDeskMachine.settings = profiles.for_machines()


# Proof that it catches bugs ----------------------------------------------------------------------


class HastyDesk(RectificationDesk):
    """Planted bug: a rectification counts as overdue on its due date already."""

    def overdue(self, campaign_id: UUID, on: date) -> set[UUID]:
        return super().overdue(campaign_id, on + timedelta(days=1))


class HastyDeskMachine(DeskMachine):
    def make_desk(self) -> RectificationDesk:
        return HastyDesk(self.ledger)


def test_the_machine_finds_the_bug_planted_in_the_desk() -> None:
    # given the desk with the off-by-one / when the machine runs it
    failure = find_failure(HastyDeskMachine, max_examples=1000, stateful_step_count=50)
    # then the desk's invariant fails, once a rectification is ordered, in the fewest commands that order one
    assert isinstance(failure.error, AssertionError)
    assert "notices on" in str(failure.error)
    assert [e.step.command.name for e in failure.program] == [
        "PlanCampaign",
        "EnlistDepartment",
        "PlanInspection",
        "TakeSample",
        "RecordSampleResult",
        "IssueVerdict",
        "OrderRectification",
    ]


# One behaviour at a time ----------------------------------------------------------------------------

ORGANISER = Actor(user="zhang.min", department="XA-QPC")
QTS = Actor(user="li.wei", department="XA-QTS")
PLAN = c.PlanCampaign(
    title="西安市2017年质量月",
    theme="品質西安",
    organiser="XA-QPC",
    starts_on=date(2017, 9, 1),
    ends_on=date(2017, 9, 30),
)
CAMPAIGN = PLAN.new_id()
INSPECT = c.PlanInspection(
    campaign_id=CAMPAIGN,
    reference="2017-Q3-電線電纜",
    inspecting_department="XA-QTS",
    inspection_kind="監(jiān)督抽查",
    subject_name="西安某電纜廠",
    product_category="電線電纜",
    planned_on=date(2017, 9, 4),
)
INSPECTION = INSPECT.new_id()
RECTIFIED = (
    (PLAN, ORGANISER),
    (c.EnlistDepartment(campaign_id=CAMPAIGN, code="XA-QTS", name_zh="市质监局", name_en="QTS"), ORGANISER),
    (INSPECT, QTS),
    (
        c.TakeSample(
            inspection_id=INSPECTION, sample_id="S-1", product="BV 2.5", batch="170901-A", taken_on=date(2017, 9, 5)
        ),
        QTS,
    ),
    (
        c.RecordSampleResult(
            inspection_id=INSPECTION,
            sample_id="S-1",
            passed=False,
            nonconforming_items=("導體電阻",),
            tested_on=date(2017, 9, 8),
        ),
        QTS,
    ),
    (c.IssueVerdict(inspection_id=INSPECTION, notified_on=date(2017, 9, 10)), QTS),
    (
        c.OrderRectification(
            inspection_id=INSPECTION, ordered_on=date(2017, 9, 11), due_on=date(2017, 10, 11), requirements="更換導體"
        ),
        QTS,
    ),
)


def test_a_rectification_is_overdue_the_day_after_it_is_due(ledger: Ledger) -> None:
    # given a rectification due on 11 October
    for command, actor in RECTIFIED:
        ledger.execute(command, actor)
    desk = RectificationDesk(ledger)
    # when the desk looks on the due date and the day after / then it sends a notice only the day after
    assert desk.overdue(CAMPAIGN, date(2017, 10, 11)) == set()
    assert desk.overdue(CAMPAIGN, date(2017, 10, 12)) == {INSPECTION}


def test_the_desk_closes_a_case_once_the_rectification_passed(ledger: Ledger) -> None:
    # given a rectification verified as passed
    verified = c.VerifyRectification(inspection_id=INSPECTION, verified_on=date(2017, 10, 9), passed=True)
    for command, actor in (*RECTIFIED, (verified, QTS)):
        ledger.execute(command, actor)
    (closing,) = RectificationDesk(ledger).closings(CAMPAIGN, date(2017, 10, 12))
    # when the desk's closing is executed / then the inspection is closed
    gwt.given(ledger=ledger).when(closing.command, closing.actor).then(
        gwt.event(Inspection.Closed, closed_on=date(2017, 10, 12))
    )


def test_the_desk_proposes_no_closing_while_the_rectification_is_open(ledger: Ledger) -> None:
    # given a rectification ordered, not yet verified
    for command, actor in RECTIFIED:
        ledger.execute(command, actor)
    # when the desk looks for settled cases / then it finds none, and closing by hand is refused
    assert RectificationDesk(ledger).closings(CAMPAIGN, date(2017, 10, 12)) == []
    close = c.CloseInspection(inspection_id=INSPECTION, closed_on=date(2017, 10, 12))
    gwt.given(ledger=ledger).when(close, QTS).then_raises(IllegalTransition)
