"""``quality-ledger privacy show`` and ``privacy forget`` as a privacy officer
meets them: a data subject's fields listed, erased for good only when asked
plainly, and every refusal one line with its documented exit code, nothing
erased and nothing created.

The Xi'an demo is loaded once per module into a SQLite file; each test works
on a copy of it.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from quality_ledger import Ledger
from quality_ledger.cli import exits
from quality_ledger.erasing import ForgetReport, PersonalData
from quality_ledger.privacy import ERASED
from quality_ledger.scenarios import xian2017
from tests.conftest import ORGANISER, plan_campaign
from tests.integration.test_cli import ONE_LINE, run
from tests.integration.test_cli_import import position

CLERK = xian2017.clerk("XA-HFP").user
"""A clerk of the demo with few events: the user subject erased here."""
OFFICER = ("--user", "zhao.li", "--department", "XA-PRIV")
REASON = ("--reason", "PIPL Art. 47 request 2017-041")


def nominee() -> tuple[str, str, str]:
    """The first Quality Craftsman nominee of the demo: her subject id, name and employer."""
    first = xian2017.NOMINATIONS[0]
    return f"nominee:{first.person}@{first.employer}", first.person, first.employer


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, holding what the user types."""

    def isatty(self) -> bool:
        return True


def shown(capsys: pytest.CaptureFixture[str], url: str, subject: str) -> dict[str, Any]:
    code, out, err = run(capsys, "privacy", "show", subject, "--url", url, "--json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


# privacy show ---------------------------------------------------------------------


def test_show_lists_each_field_of_a_clerk_on_one_line_under_the_subject_and_its_key(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the demo, and what the library holds about one clerk
    with Ledger.open(demo, create=False) as ledger:
        held = ledger.personal_data(f"user:{CLERK}")
    assert held.key_id is not None
    assert held.items
    # when the clerk's data is shown as text
    code, out, err = run(capsys, "privacy", "show", f"user:{CLERK}", "--url", demo)
    # then the header names the subject and its key, and each field is one line with its position
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"subject user:{CLERK}  key {held.key_id}"
    assert lines[1] == f"{len(held.items)} field(s) in {len({i.position for i in held.items})} event(s)"
    assert lines[3].split() == ["pos", "event", "field", "stored", "value"]
    rows = [line.split() for line in lines[5:]]
    expected = [[str(i.position), i.event, i.field, "sealed", i.value] for i in held.items]
    assert rows == expected


def test_show_json_is_the_personal_data_model_with_the_nominee_readable(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a nominee typed with other spacing than the demo recorded her
    subject, person, employer = nominee()
    typed = subject.replace(":", ":  ").replace("@", " @ ")
    # when her data is shown as JSON
    document = shown(capsys, demo, typed)
    # then it is the PersonalData model: her name, employer and deeds, sealed under her key
    data = PersonalData.model_validate(document)
    assert set(document) == set(PersonalData.model_fields)
    assert data.subject == subject
    assert data.key_id is not None
    values = {item.field: item.value for item in data.items}
    assert (values["person"], values["employer"]) == (person, employer)
    assert values["deeds"] == xian2017.NOMINATIONS[0].deeds
    assert all(item.sealed for item in data.items)


def test_show_of_a_subject_nobody_recorded_says_no_key_and_records_nothing(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = position(demo)
    code, out, err = run(capsys, "privacy", "show", "user:nobody.here", "--url", demo)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "subject user:nobody.here  no key: nothing sealed",
        "no event holds this subject's data",
    ]
    assert position(demo) == before


# privacy forget -------------------------------------------------------------------


def test_forget_with_yes_erases_the_nominee_and_her_fields_then_read_erased(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the nominee's fields as the ledger holds them
    subject, person, _ = nominee()
    before = shown(capsys, demo, subject)
    commendation = before["items"][0]["aggregate_id"]
    start = position(demo)
    # when a privacy officer forgets her
    code, out, err = run(capsys, "privacy", "forget", subject, *REASON, *OFFICER, "--yes", "--url", demo)
    # then each step went to stderr as it ran, and the report to stdout, neither naming her
    assert code == 0, err
    steps = [line.split(": ", 1)[1] for line in err.splitlines()]
    assert steps[:2] == ["finding the subject's events", "recording the erasure"]
    assert "destroying the key" in steps
    assert "rebuilding the views" in steps
    assert steps[-1].startswith("done in ")
    assert all(line.startswith("erasing a nominee subject: ") for line in err.splitlines())
    assert person not in out + err
    assert out.splitlines()[0] == f"erased a nominee subject: key {before['key_id']} destroyed"
    assert f"erasure recorded at position {start + 1} by zhao.li of XA-PRIV" in out
    # and her fields now read as erased, while the show finds no key any more
    code, out, _ = run(capsys, "history", commendation, "--url", demo, "--json")
    assert code == 0
    nominated = json.loads(out)["events"][0]["payload"]
    assert (nominated["person"], nominated["employer"], nominated["deeds"]) == (ERASED, ERASED, ERASED)
    after = shown(capsys, demo, subject)
    assert (after["key_id"], after["items"]) == (None, [])
    # and the erasure is recorded once, under the officer who gave it, and the chain holds
    code, out, _ = run(capsys, "audit", "trail", "--url", demo, "--after", str(start), "--json")
    entries = json.loads(out)["entries"]
    assert [(e["actor"], e["department"], e["command"]) for e in entries] == [("zhao.li", "XA-PRIV", "Forget")]
    assert run(capsys, "audit", "verify", "--url", demo)[0] == exits.OK


def test_forget_json_is_the_report_and_a_clerks_user_name_reads_erased(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the events that carry the clerk's user name
    before = shown(capsys, demo, f"user:{CLERK}")
    start = position(demo)
    # when the clerk is forgotten with --json
    code, out, err = run(
        capsys, "privacy", "forget", f"user:{CLERK}", *REASON, *OFFICER, "--yes", "--json", "--url", demo
    )
    # then stdout is the ForgetReport, counting every event that held the name
    assert code == 0, err
    document = json.loads(out)
    report = ForgetReport.model_validate(document)
    assert set(document) == set(ForgetReport.model_fields)
    assert (report.kind, str(report.key_id), report.position) == ("user", before["key_id"], start + 1)
    assert report.sealed_events == len({item["position"] for item in before["items"]})
    assert (report.legacy_events, report.views_rebuilt) == (0, True)
    # and those events' user now reads as erased
    first = before["items"][0]
    code, out, _ = run(capsys, "history", first["aggregate_id"], "--url", demo, "--json")
    event = next(e for e in json.loads(out)["events"] if e["version"] == first["version"])
    assert event["meta"]["user"] == ERASED
    # and forgetting again finds nothing to erase
    code, out, err = run(capsys, "privacy", "forget", f"user:{CLERK}", *REASON, *OFFICER, "--yes", "--url", demo)
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: NotFound: ")
    assert position(demo) == start + 1


def test_forget_refuses_without_yes_when_stdin_is_not_a_terminal_and_erases_nothing(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a clerk's data and stdin that is not a terminal (pytest's own)
    before = shown(capsys, demo, f"user:{CLERK}")
    start = position(demo)
    # when forget runs without --yes
    code, out, err = run(capsys, "privacy", "forget", f"user:{CLERK}", *REASON, *OFFICER, "--url", demo)
    # then it says so on one line, exit 2, and the data is still there, readable
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: UsageError: ")
    assert "--yes" in err
    assert position(demo) == start
    assert shown(capsys, demo, f"user:{CLERK}") == before


@pytest.mark.parametrize(("typed", "erased"), [("user\n", True), ("yes\n", False), ("", False)])
def test_forget_on_a_terminal_erases_only_when_the_subjects_kind_is_typed(
    typed: str, erased: bool, demo: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a terminal where the user answers the question with `typed` (nothing: end of input)
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    start = position(demo)
    # when forget runs without --yes
    code, out, err = run(capsys, "privacy", "forget", f"user:{CLERK}", *REASON, *OFFICER, "--url", demo)
    # then it asked, naming the kind to type, and erased only on that answer
    assert "Type 'user' to confirm" in err
    if erased:
        assert code == exits.OK, err
        assert position(demo) == start + 1
        assert shown(capsys, demo, f"user:{CLERK}")["key_id"] is None
    else:
        assert (code, out) == (exits.USAGE, "")
        # (a terminal echoes the answer's newline, this one does not; at the end of input the command adds one)
        newline = "" if typed else "\n"
        refusal = "quality-ledger: UsageError: not confirmed (expected 'user'): nothing erased\n"
        assert err.endswith(f"confirm: {newline}{refusal}")
        assert position(demo) == start
        assert shown(capsys, demo, f"user:{CLERK}")["items"] != []


def test_show_and_forget_answer_on_each_durable_engine(durable_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # given a campaign the organiser's clerk planned, on SQLite and on PostgreSQL
    with Ledger.open(durable_url) as ledger:
        campaign = plan_campaign(ledger)
        size = ledger.position()
    subject = f"user:{ORGANISER.user}"
    before = shown(capsys, durable_url, subject)
    assert len(before["items"]) == size  # the clerk recorded every event
    # when the clerk is forgotten
    argv = ("privacy", "forget", subject, *REASON, *OFFICER, "--yes", "--json", "--url", durable_url)
    code, out, err = run(capsys, *argv)
    # then the report counts her events, her name reads erased, and the chain and the views hold
    assert code == 0, err
    assert (json.loads(out)["sealed_events"], json.loads(out)["position"]) == (size, size + 1)
    code, out, _ = run(capsys, "history", str(campaign), "--url", durable_url, "--json")
    assert {e["meta"]["user"] for e in json.loads(out)["events"]} == {ERASED}
    assert shown(capsys, durable_url, subject)["items"] == []
    assert run(capsys, "audit", "verify", "--url", durable_url)[0] == exits.OK
    assert run(capsys, "views", "verify", "--url", durable_url)[0] == exits.OK


# refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["li.wei", "alien:li.wei", "user:", "user:   ", "user:" + "x" * 600],
    ids=["no kind", "unknown kind", "nobody", "blank", "too long"],
)
@pytest.mark.parametrize("command", ["show", "forget"])
def test_a_malformed_subject_is_one_line_exit_2_and_records_nothing(
    command: str, subject: str, demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    start = position(demo)
    extra = (*REASON, *OFFICER, "--yes") if command == "forget" else ()
    code, out, err = run(capsys, "privacy", command, subject, *extra, "--url", demo)
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: InvalidCommand: subject ")
    assert position(demo) == start


def test_forget_of_a_subject_never_recorded_is_not_found_and_records_nothing(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    start = position(demo)
    code, out, err = run(
        capsys, "privacy", "forget", "nominee:Nobody@Nowhere", *REASON, *OFFICER, "--yes", "--url", demo
    )
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: NotFound: ")
    assert position(demo) == start


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("--reason", "   ", *OFFICER), "InvalidCommand"),
        ((*REASON, "--user", "", "--department", "XA-PRIV"), "InvalidCommand"),
        ((*REASON, "--user", "zhao.li"), "UsageError"),
        (OFFICER, "UsageError"),
    ],
    ids=["blank reason", "blank user", "no department", "no reason"],
)
def test_forget_without_a_reason_or_an_officer_is_refused_and_records_nothing(
    options: tuple[str, ...], error: str, demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    start = position(demo)
    code, out, err = run(capsys, "privacy", "forget", f"user:{CLERK}", *options, "--yes", "--url", demo)
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith(f"quality-ledger: {error}: ")
    assert position(demo) == start
    assert shown(capsys, demo, f"user:{CLERK}")["key_id"] is not None


def test_forget_on_a_read_only_ledger_is_refused(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    start = position(demo)
    code, out, err = run(
        capsys, "privacy", "forget", f"user:{CLERK}", *REASON, *OFFICER, "--yes", "--url", f"{demo}?mode=ro"
    )
    assert (code, out) == (exits.USAGE, "")
    assert ONE_LINE.match(err), err
    assert err.startswith("quality-ledger: ReadOnly: ")
    assert position(demo) == start


@pytest.mark.parametrize(
    "argv",
    [
        ("privacy", "show", "user:li.wei"),
        ("privacy", "forget", "user:li.wei", *REASON, *OFFICER, "--yes"),
    ],
    ids=["show", "forget"],
)
def test_a_missing_ledger_file_is_no_ledger_and_nothing_is_created(
    argv: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an empty working directory (where the default ledger would go) and a URL naming a missing file
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUALITY_LEDGER_URL", raising=False)
    for url in ("sqlite:///absent.db", None):
        code, out, err = run(capsys, *argv, *(("--url", url) if url else ()))
        # then one line, exit 2, and no file appeared
        assert (code, out) == (exits.USAGE, "")
        assert ONE_LINE.match(err), err
        assert err.startswith("quality-ledger: NoLedger: ")
        assert list(tmp_path.iterdir()) == []
