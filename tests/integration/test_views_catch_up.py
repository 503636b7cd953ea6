"""Catching the views up ahead of a read: ``Ledger.catch_up_views`` reports
its progress, and the CLI's reads show it on stderr when the views are far
behind (after a bulk import), saying nothing otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger.cli import actions
from quality_ledger.testing.synthetic import fill
from tests.integration.test_cli import run


@pytest.fixture
def behind(tmp_path: Path) -> tuple[str, int]:
    """A ledger file whose views have read nothing of its log; its URL and how many events it holds."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        fill(ledger, 300)
        return url, ledger.position()


def test_catching_up_ahead_applies_what_the_views_lack_and_reports_its_progress(behind: tuple[str, int]) -> None:
    # given views that have read nothing of a log
    url, events = behind
    with Ledger.open(url) as ledger:
        reported: list[tuple[int, int]] = []
        # when they are caught up ahead of any read
        applied = ledger.catch_up_views(progress=lambda done, total: reported.append((done, total)))
        # then every event was applied, the progress climbing to the whole of it
        assert applied == events
        assert reported[-1] == (events, events)
        assert [done for done, _ in reported] == sorted({done for done, _ in reported})
        # and a second call has nothing left to apply, and reports nothing
        reported.clear()
        assert ledger.catch_up_views(progress=lambda done, total: reported.append((done, total))) == 0
        assert reported == []
        assert ledger.campaigns()


def test_a_read_far_behind_shows_its_catch_up_on_stderr(
    behind: tuple[str, int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given views further behind than a read stays quiet for
    url, events = behind
    monkeypatch.setattr(actions, "LONG_CATCH_UP", events)
    # when the status is asked for
    code, out, err = run(capsys, "--url", url, "status")
    # then stderr says the views are caught up, how far, and what it took
    assert (code, "synthetic" in out) == (0, True)
    *moving, said = err.splitlines()
    assert moving
    assert moving[-1].startswith(f"catching up the views {events:,}/{events:,} (100%")
    assert said.startswith(f"catching up the views: {events:,} events applied in ")


@pytest.mark.parametrize("action", [("status",), ("audit", "trail", "--limit", "1000")])
def test_a_read_a_little_behind_says_nothing_on_stderr(
    behind: tuple[str, int], capsys: pytest.CaptureFixture[str], action: tuple[str, ...]
) -> None:
    # given views fewer events behind than a read stays quiet for
    url, events = behind
    assert events < actions.LONG_CATCH_UP
    # when a read catches them up, then nothing is said
    code, _, err = run(capsys, "--url", url, *action)
    assert (code, err) == (0, "")
