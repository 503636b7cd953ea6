"""The replay certificate is hashed as the views' rows stream by, and its
digest is byte for byte the one the whole-dump code gave (kept here, as the
oracle): certificates issued before the streaming still check out."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger.eventlog import EventLog
from quality_ledger.projections import Views, views_engine
from quality_ledger.scenarios import xian2017
from tests.integration.whole_dump import whole_dump

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
GOLDEN_LOGS = sorted(p / "ledger.db" for p in GOLDEN.iterdir() if (p / "ledger.db").is_file())


def whole_dump_digest(ledger: Ledger, position: int) -> str:
    """The certificate's digest as the whole-dump code made it: views replayed
    in an in-memory SQLite, dumped, ``json.dumps`` of the lot, SHA-256."""
    log = EventLog.of(ledger)
    views = Views(views_engine("sqlite://"), log.recorder, log.mapper)
    try:
        views.catch_up(until=position)
        with views.reading(catch_up=False) as connection:
            dump = whole_dump(connection)
    finally:
        views.close()
    canonical = json.dumps(dump, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_streamed_certificate_of_the_xian_case_is_the_whole_dump_digest(ledger: Ledger) -> None:
    # given the Xi'an case (Chinese names, dates, decimals, every view filled)
    xian2017.load(ledger)
    head = ledger.position()
    # when certificates are issued at the head, part way, and before anything
    for position in (head, head // 3, 0):
        # then each digest is the one the whole dump gave
        assert ledger.replay_certificate(position).digest == whole_dump_digest(ledger, position)


@pytest.mark.parametrize("log", GOLDEN_LOGS, ids=[p.parent.name for p in GOLDEN_LOGS])
def test_the_streamed_certificate_of_a_golden_log_is_the_whole_dump_digest(log: Path, tmp_path: Path) -> None:
    # given a copy of a golden log
    copy = tmp_path / "ledger.db"
    shutil.copyfile(log, copy)
    with Ledger.open(f"sqlite:///{copy}") as ledger:
        # then its certificate, at the head and half way, is the whole dump's
        for position in (ledger.position(), ledger.position() // 2):
            assert ledger.replay_certificate(position).digest == whole_dump_digest(ledger, position)


def test_there_is_a_golden_log_to_certify() -> None:
    assert GOLDEN_LOGS
