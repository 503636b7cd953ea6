"""Cases as data: a TOML case file is validated, planned and recorded through
commands, from the API and from ``quality-ledger load``; a bad file is refused
in one line that names the file and the field, and records nothing.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from quality_ledger import Ledger, commands
from quality_ledger.cli import main
from quality_ledger.errors import ConfigurationError, IllegalTransition, InvalidCommand
from quality_ledger.scenarios import loader, planner, xian2017
from quality_ledger.scenarios.expected import expected
from tests.conftest import event_count
from tests.integration.test_xian2017_scenario import figures, read

ONE_LINE = re.compile(r"\Aquality-ledger: [^\n]+\n\Z")

RIVERSIDE = """\
key = "riverside-2024"

[campaign]
title = "Riverside 2024 Quality Month"
theme = "Quality for everyone"
organiser = "RS-QPC"
starts_on = 2024-05-01
ends_on = 2024-05-31
launched_on = 2024-05-02

[[departments]]
code = "RS-MSA"
name_zh = "市场监管局"
name_en = "Market Supervision Administration"

[[activities]]
key = "free-testing"
title = "免费检测日 / Free testing day"
lead = "RS-MSA"
focus_area = "livelihood-and-quality-safety"
kind = "free-testing"
targets = { tests = 500 }
schedule = { starts_on = 2024-05-11, ends_on = 2024-05-12, place = "Riverside Square" }
started_on = 2024-05-11
progress = [
    { reported_on = 2024-05-11, amounts = { tests = 260 } },
    { reported_on = 2024-05-12, amounts = { tests = 310 } },
]
completed = { on = 2024-05-12, outcome = "570 free tests" }

[[inspections]]
reference = "MSA-2024-01"
department = "RS-MSA"
kind = "Spot check"
subject = "Riverside Cable Co."
product_category = "Wires and cables"
planned_on = 2024-05-06
samples = [
    { sample_id = "01-1", product = "BV 2.5mm²", batch = "A1", taken_on = 2024-05-07, tested_on = 2024-05-14, failed_items = ["conductor resistance"] },
    { sample_id = "01-2", product = "BV 4mm²", batch = "A2", taken_on = 2024-05-07, tested_on = 2024-05-14 },
]
notified_on = 2024-05-16

[inspections.rectification]
ordered_on = 2024-05-17
due_on = 2024-06-17
requirements = "Recall the failed batch"
"""

XIAN_2017_LOG = "90fe2ff5fd077d88e123bb5d414f67abfd151335c481bb218c011827f0b2d759"
"""SHA-256 of the Xi'an case's commands (load, then conclude) as the module of
Python data before this file recorded them: one line per command, ``user
department command-JSON``. A change here changes the reference log: make it a decision."""


def case_file(tmp_path: Path, text: str = RIVERSIDE, name: str = "riverside.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# The shipped case -------------------------------------------------------------------


def test_the_shipped_case_plans_the_same_commands_as_the_python_data_did() -> None:
    # given the reference case read from its TOML file
    case = xian2017.case()
    # when it is planned, with its conclusion
    steps = planner.plan(case)
    plan_campaign = steps[0].command
    assert isinstance(plan_campaign, commands.PlanCampaign)
    conclusion = planner.conclusion(case, plan_campaign.new_id())
    assert conclusion is not None
    steps.append(conclusion)
    # then the commands, their keys, actors and ids are those recorded before
    lines = [f"{s.actor.user} {s.actor.department} {s.command.model_dump_json()}" for s in steps]
    assert len(lines) == 416
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == XIAN_2017_LOG
    keys = [s.command.idempotency_key for s in steps]
    assert len(set(keys)) == len(keys)
    assert all(k is not None and k.startswith("xian2017/") for k in keys)


def test_the_shipped_case_keeps_its_chinese_text() -> None:
    case = xian2017.case()
    assert case.campaign.title == "西安市2017年质量月活动 / Xi'an 2017 Quality Month"
    assert case.inspection("QTS-2017-DX-01").samples[0].product == "聚氯乙烯绝缘电缆 BV 450/750V 1×2.5mm²"
    assert xian2017.XIAN_2017 is case  # read once, not at import


# A case of one's own ----------------------------------------------------------------


def test_a_user_case_records_what_its_data_says_and_only_once(ledger: Ledger, tmp_path: Path) -> None:
    # given a case file of one's own
    case = loader.read_case(case_file(tmp_path))
    # when it is loaded
    campaign_id = loader.load(ledger, case)
    after = event_count(ledger)
    # then the ledger shows the figures worked out from the data alone
    assert figures(read(ledger, campaign_id)) == expected(case)
    assert expected(case).achieved == {"免费检测日 / Free testing day": {"tests": 570}}
    # and loading it again returns the same campaign and records nothing
    assert loader.load(ledger, case) == campaign_id
    assert event_count(ledger) == after


def test_quality_ledger_load_records_a_case_file_then_nothing_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a case file and a ledger URL
    path, url = case_file(tmp_path), f"sqlite:///{tmp_path}/riverside.db"
    # when it is loaded from the command line
    code, out, err = run(capsys, "load", str(path), "--url", url)
    # then the campaign's status is printed and the progress said on stderr
    assert code == 0, err
    assert "Riverside 2024 Quality Month" in out
    assert "rules accept every step" in err
    assert re.search(r"\d+ events recorded", err)
    with Ledger.open(url, create=False) as ledger:
        recorded = event_count(ledger)
    # and a second load records nothing
    code, _, err = run(capsys, "load", str(path), "--url", url)
    assert code == 0
    assert "nothing new recorded" in err
    with Ledger.open(url, create=False) as ledger:
        assert event_count(ledger) == recorded


# Refusals -----------------------------------------------------------------------------


def changed(old: str, new: str) -> str:
    assert old in RIVERSIDE
    return RIVERSIDE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param('key = "riverside-2024\n', ["TOML", "line 1"], id="toml-syntax"),
        pytest.param(
            changed('kind = "Spot check"', 'kinds = "Spot check"'),
            ["inspections[MSA-2024-01].kinds"],
            id="unknown-field",
        ),
        pytest.param(
            changed('theme = "Quality for everyone"', ""), ["campaign.theme", "Field required"], id="missing-field"
        ),
        pytest.param(
            changed('place = "Riverside Square"', f'place = "{"x" * 201}"'),
            ["activities[free-testing].schedule.place"],
            id="over-bound",
        ),
        pytest.param(
            changed('batch = "A2"', 'batch = "A2", objection = { lodged_on = "soon" }'),
            ["samples[01-2].objection.lodged_on"],
            id="bad-date",
        ),
        pytest.param(
            changed('kind = "Spot check"', 'kind = "Spot check"\nactivity = "expo"'),
            ["'expo'", "does not hold"],
            id="unknown-activity",
        ),
        pytest.param(changed('sample_id = "01-2"', 'sample_id = "01-1"'), ["'01-1' twice"], id="repeated-sample"),
        pytest.param(
            changed("started_on = 2024-05-11", 'cancelled = { reason = "rain" }'),
            ["completed and cancelled"],
            id="two-endings",
        ),
    ],
)
def test_a_malformed_case_file_is_refused_in_one_line_naming_the_field(
    text: str, names: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a case file with one fault
    path, ledger_file = case_file(tmp_path, text), tmp_path / "l.db"
    # when it is loaded
    code, out, err = run(capsys, "load", str(path), "--url", f"sqlite:///{ledger_file}")
    # then one line names the file and the fault, and no ledger was even created
    assert (code, out) == (2, "")
    assert ONE_LINE.match(err), err
    assert err.startswith(f"quality-ledger: InvalidCommand: {path}")
    for name in names:
        assert name in err
    assert not ledger_file.exists()


def test_a_case_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(RIVERSIDE.replace("Riverside Square", "Plaça Major").encode("latin-1", "replace"))
    with pytest.raises(InvalidCommand, match="not UTF-8"):
        loader.read_case(path)


def test_a_missing_case_file_is_a_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the case file"):
        loader.read_case(tmp_path / "absent.toml")
    code, _, err = run(capsys, "load", str(tmp_path / "absent.toml"), "--url", f"sqlite:///{tmp_path}/l.db")
    assert code == 2
    assert ONE_LINE.match(err)
    assert "ConfigurationError" in err
    assert not (tmp_path / "l.db").exists()


def test_a_case_the_rules_refuse_records_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a valid file whose activity completes without ever starting
    path = case_file(tmp_path, changed("started_on = 2024-05-11\nprogress = [", "progress = ["))
    case = loader.read_case(path)
    # when it is rehearsed / then the refusing step is named
    with pytest.raises(IllegalTransition, match="riverside-2024/activity/free-testing/progress/1/tests"):
        loader.rehearse(case)
    # and through the command line, one line and no ledger at all
    ledger_file = tmp_path / "l.db"
    code, _, err = run(capsys, "load", str(path), "--url", f"sqlite:///{ledger_file}")
    assert code == 2
    assert ONE_LINE.match(err)
    assert "IllegalTransition" in err
    assert not ledger_file.exists()
