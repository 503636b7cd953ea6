"""The pure domain: aggregates, their events and values. No I/O here."""

from quality_ledger.domain.activity import Activity, ActivityView
from quality_ledger.domain.base import AggregateState, DomainEvent, LedgerAggregate
from quality_ledger.domain.campaign import Campaign, CampaignView
from quality_ledger.domain.commendation import Commendation, CommendationView
from quality_ledger.domain.inspection import Inspection, InspectionView

__all__ = [
    "Activity",
    "ActivityView",
    "AggregateState",
    "Campaign",
    "CampaignView",
    "Commendation",
    "CommendationView",
    "DomainEvent",
    "Inspection",
    "InspectionView",
    "LedgerAggregate",
]
