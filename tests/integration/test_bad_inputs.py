"""Bad inputs at every public entry point: one typed error, one line, nothing touched.

Each row is something a user or a service can get wrong (a mistyped URL, a
path that is not a ledger, an argument out of range) or a store in a state
the ledger must refuse or name (damaged, another application's database, a
server that is not there). For each: the error class, a message on one line
naming the cause, the CLI's exit code for CLI rows, and the directory the
test works in (also the working directory, so a stray relative file would
show) byte for byte as it was before.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.cli import main
from quality_ledger.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidCommand,
    LedgerError,
    NoLedger,
    NotFound,
    ReadOnly,
    StoreUnavailable,
)
from quality_ledger.testing.plugin import postgres_schema
from tests.conftest import ORGANISER, plan_campaign, postgres_connect, with_query

HUGE = 2**63
"""One past the largest integer either store keeps."""


@dataclass
class Place:
    """The directory a row works in, holding a ledger and things that are not ledgers."""

    root: Path
    campaign_id: UUID
    request: pytest.FixtureRequest

    def url(self, name: str, query: str = "") -> str:
        return f"sqlite:///{name}" + (f"?{query}" if query else "")

    def postgres(self) -> str:
        """The test server's URL (the row runs, or fails under CI, as the suite's PostgreSQL tests do)."""
        url: str = self.request.getfixturevalue("postgres_server")
        return url


def damage(path: Path) -> None:
    """Overwrite the first bytes of the event log's root page: SQLite then
    reports ``database disk image is malformed`` on reading the log."""
    with sqlite3.connect(path) as connection:
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'stored_events'").fetchone()
        (size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    with path.open("r+b") as stream:
        stream.seek((root - 1) * size)
        stream.write(b"\xff" * 64)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UUID]:
    """Built once: a ledger with a launched campaign (views caught up), and its neighbours."""
    root = tmp_path_factory.mktemp("bad-inputs")
    with Ledger.open(f"sqlite:///{root / 'ledger.db'}") as ledger:
        campaign_id = plan_campaign(ledger)
        ledger.campaigns()
    shutil.copy(root / "ledger.db", root / "damaged.db")
    damage(root / "damaged.db")
    with sqlite3.connect(root / "other.db") as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    connection.close()
    (root / "empty.db").touch()
    (root / "notes.txt").write_text("not a database, and long enough to have a header " * 4)
    (root / "afile").write_text("a regular file")
    (root / "sub").mkdir()
    return root, campaign_id


@pytest.fixture
def place(
    template: tuple[Path, UUID], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Place:
    root = tmp_path / "place"
    shutil.copytree(template[0], root)
    monkeypatch.chdir(root)
    return Place(root, template[1], request)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every directory (None) and file (its bytes) under ``root``."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


@dataclass(frozen=True)
class Row:
    name: str
    act: Callable[[Place], object]
    error: type[LedgerError]
    cause: str
    """A phrase the message must hold (case-insensitive): the cause, named."""

    def __str__(self) -> str:
        return self.name


def read(call: Callable[[Ledger, Place], object], file: str = "ledger.db") -> Callable[[Place], object]:
    """A row that opens a ledger in the place (read-only tools' way) and calls the read API."""

    def act(place: Place) -> object:
        with Ledger.open(place.url(file), create=False) as ledger:
            return call(ledger, place)

    return act


def opening(url: str, **kwargs: Any) -> Callable[[Place], object]:
    return lambda _place: Ledger.open(url, **kwargs).close()


def _postgres_with(place: Place, netloc: str | None = None, **query: str) -> str:
    parts = urlsplit(place.postgres())
    url = parts._replace(netloc=netloc or parts.netloc).geturl()
    return with_query(url, **query) if query else url


def _wrong_password(place: Place) -> object:
    parts = urlsplit(place.postgres())
    user = parts.username or "postgres"
    netloc = f"{user}:not-the-password@{parts.hostname}:{parts.port or 5432}"
    return Ledger.open(_postgres_with(place, netloc, connect_timeout="3")).close()


def _missing_schema(place: Place) -> object:
    return Ledger.open(with_query(place.postgres(), schema=f"nowhere_{uuid4().hex[:8]}")).close()


def _foreign_schema(place: Place, **kwargs: Any) -> object:
    with postgres_schema(place.postgres()) as url:
        with postgres_connect(url) as connection:
            connection.execute("CREATE TABLE invoices (id integer PRIMARY KEY)")
        Ledger.open(url, **kwargs).close()
    return None


def _empty_schema_without_create(place: Place) -> object:
    with postgres_schema(place.postgres()) as url:
        Ledger.open(url, create=False).close()
    return None


def _execute_read_only(place: Place) -> object:
    with Ledger.open(place.url("ledger.db", "mode=ro")) as ledger:
        assert ledger.read_only
        return ledger.execute(
            c.EnlistDepartment(campaign_id=place.campaign_id, code="XA-EDU", name_zh="市教育局", name_en="Education"),
            ORGANISER,
        )


def _launch_twice(ledger: Ledger, place: Place) -> object:
    """Not a bad argument but a refused command: typed, and nothing written."""
    return ledger.execute(c.LaunchCampaign(campaign_id=place.campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)


API_ROWS = [
    # Ledger.open: URLs and paths
    Row("sqlite two slashes", opening("sqlite://x.db"), ConfigurationError, "two slashes"),
    Row("NUL byte in the path", opening("sqlite:///led\x00ger.db"), ConfigurationError, "NUL byte"),
    Row("path under a regular file", opening("sqlite:///afile/ledger.db"), ConfigurationError, "afile is a file"),
    Row("a directory", opening("sqlite:///sub"), ConfigurationError, "is a directory"),
    Row("not a SQLite file", opening("sqlite:///notes.txt"), ConfigurationError, "file is not a database"),
    Row("missing directory", opening("sqlite:///nowhere/ledger.db"), NoLedger, "directory nowhere does not exist"),
    Row(
        "missing file, create=False", opening("sqlite:///missing.db", create=False), NoLedger, "no ledger at missing.db"
    ),
    Row("empty file, create=False", opening("sqlite:///empty.db", create=False), NoLedger, "file is empty"),
    Row("another application's database", opening("sqlite:///other.db"), ConfigurationError, "customers, orders"),
    Row(
        "another application's database, create=False",
        opening("sqlite:///other.db", create=False),
        ConfigurationError,
        "holds other tables",
    ),
    Row("read-only of a missing file", opening("sqlite:///missing.db?mode=ro"), NoLedger, "no ledger at missing.db"),
    Row("unknown SQLite parameter", opening("sqlite:///ledger.db?journal=off"), ConfigurationError, "journal='off'"),
    Row("SQLite mode other than ro", opening("sqlite:///ledger.db?mode=rwc"), ConfigurationError, "mode='rwc'"),
    Row(
        "SQLite lock_timeout not a number",
        opening("sqlite:///ledger.db?lock_timeout=soon"),
        ConfigurationError,
        "lock_timeout",
    ),
    Row("unsupported scheme", opening("mysql://db/ledger"), ConfigurationError, "unsupported ledger URL"),
    Row(
        "a URL that is not a string", lambda p: Ledger.open(p.root / "ledger.db").close(), ConfigurationError, "string"
    ),  # type: ignore[arg-type]
    Row(
        "PostgreSQL port out of range",
        opening("postgresql://u:pw@localhost:99999/db"),
        ConfigurationError,
        "port out of range",
    ),
    Row(
        "PostgreSQL port not a number",
        opening("postgresql://u:pw@localhost:fivefour/db"),
        ConfigurationError,
        "port could not be cast",
    ),
    Row("PostgreSQL unclosed IPv6 literal", opening("postgresql://u:pw@[::1/db"), ConfigurationError, "invalid ipv6"),
    Row(
        "PostgreSQL bad IPv6 literal",
        opening("postgresql://u:pw@[fe80::zz]:5432/db"),
        ConfigurationError,
        "ipv6 address",
    ),
    Row(
        "PostgreSQL unknown parameter",
        opening("postgresql://u:pw@localhost/db?sslmode=off"),
        ConfigurationError,
        "sslmode",
    ),
    Row(
        "PostgreSQL refused",
        opening("postgresql://u:pw@127.0.0.1:1/db?connect_timeout=2"),
        StoreUnavailable,
        "127.0.0.1:1",
    ),
    Row(
        "PostgreSQL unknown host",
        opening("postgresql://u:pw@no-such-host.invalid/db?connect_timeout=2"),
        StoreUnavailable,
        "no-such-host.invalid",
    ),
    Row("PostgreSQL wrong password", _wrong_password, ConfigurationError, "password authentication failed"),
    Row("PostgreSQL schema that does not exist", _missing_schema, NoLedger, "does not exist"),
    Row("PostgreSQL schema of another application", _foreign_schema, ConfigurationError, "invoices"),
    Row("PostgreSQL empty schema, create=False", _empty_schema_without_create, NoLedger, "no ledger at"),
    # A damaged or read-only store
    Row("damaged file, verify", read(lambda x, _: x.verify(), "damaged.db"), IntegrityError, "malformed"),
    Row("damaged file, events", read(lambda x, _: list(x.events()), "damaged.db"), IntegrityError, "damaged.db"),
    Row("execute on a read-only copy", _execute_read_only, ReadOnly, "read-only"),
    Row("a command the rules refuse", read(_launch_twice), LedgerError, "launched"),
    # The read API: arguments out of range or of the wrong kind
    Row("audit_trail limit=0", read(lambda x, _: x.audit_trail(limit=0)), InvalidCommand, "limit must be"),
    Row("audit_trail limit=-1", read(lambda x, _: x.audit_trail(limit=-1)), InvalidCommand, "from 1 to 10000"),
    Row("audit_trail limit too large", read(lambda x, _: x.audit_trail(limit=10**9)), InvalidCommand, "limit"),
    Row("audit_trail after=-1", read(lambda x, _: x.audit_trail(after=-1)), InvalidCommand, "after must be"),
    Row("audit_trail after=2**63", read(lambda x, _: x.audit_trail(after=HUGE)), InvalidCommand, "after"),
    Row("audit_trail since as text", read(lambda x, _: x.audit_trail(since="yesterday")), InvalidCommand, "since"),  # type: ignore[arg-type]
    Row("audit_trail limit=True", read(lambda x, _: x.audit_trail(limit=True)), InvalidCommand, "limit"),
    Row("get version=-1", read(lambda x, p: x.get(p.campaign_id, version=-1)), InvalidCommand, "version must be"),
    Row("get version=2**63", read(lambda x, p: x.get(p.campaign_id, version=HUGE)), InvalidCommand, "version"),
    Row("get version 99", read(lambda x, p: x.get(p.campaign_id, version=99)), NotFound, "no version 99"),
    Row("get a non-UUID id", read(lambda x, _: x.get("campaign-1")), InvalidCommand, "aggregate_id must be a UUID"),  # type: ignore[arg-type]
    Row("get an int id", read(lambda x, _: x.get(HUGE)), InvalidCommand, "aggregate_id"),  # type: ignore[arg-type]
    Row("get an unknown id", read(lambda x, _: x.get(uuid4())), NotFound, "no aggregate"),
    Row("history of a non-UUID", read(lambda x, _: x.history("x")), InvalidCommand, "aggregate_id"),  # type: ignore[arg-type]
    Row("as_of position=-1", read(lambda x, _: x.as_of(position=-1)), InvalidCommand, "position must be"),
    Row("as_of position=2**63", read(lambda x, _: x.as_of(position=HUGE)), InvalidCommand, "position"),
    Row("as_of a date as text", read(lambda x, _: x.as_of("2017-09-15")), InvalidCommand, "instant"),  # type: ignore[arg-type]
    Row("replay_certificate(-5)", read(lambda x, _: x.replay_certificate(-5)), InvalidCommand, "position"),
    Row("events start=0", read(lambda x, _: x.events(start=0)), InvalidCommand, "start must be"),
    Row("events page=0", read(lambda x, _: x.events(page=0)), InvalidCommand, "page must be"),
    Row("campaign_status of a non-UUID", read(lambda x, _: x.campaign_status("c-1")), InvalidCommand, "campaign_id"),  # type: ignore[arg-type]
    Row(
        "inspection_register as_of text",
        read(lambda x, p: x.inspection_register(p.campaign_id, "today")),
        InvalidCommand,
        "as_of",
    ),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("row", API_ROWS, ids=str)
def test_a_bad_input_to_the_api_is_one_typed_line_and_touches_nothing(place: Place, row: Row) -> None:
    # given: the place as it is
    before = snapshot(place.root)
    # when
    with pytest.raises(LedgerError) as raised:
        row.act(place)
    # then: the error named, on one line, naming the cause
    error = raised.value
    message = str(error)
    assert isinstance(error, row.error), f"{type(error).__name__}: {message}"
    assert message
    assert "\n" not in message
    assert row.cause.lower() in message.lower(), message
    # and: nothing created, removed or changed
    assert snapshot(place.root) == before


@dataclass(frozen=True)
class CliRow:
    name: str
    argv: Callable[[Place], list[str]]
    error: str
    exit_code: int
    cause: str

    def __str__(self) -> str:
        return self.name


CLI_ROWS = [
    CliRow(
        "status of a missing file", lambda p: ["--url", "sqlite:///missing.db", "status"], "NoLedger", 2, "missing.db"
    ),
    CliRow(
        "status in a missing directory",
        lambda p: ["--url", "sqlite:///no/x.db", "status"],
        "NoLedger",
        2,
        "does not exist",
    ),
    CliRow(
        "history in an empty file",
        lambda p: ["--url", "sqlite:///empty.db", "history", str(uuid4())],
        "NoLedger",
        2,
        "empty",
    ),
    CliRow(
        "audit trail of another database",
        lambda p: ["--url", "sqlite:///other.db", "audit", "trail"],
        "ConfigurationError",
        2,
        "customers",
    ),
    CliRow(
        "views verify of a directory",
        lambda p: ["--url", "sqlite:///sub", "views", "verify"],
        "ConfigurationError",
        2,
        "directory",
    ),
    CliRow(
        "audit verify of a damaged file",
        lambda p: ["--url", "sqlite:///damaged.db", "audit", "verify"],
        "IntegrityError",
        1,
        "malformed",
    ),
    CliRow(
        "sqlite two slashes", lambda p: ["--url", "sqlite://x.db", "status"], "ConfigurationError", 2, "two slashes"
    ),
    CliRow(
        "PostgreSQL refused",
        lambda p: ["--url", "postgresql://u:pw@127.0.0.1:1/db?connect_timeout=2", "status"],
        "StoreUnavailable",
        3,
        "refused",
    ),
    CliRow(
        "history of an unknown id",
        lambda p: ["--url", "sqlite:///ledger.db", "history", str(uuid4())],
        "NotFound",
        2,
        "no aggregate",
    ),
]


@pytest.mark.parametrize("row", CLI_ROWS, ids=str)
def test_a_bad_input_to_the_cli_is_one_line_an_exit_code_and_touches_nothing(
    place: Place, row: CliRow, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: the place as it is
    before = snapshot(place.root)
    # when
    code = main(row.argv(place))
    # then: one line on stderr, naming the error and its cause, and the documented exit code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith(f"quality-ledger: {row.error}: "), err
    assert row.cause.lower() in err.lower(), err
    assert code == row.exit_code
    # and: nothing created, removed or changed
    assert snapshot(place.root) == before


def test_the_table_covers_at_least_thirty_bad_inputs() -> None:
    assert len(API_ROWS) + len(CLI_ROWS) >= 30


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a server that hangs."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield listener.getsockname()[1]
    listener.close()


def test_a_server_that_never_answers_is_given_up_on_after_connect_timeout(silent_server: int) -> None:
    import time

    # given: a server that accepts and then says nothing, and a 2 s connect timeout
    url = f"postgresql://u:pw@127.0.0.1:{silent_server}/db?connect_timeout=2"
    started = time.monotonic()
    # when / then: the open gives up within about that long, naming where and why
    with pytest.raises(StoreUnavailable, match=rf"127\.0\.0\.1:{silent_server}.*timeout"):
        Ledger.open(url)
    assert time.monotonic() - started < 4.5
