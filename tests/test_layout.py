"""tests/unit holds unit tests: no ledger, no store, no database driver, and no
fixture that opens one. Whatever needs those belongs in tests/integration.

Read from the files' syntax (``ast``), not by importing them, so a unit test
that opens a store is caught even where it never runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UNIT = Path(__file__).parent / "unit"

FORBIDDEN_MODULES = (
    "quality_ledger.ledger",
    "quality_ledger.eventlog",
    "quality_ledger.writing",
    "quality_ledger.reading",
    "quality_ledger.auditing",
    "quality_ledger.persistence",
    "quality_ledger.store",
    "quality_ledger.audit",
    "quality_ledger.projections",
    "quality_ledger.testing.plugin",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "eventsourcing.persistence",
    "eventsourcing.postgres",
    "eventsourcing.sqlite",
    "tests.conftest",
    "tests.integration",
)
"""Modules (and their submodules) whose import means a ledger, a store or a driver."""

FORBIDDEN_NAMES = frozenset({"Ledger", "open_ledger", "connect"})
"""Names that open a ledger or a store, whether imported or reached as an attribute."""

STORE_FIXTURES = frozenset(
    {
        "ledger",
        "ledger_url",
        "campaign_id",
        "engine",
        "durable_engine",
        "durable_url",
        "postgres_server",
        "postgres_url",
        "sqlite_ledger",
        "postgres_ledger",
        "tmp_path",
        "tmp_path_factory",
        "tmpdir",
    }
)
"""The fixtures of tests/conftest.py and the kit's plugin that open a store, and pytest's disk fixtures."""


def _forbidden_module(name: str) -> bool:
    return any(name == m or name.startswith(f"{m}.") for m in FORBIDDEN_MODULES)


def offences(source: str) -> list[str]:
    """What in ``source`` breaks the unit layout, each with its line."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _forbidden_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            if _forbidden_module(node.module):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name in FORBIDDEN_NAMES or _forbidden_module(f"{node.module}.{a.name}")
            ]
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"line {node.lineno}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"line {node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            found += [
                f"line {node.lineno}: {node.name} takes the fixture {a.arg}"
                for a in arguments
                if a.arg in STORE_FIXTURES
            ]
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("usefixtures"):
            found += [
                f"line {node.lineno}: uses the fixture {a.value}"
                for a in node.args
                if isinstance(a, ast.Constant) and a.value in STORE_FIXTURES
            ]
        elif isinstance(node, ast.keyword) and node.arg == "ledger":
            found.append(f"line {node.value.lineno}: passes a ledger (gwt.given(..., ledger=...))")
    return found


UNIT_FILES = sorted(UNIT.rglob("*.py"))


@pytest.mark.parametrize("path", UNIT_FILES, ids=lambda p: p.relative_to(UNIT).as_posix())
def test_a_unit_test_file_opens_no_ledger_store_or_database(path: Path) -> None:
    assert offences(path.read_text(encoding="utf-8")) == []


def test_tests_unit_holds_unit_tests_of_every_aggregate() -> None:
    names = {p.name for p in UNIT_FILES}
    assert {
        "test_activity_rules.py",
        "test_campaign_rules.py",
        "test_commendation_rules.py",
        "test_inspection_rules.py",
    } <= names


@pytest.mark.parametrize(
    "source",
    [
        "from quality_ledger import Ledger",
        "from quality_ledger import ledger",
        "import quality_ledger.ledger",
        "from quality_ledger.persistence import PydanticMapper",
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "from tests.conftest import QTS",
        "import quality_ledger\nquality_ledger.Ledger.open('memory://')",
        "def test_x(ledger): pass",
        "def test_x(*, tmp_path): pass",
        "import pytest\npytestmark = pytest.mark.usefixtures('ledger_url')",
        "gwt.given(step, ledger=the_ledger)",
    ],
)
def test_the_layout_check_catches_each_way_to_reach_a_store(source: str) -> None:
    assert offences(source) != []


def test_the_layout_check_lets_a_bare_aggregate_test_pass() -> None:
    source = (
        "from quality_ledger.domain.inspection import Inspection\n"
        "from quality_ledger import commands as c\n"
        "from quality_ledger.testing import gwt\n"
        "def test_x() -> None:\n"
        "    gwt.given().when(Inspection.plan).then(Inspection.Planned)\n"
    )
    assert offences(source) == []
