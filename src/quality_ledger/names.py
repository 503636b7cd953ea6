"""Stable names: what every stored class is stored as, whatever module holds it.

eventsourcing stores a class by its topic, ``module:qualname`` by default, so
moving or renaming a module would orphan every stored event of its classes.
Here each stored class (events, aggregates, whose topic travels inside
creation events and snapshots, and the snapshot class) gets a name that
depends on nothing but this table. A name, once released, is a contract:
never reuse or drop one (``tests/integration/test_stable_names.py`` holds the list
released so far). To move a class, move it and leave its name here.

Logs written before stable names (0.1.0) hold module-path topics; each
stays resolvable through :data:`LEGACY_TOPICS`, registered with
eventsourcing's ``register_topic`` so that replays, creation events and
snapshots all find the class wherever it now lives.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic

from quality_ledger.command_records import CommandRecord
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import Snapshot
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection
from quality_ledger.erasures import Erasure

PREFIX = "quality-ledger/"
"""Marks a stored name as a name, not a module path."""

STORED: dict[str, type] = {
    f"{PREFIX}{name}": cls
    for name, cls in {
        "Activity": Activity,
        "Activity.Planned": Activity.Planned,
        "Activity.Scheduled": Activity.Scheduled,
        "Activity.Postponed": Activity.Postponed,
        "Activity.Started": Activity.Started,
        "Activity.ProgressReported": Activity.ProgressReported,
        "Activity.Completed": Activity.Completed,
        "Activity.Cancelled": Activity.Cancelled,
        "Campaign": Campaign,
        "Campaign.Planned": Campaign.Planned,
        "Campaign.DepartmentEnlisted": Campaign.DepartmentEnlisted,
        "Campaign.Launched": Campaign.Launched,
        "Campaign.ActivityAdded": Campaign.ActivityAdded,
        "Campaign.InspectionAdded": Campaign.InspectionAdded,
        "Campaign.CommendationAdded": Campaign.CommendationAdded,
        "Campaign.BulletinPublished": Campaign.BulletinPublished,
        "Campaign.Concluded": Campaign.Concluded,
        "Commendation": Commendation,
        "Commendation.Nominated": Commendation.Nominated,
        "Commendation.Approved": Commendation.Approved,
        "Commendation.Rejected": Commendation.Rejected,
        "Commendation.Conferred": Commendation.Conferred,
        "Commendation.Publicised": Commendation.Publicised,
        "Inspection": Inspection,
        "Inspection.Planned": Inspection.Planned,
        "Inspection.SampleTaken": Inspection.SampleTaken,
        "Inspection.SampleResultRecorded": Inspection.SampleResultRecorded,
        "Inspection.VerdictIssued": Inspection.VerdictIssued,
        "Inspection.ResultObjected": Inspection.ResultObjected,
        "Inspection.RetestResultRecorded": Inspection.RetestResultRecorded,
        "Inspection.RectificationOrdered": Inspection.RectificationOrdered,
        "Inspection.RectificationVerified": Inspection.RectificationVerified,
        "Inspection.PenaltyImposed": Inspection.PenaltyImposed,
        "Inspection.CaseTransferred": Inspection.CaseTransferred,
        "Inspection.Closed": Inspection.Closed,
        "CommandRecord": CommandRecord,
        "CommandRecord.Accepted": CommandRecord.Accepted,
        "Erasure": Erasure,
        "Erasure.SubjectForgotten": Erasure.SubjectForgotten,
        "Snapshot": Snapshot,
    }.items()
}
"""Stable name -> class, for every class whose topic is ever stored."""

_MODULES_IN_0_1 = {
    Activity: "quality_ledger.domain.activity",
    Campaign: "quality_ledger.domain.campaign",
    Commendation: "quality_ledger.domain.commendation",
    Inspection: "quality_ledger.domain.inspection",
    CommandRecord: "quality_ledger.receipts",
}


def _legacy_topics() -> dict[str, type]:
    """The module-path topic each class was stored under in 0.1.0."""
    topics: dict[str, type] = {"quality_ledger.domain.base:Snapshot": Snapshot}
    for name, cls in STORED.items():
        short = name.removeprefix(PREFIX)
        root = short.split(".")[0]
        for aggregate, module in _MODULES_IN_0_1.items():
            if aggregate.__name__ == root:
                topics[f"{module}:{short}"] = cls
    return topics


LEGACY_TOPICS: dict[str, type] = _legacy_topics()
"""Topics written by 0.1.0 (module paths), each resolving to its class wherever it moved."""


def install() -> None:
    """Make eventsourcing store each class under its stable name and resolve
    every stable name and every legacy topic. Idempotent."""
    for name, cls in STORED.items():
        cls.TOPIC = name  # type: ignore[attr-defined]  # eventsourcing's own hook (construct_topic)
        register_topic(name, cls)
    for topic, cls in LEGACY_TOPICS.items():
        register_topic(topic, cls)


def name_of(cls: type) -> str | None:
    """The stable name ``cls`` is stored under, or None if it has none of its own."""
    name = cls.__dict__.get("TOPIC")
    return name if isinstance(name, str) and STORED.get(name) is cls else None


install()
