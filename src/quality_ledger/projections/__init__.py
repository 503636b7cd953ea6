"""Read models: SQL views fed from the event log with exactly-once tracking,
versioned and migrated blue/green (``migration``)."""

from quality_ledger.projections import queries
from quality_ledger.projections.migration import MigrationReport
from quality_ledger.projections.runner import Views, ViewsReport, views_engine

__all__ = ["MigrationReport", "Views", "ViewsReport", "queries", "views_engine"]
