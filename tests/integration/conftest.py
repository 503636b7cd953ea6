"""Fixtures the command-line tests share."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from quality_ledger.cli import main


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo ledger, loaded once per test module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert main(["--url", f"sqlite:///{path}", "demo"]) == 0
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> str:
    """The URL of a private copy of the demo ledger."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(demo_file, copy)
    return f"sqlite:///{copy}"
