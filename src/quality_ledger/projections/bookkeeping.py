"""The views' bookkeeping rows (:data:`~quality_ledger.projections.tables.BOOKKEEPING`):
what a database holds of the views (their version, the tracking position, a
migration's lease), and creating them at a version. Opening the views reads
them to choose between creating, serving and migrating; a migration writes
them."""

from __future__ import annotations

import time
from typing import Literal, NamedTuple

from sqlalchemy import Connection, Table, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from quality_ledger.projections.schema import VIEW_TABLES, metadata
from quality_ledger.projections.tables import tracking, views_migration, views_schema

NAME = "views"
"""The views' row in each bookkeeping table."""

Outdated = Literal["migrate", "refuse", "defer"]
"""What opening does with outdated views: migrate them, refuse to open, or
open without serving them until :meth:`Views.migrate`."""

_SERIALISE = 0x71_6C_76_69_65_77_73
"""PostgreSQL advisory lock key ("qlviews") held while a transaction creates
views, so that processes opening a new database at once do not race to create
the same tables."""

_VIEW_NAMES = frozenset(table.name for table in VIEW_TABLES)


class ViewsState(NamedTuple):
    """What a database holds of the views, read in one transaction."""

    stored: str | None
    present: frozenset[str]
    position: int | None
    lease: bool
    """A live migration lease: another process is migrating now."""

    @property
    def fresh(self) -> bool:
        """No views at all yet: create them, nothing to migrate."""
        return self.stored is None and not self.present & _VIEW_NAMES and not self.position

    def current(self, version: str) -> bool:
        return self.stored == version and self.present >= _VIEW_NAMES

    def describe(self, version: str) -> str:
        missing = sorted(_VIEW_NAMES - self.present)
        if self.stored == version and missing:
            return f"the views lack {', '.join(missing)}"
        built = "no recorded version (quality_ledger 0.1)" if self.stored is None else f"version {self.stored}"
        return f"the views have {built}, this code builds {version}"


def read_state(connection: Connection) -> ViewsState:
    names = frozenset(inspect(connection).get_table_names())
    stored = position = None
    if views_schema.name in names:
        stored = connection.execute(select(views_schema.c.version).where(views_schema.c.name == NAME)).scalar()
    if tracking.name in names:
        position = connection.execute(select(tracking.c.position).where(tracking.c.name == NAME)).scalar()
    lease = False
    if views_migration.name in names:
        expires = connection.execute(
            select(views_migration.c.expires_at).where(views_migration.c.name == NAME)
        ).scalar()
        lease = expires is not None and expires > time.time()
    return ViewsState(stored, names, position, lease)


def serialise(connection: Connection) -> None:
    """Make this transaction the only one creating views now (PostgreSQL; a
    SQLite write transaction already is)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_SERIALISE)))


def create(connection: Connection, version: str) -> None:
    """Create every view, empty, at ``version`` (a new database)."""
    metadata.create_all(connection)
    upsert(connection, tracking, name=NAME, position=0)
    upsert(connection, views_schema, name=NAME, version=version)


def upsert(connection: Connection, table: Table, **values: object) -> None:
    """Write the row ``values`` names (by its ``name``), whether or not it is there yet."""
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table).values(**values)
    others = {k: v for k, v in values.items() if k != "name"}
    connection.execute(insert.on_conflict_do_update(index_elements=["name"], set_=others))
