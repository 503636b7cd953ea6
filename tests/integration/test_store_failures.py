"""A store that fails, is shared with another application, or may only be read.

Reads on a locked or unreachable store raise ``StoreUnavailable`` and the
same ``Ledger`` works again once the store is back; a database that holds
another application's tables is adopted only when asked; a read-only copy
of a ledger can be read and verified without a byte of it changing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.errors import ConfigurationError, NoLedger, ReadOnly, StoreUnavailable
from quality_ledger.testing.plugin import postgres_schema
from tests.conftest import ORGANISER, event_count, plan_campaign, postgres_connect, with_query
from tests.integration.proxy import LoopbackProxy


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every directory (None) and file (its bytes) under ``root``."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def enlist(campaign_id: object, code: str = "XA-EDU") -> c.EnlistDepartment:
    return c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh="市教育局", name_en="Education")


# A lock held by another connection (SQLite) --------------------------------------


def test_a_read_behind_another_connections_lock_is_unavailable_and_the_same_ledger_recovers(tmp_path: Path) -> None:
    # given: a ledger that waits 1 s for a lock, and another connection holding the write lock
    url = f"sqlite:///{tmp_path / 'ledger.db'}?lock_timeout=1"
    with Ledger.open(url) as ledger:
        campaign_id = plan_campaign(ledger)
        other = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        # when: a query must first bring the views up to date
        with pytest.raises(StoreUnavailable, match="locked by another connection") as raised:
            ledger.campaign_status(campaign_id)
        # then: one line, naming the file; and the log itself can still be read and verified
        assert "\n" not in str(raised.value)
        assert "ledger.db" in str(raised.value)
        assert ledger.verify().ok
        # when: the other connection lets go
        other.execute("ROLLBACK")
        other.close()
        # then: the same ledger answers again
        assert ledger.campaign_status(campaign_id).status == "launched"


# A PostgreSQL server that goes away and comes back -----------------------------


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[LoopbackProxy]:
    with LoopbackProxy.running(postgres_url) as running:
        yield running


@pytest.mark.postgres
def test_reads_while_postgresql_is_out_of_reach_are_unavailable_and_the_same_ledger_recovers(
    postgres_url: str, proxy: LoopbackProxy
) -> None:
    # given: a ledger reaching the server through a proxy, with a campaign
    with Ledger.open(with_query(proxy.url(postgres_url), connect_timeout="1")) as ledger:
        campaign_id = plan_campaign(ledger)
        status = ledger.campaign_status(campaign_id)
        # when: the server drops out of reach
        proxy.cut()
        # then: every kind of read says so, naming where, on one line
        reads = (ledger.position, ledger.verify, lambda: ledger.campaign_status(campaign_id), ledger.checkpoint)
        for read in (*reads, ledger.catch_up_views):
            with pytest.raises(StoreUnavailable, match=rf"PostgreSQL at 127\.0\.0\.1:{proxy.port}") as raised:
                read()
            assert "\n" not in str(raised.value)
        # when: it is back
        proxy.restore()
        # then: the same ledger reads and verifies again
        assert ledger.campaign_status(campaign_id) == status
        assert ledger.verify().ok


# Another application's database ------------------------------------------------


def test_adopt_creates_a_ledger_beside_another_applications_tables_and_keeps_them(tmp_path: Path) -> None:
    # given: another application's SQLite database
    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO customers (name) VALUES ('西安某公司')")
    connection.close()
    # when: a ledger is asked for there, explicitly
    with Ledger.open(f"sqlite:///{path}", adopt=True) as ledger:
        plan_campaign(ledger)
        count = event_count(ledger)
    # then: it opens again as a ledger without asking, and the other tables are untouched
    with Ledger.open(f"sqlite:///{path}", create=False) as reopened:
        assert event_count(reopened) == count
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM customers").fetchall() == [("西安某公司",)]
    connection.close()


@pytest.mark.postgres
def test_a_postgresql_schema_of_another_application_is_adopted_only_when_asked(postgres_server: str) -> None:
    with postgres_schema(postgres_server) as url:
        # given: a schema holding another application's table
        with postgres_connect(url) as connection:
            connection.execute("CREATE TABLE invoices (id integer PRIMARY KEY)")
            connection.execute("INSERT INTO invoices VALUES (7)")
        # when / then: refused, naming the table, and nothing created
        with pytest.raises(ConfigurationError, match="invoices"):
            Ledger.open(url)
        with postgres_connect(url) as connection:
            tables = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchall()
            assert tables == [("invoices",)]
        # when: asked explicitly
        with Ledger.open(url, adopt=True) as ledger:
            plan_campaign(ledger)
        # then: a ledger from now on, opened by read-only tools, beside the untouched table
        with Ledger.open(url, create=False) as reopened:
            assert reopened.verify().ok
        with postgres_connect(url) as connection:
            assert connection.execute("SELECT id FROM invoices").fetchall() == [(7,)]


@pytest.mark.postgres
def test_create_false_on_an_empty_postgresql_schema_creates_nothing(postgres_server: str) -> None:
    with postgres_schema(postgres_server) as url:
        with pytest.raises(NoLedger, match="no ledger at"):
            Ledger.open(url, create=False)
        with postgres_connect(url) as connection:
            count = connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchone()
        assert count == (0,)


# Missing PostgreSQL support ------------------------------------------------------


def test_without_the_postgres_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: psycopg cannot be imported (as without quality_ledger[postgres])
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "eventsourcing.postgres", None)
    # when / then
    with pytest.raises(ConfigurationError, match=r"pip install 'quality_ledger\[postgres\]'"):
        Ledger.open("postgresql://u:pw@127.0.0.1:5432/db")


# Read-only copies ----------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed ledger file with a launched campaign and its views caught up."""
    path = tmp_path_factory.mktemp("recorded") / "ledger.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        plan_campaign(ledger)
        ledger.campaigns()
    return path


def test_a_copy_opened_with_mode_ro_is_read_and_verified_and_not_a_byte_changes(recorded: Path, tmp_path: Path) -> None:
    # given: an auditor's copy
    shutil.copy(recorded, tmp_path / "copy.db")
    before = snapshot(tmp_path)
    # when: opened read-only on purpose
    with Ledger.open(f"sqlite:///{tmp_path / 'copy.db'}?mode=ro") as copy:
        # then: it reads, verifies and answers queries (views rebuilt in memory)
        assert copy.read_only
        report = copy.verify()
        assert report.ok
        assert report.checked == 4
        (campaign,) = copy.campaigns()
        assert copy.campaign_status(campaign.campaign_id).status == "launched"
        # and: it records nothing, saying why
        with pytest.raises(ReadOnly, match="read-only"):
            copy.execute(enlist(campaign.campaign_id), ORGANISER)
    # and: the copy is exactly as it was: no byte changed, no -wal or -shm left beside it
    assert snapshot(tmp_path) == before


AUDITOR = """
import json, sys
from quality_ledger import Ledger, Actor, commands as c
from quality_ledger.errors import LedgerError
with Ledger.open(sys.argv[1], create=False) as ledger:
    report = ledger.verify()
    (campaign,) = ledger.campaigns()
    try:
        ledger.execute(c.EnlistDepartment(campaign_id=campaign.campaign_id, code="XA-EDU", name_zh="x", name_en="x"),
                       Actor(user="zhang.min", department="XA-QPC"))
        refused = None
    except LedgerError as e:
        refused = type(e).__name__
    print(json.dumps({"read_only": ledger.read_only, "ok": report.ok, "checked": report.checked,
                      "status": ledger.campaign_status(campaign.campaign_id).status, "refused": refused}))
"""
NOBODY = 65534


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["read-only file", "read-only directory"])
def test_an_auditor_who_cannot_write_the_copy_reads_and_verifies_it(recorded: Path, layout: str) -> None:
    # given: a copy the auditor cannot write: a read-only file (in a directory
    # the auditor may write), or any file in a read-only directory. Root writes
    # through file modes, so as root the auditor runs as the unprivileged "nobody".
    as_root = os.geteuid() == 0
    home = Path(tempfile.mkdtemp(prefix="ql-auditor-"))
    try:
        home.chmod(0o755)
        folder = home / "copy"
        folder.mkdir()
        shutil.copy(recorded, folder / "ledger.db")
        (folder / "ledger.db").chmod(0o444 if layout == "read-only file" else 0o644)
        if as_root and layout == "read-only directory":
            os.chown(folder / "ledger.db", NOBODY, NOBODY)  # writable by the auditor: only the directory stops it
        folder.chmod(0o777 if layout == "read-only file" else 0o555)
        before = snapshot(home)
        # when: the auditor opens it as any ledger, and reads, verifies and tries to write
        command = [sys.executable, "-c", AUDITOR, "sqlite:///copy/ledger.db"]
        if as_root:
            setpriv = shutil.which("setpriv")
            assert setpriv is not None, "as root, this test needs setpriv (util-linux) to run the auditor as nobody"
            command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
        done = subprocess.run(command, cwd=home, capture_output=True, text=True, timeout=60, check=False)
        # then: it read and verified it, and was refused the write
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {
            "read_only": True,
            "ok": True,
            "checked": 4,
            "status": "launched",
            "refused": "ReadOnly",
        }
        # and: nothing changed or was created
        assert snapshot(home) == before
    finally:
        (home / "copy").chmod(0o755)
        shutil.rmtree(home)


def test_create_false_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    # given: create=False on a missing file: the read-only tools' way
    # when / then: no ledger, and no file
    with pytest.raises(NoLedger, match="no ledger at"):
        Ledger.open(f"sqlite:///{tmp_path / 'nothing.db'}", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_new_ledger_file_is_still_created_where_the_directory_exists(tmp_path: Path) -> None:
    # given: an empty file, as a tool might leave it, and the default create=True
    (tmp_path / "new.db").touch()
    # when: opened
    with Ledger.open(f"sqlite:///{tmp_path / 'new.db'}") as ledger:
        campaign_id = plan_campaign(ledger, launch=False)
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    # then: it became a ledger
    with Ledger.open(f"sqlite:///{tmp_path / 'new.db'}", create=False) as reopened:
        assert reopened.get(campaign_id).version == 4
