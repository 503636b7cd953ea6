"""The auditor's tools end to end: the CLI's verdicts and exit codes, as-of
replays, replay certificates and exports."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.cli import main
from quality_ledger.errors import ConfigurationError, ReadOnly
from quality_ledger.scenarios import xian2017
from tests.conftest import ORGANISER, QTS, plan_campaign


def test_audit_verify_says_ok_on_the_demo_and_names_a_changed_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the demo ledger
    url = f"sqlite:///{tmp_path}/demo.db"
    assert main(["--url", url, "demo"]) == 0
    capsys.readouterr()
    assert main(["--url", url, "audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    # when one byte of one stored event is changed behind the ledger's back
    with sqlite3.connect(tmp_path / "demo.db") as db:
        aggregate, version, state = db.execute(
            "SELECT originator_id, originator_version, state FROM stored_events WHERE rowid = 321"
        ).fetchone()
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 321", (state.replace(b'"', b"'", 1),))
    # then verify names that event and exits non-zero
    assert main(["--url", url, "audit", "verify", "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["first_break"]["position"] == 321
    assert report["first_break"]["version"] == version
    assert report["first_break"]["aggregate_id"].replace("-", "") == aggregate
    assert "BROKEN at position 321" in captured.err


def test_a_signed_checkpoint_round_trips_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
    assert main(["--url", url, "audit", "keygen", str(tmp_path / "key.pem")]) == 0
    public = capsys.readouterr().out.strip()
    out = tmp_path / "cp.json"
    assert main(["--url", url, "audit", "checkpoint", "--sign-key", str(tmp_path / "key.pem"), "--out", str(out)]) == 0
    assert main(["--url", url, "audit", "verify", "--against", str(out), "--public-key", public]) == 0
    forged = json.loads(out.read_text()) | {"size": 1}
    out.write_text(json.dumps(forged))
    assert main(["--url", url, "audit", "verify", "--against", str(out), "--public-key", public]) == 1


def test_as_of_a_position_answers_as_the_ledger_did_then_and_records_nothing(ledger: Ledger) -> None:
    # given a campaign planned, then launched
    campaign_id = plan_campaign(ledger, launch=False)
    before_launch = ledger.position()
    ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    # when the ledger is replayed up to before the launch
    with ledger.as_of(position=before_launch) as then:
        # then every query answers as it stood then
        assert then.get(campaign_id).status == "planned"  # type: ignore[attr-defined]
        assert then.campaign_status(campaign_id).status == "planned"
        assert [e.event for e in then.audit_trail().entries][-1] == "Campaign.DepartmentEnlisted"
        assert then.verify().ok
        # and it records nothing
        with pytest.raises(ReadOnly):
            then.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    assert ledger.campaign_status(campaign_id).status == "launched"


def test_as_of_an_instant_cuts_at_the_recorded_time(ledger: Ledger) -> None:
    campaign_id = plan_campaign(ledger, launch=False)
    cut = datetime.now(UTC)
    ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    with ledger.as_of(cut) as then:
        assert then.get(campaign_id).status == "planned"  # type: ignore[attr-defined]
    with ledger.as_of(datetime(2017, 9, 15, tzinfo=UTC)) as before_anything:
        assert before_anything.position() == 0


def test_as_of_a_business_date_shows_what_was_known_about_that_day(ledger: Ledger) -> None:
    # given the Xi'an demo, recorded now with business dates in September 2017
    campaign_id = xian2017.load(ledger)
    everything = ledger.campaign_status(campaign_id)
    # when asked what the ledger knows about the state on 10 September 2017
    with ledger.as_of(occurred_by=date(2017, 9, 10)) as then:
        early = then.campaign_status(campaign_id)
    # then fewer activities were completed and fewer verdicts issued than by the end
    assert early.activities_by_state.get("completed", 0) < everything.activities_by_state["completed"]
    assert early.inspections_by_verdict.get("pending", 0) > everything.inspections_by_verdict.get("pending", 0)
    assert early.samples_tested < everything.samples_tested


def test_a_replay_certificate_is_stable_and_moves_with_the_log(tmp_path: Path) -> None:
    # given a ledger on a file
    with Ledger.open(f"sqlite:///{tmp_path}/a.db") as ledger:
        campaign_id = plan_campaign(ledger)
        first = ledger.replay_certificate()
        # then the certificate is the same on every run over the same log
        assert ledger.replay_certificate() == first
        assert ledger.verify(certificate=first).certificate_ok is True
        # and it differs once the log grows, while still naming its position
        ledger.execute(
            c.EnlistDepartment(campaign_id=campaign_id, code="XA-EDU", name_zh="市教育局", name_en="Education"),
            ORGANISER,
        )
        assert ledger.replay_certificate() != first
        assert ledger.replay_certificate(first.position) == first
        forged = ReplayCertificate(position=first.position, digest="0" * 64)
        report = ledger.verify(certificate=forged)
        assert report.certificate_ok is False
        assert not report.ok
    with Ledger.open(f"sqlite:///{tmp_path}/a.db") as reopened:
        assert reopened.replay_certificate(first.position) == first


def test_exports_stream_the_trail_and_an_evidence_bundle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    with Ledger.open(url) as ledger:
        campaign_id = plan_campaign(ledger)
        ledger.execute(
            c.PlanActivity(
                campaign_id=campaign_id, title="质量讲堂", lead_department="XA-QTS", focus_area="everyone-takes-part"
            ),
            QTS,
        )
        size = ledger.position()
    assert main(["--url", url, "audit", "export", "trail", "--out", str(tmp_path / "trail.jsonl")]) == 0
    lines = (tmp_path / "trail.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["position"] for x in lines] == list(range(1, size + 1))
    assert "质量讲堂" in lines[-2] + lines[-1] + lines[-3]
    assert main(["--url", url, "audit", "export", "evidence", "--format", "csv", "--out", str(tmp_path / "ev")]) == 0
    with (tmp_path / "ev" / "events.csv").open(encoding="utf-8") as stream:
        events = list(csv.DictReader(stream))
    with (tmp_path / "ev" / "links.csv").open(encoding="utf-8") as stream:
        links = list(csv.DictReader(stream))
    assert len(events) == len(links) == size
    assert json.loads((tmp_path / "ev" / "report.json").read_text())["ok"] is True
    assert json.loads((tmp_path / "ev" / "checkpoint.json").read_text())["size"] == size


def test_a_ledger_clock_stamps_recorded_at_so_as_of_answers_in_that_time() -> None:
    # given a ledger whose clock says it is September 2017, one day per command
    days = iter(range(1, 100))
    clock = lambda: datetime(2017, 9, next(days), 9, 0, tzinfo=UTC)  # noqa: E731
    with Ledger.open("memory://", clock=clock) as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 5)), ORGANISER)
        # then history carries the clock's instants
        assert [e.recorded_at.day for e in ledger.history(campaign_id)] == [1, 2, 3, 4]
        # and the ledger as of 2017-09-03 knows the campaign planned, not yet launched
        with ledger.as_of(datetime(2017, 9, 3, 12, tzinfo=UTC)) as then:
            assert then.get(campaign_id).status == "planned"  # type: ignore[attr-defined]


def test_a_clock_without_a_time_zone_is_refused_and_records_nothing() -> None:
    with Ledger.open("memory://", clock=lambda: datetime(2017, 9, 1)) as ledger:
        with pytest.raises(ConfigurationError):
            plan_campaign(ledger)
        assert ledger.position() == 0
