"""The SQL views: what they answer, where they live, and that they never drift."""

from __future__ import annotations

import sqlite3
import time
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.errors import NotFound, ProjectionFailed
from quality_ledger.eventlog import EventLog
from tests.conftest import ORGANISER, QTS, plan_campaign


def busy_campaign(ledger: Ledger) -> tuple[UUID, UUID, UUID]:
    """A campaign with a started expert visit and a nonconforming inspection
    under an overdue rectification order."""
    campaign_id = plan_campaign(ledger)
    visit = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="58 experts visit 88 enterprises",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            activity_kind="expert-visit",
            targets={"experts": 58, "enterprises": 88},
        ),
        QTS,
    ).aggregate_id
    ledger.execute(c.StartActivity(activity_id=visit, started_on=date(2017, 9, 5)), QTS)
    ledger.execute(
        c.ReportProgress(activity_id=visit, metric="enterprises", amount=30, reported_on=date(2017, 9, 12)), QTS
    )
    inspection = ledger.execute(
        c.PlanInspection(
            campaign_id=campaign_id,
            reference="W-1",
            inspecting_department="XA-QTS",
            inspection_kind="supervision spot check",
            subject_name="陕西某电缆有限公司",
            product_category="wires and cables",
            planned_on=date(2017, 9, 4),
        ),
        QTS,
    ).aggregate_id
    for sample, passed in (("S-1", True), ("S-2", False)):
        ledger.execute(
            c.TakeSample(
                inspection_id=inspection, sample_id=sample, product="BV 2.5", batch="B", taken_on=date(2017, 9, 5)
            ),
            QTS,
        )
        ledger.execute(
            c.RecordSampleResult(
                inspection_id=inspection,
                sample_id=sample,
                passed=passed,
                nonconforming_items=() if passed else ("conductor resistance",),
                tested_on=date(2017, 9, 9),
            ),
            QTS,
        )
    ledger.execute(c.IssueVerdict(inspection_id=inspection, notified_on=date(2017, 9, 10)), QTS)
    ledger.execute(
        c.OrderRectification(
            inspection_id=inspection,
            ordered_on=date(2017, 9, 26),
            due_on=date(2017, 10, 10),
            requirements="recall batch B",
        ),
        QTS,
    )
    return campaign_id, visit, inspection


def test_campaign_status_from_the_views_equals_the_figures_replayed_from_events(ledger: Ledger) -> None:
    # given a campaign with activity, progress and a nonconforming inspection
    campaign_id, _, _ = busy_campaign(ledger)
    # when its status is read from the views
    status = ledger.campaign_status(campaign_id)
    # then it equals the reference model computed from the aggregates, and says what happened
    assert status == ledger.campaign_status_from_events(campaign_id)
    assert status.activities_by_state == {"started": 1}
    assert status.inspections_by_verdict == {"nonconforming": 1}
    assert (status.samples_tested, status.samples_failed, status.pass_rate) == (2, 1, 0.5)
    assert [(t.metric, t.achieved, t.target) for t in status.targets] == [("experts", 0, 58), ("enterprises", 30, 88)]


def test_the_activity_board_shows_state_lead_and_progress(ledger: Ledger) -> None:
    campaign_id, visit, _ = busy_campaign(ledger)
    (row,) = ledger.activity_board(campaign_id)
    assert (row.activity_id, row.status, row.lead_department, row.started_on) == (
        visit,
        "started",
        "XA-QTS",
        date(2017, 9, 5),
    )
    assert {p.metric: p.achieved for p in row.progress} == {"experts": 0, "enterprises": 30}


def test_the_inspection_register_marks_a_rectification_overdue_only_after_its_due_date(ledger: Ledger) -> None:
    campaign_id, _, inspection = busy_campaign(ledger)
    (before,) = ledger.inspection_register(campaign_id, as_of=date(2017, 10, 10))
    (after,) = ledger.inspection_register(campaign_id, as_of=date(2017, 10, 11))
    assert (before.inspection_id, before.verdict, before.samples, before.failed) == (inspection, "nonconforming", 2, 1)
    assert before.rectification_open
    assert not before.overdue
    assert after.overdue


def test_the_bulletin_gives_pass_rate_and_nonconforming_subjects_per_category(ledger: Ledger) -> None:
    campaign_id, _, _ = busy_campaign(ledger)
    (line,) = ledger.bulletin(campaign_id)
    assert (line.product_category, line.inspections, line.samples_tested, line.samples_failed) == (
        "wires and cables",
        1,
        2,
        1,
    )
    assert line.pass_rate == 0.5
    assert line.nonconforming_subjects == ("陕西某电缆有限公司",)


def test_the_department_scorecard_counts_per_department(ledger: Ledger) -> None:
    campaign_id, _, _ = busy_campaign(ledger)
    cards = {card.code: card for card in ledger.department_scorecard(campaign_id, as_of=date(2017, 10, 20))}
    assert (
        cards["XA-QTS"].activities_planned,
        cards["XA-QTS"].inspections,
        cards["XA-QTS"].overdue_rectifications,
    ) == (1, 1, 1)
    assert (cards["XA-FDA"].activities_planned, cards["XA-FDA"].inspections) == (0, 0)


def test_the_audit_trail_filters_by_actor_department_aggregate_and_pages(ledger: Ledger) -> None:
    # given commands by the organiser and by the QTS clerk
    _, visit, _ = busy_campaign(ledger)
    # when the trail is filtered
    by_qts = ledger.audit_trail(department="XA-QTS", limit=1000).entries
    by_organiser = ledger.audit_trail(actor=ORGANISER.user, limit=1000).entries
    of_visit = ledger.audit_trail(aggregate_id=visit).entries
    # then each filter keeps exactly its events, with readable summaries
    assert by_qts
    assert all(e.department == "XA-QTS" for e in by_qts)
    assert {e.event for e in by_organiser} == {"Campaign.Planned", "Campaign.DepartmentEnlisted", "Campaign.Launched"}
    assert [e.event for e in of_visit] == ["Activity.Planned", "Activity.Started", "Activity.ProgressReported"]
    assert of_visit[2].summary == "reported 30 enterprises on 2017-09-12"
    # and pages chain without gaps or repeats
    first = ledger.audit_trail(limit=5)
    second = ledger.audit_trail(limit=5, after=first.next_after or 0)
    assert [e.position for e in first.entries + second.entries] == list(range(1, 11))


def test_the_audit_trail_filters_by_recorded_time(ledger: Ledger) -> None:
    campaign_id = plan_campaign(ledger)
    entries = ledger.audit_trail().entries
    middle = entries[2].recorded_at
    assert [e.position for e in ledger.audit_trail(since=middle).entries] == [e.position for e in entries[2:]]
    assert [e.position for e in ledger.audit_trail(until=middle).entries] == [e.position for e in entries[:2]]
    assert campaign_id == entries[0].aggregate_id


def test_a_query_on_an_unknown_campaign_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound):
        ledger.campaign_status(UUID(int=7))


def test_views_on_a_file_are_readable_with_plain_sql(tmp_path: Path) -> None:
    # given a ledger on a SQLite file
    path = tmp_path / "xian.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        campaign_id, _, _ = busy_campaign(ledger)
        ledger.campaign_status(campaign_id)
        head = ledger.position()
    # when another program reads the file with plain SQL
    with sqlite3.connect(path) as db:
        verdicts = db.execute("SELECT subject_name, verdict FROM ql_inspections").fetchall()
        progress = db.execute("SELECT metric, achieved FROM ql_targets ORDER BY seq").fetchall()
        trail = db.execute("SELECT count(*) FROM ql_audit_trail").fetchone()
    # then it finds the same facts
    assert verdicts == [("陕西某电缆有限公司", "nonconforming")]
    assert progress == [("experts", 0), ("enterprises", 30)]
    assert trail[0] == head


def test_views_can_live_in_another_database(tmp_path: Path) -> None:
    events, views = tmp_path / "events.db", tmp_path / "views.db"
    with Ledger.open(f"sqlite:///{events}", views_url=f"sqlite:///{views}") as ledger:
        campaign_id, _, _ = busy_campaign(ledger)
        assert ledger.campaign_status(campaign_id).samples_tested == 2
    with sqlite3.connect(views) as db:
        assert db.execute("SELECT count(*) FROM ql_inspections").fetchone() == (1,)
    with sqlite3.connect(events) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "ql_inspections" not in tables


def test_a_rebuilt_view_equals_the_live_one(ledger: Ledger) -> None:
    campaign_id, _, _ = busy_campaign(ledger)
    live = ledger.campaign_status(campaign_id)
    ledger.views.rebuild()
    assert ledger.campaign_status(campaign_id) == live
    assert ledger.verify_views().ok


def test_verify_views_reports_a_view_row_changed_behind_the_ledgers_back(tmp_path: Path) -> None:
    path = tmp_path / "xian.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        busy_campaign(ledger)
        assert ledger.verify_views().ok
        with sqlite3.connect(path) as db:
            db.execute("UPDATE ql_targets SET achieved = 88 WHERE metric = 'enterprises'")
        report = ledger.verify_views()
    assert not report.ok
    assert any("ql_targets" in d and "88" in d for d in report.differences)


def test_without_read_your_writes_queries_see_the_views_as_they_stand() -> None:
    with Ledger.open("memory://", read_your_writes=False) as ledger:
        campaign_id = plan_campaign(ledger)
        with pytest.raises(NotFound):
            ledger.campaign_status(campaign_id)
        ledger.views.catch_up()
        assert ledger.campaign_status(campaign_id).status == "launched"


def test_a_background_runner_follows_the_log_and_stops_cleanly() -> None:
    with Ledger.open("memory://", read_your_writes=False) as ledger:
        ledger.views.start(interval=0.01)
        campaign_id = plan_campaign(ledger)
        head = ledger.position()
        for _ in range(500):
            if ledger.views.position() == head:
                break
            time.sleep(0.01)
        ledger.views.stop()
        assert ledger.views.position() == head
        assert ledger.campaign_status(campaign_id).status == "launched"


def test_a_poison_event_stops_the_runner_naming_its_position_and_leaves_its_batch_out(ledger: Ledger) -> None:
    # given views up to date, then two good events and a poison one stored in one batch
    campaign_id, visit, _ = busy_campaign(ledger)
    ledger.views.catch_up()
    before = ledger.views.position()
    board = ledger.activity_board(campaign_id)
    ledger.execute(c.ReportProgress(activity_id=visit, metric="experts", amount=5, reported_on=date(2017, 9, 13)), QTS)
    activity: Activity = EventLog.of(ledger).repository.get(visit)
    activity.trigger_event(Activity.ProgressReported, metric="no-such-metric", amount=1, reported_on=date(2017, 9, 14))
    EventLog.of(ledger).save(activity)  # bypasses the rules: the handler finds no such target row
    poison = ledger.position()
    # when the runner catches up
    with pytest.raises(ProjectionFailed) as failed:
        ledger.views.catch_up()
    # then the error names the position and topic, and the whole batch left the views untouched
    assert failed.value.position == poison
    assert failed.value.topic.endswith("Activity.ProgressReported")
    assert ledger.views.position() == before
    ledger.read_your_writes = False
    assert ledger.activity_board(campaign_id) == board
