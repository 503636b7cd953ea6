"""pytest plugin (entry point ``pytest11``): ledger fixtures for any test suite.

Installed with quality_ledger, so a service's tests can ask for ``ledger``
(in memory), ``sqlite_ledger`` (a file in the test's temporary directory) or
``postgres_ledger`` (a fresh schema in the database named by
``QUALITY_LEDGER_TEST_POSTGRES_URL``; skipped when unset) without writing a
conftest. A fixture of the same name in a conftest takes precedence.

pytest imports this module in every run of every project where quality_ledger
is installed: it needs neither hypothesis nor a database driver until a
fixture asks for them, so a service without its test extras still runs pytest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit
from uuid import uuid4

import pytest

if TYPE_CHECKING:
    from quality_ledger.ledger import Ledger

POSTGRES_URL_VARIABLE = "QUALITY_LEDGER_TEST_POSTGRES_URL"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register quality_ledger's hypothesis profiles, when hypothesis is installed.

    ``tryfirst``: hypothesis's own plugin loads ``--hypothesis-profile`` in its
    ``pytest_configure``, and pytest calls that hook in reverse registration
    order, which for entry-point plugins follows the installation's directory
    listing. Without ``tryfirst``, ``--hypothesis-profile=quality-ledger-ci``
    fails with "not registered" wherever hypothesis happens to register later.
    """
    try:
        from quality_ledger.testing import profiles
    except ImportError:  # hypothesis missing: the fixtures still work
        return
    profiles.register()


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    """An empty in-memory ledger, closed after the test."""
    from quality_ledger.ledger import Ledger

    with Ledger.open("memory://") as opened:
        yield opened


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An empty ledger on a SQLite file in the test's temporary directory."""
    from quality_ledger.ledger import Ledger

    with Ledger.open(f"sqlite:///{tmp_path}/ledger.db") as opened:
        yield opened


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A ledger URL on the server at ``server_url``, in a schema of its own:
    created empty on entry, dropped (with everything in it) on exit."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(server_url)
    server = parts._replace(query="").geturl()
    schema = f"quality_ledger_test_{uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {0}").format(sql.Identifier(schema)))
    try:
        query = urlencode({**dict(parse_qsl(parts.query)), "schema": schema})
        yield parts._replace(query=query).geturl()
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute("SET lock_timeout = '60s'")  # behind a slow test's last connections
            connection.execute(sql.SQL("DROP SCHEMA {0} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def postgres_ledger() -> Iterator[Ledger]:
    """A ledger on the PostgreSQL server at ``$QUALITY_LEDGER_TEST_POSTGRES_URL``, in
    a schema of its own, created empty before the test and dropped after: tests
    never see each other's events, views or notification ids. Skipped when unset."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: give it a PostgreSQL database where tests may create schemas")
    from quality_ledger.ledger import Ledger

    with postgres_schema(url) as schema_url, Ledger.open(schema_url) as opened:
        yield opened
