"""Long catch-ups on SQLite without the views' secondary indexes.

A catch-up from zero (a new views database, a rebuild, a scratch replay for
``verify_views``) or over a long gap inserts one audit-trail row per event,
and every secondary index costs each of those rows one more B-tree insert at
a random place: most of what writing the trail costs. Building an index once
at the end, from a sort of the finished table, is far cheaper. So when a
catch-up on SQLite finds more than :data:`BULK_GAP` events still to apply, it
drops :data:`SECONDARY_INDEXES` (each in the views' own transaction, checked
against their version), applies the rest in batches of :data:`BULK_BATCH`,
and creates the indexes again at the end, whether the catch-up ended well or
not (docs/views.md, "Long catch-ups"). Its commits meanwhile checkpoint the
WAL less often (:data:`BULK_CHECKPOINT`); the index build's commit, back at
SQLite's default, copies what is left.

The indexes change no row: a query finds the same rows with or without them,
only more slowly. So each batch still commits its rows with the tracking
position, as always, and a process that dies mid-way leaves correct views
that merely lack indexes: opening the views creates any that are missing
(:func:`restore`), and so does the end of the next long catch-up.

PostgreSQL keeps its indexes: there many processes share the views, and
dropping an index takes a lock that would queue every reader behind it.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Index, text
from sqlalchemy.schema import CreateIndex, DropIndex

from quality_ledger.projections.schema import VIEW_TABLES

BULK_GAP = 20_000
"""Events still to apply, after a first full batch, above which a SQLite
catch-up drops the secondary indexes: below it, building them again would
cost more than the inserts it saves."""

BULK_BATCH = 40_000
"""Events per transaction in a long catch-up (at least the views' own batch
size): fewer commits and fewer statements per event, while a batch holds
the views' write lock for under a second (about 0.8 s here; readers are
not held up, WAL). A view row that several events of a batch change is
written to the WAL once per commit, so larger batches write fewer pages: at
1,000,000 events, 5,000 a batch caught up at 47,400-48,900 events/s, 20,000
at 49,200-50,400 and 40,000 at 50,400-51,300 (alternating runs), with
peak memory 84, 110 and 144 MB (``as_of``'s 220 MB at 1M is its
``campaign_status``, unchanged)."""

BULK_CHECKPOINT = 16_384
"""WAL pages (of 4 KiB: 64 MiB) after which a long catch-up's commit copies
the WAL into the database file, instead of SQLite's default 1,000: each such
checkpoint waits for the disk twice, and a batch of 5,000 events already fills more
than 1,000 pages, so the default checkpoints after every batch and copies the
pages every batch rewrites (the views' B-tree pages) again each time."""

DEFAULT_CHECKPOINT = 1_000
"""SQLite's own ``wal_autocheckpoint``: what every other transaction runs with."""

SECONDARY_INDEXES: tuple[Index, ...] = tuple(
    index for table in VIEW_TABLES for index in sorted(table.indexes, key=lambda i: str(i.name)) if not index.unique
)
"""Every non-unique index of the views (the audit trail's three and each
view's ``campaign_id``): what a long catch-up builds once at the end. Primary
keys stay: the upserts find their rows by them."""


def supported(where: Connection | Engine) -> bool:
    """Long catch-ups drop indexes on SQLite only (see the module's docstring)."""
    return where.dialect.name == "sqlite"


def drop(connection: Connection) -> None:
    """Drop the secondary indexes (those still there)."""
    for index in SECONDARY_INDEXES:
        connection.execute(DropIndex(index, if_exists=True))


def missing(connection: Connection) -> list[Index]:
    """The secondary indexes the views' database lacks."""
    present = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    return [index for index in SECONDARY_INDEXES if index.name not in present]


def restore(connection: Connection) -> int:
    """Create the secondary indexes that are missing; how many it created."""
    absent = missing(connection)
    for index in absent:
        connection.execute(CreateIndex(index))
    return len(absent)


def checkpoint_every(connection: Connection, pages: int) -> None:
    """Set the WAL pages after which this SQLite connection's commits
    checkpoint, unless already set so (remembered in the pooled connection's
    ``info``, which lives as long as the database connection). Asking a
    connection never set (any but a long SQLite catch-up's, PostgreSQL's
    included) for the default does nothing."""
    if connection.info.get("wal_autocheckpoint", DEFAULT_CHECKPOINT) != pages:
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={int(pages)}")
        connection.info["wal_autocheckpoint"] = pages
