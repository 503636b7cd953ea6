"""Durability: a writer killed with SIGKILL under load loses no command whose
``execute`` had returned, on SQLite and on PostgreSQL.

Writers are separate processes that print each receipt after ``execute``
returns; the test kills them mid-stream, keeps every line they managed to
print, and checks each against the reopened store. SQLite keeps its default
``synchronous=FULL`` in WAL mode, so a returned commit is also on disk, not
only in the OS cache (a SIGKILL alone would spare the cache; a power cut
would not): docs/postgres.md says why.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import UUID

import pytest

from quality_ledger import Ledger
from tests.conftest import with_query

pytestmark = pytest.mark.slow

WRITERS = 2
ROUNDS = 3
REPORTED_BEFORE_KILL = 60
"""Receipts each writer reports before it is killed, in each round."""
DEADLINE = 120.0

WRITER = """
import sys
from datetime import date
from quality_ledger import Actor, Ledger
from quality_ledger import commands as c

url, prefix = sys.argv[1], sys.argv[2]
organiser = Actor(user="zhang.min", department="XA-QPC")
with Ledger.open(url) as ledger:
    n = 0
    while True:  # until killed
        receipt = ledger.execute(
            c.PlanCampaign(title=f"{prefix} {n}", theme="durability", organiser="XA-QPC",
                           starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)),
            organiser,
        )
        print(receipt.aggregate_id, receipt.version, flush=True)
        n += 1
"""


class Writer:
    """A writer process whose printed receipts are collected as they come."""

    def __init__(self, url: str, prefix: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, prefix], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)  # each line ends once the pipe closes

    def receipts(self) -> list[tuple[UUID, int]]:
        """Every complete line (a line cut by the kill has no newline)."""
        return [(UUID(a), int(v)) for a, v in (line.split() for line in self.lines if line.endswith("\n"))]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(DEADLINE)
        self.reader.join(DEADLINE)


def wait_for_receipts(writers: list[Writer], count: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while min(len(w.lines) for w in writers) < count:
        if time.monotonic() > deadline or any(w.process.poll() is not None for w in writers):
            for w in writers:
                w.kill()
            errors = "".join(w.process.stderr.read() for w in writers if w.process.stderr)
            pytest.fail(f"the writers did not report {count} receipts each: {errors}")
        time.sleep(0.01)


def test_a_writer_killed_under_load_loses_no_returned_command(durable_url: str) -> None:
    url = durable_url if durable_url.startswith("sqlite") else with_query(durable_url, pool_size="2")
    Ledger.open(url).close()
    reported: list[tuple[UUID, int]] = []
    for round_ in range(ROUNDS):
        # given: writers recording commands as fast as they can
        writers = [Writer(url, f"round {round_} writer {w}") for w in range(WRITERS)]
        wait_for_receipts(writers, REPORTED_BEFORE_KILL)

        # when: they are killed with SIGKILL, mid-stream
        for w in writers:
            w.kill()
        assert all(w.process.returncode == -signal.SIGKILL for w in writers)
        reported += [r for w in writers for r in w.receipts()]

    # then: every command whose execute had returned is in the reopened store, at its version
    with Ledger.open(url) as ledger:
        for aggregate_id, version in reported:
            assert ledger.get(aggregate_id).version >= version
        # and: the log, its hash chain and its views are whole
        assert ledger.verify().ok
        assert len(ledger.campaigns()) >= len(reported)
        assert ledger.verify_views().ok
    assert len(reported) >= ROUNDS * WRITERS * REPORTED_BEFORE_KILL


def test_sqlite_keeps_its_events_in_wal_with_synchronous_full(tmp_path: Path) -> None:
    # given: a ledger file opened by the ledger
    path = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{path}").close()

    # when: the file is opened as the ledger's store opens it (no pragma of its own but WAL)
    with sqlite3.connect(path) as connection:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]

    # then: it is in WAL mode, and SQLite's default synchronous is FULL (2): each commit syncs the WAL
    assert journal == "wal"
    assert synchronous == 2
