"""Ledgers whose hash chain is format 1, as every ledger written before format 2
was: what the tests need to show that such a log still verifies, and that
tampering with it is still caught. The format is what ``ql_chain_format``
says; a database holding it with 1 before the ledger is created gets a
format-1 chain (the ledger only writes the current format into a table it
creates), opened with ``adopt=True`` since it already holds a table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import postgres_connect

FORMAT_TABLE = "CREATE TABLE ql_chain_format (format INTEGER NOT NULL)"


def prepare_sqlite(path: Path, chain_format: int) -> str:
    """The URL of a new SQLite ledger at ``path`` whose chain will be ``chain_format``."""
    if chain_format != 2:
        with sqlite3.connect(path) as db:
            db.execute(FORMAT_TABLE)
            db.execute("INSERT INTO ql_chain_format VALUES (?)", (chain_format,))
        db.close()
    return f"sqlite:///{path}"


def prepare_postgres(url: str, chain_format: int) -> None:
    """Make the empty schema at ``url`` give its ledger a ``chain_format`` chain."""
    if chain_format != 2:
        with postgres_connect(url) as connection:
            connection.execute(FORMAT_TABLE)
            connection.execute("INSERT INTO ql_chain_format VALUES (%s)", (chain_format,))
