"""Read models: SQL views fed from the event log with exactly-once tracking
(``runner``), one module per view holding its tables, its event handlers and
its query (``campaigns``, ``activity_board``, ``inspection_register``,
``bulletin``, ``commendations``, ``audit_trail``; the queries ``scorecard``
and ``campaign_status`` read other views' tables), versioned and migrated
blue/green (``migration``)."""

from quality_ledger.projections.activity_board import ActivityRow, TargetLine
from quality_ledger.projections.audit_trail import AuditEntry, AuditPage
from quality_ledger.projections.bulletin import BulletinLine
from quality_ledger.projections.campaigns import CampaignLine
from quality_ledger.projections.comparison import ViewsReport
from quality_ledger.projections.engine import views_engine
from quality_ledger.projections.inspection_register import InspectionRow
from quality_ledger.projections.migration import MigrationReport
from quality_ledger.projections.runner import Views
from quality_ledger.projections.scorecard import ScorecardLine

__all__ = [
    "ActivityRow",
    "AuditEntry",
    "AuditPage",
    "BulletinLine",
    "CampaignLine",
    "InspectionRow",
    "MigrationReport",
    "ScorecardLine",
    "TargetLine",
    "Views",
    "ViewsReport",
    "views_engine",
]
