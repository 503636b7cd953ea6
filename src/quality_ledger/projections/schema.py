"""The views as a whole: every view module's tables, gathered in one order,
and the version they are built at. The documented schema services may query
with plain SQL (see docs/views.md); every table is a pure function of the
event log up to ``ql_tracking.position``.

Importing this module imports every view, so its :data:`metadata` holds every
table and the handler registry (:mod:`.dispatch`) every handler. The views'
version (:func:`views_version`) is recorded beside them: tables made by other
code are migrated, never altered in place (docs/views.md, "Versions and
migrations")."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from quality_ledger.projections import (
    activity_board,
    audit_trail,
    bulletin,
    campaigns,
    commendations,
    inspection_register,
)
from quality_ledger.projections.tables import BOOKKEEPING, metadata

__all__ = ["BOOKKEEPING", "PROJECTION_VERSION", "VIEW_TABLES", "metadata", "views_version"]

VIEW_TABLES = (
    *campaigns.TABLES,
    *activity_board.TABLES,
    *inspection_register.TABLES,
    *bulletin.TABLES,
    *commendations.TABLES,
    *audit_trail.TABLES,
)
"""Every table a rebuild clears and ``verify_views`` compares (not the bookkeeping)."""

PROJECTION_VERSION = 1
"""Bump by hand when the projections write other rows for the same events
(a handler or an audit-trail summary changes) while no table changes shape:
existing views then count as outdated and are migrated. A change of shape
needs no bump: it changes the DDL fingerprint in :func:`views_version`."""


def views_version(dialect: Dialect) -> str:
    """The version of the views this code builds on ``dialect``: the
    projection-logic version and a digest of every view's DDL there (tables
    and indexes, whitespace-normalised), e.g. ``1.3fa2c07d9e41b6a5``.

    Compared for equality only: any difference, including a new SQLAlchemy
    spelling the same DDL another way, means "rebuild", which is always safe.
    """
    statements = sorted(
        [str(CreateTable(table).compile(dialect=dialect)) for table in VIEW_TABLES]
        + [str(CreateIndex(index).compile(dialect=dialect)) for table in VIEW_TABLES for index in table.indexes]
    )
    digest = hashlib.sha256(" ".join(" ".join(statements).split()).encode()).hexdigest()
    return f"{PROJECTION_VERSION}.{digest[:16]}"
