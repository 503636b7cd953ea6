"""Schema export: JSON Schema of every command and every event version, and the
views' DDL, that services in other languages validate against.

The schemas must describe what is really stored and sent: every row of the
golden log (written by 0.1.0) and every row today's code stores on each
engine validates against the schema of its version; every command of the
Xi'an scenario validates against its command's schema; and what the models
refuse, the schemas refuse too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from quality_ledger import Ledger, schemas
from quality_ledger import commands as c
from quality_ledger.cli import main
from quality_ledger.errors import ConfigurationError, InvalidCommand
from quality_ledger.eventlog import EventLog
from quality_ledger.projections.schema import metadata
from quality_ledger.scenarios import planner, xian2017
from tests.conftest import postgres_connect

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "0.1.0"


class Exported:
    """An export read back: its index, and a validator per schema file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.index: dict[str, Any] = json.loads((directory / "index.json").read_text(encoding="utf-8"))
        self._validators: dict[str, Draft202012Validator] = {}

    def validator(self, relative: str) -> Draft202012Validator:
        if relative not in self._validators:
            schema = json.loads((self.directory / relative).read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            self._validators[relative] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return self._validators[relative]

    def event_validator(self, topic: str, state: dict[str, Any]) -> Draft202012Validator:
        """As a service would: the row's topic names the event, the state's ``class_version`` its version."""
        name = self.index["topics"][topic]
        version = state.get(
            self.index["stored_event"]["version_field"], self.index["stored_event"]["version_when_absent"]
        )
        return self.validator(self.index["events"][name]["versions"][str(version)])

    def command_validator(self, command: str) -> Draft202012Validator:
        return self.validator(self.index["commands"][command])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    directory = tmp_path_factory.mktemp("export") / "schemas"
    schemas.export(directory)
    return Exported(directory)


def stored_rows(ledger: Ledger) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Every row as stored: position, topic and the JSON state."""
    start = 1
    while rows := ledger.chain.select_raw(start, 500):
        for row in rows:
            yield row.id, row.topic, json.loads(row.state)
        start = rows[-1].id + 1


def test_the_export_lays_out_every_command_event_version_and_engine(exported: Exported) -> None:
    index = exported.index
    assert set(index["commands"]) == set(c.COMMANDS)
    assert set(index["events"]) == set(schemas.stored_events())
    for name, cls in schemas.stored_events().items():
        current = getattr(cls, "class_version", 1)
        assert index["events"][name]["current"] == current
        assert set(index["events"][name]["versions"]) == {str(v) for v in range(1, current + 1)}
    assert set(index["views"]) == {"sqlite", "postgresql"}
    listed = {*index["commands"].values(), *index["views"].values(), "index.json"}
    listed |= {path for event in index["events"].values() for path in event["versions"].values()}
    written = {p.relative_to(exported.directory).as_posix() for p in exported.directory.rglob("*") if p.is_file()}
    assert written == listed
    for relative in listed - {"index.json", *index["views"].values()}:
        assert exported.validator(relative).schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_event_of_the_golden_log_validates_against_the_schema_of_its_version(exported: Exported) -> None:
    # given the rows 0.1.0 stored (topics as module paths, every event type)
    with Ledger.open(f"sqlite:///{GOLDEN / 'ledger.db'}?mode=ro", read_your_writes=False) as golden:
        rows = list(stored_rows(golden))
    # when each is validated as a service would, then none is refused
    assert len(rows) == 1134
    for position, topic, state in rows:
        errors = [e.message for e in exported.event_validator(topic, state).iter_errors(state)]
        assert errors == [], f"position {position} ({topic}): {errors}"


def test_every_event_stored_on_each_engine_validates_against_its_current_schema(
    ledger: Ledger, exported: Exported
) -> None:
    # given every event of the golden log stored again by today's code (upcast to current versions)
    with Ledger.open(f"sqlite:///{GOLDEN / 'ledger.db'}?mode=ro", read_your_writes=False) as golden:
        events = [event for _, event in golden.events()]
    EventLog.of(ledger).save(*events)
    # when each stored row is validated, then none is refused, and each is of its class's current version
    rows = list(stored_rows(ledger))
    assert len(rows) == len(events)
    for position, topic, state in rows:
        name = exported.index["topics"][topic]
        assert state.get("class_version", 1) == exported.index["events"][name]["current"]
        errors = [e.message for e in exported.event_validator(topic, state).iter_errors(state)]
        assert errors == [], f"position {position} ({topic}): {errors}"


def test_every_command_of_the_xian_scenario_validates_against_its_schema(exported: Exported) -> None:
    # given the commands the Xi'an 2017 scenario sends, its conclusion included, as JSON a service would send
    case = xian2017.case()
    steps = planner.plan(case)
    conclusion = planner.conclusion(case, steps[0].command.new_id())
    assert conclusion is not None
    commands = [step.command for step in [*steps, conclusion]]
    assert {command.name for command in commands} >= {"PlanCampaign", "PlanInspection", "ConcludeCampaign"}
    # then each validates against its command's schema
    for command in commands:
        document = json.loads(command.model_dump_json())
        errors = [e.message for e in exported.command_validator(command.name).iter_errors(document)]
        assert errors == [], f"{command.idempotency_key}: {errors}"


def golden_row(topic_suffix: str) -> tuple[str, dict[str, Any]]:
    with Ledger.open(f"sqlite:///{GOLDEN / 'ledger.db'}?mode=ro", read_your_writes=False) as golden:
        return next((t, s) for _, t, s in stored_rows(golden) if t.endswith(topic_suffix))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s: s.pop("sample_id"), "a required field missing"),
        (lambda s: s.update(lodged_on="15 September"), "a date that is not a date"),
        (lambda s: s.update(sample_id=42), "a number where text is stored"),
        (lambda s: s.update(colour="red"), "a field the event never stores"),
        (lambda s: s["meta"].update(command_id="not-a-uuid"), "metadata that is not a UUID"),
    ],
)
def test_an_invalid_event_is_refused(exported: Exported, change: Any, why: str) -> None:
    # given a valid stored objection (v1, as 0.1.0 wrote it), changed
    topic, state = golden_row("Inspection.ResultObjected")
    exported.event_validator(topic, state).validate(state)
    change(state)
    # when validated, then refused
    with pytest.raises(ValidationError):
        exported.event_validator(topic, state).validate(state)


def test_an_objection_stored_today_is_refused_as_a_first_version() -> None:
    # versions differ: a stored v2 objection names its version and has a field v1 never stored
    v1 = schemas.released("quality-ledger/Inspection.ResultObjected", 1)
    current = schemas.event_schema(schemas.stored_events()["quality-ledger/Inspection.ResultObjected"])
    assert set(current["properties"]) - set(v1["properties"]), "ResultObjected gained no field since v1"
    _, state = golden_row("Inspection.ResultObjected")
    Draft202012Validator(v1).validate(state)
    with pytest.raises(ValidationError):
        Draft202012Validator(current).validate(state)


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"campaign_id": "6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8", "launched_on": "2017-09-01"}, "no command name"),
        ({"command": "LaunchCampaign", "campaign_id": "x", "launched_on": "2017-09-01"}, "an id that is not a UUID"),
        (
            {"command": "LaunchCampaign", "campaign_id": "6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8"},
            "a required date missing",
        ),
        (
            {
                "command": "LaunchCampaign",
                "campaign_id": "6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8",
                "launched_on": "2017-09-01",
                "by": "me",
            },
            "a field the command does not have",
        ),
    ],
)
def test_an_invalid_command_is_refused_by_its_schema_as_by_parse(
    exported: Exported, document: dict[str, Any], why: str
) -> None:
    with pytest.raises(ValidationError):
        exported.command_validator("LaunchCampaign").validate(document)
    if "command" in document:  # parse agrees (without a name it cannot even tell which command)
        with pytest.raises(InvalidCommand):
            c.parse_obj(document)


def test_the_sqlite_ddl_creates_the_views_tables(exported: Exported, tmp_path: Path) -> None:
    ddl = (exported.directory / exported.index["views"]["sqlite"]).read_text(encoding="utf-8")
    with sqlite3.connect(tmp_path / "views.db") as connection:
        connection.executescript(ddl)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(metadata.tables)


def test_the_postgresql_ddl_creates_the_views_tables(exported: Exported, postgres_url: str) -> None:
    ddl = (exported.directory / exported.index["views"]["postgresql"]).read_text(encoding="utf-8")
    with postgres_connect(postgres_url) as connection:
        connection.execute(ddl)
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        tables = {row[0] for row in rows}
    assert tables == set(metadata.tables)


# Frozen versions ------------------------------------------------------------------


def test_every_older_event_version_has_a_frozen_schema() -> None:
    for name, cls in schemas.stored_events().items():
        for version in range(1, getattr(cls, "class_version", 1)):
            assert (schemas.RELEASED / schemas.file_name(name, version)).is_file(), f"{name} v{version} not frozen"


def test_no_class_drifts_from_the_frozen_schema_of_its_version() -> None:
    # a class whose stored shape changes must bump class_version (and upcast), never change a frozen version
    for name, cls in schemas.stored_events().items():
        frozen = schemas.RELEASED / schemas.file_name(name, getattr(cls, "class_version", 1))
        if frozen.is_file():
            assert schemas.contract(json.loads(frozen.read_text(encoding="utf-8"))) == schemas.contract(
                schemas.event_schema(cls)
            ), f"{name} no longer stores what {frozen.name} says"


def test_every_frozen_schema_names_a_stored_event_version() -> None:
    known = {
        schemas.file_name(name, v)
        for name, cls in schemas.stored_events().items()
        for v in range(1, getattr(cls, "class_version", 1) + 1)
    }
    assert {p.name for p in schemas.RELEASED.glob("*.json")} <= known


# Where it writes ------------------------------------------------------------------


def test_export_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    # given a directory holding a file of someone else's
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    # when exporting into it, then refused with nothing written
    with pytest.raises(ConfigurationError, match="not empty"):
        schemas.export(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    # and with force, written beside it, the file kept
    schemas.export(tmp_path, force=True)
    assert (tmp_path / "index.json").is_file()
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_export_refuses_a_directory_whose_parent_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        schemas.export(tmp_path / "missing" / "schemas")
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_the_same_export_and_refuses_as_the_function(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when the command exports into a new directory, then it writes what the function writes
    assert main(["schema", "export", str(tmp_path / "out")]) == 0
    for path in exported.directory.rglob("*.json"):
        relative = path.relative_to(exported.directory)
        assert (tmp_path / "out" / relative).read_bytes() == path.read_bytes(), relative
    # and again into the same, now non-empty, directory: one line, exit 2, unless --force
    capsys.readouterr()
    assert main(["schema", "export", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["schema", "export", str(tmp_path / "out"), "--force"]) == 0
