"""The tables a blue/green migration builds beside the live views
(``ql_x__next``), and how they take the public names in the swap's
transaction: old tables dropped, new ones renamed, with the keys' and
indexes' names the public tables had. The steps and the lease around them
are :mod:`.migration`'s."""

from __future__ import annotations

from sqlalchemy import Connection, Index, MetaData, Table, func, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from quality_ledger.errors import ProjectionFailed
from quality_ledger.projections.audit_trail import trail
from quality_ledger.projections.schema import VIEW_TABLES

SUFFIX = "__next"
SWAP_LOCK_TIMEOUT_MS = 200
"""PostgreSQL: how long the swap waits for readers' table locks before it
steps back (rolls back, so a reader waiting on it goes on) and tries again.
Shorter than the server's ``deadlock_timeout`` (1 s), so a reader that holds
one view and wants another never meets the deadlock detector."""

_GREEN_METADATA = MetaData()
GREEN: dict[Table, Table] = {
    table: table.to_metadata(_GREEN_METADATA, name=table.name + SUFFIX) for table in VIEW_TABLES
}
"""Each view and the table a migration builds it in. Their copied indexes are
never created: PostgreSQL gets :data:`_GREEN_INDEXES`, SQLite the public
indexes once the tables are renamed (it cannot rename an index)."""
_GREEN_INDEXES: dict[Table, list[Index]] = {
    table: [
        Index(str(index.name) + SUFFIX, *(GREEN[table].c[column.name] for column in index.columns))
        for index in table.indexes
    ]
    for table in VIEW_TABLES
}


def drop_green(connection: Connection) -> None:
    """Drop whatever new tables are there (a migration that died may have left some)."""
    for green in reversed(GREEN.values()):
        connection.execute(DropTable(green, if_exists=True))


def create_green(connection: Connection) -> None:
    """Create the new tables, empty."""
    for table, green in GREEN.items():
        connection.execute(CreateTable(green))
        if _postgres(connection):  # built now and renamed at the swap; SQLite builds them at the swap
            for index in _GREEN_INDEXES[table]:
                connection.execute(CreateIndex(index))


def lock_live(connection: Connection) -> list[Table]:
    """The live views there are, locked against readers on PostgreSQL (for
    :data:`SWAP_LOCK_TIMEOUT_MS` at most: then the swap steps back)."""
    present = set(inspect(connection).get_table_names())
    old = [table for table in VIEW_TABLES if table.name in present]
    if _postgres(connection) and old:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT_MS}ms'")
        connection.exec_driver_sql(
            f"LOCK TABLE {', '.join(_quoted(connection, t.name) for t in old)} IN ACCESS EXCLUSIVE MODE"
        )
        connection.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")
    return old


def check(connection: Connection, applied: int, position: int, live: int | None) -> None:
    """Complete before swapped in: every event applied left its one audit-trail
    row, up to the position reached, which is at least the live views'."""
    green = GREEN[trail]
    rows, top = connection.execute(select(func.count(), func.max(green.c.position))).one()
    problem = None
    if rows != applied or (top or 0) != position:
        problem = f"the new audit trail holds {rows} rows up to {top} for {applied} events up to {position}"
    elif live is not None and position < live:
        problem = f"the new views reached position {position}, behind the live views' {live}"
    if problem is not None:
        msg = f"views migration check failed, the old views are kept: {problem}"
        raise ProjectionFailed(position, "the migration's check", RuntimeError(msg))


def put_in_place(connection: Connection, old: list[Table]) -> None:
    """Drop the ``old`` views and give the new tables their public names."""
    for table in reversed(old):
        connection.execute(DropTable(table))
    for table, green in GREEN.items():
        connection.exec_driver_sql(
            f"ALTER TABLE {_quoted(connection, green.name)} RENAME TO {_quoted(connection, table.name)}"
        )
        if _postgres(connection):
            _rename_indexes(connection, table)
        else:
            for index in table.indexes:
                connection.execute(CreateIndex(index))


def _rename_indexes(connection: Connection, table: Table) -> None:
    """PostgreSQL names a table's key and indexes after the table: give the
    renamed table the names the public one had."""
    name = _quoted(connection, table.name)
    key = connection.execute(
        text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'"),
        {"t": name},
    ).scalar_one()
    connection.exec_driver_sql(
        f"ALTER TABLE {name} RENAME CONSTRAINT {_quoted(connection, key)} TO {_quoted(connection, table.name + '_pkey')}"
    )
    for index in table.indexes:
        connection.exec_driver_sql(
            f"ALTER INDEX {_quoted(connection, str(index.name) + SUFFIX)} RENAME TO {_quoted(connection, str(index.name))}"
        )


def lock_not_available(error: OperationalError) -> bool:
    """PostgreSQL's lock_timeout (SQLSTATE 55P03) or a deadlock (40P01)."""
    return getattr(error.orig, "sqlstate", None) in ("55P03", "40P01")


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)
