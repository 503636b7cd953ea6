"""The read models as SQLAlchemy 2 tables: the documented schema services may
query with plain SQL (see docs/views.md). Every table is a pure function of
the event log up to ``ql_tracking.position``; ``position`` columns record the
log position that created a row and give stable orderings.

The views' version (:func:`views_version`) is recorded beside them: tables
made by other code are migrated, never altered in place (docs/views.md,
"Versions and migrations")."""

from __future__ import annotations

import hashlib

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

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
"""Tracking, version and migration lease are the views' bookkeeping: they are
never migrated, so their shape must never change (add a new table instead)."""

campaigns = Table(
    "ql_campaigns",
    metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("title", Text, nullable=False),
    Column("theme", Text, nullable=False),
    Column("organiser", String(32), nullable=False),
    Column("focus_areas", Text, nullable=False),  # comma-separated, in declared order
    Column("status", String(16), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("launched_on", Date),
    Column("concluded_on", Date),
    Column("summary", Text),
    Column("override_reason", Text),
)

departments = Table(
    "ql_departments",
    metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("position", Count, nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

activities = Table(
    "ql_activities",
    metadata,
    Column("activity_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("lead_department", String(32), nullable=False),
    Column("focus_area", String(40), nullable=False),
    Column("activity_kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("place", Text),
    Column("started_on", Date),
    Column("completed_on", Date),
    Column("outcome", Text),
    Column("reason", Text),
)

targets = Table(
    "ql_targets",
    metadata,
    Column("activity_id", Uuid, primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("target", Count, nullable=False),
    Column("achieved", Count, nullable=False),
)

inspections = Table(
    "ql_inspections",
    metadata,
    Column("inspection_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("activity_id", Uuid),
    Column("inspecting_department", String(32), nullable=False),
    Column("inspection_kind", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("subject_name", Text, nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("product_category", Text, nullable=False),
    Column("planned_on", Date, nullable=False),
    Column("status", String(24), nullable=False),
    Column("verdict", String(16)),
    Column("notified_on", Date),
    Column("rectification_ordered_on", Date),
    Column("rectification_due_on", Date),
    Column("rectification_verified_on", Date),
    Column("rectification_passed", Boolean),
    Column("penalty_amount", Numeric(16, 2)),
    Column("transferred_to", Text),
    Column("closed_on", Date),
)

samples = Table(
    "ql_samples",
    metadata,
    Column("inspection_id", Uuid, primary_key=True),
    Column("sample_id", String(200), primary_key=True),
    Column("position", Count, nullable=False),
    Column("product", Text, nullable=False),
    Column("batch", Text, nullable=False),
    Column("taken_on", Date, nullable=False),
    Column("passed", Boolean),  # NULL until tested; the re-test result replaces the original
    Column("nonconforming_items", Text),  # "; "-separated
    Column("retested", Boolean, nullable=False),
    Column("objected_on", Date),
)

bulletins = Table(
    "ql_bulletins",
    metadata,
    Column("bulletin_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("published_on", Date, nullable=False),
)

bulletin_items = Table(
    "ql_bulletin_items",
    metadata,
    Column("bulletin_id", Uuid, primary_key=True),
    Column("inspection_id", Uuid, primary_key=True),
)

commendations = Table(
    "ql_commendations",
    metadata,
    Column("commendation_id", Uuid, primary_key=True),
    Column("position", Count, nullable=False),
    Column("campaign_id", Uuid, nullable=False, index=True),
    Column("person", Text, nullable=False),
    Column("employer", Text, nullable=False),
    Column("nominated_by", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("review_reason", Text),
    Column("ceremony_id", Uuid),
    Column("conferred_on", Date),
    Column("publicity", Count, nullable=False),
)

audit_trail = Table(
    "ql_audit_trail",
    metadata,
    Column("position", Count, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(), nullable=False),  # UTC, no zone: the same on every server's TimeZone
    Column("occurred_on", Date),
    Column("actor", Text),  # the user name ("user" is reserved in PostgreSQL)
    Column("department", String(32)),
    Column("command", String(64)),
    Column("command_id", Uuid),
    Column("correlation_id", Uuid),
    Column("aggregate_id", Uuid, nullable=False),
    Column("aggregate_kind", String(32), nullable=False),
    Column("version", Count, nullable=False),
    Column("event", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Index("ix_ql_audit_trail_aggregate", "aggregate_id", "version"),
    Index("ix_ql_audit_trail_actor", "actor"),
    Index("ix_ql_audit_trail_department", "department"),
    Index("ix_ql_audit_trail_recorded_at", "recorded_at"),
)

VIEW_TABLES = (
    campaigns,
    departments,
    activities,
    targets,
    inspections,
    samples,
    bulletins,
    bulletin_items,
    commendations,
    audit_trail,
)
"""Every table a rebuild clears and ``verify_views`` compares (not tracking)."""

BOOKKEEPING = (tracking, views_schema, views_migration)

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
