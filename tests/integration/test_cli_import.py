"""``quality-ledger import FILE.jsonl``: a file of commands recorded in bulk,
any fault one line on stderr naming the file's line, with the exit code of
docs/cli.md's table; chunks before a fault stay recorded, and a keyed file
imported again records nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger.cli import exits
from quality_ledger.cli.importing import line_of
from quality_ledger.scenarios import xian2017
from quality_ledger.scenarios.planner import Step, plan
from tests.conftest import event_count
from tests.integration.test_cli import ONE_LINE, run


@pytest.fixture(scope="module")
def steps() -> list[Step]:
    return plan(xian2017.case())


@pytest.fixture(scope="module")
def events_of(steps: list[Step]) -> list[int]:
    """Events recorded by the first n steps of the case, for each n."""
    counts = [0]
    with Ledger.open("memory://") as ledger:
        for step in steps:
            ledger.execute(step.command, step.actor)
            counts.append(ledger.position())
    return counts


def lines(steps: list[Step]) -> list[str]:
    return [line_of(s.command, s.actor) for s in steps]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def position(url: str) -> int:
    with Ledger.open(url, create=False) as ledger:
        return ledger.position()


def test_a_good_file_is_recorded_and_importing_it_again_records_nothing(
    tmp_path: Path, url: str, steps: list[Step], events_of: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    # given the Xi'an case as a file of keyed commands
    path = write(tmp_path / "xian.jsonl", lines(steps))
    # when it is imported
    code, out, err = run(capsys, "--url", url, "import", str(path), "--chunk-size", "100")
    # then every command is recorded, and the summary says so on stdout
    assert (code, err) == (0, "")
    assert out == f"{path}: {len(steps)} commands; {events_of[-1]} events recorded at positions 1-{events_of[-1]}\n"
    assert position(url) == events_of[-1]
    # and when it is imported again, nothing is recorded
    code, out, _ = run(capsys, "--url", url, "import", str(path), "--json")
    assert code == 0
    assert json.loads(out) == {
        "commands": len(steps),
        "repeated": len(steps),
        "events": 0,
        "chunks": 0,
        "first_position": None,
        "last_position": None,
    }
    assert position(url) == events_of[-1]


def test_stdin_is_read_when_the_file_is_a_dash(
    url: str,
    steps: list[Step],
    events_of: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given the case's first 20 commands on stdin
    data = "".join(f"{row}\n" for row in lines(steps[:20])).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    # when "-" is imported
    code, out, _ = run(capsys, "--url", url, "import", "-", "--json")
    # then they are recorded
    assert code == 0
    assert json.loads(out)["last_position"] == events_of[20] == position(url)


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("{not json", "not JSON: "),
        (
            '{"actor": {"user": "a", "department": "XA-QTS"}, "command": {"command": "Frobnicate"}}',
            "unknown command 'Frobnicate'",
        ),
        ('{"actor": {"user": "a", "department": "XA-QTS"}}', 'expected an object with the keys "actor" and "command"'),
        ('{"actor": "a", "command": {"command": "IssueVerdict"}}', '"actor" must be an object'),
        ("[1, 2]", 'expected an object with the keys "actor" and "command", got \'list\''),
    ],
)
def test_a_line_that_is_not_a_command_is_named_and_its_chunk_records_nothing(
    tmp_path: Path,
    url: str,
    steps: list[Step],
    events_of: list[int],
    bad: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a file whose 6th line is not a command, imported 4 commands a chunk
    rows = lines(steps[:10])
    rows.insert(5, bad)
    path = write(tmp_path / "bad.jsonl", rows)
    # when it is imported
    code, out, err = run(capsys, "--url", url, "import", str(path), "--chunk-size", "4")
    # then one line names the file's line and what was recorded, with exit 2
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err)
    assert err.startswith(f"quality-ledger: InvalidCommand: {path} line 6: ")
    assert said in err
    assert err.endswith("nothing was recorded from line 5 on, every line before it was\n")
    # and the first chunk is recorded, the second not at all
    assert position(url) == events_of[4]


def test_a_refused_command_is_named_by_its_line(
    tmp_path: Path, url: str, steps: list[Step], events_of: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file whose 8th line (after a blank 3rd line) plans the campaign again, without a key
    rows = lines(steps[:10])
    again = steps[0].command.model_copy(update={"idempotency_key": None})
    rows.insert(6, line_of(again, steps[0].actor))
    rows.insert(2, "")
    path = write(tmp_path / "refused.jsonl", rows)
    # when it is imported 3 commands a chunk
    code, out, err = run(capsys, "--url", url, "import", str(path), "--chunk-size", "3")
    # then one line names the line, the command and the rule, with exit 2
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err)
    assert err.startswith(
        f"quality-ledger: BatchRefused: {path} line 8 (PlanCampaign): InvariantViolated: [campaign-unique]"
    )
    assert err.endswith("nothing was recorded from line 8 on, every line before it was\n")
    # and the two chunks before it are recorded
    assert position(url) == events_of[6]


def test_a_refusal_in_the_first_chunk_records_nothing(
    tmp_path: Path, url: str, steps: list[Step], capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file whose 2nd command comes from a department that may not issue it
    outsider = Actor(user="wu.gang", department="XA-TOU")
    path = write(
        tmp_path / "denied.jsonl", [line_of(steps[0].command, steps[0].actor), line_of(steps[1].command, outsider)]
    )
    # when it is imported
    code, _, err = run(capsys, "--url", url, "import", str(path))
    # then the refusal names line 2, and nothing is recorded
    assert code == exits.USAGE
    assert f"{path} line 2 ({steps[1].command.name}): PermissionDenied: wu.gang (XA-TOU) may not" in err
    assert err.endswith("; nothing was recorded\n")
    assert position(url) == 0


def test_a_missing_or_wrong_file_creates_no_ledger(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given no file, and a file whose first line is not a command
    write(tmp_path / "wrong.jsonl", ["hello"])
    for name, error in [
        ("missing.jsonl", "ConfigurationError: cannot read the import file"),
        ("wrong.jsonl", "InvalidCommand"),
    ]:
        # when either is imported
        code, _, err = run(capsys, "--url", url, "import", str(tmp_path / name))
        # then one line names it, and no ledger is created
        assert code == exits.USAGE
        assert ONE_LINE.match(err)
        assert f"quality-ledger: {error}" in err
    assert not (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize("size", ["0", "5001", "ten"])
def test_a_chunk_size_out_of_bounds_is_a_usage_error(
    tmp_path: Path, url: str, steps: list[Step], size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "x.jsonl", lines(steps[:1]))
    code, _, err = run(capsys, "--url", url, "import", str(path), "--chunk-size", size)
    assert code == exits.USAGE
    assert err.startswith("quality-ledger: UsageError: argument --chunk-size: ")
    assert not (tmp_path / "ledger.db").exists()


def test_progress_goes_to_stderr_when_asked_for(
    tmp_path: Path, url: str, steps: list[Step], events_of: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "x.jsonl", lines(steps[:30]))
    code, out, err = run(capsys, "--url", url, "import", str(path), "--chunk-size", "10", "--progress")
    assert code == 0
    assert out.startswith(f"{path}: 30 commands;")
    # the last figures always show, however fast the import was
    assert err.splitlines()[-1].startswith(f"importing {path}: 30 commands, {events_of[30]} events (")


def test_without_progress_stderr_stays_empty_when_it_is_not_a_terminal(
    tmp_path: Path, url: str, steps: list[Step], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "x.jsonl", lines(steps[:5]))
    assert run(capsys, "--url", url, "import", str(path))[2] == ""


def test_an_empty_file_records_nothing_and_opens_no_ledger(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "empty.jsonl", [])
    code, out, _ = run(capsys, "--url", url, "import", str(path))
    assert (code, out) == (0, f"{path}: 0 commands; 0 events recorded\n")
    assert not (tmp_path / "ledger.db").exists()


def test_a_line_over_the_limit_is_refused_before_it_is_parsed(
    tmp_path: Path, url: str, steps: list[Step], capsys: pytest.CaptureFixture[str]
) -> None:
    from quality_ledger.cli.importing import MAX_LINE_BYTES

    path = write(tmp_path / "long.jsonl", [*lines(steps[:1]), " " * (MAX_LINE_BYTES + 1)])
    code, _, err = run(capsys, "--url", url, "import", str(path))
    assert code == exits.USAGE
    assert f"{path} line 2: over the limit of {MAX_LINE_BYTES} bytes" in err
    with Ledger.open(url, create=False) as ledger:
        assert event_count(ledger) == 0


INTERRUPTED = """
import os, signal, sys
from quality_ledger.cli import main
from quality_ledger.eventlog import EventLog
insert, calls = EventLog.insert, []
on_call, committed = int(sys.argv[1]), sys.argv[2] == "committed"
def interrupted(self, rows):
    calls.append(len(rows))
    if len(calls) == on_call and not committed:  # Ctrl-C before the chunk is stored
        os.kill(os.getpid(), signal.SIGINT)
    positions = insert(self, rows)
    if len(calls) == on_call:  # Ctrl-C during the commit: Python raises it on the next line
        os.kill(os.getpid(), signal.SIGINT)
    return positions
EventLog.insert = interrupted
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    ("on_call", "committed", "recorded", "said"),
    [
        (1, "not-committed", 0, "nothing was recorded"),
        (2, "not-committed", 3, "nothing was recorded from line 5 on, every line before it was"),
        (2, "committed", 6, "nothing was recorded from line 8 on, every line before it was"),
    ],
)
def test_ctrl_c_says_the_line_to_resume_from_and_resuming_there_completes_the_import(
    tmp_path: Path,
    url: str,
    steps: list[Step],
    events_of: list[int],
    on_call: int,
    committed: str,
    recorded: int,
    said: str,
) -> None:
    # given a file of ten commands with a blank third line, imported 3 commands a chunk
    rows = lines(steps[:10])
    rows.insert(2, "")
    path = write(tmp_path / "long.jsonl", rows)
    # when Ctrl-C comes as a chunk is stored, before or during its commit
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            INTERRUPTED,
            str(on_call),
            committed,
            "--url",
            url,
            "import",
            str(path),
            "--chunk-size",
            "3",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # then exit 130 and one line naming the line after the last command recorded
    assert (done.returncode, done.stdout, done.stderr) == (
        exits.INTERRUPTED, "", f"quality-ledger: interrupted: {path}: {said}\n"
    )  # fmt: skip
    assert position(url) == events_of[recorded]
    # and importing the file from that line records the rest, nothing twice
    line = int(said.split("line ")[1].split()[0]) if recorded else 1
    rest = write(tmp_path / "rest.jsonl", rows[line - 1 :])
    resumed = subprocess.run(
        [sys.executable, "-m", "quality_ledger", "--url", url, "import", str(rest), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(resumed.stdout)["repeated"] == 0
    assert position(url) == events_of[10]
