"""The pure domain: aggregates, their events and values. No I/O here."""

from quality_ledger.domain.activity import Activity, ActivityState
from quality_ledger.domain.base import AggregateState, DomainEvent, LedgerAggregate
from quality_ledger.domain.campaign import Campaign, CampaignState
from quality_ledger.domain.commendation import Commendation, CommendationState
from quality_ledger.domain.inspection import Inspection, InspectionState
from quality_ledger.renamed import old_names

__all__ = [
    "Activity",
    "ActivityState",
    "AggregateState",
    "Campaign",
    "CampaignState",
    "Commendation",
    "CommendationState",
    "DomainEvent",
    "Inspection",
    "InspectionState",
    "LedgerAggregate",
]


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(
    __name__,
    {
        "ActivityView": "ActivityState",
        "CampaignView": "CampaignState",
        "CommendationView": "CommendationState",
        "InspectionView": "InspectionState",
    },
)
