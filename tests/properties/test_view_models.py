"""Every view against its independent model (``quality_ledger.testing.view_models``):
equal on random valid programs and on every engine; a planted view bug is
caught and named."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.projections import (
    ActivityRow,
    AuditPage,
    BulletinLine,
    InspectionRow,
    ScorecardLine,
    TargetLine,
)
from quality_ledger.testing import strategies as qs
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.view_checks import VIEWS, check_views
from tests.conftest import FDA, ORGANISER, QTS, plan_campaign


def days_that_matter(state: LedgerState) -> list[date]:
    """Every business date the state holds, and each rectification's due date and
    the day after: where "overdue" turns."""
    due = [i.rectification.due_on for i in state.inspections.values() if i.rectification is not None]
    return sorted({*state.dates(), *due, *(d + timedelta(days=1) for d in due)})


# Random valid programs -----------------------------------------------------------------------


@settings(max_examples=max(5, settings().max_examples // 5))  # about 5 s in CI
@given(data=st.data(), campaigns=st.integers(1, 2))
def test_every_view_equals_its_model_after_any_valid_program(data: st.DataObject, campaigns: int) -> None:
    # given an empty ledger
    with Ledger.open("memory://") as ledger:
        ids: list[UUID] = []
        state = LedgerState()
        focus: UUID | None = None
        for step_number in range(1, 41):
            # when valid steps are executed, most taking the last aggregate further (deep states)
            step = data.draw(qs.commands_for(state, max_campaigns=campaigns, focus=focus), label="step")
            receipt = ledger.execute(step.command, step.actor)
            focus = receipt.aggregate_id
            if receipt.events[0] == "Campaign.Planned":
                ids.append(receipt.aggregate_id)
            state = LedgerState.read(ledger, ids)
            if step_number % 10 == 0:
                # then every view equals its model, judged on a day that matters
                as_of = data.draw(st.sampled_from(days_that_matter(state)), label="as of")
                assert check_views(ledger, state, ids, as_of) == []


# A fixed program, on every engine --------------------------------------------------------------


def small_campaign(ledger: Ledger) -> UUID:
    """Something for every column: activities completed with progress, cancelled
    (with an idempotency key: a command record in the trail), started; a
    nonconforming inspection under a rectification order, a conforming one in
    another category; a published bulletin."""
    campaign_id = plan_campaign(ledger)

    def activity(title: str, lead: str, actor: Any, **targets: int) -> UUID:
        command = c.PlanActivity(
            campaign_id=campaign_id,
            title=title,
            lead_department=lead,
            focus_area="everyone-takes-part",
            activity_kind="expert-visit",
            targets=targets,
        )
        return ledger.execute(command, actor).aggregate_id

    visit = activity("58 experts visit 88 enterprises", "XA-QTS", QTS, experts=58, enterprises=88)
    ledger.execute(
        c.ScheduleActivity(activity_id=visit, starts_on=date(2017, 9, 4), ends_on=date(2017, 9, 8), place="高新区"), QTS
    )
    ledger.execute(c.StartActivity(activity_id=visit, started_on=date(2017, 9, 4)), QTS)
    ledger.execute(
        c.ReportProgress(activity_id=visit, metric="enterprises", amount=30, reported_on=date(2017, 9, 6)), QTS
    )
    ledger.execute(c.CompleteActivity(activity_id=visit, completed_on=date(2017, 9, 8), outcome="88 visited"), QTS)
    fair = activity("Quality fair", "XA-FDA", FDA)
    ledger.execute(c.CancelActivity(activity_id=fair, reason="merged", idempotency_key="cancel-fair"), FDA)
    forum = activity("Brand forum", "XA-QTS", QTS, speakers=5)
    ledger.execute(c.StartActivity(activity_id=forum, started_on=date(2017, 9, 10)), QTS)

    def inspection(reference: str, category: str, subject: str, passed: bool) -> UUID:
        command = c.PlanInspection(
            campaign_id=campaign_id,
            reference=reference,
            inspecting_department="XA-QTS",
            inspection_kind="supervision spot check",
            subject_name=subject,
            product_category=category,
            planned_on=date(2017, 9, 4),
        )
        inspection_id = ledger.execute(command, QTS).aggregate_id
        for sample, ok in (("S-1", True), ("S-2", passed)):
            ledger.execute(
                c.TakeSample(
                    inspection_id=inspection_id, sample_id=sample, product="P", batch="B", taken_on=date(2017, 9, 5)
                ),
                QTS,
            )
            items = () if ok else ("conductor resistance",)
            ledger.execute(
                c.RecordSampleResult(
                    inspection_id=inspection_id,
                    sample_id=sample,
                    passed=ok,
                    nonconforming_items=items,
                    tested_on=date(2017, 9, 9),
                ),
                QTS,
            )
        ledger.execute(c.IssueVerdict(inspection_id=inspection_id, notified_on=date(2017, 9, 10)), QTS)
        return inspection_id

    cables = inspection("W-1", "wires and cables", "陕西某电缆有限公司", passed=False)
    tiles = inspection("T-1", "ceramic tiles", "西安某陶瓷厂", passed=True)
    ledger.execute(
        c.OrderRectification(
            inspection_id=cables, ordered_on=date(2017, 9, 26), due_on=date(2017, 10, 10), requirements="recall batch B"
        ),
        QTS,
    )
    ledger.execute(
        c.PublishBulletin(
            campaign_id=campaign_id, title="Q3 results", published_on=date(2017, 9, 28), inspection_ids=(tiles,)
        ),
        ORGANISER,
    )
    return campaign_id


@pytest.mark.parametrize("as_of", [date(2017, 10, 10), date(2017, 10, 11)])
def test_every_view_equals_its_model_on_every_engine(ledger: Ledger, as_of: date) -> None:
    # given a small campaign with something in every column
    campaign_id = small_campaign(ledger)
    state = LedgerState.read(ledger, [campaign_id])
    # when the views are compared with their models, before and after the rectification falls due
    differences = check_views(ledger, state, [campaign_id], as_of)
    # then they agree, and the views say what the program did
    assert differences == []
    (card, _) = ledger.department_scorecard(campaign_id, as_of)
    assert (card.activities_planned, card.activities_completed, card.overdue_rectifications) == (
        2,
        1,
        int(as_of > date(2017, 10, 10)),
    )
    assert [line.product_category for line in ledger.bulletin(campaign_id)] == ["ceramic tiles", "wires and cables"]
    assert "command-record" in {entry.aggregate_kind for entry in ledger.audit_trail(limit=1000).entries}


# Planted view bugs --------------------------------------------------------------------------


class CancelledCountAsCompleted(Ledger):
    """A scorecard that counts cancelled activities as completed."""

    def department_scorecard(self, campaign_id: UUID, as_of: date | None = None) -> list[ScorecardLine]:
        return [
            line.model_copy(update={"activities_completed": line.activities_completed + line.activities_cancelled})
            for line in super().department_scorecard(campaign_id, as_of)
        ]


class CompletedShownAsStarted(Ledger):
    """An activity board that shows a completed activity as still started."""

    def activity_board(self, campaign_id: UUID) -> list[ActivityRow]:
        return [
            row.model_copy(update={"status": "started"}) if row.status == "completed" else row
            for row in super().activity_board(campaign_id)
        ]


class ProgressOffByOne(Ledger):
    """An activity board that counts one more than was reported, once anything was."""

    def activity_board(self, campaign_id: UUID) -> list[ActivityRow]:
        def plus_one(line: TargetLine) -> TargetLine:
            return line.model_copy(update={"achieved": line.achieved + 1}) if line.achieved else line

        return [
            row.model_copy(update={"progress": tuple(plus_one(p) for p in row.progress)})
            for row in super().activity_board(campaign_id)
        ]


class OverdueOnItsDueDate(Ledger):
    """An inspection register that counts a rectification overdue on its due date already."""

    def inspection_register(self, campaign_id: UUID, as_of: date | None = None) -> list[InspectionRow]:
        return [
            row.model_copy(update={"overdue": True})
            if row.rectification_open and row.rectification_due_on == as_of
            else row
            for row in super().inspection_register(campaign_id, as_of)
        ]


class UntestedSamplesInTheBulletin(Ledger):
    """A bulletin that counts every sample as tested, with a result or not."""

    def bulletin(self, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[BulletinLine]:
        return [
            line.model_copy(update={"samples_tested": line.samples_tested + 1})
            for line in super().bulletin(campaign_id, bulletin_id)
        ]


class TrailWithoutCommands(Ledger):
    """An audit trail that loses which command recorded a completion."""

    def audit_trail(self, **filters: Any) -> AuditPage:
        page = super().audit_trail(**filters)
        entries = tuple(
            e.model_copy(update={"command": None}) if e.event == "Activity.Completed" else e for e in page.entries
        )
        return page.model_copy(update={"entries": entries})


@pytest.mark.parametrize(
    ("planted", "view"),
    [
        (CancelledCountAsCompleted, "department_scorecard"),
        (CompletedShownAsStarted, "activity_board"),
        (ProgressOffByOne, "activity_board"),
        (OverdueOnItsDueDate, "inspection_register"),
        (UntestedSamplesInTheBulletin, "bulletin"),
        (TrailWithoutCommands, "audit_trail"),
    ],
)
def test_a_planted_view_bug_is_caught_by_the_name_of_its_view(planted: type[Ledger], view: str) -> None:
    # given a ledger whose view has a bug, holding a small campaign
    with planted.open("memory://") as ledger:
        campaign_id = small_campaign(ledger)
        state = LedgerState.read(ledger, [campaign_id])
        # when its views are compared with their models
        differences = check_views(ledger, state, [campaign_id], date(2017, 10, 10))
    # then that view, and only that one, is reported
    assert differences
    assert {line.split(",")[0] for line in differences} == {view}
    assert view in VIEWS


def test_a_difference_names_the_view_campaign_row_and_columns() -> None:
    # given a scorecard that counts cancelled activities as completed
    with CancelledCountAsCompleted.open("memory://") as ledger:
        campaign_id = small_campaign(ledger)
        state = LedgerState.read(ledger, [campaign_id])
        # when it is checked
        (line,) = check_views(ledger, state, [campaign_id], date(2017, 10, 11))
    # then the one line says where, which row, which column, live against model
    assert line == (
        f"department_scorecard, campaign {campaign_id}: code XA-FDA: activities_completed: live 1 != model 0"
    )
