"""The ``quality-ledger`` command as a user meets it: the grammar, what each
command prints (text and ``--json``), and how it says what went wrong.

The Xi'an demo (895 events) is loaded once per module; each test that needs
it works on a copy of that file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

import pytest

from quality_ledger import Ledger, persistence
from quality_ledger.cli import exits, main
from quality_ledger.cli.actions import _where
from quality_ledger.cli.parser import DEFAULT_URL, URL_VARIABLE, build
from quality_ledger.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    IllegalTransition,
    IntegrityError,
    InvalidCommand,
    LedgerError,
    NoLedger,
    NotFound,
    ProjectionFailed,
    StoreUnavailable,
)
from tests.conftest import plan_campaign

ONE_LINE = re.compile(r"\Aquality-ledger: [^\n]+\n\Z")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def campaign_of(url: str) -> str:
    with Ledger.open(url) as ledger:
        return str(ledger.campaigns()[0].campaign_id)


# The grammar --------------------------------------------------------------------


def test_version_names_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"quality-ledger {version('quality_ledger')}\n", "")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "quality_ledger", "--version"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"quality-ledger {version('quality_ledger')}\n", "")


def _parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_command_and_option_has_a_help_text() -> None:
    missing = []
    for prog, parser in _parsers(build()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{prog} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_the_cli_copies_the_default_url_and_its_variable_from_persistence() -> None:
    assert (DEFAULT_URL, URL_VARIABLE) == (persistence.DEFAULT_URL, persistence.URL_VARIABLE)


def test_importing_the_cli_loads_neither_sqlalchemy_nor_eventsourcing() -> None:
    code = "import sys, quality_ledger.cli; print(sorted(m for m in ('sqlalchemy', 'eventsourcing', 'pydantic') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_package_still_offers_every_public_name() -> None:
    code = "import quality_ledger as q; print(all(getattr(q, n) is not None for n in q.__all__), 'Ledger' in dir(q))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_url_is_accepted_before_or_after_the_command(where: str, demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--url", demo, "status"] if where == "before" else ["status", "--url", demo]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert campaign_of(demo) in out
    code, out, _ = run(capsys, "audit", "verify", "--url", demo)
    assert code == 0
    assert out.startswith("intact: 895 events checked")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["status", "not-a-uuid"],
        ["status", "--limit", "3"],
        ["audit"],
        ["audit", "trail", "--limit", "0"],
        ["audit", "trail", "--limit", str(2**63)],
        ["audit", "trail", "--after", "-1"],
        ["audit", "trail", "--since", "last tuesday"],
        ["audit", "replay", "--as-of", "2017-09-15", "--position", "3"],
        ["audit", "replay", "--occurred-by", "15/09/2017"],
        ["audit", "verify", "--public-key", "not-hex"],
        ["audit", "export", "trail"],
        ["views", "drop"],
    ],
    ids=lambda argv: " ".join(argv) or "nothing",
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: UsageError: ")
    assert list(tmp_path.iterdir()) == []  # and no default ledger was created on the way


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (IntegrityError("x"), 1),
        (NoLedger("x"), 2),
        (ConfigurationError("x"), 2),
        (InvalidCommand("x"), 2),
        (NotFound("x"), 2),
        (IllegalTransition("Campaign", "planned", "conclude"), 2),
        (StoreUnavailable("x"), 3),
        (ConcurrencyConflict("x"), 3),
        (ProjectionFailed(1, "t", ValueError("x")), 3),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, LedgerError) else str(x),
)
def test_each_kind_of_error_has_its_exit_code(error: LedgerError, code: int) -> None:
    assert exits.exit_code(error) == code


# What each command prints -------------------------------------------------------


def test_status_lists_campaigns_with_their_ids_or_shows_the_only_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    with Ledger.open(url) as ledger:
        first = plan_campaign(ledger, launch=False)
    code, out, _ = run(capsys, "status", "--url", url)
    assert code == 0
    assert f"(campaign {first})" in out.splitlines()[0]
    with Ledger.open(url) as ledger:
        second = plan_campaign(ledger, title="Xianyang Quality Month", launch=False)
    code, out, _ = run(capsys, "status", "--url", url)
    assert code == 0
    assert str(first) in out
    assert str(second) in out


def test_status_json_has_the_documented_keys(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "status", "--url", demo, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"campaigns", "status"}
    assert set(doc["campaigns"][0]) == {"campaign_id", "title", "status", "starts_on", "ends_on"}
    assert set(doc["status"]) == {
        "campaign_id",
        "title",
        "status",
        "starts_on",
        "ends_on",
        "departments",
        "activities_by_state",
        "activities_by_kind",
        "activities_by_focus_area",
        "inspections_by_verdict",
        "samples_tested",
        "samples_failed",
        "pass_rate",
        "targets",
        "commendations_by_state",
        "bulletins",
    }
    assert set(doc["status"]["departments"][0]) == {
        "code",
        "name_en",
        "name_zh",
        "activities",
        "inspections",
        "nonconforming",
        "open_rectifications",
    }
    assert set(doc["status"]["targets"][0]) == {"activity_id", "activity", "metric", "target", "achieved", "percent"}
    assert doc["status"]["campaign_id"] == doc["campaigns"][0]["campaign_id"]


def test_history_prints_payloads_as_json(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    campaign = campaign_of(demo)
    code, out, _ = run(capsys, "history", "--url", demo, campaign)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("  ")[3] == "Campaign.Planned"
    for line in lines:
        payload = json.loads(line.split("  ", 4)[4])
        assert isinstance(payload, dict)
    assert json.loads(lines[0].split("  ", 4)[4])["organiser"] == "XA-QPC"
    code, out, _ = run(capsys, "history", "--url", demo, campaign, "--json")
    doc = json.loads(out)
    assert set(doc) == {"aggregate_id", "events"}
    assert doc["aggregate_id"] == campaign
    assert len(doc["events"]) == len(lines)
    assert set(doc["events"][0]) == {"aggregate_id", "version", "name", "recorded_at", "meta", "payload"}
    assert set(doc["events"][0]["meta"]) == {
        "user",
        "department",
        "command",
        "command_id",
        "correlation_id",
        "occurred_on",
    }


def test_audit_trail_json_is_one_page_with_the_next_position(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "trail", "--url", demo, "--json", "--limit", "3", "--after", "10")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"entries", "next_after"}
    assert [e["position"] for e in doc["entries"]] == [11, 12, 13]
    assert doc["next_after"] == 13
    assert set(doc["entries"][0]) == {
        "position",
        "recorded_at",
        "occurred_on",
        "actor",
        "department",
        "command",
        "command_id",
        "correlation_id",
        "aggregate_id",
        "aggregate_kind",
        "version",
        "event",
        "summary",
    }
    assert err == ""  # the "more: --after" hint is for people, not for --json


def test_audit_trail_text_tells_how_to_get_the_next_page(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "trail", "--url", demo, "--limit", "2")
    assert code == 0
    assert len(out.splitlines()) == 4  # header, rule, two entries
    assert err == "more: --after 2\n"


def test_audit_verify_json_has_the_documented_keys(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "verify", "--url", demo, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"ok", "checked", "head", "first_break", "checkpoint", "certificate_ok", "since", "chain_format"}
    assert (doc["ok"], doc["checked"], doc["first_break"]) == (True, 895, None)


def test_demo_says_where_the_ledger_is_and_reloads_without_recording(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(demo.removeprefix("sqlite:///"))
    code, out, err = run(capsys, "demo", "--url", demo)
    assert code == 0
    assert out.splitlines()[-1] == f"ledger: {demo} ({path})"
    assert "already loaded, nothing new recorded" in err


def test_where_shows_no_password() -> None:
    assert _where("postgresql://auditor:s3cret@db.example/ledger") == "postgresql://auditor:***@db.example/ledger"


def test_demo_into_a_ledger_holding_other_campaigns_needs_a_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/theirs.db"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
        before = ledger.position()
    code, out, err = run(capsys, "demo", "--url", url)
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err)
    assert "--allow-other-campaigns" in err
    assert err.startswith("quality-ledger: ConfigurationError: ")
    with Ledger.open(url) as ledger:
        assert ledger.position() == before
    code, _, _ = run(capsys, "demo", "--url", url, "--allow-other-campaigns")
    assert code == 0
    with Ledger.open(url) as ledger:
        assert len(ledger.campaigns()) == 2


def test_replay_as_of_a_date_before_anything_was_recorded_says_which_option_to_use(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "audit", "replay", "--url", demo, "--as-of", "2017-09-15")
    assert (code, out) == (0, "")
    note = [line for line in err.splitlines() if line.startswith("quality-ledger: note:")]
    assert len(note) == 1
    assert "--occurred-by 2017-09-15" in note[0]
    code, out, _ = run(capsys, "audit", "replay", "--url", demo, "--occurred-by", "2017-09-15")
    assert code == 0
    assert "Xi'an 2017 Quality Month" in out


def test_replay_as_of_a_bare_date_includes_that_whole_day(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Ledger.open(demo) as ledger:
        recorded_on = ledger.audit_trail(limit=1).entries[0].recorded_at.date()
        size = ledger.position()
    code, _, err = run(capsys, "audit", "replay", "--url", demo, "--as-of", recorded_on.isoformat())
    assert code == 0
    assert f"{size} events up to position {size}" in err
    assert "note:" not in err


def test_views_verify_names_each_differing_row_by_its_key(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "views", "verify", "--url", demo)
    assert (code, out) == (0, "")
    path = demo.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        raw_id, achieved = db.execute(
            "SELECT activity_id, achieved FROM ql_targets WHERE metric = 'schools'"
        ).fetchone()
        activity_id = str(UUID(raw_id))
        db.execute("UPDATE ql_targets SET achieved = 88 WHERE metric = 'schools'")
        db.execute("DELETE FROM ql_departments WHERE code = 'XA-EDU'")
    code, out, err = run(capsys, "views", "verify", "--url", demo)
    assert code == exits.FINDING
    assert ONE_LINE.match(err.splitlines(keepends=True)[-1])
    assert err.splitlines()[-1].startswith("quality-ledger: Finding: the views differ")
    lines = out.splitlines()
    assert f"ql_targets (activity_id={activity_id}, metric=schools) achieved: live 88 vs rebuilt {achieved}" in lines
    assert any(x.startswith("ql_departments (") and x.endswith("missing from the live views") for x in lines)
    assert len(lines) == 2  # one line per difference, nothing shifted by the missing row
    code, out, _ = run(capsys, "views", "verify", "--url", demo, "--json")
    doc = json.loads(out)
    assert set(doc) == {"ok", "position", "differences"}
    assert doc["ok"] is False
    assert {tuple(sorted(d)) for d in doc["differences"]} == {("column", "key", "live", "rebuilt", "table")}
    changed = next(d for d in doc["differences"] if d["column"] == "achieved")
    assert (changed["table"], changed["live"], changed["rebuilt"]) == ("ql_targets", 88, achieved)
    assert changed["key"] == {"activity_id": activity_id, "metric": "schools"}


def test_audit_verify_names_the_break_on_one_line_and_exits_1(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(demo.removeprefix("sqlite:///")) as db:
        state = db.execute("SELECT state FROM stored_events WHERE rowid = 100").fetchone()[0]
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 100", (state.replace(b'"', b"'", 1),))
    code, out, err = run(capsys, "audit", "verify", "--url", demo)
    assert code == exits.FINDING
    assert out.startswith("BROKEN: 99 events checked")
    assert ONE_LINE.match(err.splitlines(keepends=True)[-1])
    assert err.splitlines()[-1].startswith("quality-ledger: IntegrityError: BROKEN at position 100: content-changed")


def test_an_unknown_id_is_not_found_exit_2(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "history", "--url", demo, "3f2b0000-0000-0000-0000-000000000000")
    assert (code, out) == (exits.USAGE, "")
    assert err == "quality-ledger: NotFound: no aggregate with id 3f2b0000-0000-0000-0000-000000000000\n"


# Interruptions and surprises -----------------------------------------------------


def test_an_unexpected_exception_is_one_line_exit_70(
    monkeypatch: pytest.MonkeyPatch, demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from quality_ledger.cli import actions

    def broken(_: argparse.Namespace) -> int:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setitem(actions.ACTIONS, "status", broken)
    code, out, err = run(capsys, "status", "--url", demo)
    assert (code, out) == (exits.INTERNAL, "")
    assert ONE_LINE.match(err)
    assert err.startswith("quality-ledger: internal error: RuntimeError: boom second line")


INTERRUPTED = """
import os, signal, sys
from quality_ledger.cli import actions, main
status = actions.ACTIONS["status"]
def interrupted(args):
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does, in the middle of a command
    return status(args)
actions.ACTIONS["status"] = interrupted
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_is_one_line_and_exit_130(demo: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED, "status", "--url", demo], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (exits.INTERRUPTED, "", "quality-ledger: interrupted\n")


def test_a_closed_pipe_ends_quietly(demo: str) -> None:
    # given the whole audit trail as JSON (far more than a pipe holds) piped into `head -1`
    cli = subprocess.Popen(
        [sys.executable, "-m", "quality_ledger", "audit", "trail", "--url", demo, "--json", "--limit", "5000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    head = subprocess.run(["head", "-1"], stdin=cli.stdout, capture_output=True, check=True)
    assert cli.stdout is not None
    assert cli.stderr is not None
    cli.stdout.close()
    err = cli.stderr.read()
    cli.stderr.close()
    # then head got its line, and the command stopped without a word
    assert head.stdout == b"{\n"
    assert cli.wait(timeout=60) == exits.BROKEN_PIPE
    assert err == b""


def test_progress_goes_to_stderr_and_json_stays_clean(demo: str) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "quality_ledger", "views", "verify", "--url", demo, "--json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "position": 895, "differences": []}
    assert "verifying views" in done.stderr


def test_every_json_command_answers_on_each_durable_engine(
    durable_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger.open(durable_url) as ledger:
        campaign = plan_campaign(ledger)
        size = ledger.position()
    documents = {}
    for argv in (
        ["status"],
        ["history", str(campaign)],
        ["audit", "trail"],
        ["audit", "verify"],
        ["views", "verify"],
    ):
        code, out, err = run(capsys, *argv, "--json", "--url", durable_url)
        assert code == 0, err
        documents[argv[0] if argv[0] != "audit" else argv[1]] = json.loads(out)
    assert documents["status"]["status"]["campaign_id"] == str(campaign)
    assert [e["name"] for e in documents["history"]["events"]] == [
        "Campaign.Planned",
        "Campaign.DepartmentEnlisted",
        "Campaign.DepartmentEnlisted",
        "Campaign.Launched",
    ]
    assert len(documents["trail"]["entries"]) == size
    assert (documents["verify"]["checked"], documents["verify"]["ok"]) == (size, True)
    assert documents["views"] == {"ok": True, "position": size, "differences": []}


def test_an_unreachable_server_is_store_unavailable_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run(capsys, "status", "--url", f"postgresql://auditor:s3cret@127.0.0.1:{port}/ledger")
    assert (code, out) == (exits.UNAVAILABLE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: StoreUnavailable: ")
    assert "s3cret" not in err


def test_a_terminal_that_cannot_show_chinese_gets_escapes_not_an_error(demo: str) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for argv in (["status"], ["status", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "quality_ledger", *argv, "--url", demo], capture_output=True, env=env, check=False
        )
        assert (done.returncode, done.stderr) == (0, b""), done.stderr
        assert done.stdout.isascii()
    assert json.loads(done.stdout)["campaigns"][0]["title"].startswith("西安市2017年质量月活动")
