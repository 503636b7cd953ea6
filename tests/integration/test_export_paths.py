"""The exports take a path as ``str`` or ``Path`` (an auditor's script names files as strings)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.audit.export import export_evidence, export_trail
from tests.conftest import ORGANISER

PLAN = c.PlanCampaign(
    title="質量月", theme="品質", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
)


@pytest.fixture
def planned() -> Iterator[Ledger]:
    """An in-memory ledger holding one event."""
    with Ledger.open("memory://") as ledger:
        ledger.execute(PLAN, ORGANISER)
        yield ledger


def test_the_trail_goes_to_a_str_path_a_path_or_a_stream_alike(planned: Ledger, tmp_path: Path) -> None:
    # given a ledger with one event / when the trail is exported three ways
    stream = io.StringIO()
    counts = [
        export_trail(planned, str(tmp_path / "a.csv"), "csv"),
        export_trail(planned, tmp_path / "b.csv", "csv"),
        export_trail(planned, stream, "csv"),
    ]
    # then each holds the same header and entry
    assert counts == [1, 1, 1]
    assert (tmp_path / "a.csv").read_bytes() == stream.getvalue().encode()
    assert (tmp_path / "b.csv").read_bytes() == stream.getvalue().encode()


def test_evidence_goes_to_a_str_directory(planned: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a directory named as a string (relative, as in docs/audit.md) / when evidence is exported
    monkeypatch.chdir(tmp_path)
    counts = export_evidence(planned, "bundle", "jsonl")
    # then the bundle is there, under that name
    assert counts == {"events": 1, "links": 1}
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == [
        "checkpoint.json",
        "events.jsonl",
        "links.jsonl",
        "report.json",
    ]
