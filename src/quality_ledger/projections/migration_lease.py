"""One views migration at a time: a lease row (``ql_views_migration``) names
the migrating process by a random token, expires unless renewed, and holds
how far its new tables are built. Every step of a migration renews it in
its own transaction and first checks it is still this process's, so one
that stalled past its lease writes nothing more. SQLite has no advisory
locks, and a lease works the same on both engines."""

from __future__ import annotations

import time
from uuid import uuid4

from sqlalchemy import Connection, delete, select

from quality_ledger.errors import ConcurrencyConflict
from quality_ledger.projections.bookkeeping import NAME, upsert
from quality_ledger.projections.schema import BOOKKEEPING, metadata
from quality_ledger.projections.tables import views_migration

LEASE = 60.0
"""Seconds a migration's lease lasts unless renewed (every batch renews it)."""


class Lease:
    """This process's lease on the views' migration."""

    def __init__(self) -> None:
        self.token = uuid4().hex

    @staticmethod
    def free(connection: Connection) -> bool:
        """No live lease: none, or one that expired (its holder died). The row
        stays locked to this transaction, so :meth:`take` follows safely."""
        metadata.create_all(connection, tables=list(BOOKKEEPING))
        lease = connection.execute(
            select(views_migration).where(views_migration.c.name == NAME).with_for_update()
        ).first()
        return lease is None or lease.expires_at <= time.time()

    def take(self, connection: Connection, version: str) -> None:
        """Hold the lease, to build ``version`` from position 0."""
        upsert(
            connection,
            views_migration,
            name=NAME,
            holder=self.token,
            version=version,
            expires_at=time.time() + LEASE,
            position=0,
        )

    def hold(self, connection: Connection) -> int:
        """Renew the lease in this transaction; the new tables' position.

        Raises if another process took the lease over (this one stalled past
        it): that process rebuilds from zero, and nothing here may write."""
        lease = connection.execute(
            select(views_migration.c.holder, views_migration.c.position)
            .where(views_migration.c.name == NAME)
            .with_for_update()
        ).first()
        if lease is None or lease.holder != self.token:
            msg = "another process took over this views migration (this one stalled past its lease): nothing swapped"
            raise ConcurrencyConflict(msg)
        connection.execute(
            views_migration.update().where(views_migration.c.name == NAME).values(expires_at=time.time() + LEASE)
        )
        return int(lease.position)

    @staticmethod
    def advance(connection: Connection, position: int) -> None:
        """Record that the new tables are built up to ``position``."""
        connection.execute(views_migration.update().where(views_migration.c.name == NAME).values(position=position))

    @staticmethod
    def end(connection: Connection) -> None:
        """The migration is swapped in (in the swap's transaction, after :meth:`hold`)."""
        connection.execute(delete(views_migration).where(views_migration.c.name == NAME))

    def release(self, connection: Connection) -> None:
        """After a failure: give the lease up if it is still this process's."""
        connection.execute(
            delete(views_migration).where(views_migration.c.name == NAME, views_migration.c.holder == self.token)
        )
