"""Every code block in README.md and docs/*.md runs as written.

A fence says what its block is with its info string:

- ``python``: run. A file's Python blocks run in order in one fresh
  interpreter, sharing one namespace (a block may use what an earlier one
  defined), and every ``test_*`` function they define is called too. They are
  also checked for undefined names (ruff F821), which catches a name used
  only inside a function body.
- ``sh``: run with ``bash -e``, in order, each block on its own; ``quality-ledger``
  is the installed command.
- ``sql``: run on the demo ledger's SQLite file, ``:campaign`` bound to the demo
  campaign; it must return rows.
- ``text``: output or layout, not run.
- ``no-run`` after the language (``sh no-run``): a block that cannot run in a
  test, such as ``./scripts/test`` itself, a benchmark of minutes, or a
  command that needs a tool the project does not install. Python ``no-run``
  blocks are still checked for undefined names.

Each file's blocks run in a temporary directory holding the demo ledger
(``./quality_ledger.db``, what ``./scripts/demo`` leaves), with
``QUALITY_LEDGER_URL`` unset. docs/postgres.md needs a server: its blocks run
with ``QUALITY_LEDGER_URL`` naming a fresh schema on the test server.
New pages under docs/ are picked up on their own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
LANGUAGES = {"python", "sh", "sql", "text"}
RUNNABLE = {"python", "sh", "sql"}
NO_RUN = "no-run"
POSTGRES_DOCS = {"docs/postgres.md"}
"""Pages whose examples need a PostgreSQL server: run with ``QUALITY_LEDGER_URL`` on the test server."""

UNDEFINED_NAMES = [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--output-format=concise"]
UNDEFINED_NAMES += ["--select", "F821,F822,F823"]

FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the first line of code (1-based)
    language: str
    flags: tuple[str, ...]
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and NO_RUN not in self.flags


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2).split()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        assert end is not None, f"{path.relative_to(ROOT)}:{i + 1}: a code fence that never closes"
        language, flags = (info[0], tuple(info[1:])) if info else ("", ())
        found.append(Block(path, i + 2, language, flags, "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return found


def indented_code(path: Path) -> list[int]:
    """Lines that start an indented (unfenced) code block: those would escape the checks."""
    starts = []
    in_fence = False
    previous: list[str] = [""]
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith(("    ", "\t")) and line.strip() and not previous[-1].strip():
            paragraph = next((p for p in reversed(previous) if p.strip()), "")
            if not paragraph.startswith(("- ", "* ", "  ")) and not re.match(r"\d+\. ", paragraph):
                starts.append(n)
        previous.append(line)
    return starts


def doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the demo ledger, as ``./scripts/demo`` leaves it (made once, copied per page)."""
    directory = tmp_path_factory.mktemp("demo")
    subprocess.run([quality_ledger_command(), "demo"], cwd=directory, env=clean_env(), check=True, capture_output=True)
    assert (directory / "quality_ledger.db").is_file()
    return directory


def quality_ledger_command() -> str:
    command = Path(sys.executable).with_name("quality-ledger")
    assert command.is_file(), f"{command} missing: install the project (scripts/setup)"
    return str(command)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QUALITY_LEDGER_URL", "HYPOTHESIS_PROFILE")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env | extra


RUN_PYTHON = """
import json, sys, types
module = types.ModuleType("__docs__")
sys.modules["__docs__"] = module
for path, line, code in json.load(sys.stdin):
    exec(compile("\\n" * (line - 1) + code, path, "exec"), module.__dict__)
tests = [name for name, value in vars(module).items() if name.startswith("test_") and callable(value)]
for name in tests:
    getattr(module, name)()
print(json.dumps(tests))
"""


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_every_code_block_is_fenced_and_says_what_it_is(path: Path) -> None:
    # given a page / then no code hides in an indented block, and every fence names a known kind
    assert indented_code(path) == [], f"{doc_id(path)}: indented code blocks at these lines: fence them"
    for block in blocks(path):
        assert block.language in LANGUAGES, f"{block.where}: fence info {block.language!r}, expected one of {LANGUAGES}"
        assert set(block.flags) <= {NO_RUN}, f"{block.where}: unknown flags {block.flags}"
        assert not (block.flags and block.language == "text"), f"{block.where}: text never runs"


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_the_python_blocks_name_nothing_undefined(path: Path, tmp_path: Path) -> None:
    # given a page's Python blocks, each at its own lines of the page
    python = [b for b in blocks(path) if b.language == "python"]
    if not python:
        return
    lines = [""] * len(path.read_text(encoding="utf-8").splitlines())
    for block in python:
        code = block.code.splitlines()
        lines[block.line - 1 : block.line - 1 + len(code)] = code
    source = tmp_path / f"{path.stem}.py"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # when ruff looks for undefined names / then there are none (line numbers are the page's)
    result = subprocess.run(
        [*UNDEFINED_NAMES, str(source)],
        capture_output=True,
        text=True,
    )
    report = (result.stdout + result.stderr).replace(str(source), doc_id(path))
    assert result.returncode == 0, report


@pytest.mark.slow  # a subprocess per page, one per shell command: 1 to 20 s a page
@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_the_code_blocks_run_as_written(
    path: Path, tmp_path: Path, demo_dir: Path, request: pytest.FixtureRequest
) -> None:
    # given a page's blocks and a working directory holding the demo ledger
    page = blocks(path)
    cwd = tmp_path / "cwd"
    shutil.copytree(demo_dir, cwd)
    env = clean_env()
    if doc_id(path) in POSTGRES_DOCS:
        from quality_ledger.testing.plugin import postgres_schema

        server = request.getfixturevalue("postgres_server")
        schemas = ExitStack()
        request.addfinalizer(schemas.close)
        env["QUALITY_LEDGER_URL"] = schemas.enter_context(postgres_schema(server))
    ran: list[Block] = []
    # when its Python blocks run, in order, in one namespace (and the tests they define are called)
    python = [b for b in page if b.runs and b.language == "python"]
    if python:
        result = subprocess.run(
            [sys.executable, "-c", RUN_PYTHON],
            input=json.dumps([(str(b.path), b.line, b.code) for b in python]),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{doc_id(path)}: a Python block failed:\n{result.stderr[-4000:]}"
        ran += python
    # and its shell blocks, each with bash -e
    for block in (b for b in page if b.runs and b.language == "sh"):
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, (
            f"{block.where}: exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
        ran.append(block)
    # and its SQL blocks on the demo ledger
    for block in (b for b in page if b.runs and b.language == "sql"):
        with sqlite3.connect(cwd / "quality_ledger.db") as connection:
            (campaign,) = connection.execute("SELECT campaign_id FROM ql_campaigns").fetchone()
            rows = connection.execute(block.code, {"campaign": campaign}).fetchall()
        connection.close()
        assert rows, f"{block.where}: no rows on the demo ledger"
        ran.append(block)
    # then every block not marked no-run ran
    assert sorted(b.line for b in ran) == [b.line for b in page if b.runs]


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_every_relative_link_names_a_file_the_sdist_carries(path: Path) -> None:
    # given a page's relative links / then each names a file in README.md's tree of docs (MANIFEST.in ships docs/)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        linked = (path.parent / target).resolve()
        assert linked.is_file(), f"{doc_id(path)}: link to {target}, which does not exist"
        assert linked.parent == ROOT / "docs" or linked.parent == ROOT, f"{doc_id(path)}: {target} is not shipped"
