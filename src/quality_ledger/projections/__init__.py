"""Read models: SQL views fed from the event log with exactly-once tracking."""

from quality_ledger.projections import queries
from quality_ledger.projections.runner import Views, ViewsReport, views_engine

__all__ = ["Views", "ViewsReport", "queries", "views_engine"]
