"""What every view's tables stand on: the one ``MetaData`` they are declared
in, the column type of growing numbers, and the views' bookkeeping tables.

Each view module declares its own tables here; :mod:`.schema` gathers them
all (import it, not this module, to see every table). ``position`` columns
record the log position that created a row and give stable orderings.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Integer, MetaData, String, Table

metadata = MetaData()

Count = BigInteger().with_variant(Integer(), "sqlite")
"""Log positions, versions and counts: numbers that grow with the log or with
reported amounts. BIGINT on PostgreSQL (INTEGER stops at 2**31 - 1); INTEGER
on SQLite, which is already 64-bit there and keeps ``INTEGER PRIMARY KEY``
the rowid. Input bounds (docs/guide.md, "Limits") keep every value far below 2**63."""

tracking = Table(
    "ql_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Count, nullable=False),
)

views_schema = Table(
    "ql_views_schema",
    metadata,
    Column("name", String(64), primary_key=True),  # "views", as in ql_tracking
    Column("version", String(64), nullable=False),  # views_version() of the code that built the views
)

views_migration = Table(
    "ql_views_migration",
    metadata,
    Column("name", String(64), primary_key=True),  # "views": at most one migration at a time
    Column("holder", String(64), nullable=False),  # the migrating process's token
    Column("version", String(64), nullable=False),  # the version being built
    Column("expires_at", Double, nullable=False),  # lease end, Unix seconds; renewed every batch
    Column("position", Count, nullable=False),  # how far the new tables are built
)

BOOKKEEPING = (tracking, views_schema, views_migration)
"""Tracking, version and migration lease are the views' bookkeeping: they are
never migrated, so their shape must never change (add a new table instead)."""
