"""Commands: one pydantic model per business intention, named imperatively.

Build them in code, or from JSON with :func:`parse`. Invalid input raises
:class:`~quality_ledger.errors.InvalidCommand` (pydantic's detail kept in
``.errors``), never a bare pydantic error, so callers catch one hierarchy.
Ids of new aggregates come from natural keys (``uuid5``), so the same
campaign, activity or inspection gets the same id in every process.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import Field

from quality_ledger.domain.values import (
    ActivityKind,
    DepartmentCode,
    FocusArea,
    Metric,
    SubjectKind,
    Text,
    Validated,
)
from quality_ledger.errors import InvalidCommand

NAMESPACE = UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8")
"""Root of every natural-key id this library derives."""

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=200)]


def natural_key(text: str) -> str:
    """Normalise a name so width, case and spacing variants are one key."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class Command(Validated):
    """Base of all commands; ``business_date`` names the business date field."""

    business_date: ClassVar[str | None] = None

    idempotency_key: IdempotencyKey | None = None

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def occurred_on(self) -> date | None:
        return getattr(self, self.business_date) if self.business_date else None

    def fingerprint(self) -> str:
        """Identifies what the command asks, whatever its idempotency key."""
        body = self.model_dump_json(exclude={"idempotency_key"})
        return hashlib.sha256(body.encode()).hexdigest()


# Campaign ---------------------------------------------------------------------


class PlanCampaign(Command):
    command: Literal["PlanCampaign"] = "PlanCampaign"
    business_date = "starts_on"
    title: Text
    theme: Text
    purpose: str = ""
    organiser: DepartmentCode
    partners: tuple[Text, ...] = ()
    starts_on: date
    ends_on: date
    focus_areas: tuple[FocusArea, ...] = tuple(FocusArea)

    def new_id(self) -> UUID:
        return uuid5(NAMESPACE, f"campaign:{self.organiser}:{natural_key(self.title)}")


class EnlistDepartment(Command):
    command: Literal["EnlistDepartment"] = "EnlistDepartment"
    campaign_id: UUID
    code: DepartmentCode
    name_zh: Text
    name_en: Text


class LaunchCampaign(Command):
    command: Literal["LaunchCampaign"] = "LaunchCampaign"
    business_date = "launched_on"
    campaign_id: UUID
    launched_on: date


class ConcludeCampaign(Command):
    command: Literal["ConcludeCampaign"] = "ConcludeCampaign"
    business_date = "concluded_on"
    campaign_id: UUID
    concluded_on: date
    summary: Text
    override_reason: str | None = None


class PublishBulletin(Command):
    command: Literal["PublishBulletin"] = "PublishBulletin"
    business_date = "published_on"
    campaign_id: UUID
    title: Text
    published_on: date
    inspection_ids: tuple[UUID, ...] = Field(min_length=1)

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"bulletin:{natural_key(self.title)}")


# Activity ---------------------------------------------------------------------


class PlanActivity(Command):
    command: Literal["PlanActivity"] = "PlanActivity"
    campaign_id: UUID
    title: Text
    lead_department: DepartmentCode
    focus_area: FocusArea
    activity_kind: ActivityKind = ActivityKind.OTHER
    partners: tuple[Text, ...] = ()
    targets: dict[Metric, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"activity:{natural_key(self.title)}")


class ScheduleActivity(Command):
    command: Literal["ScheduleActivity"] = "ScheduleActivity"
    activity_id: UUID
    starts_on: date
    ends_on: date
    place: Text


class StartActivity(Command):
    command: Literal["StartActivity"] = "StartActivity"
    business_date = "started_on"
    activity_id: UUID
    started_on: date


class ReportProgress(Command):
    command: Literal["ReportProgress"] = "ReportProgress"
    business_date = "reported_on"
    activity_id: UUID
    metric: Metric
    amount: Annotated[int, Field(ge=0)]
    reported_on: date


class CompleteActivity(Command):
    command: Literal["CompleteActivity"] = "CompleteActivity"
    business_date = "completed_on"
    activity_id: UUID
    completed_on: date
    outcome: Text


class PostponeActivity(Command):
    command: Literal["PostponeActivity"] = "PostponeActivity"
    activity_id: UUID
    reason: Text


class CancelActivity(Command):
    command: Literal["CancelActivity"] = "CancelActivity"
    activity_id: UUID
    reason: Text


# Inspection -------------------------------------------------------------------


class PlanInspection(Command):
    command: Literal["PlanInspection"] = "PlanInspection"
    business_date = "planned_on"
    campaign_id: UUID
    activity_id: UUID | None = None
    reference: Text
    inspecting_department: DepartmentCode
    inspection_kind: Text
    subject_name: Text
    subject_kind: SubjectKind = SubjectKind.ENTERPRISE
    product_category: Text
    planned_on: date

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"inspection:{natural_key(self.reference)}")


class TakeSample(Command):
    command: Literal["TakeSample"] = "TakeSample"
    business_date = "taken_on"
    inspection_id: UUID
    sample_id: Text
    product: Text
    batch: Text
    taken_on: date


class RecordSampleResult(Command):
    command: Literal["RecordSampleResult"] = "RecordSampleResult"
    business_date = "tested_on"
    inspection_id: UUID
    sample_id: Text
    passed: bool
    nonconforming_items: tuple[Text, ...] = ()
    tested_on: date


class IssueVerdict(Command):
    command: Literal["IssueVerdict"] = "IssueVerdict"
    business_date = "notified_on"
    inspection_id: UUID
    notified_on: date


class ObjectToResult(Command):
    command: Literal["ObjectToResult"] = "ObjectToResult"
    business_date = "lodged_on"
    inspection_id: UUID
    sample_id: Text
    lodged_on: date


class RecordRetestResult(Command):
    command: Literal["RecordRetestResult"] = "RecordRetestResult"
    business_date = "tested_on"
    inspection_id: UUID
    sample_id: Text
    passed: bool
    nonconforming_items: tuple[Text, ...] = ()
    tested_on: date


class OrderRectification(Command):
    command: Literal["OrderRectification"] = "OrderRectification"
    business_date = "ordered_on"
    inspection_id: UUID
    ordered_on: date
    due_on: date
    requirements: Text


class VerifyRectification(Command):
    command: Literal["VerifyRectification"] = "VerifyRectification"
    business_date = "verified_on"
    inspection_id: UUID
    verified_on: date
    passed: bool
    notes: str = ""


class ImposePenalty(Command):
    command: Literal["ImposePenalty"] = "ImposePenalty"
    business_date = "decided_on"
    inspection_id: UUID
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    reason: Text
    decided_on: date


class TransferCase(Command):
    command: Literal["TransferCase"] = "TransferCase"
    business_date = "transferred_on"
    inspection_id: UUID
    authority: Text
    transferred_on: date


class CloseInspection(Command):
    command: Literal["CloseInspection"] = "CloseInspection"
    business_date = "closed_on"
    inspection_id: UUID
    closed_on: date


# Commendation -----------------------------------------------------------------


class NominateCraftsman(Command):
    command: Literal["NominateCraftsman"] = "NominateCraftsman"
    campaign_id: UUID
    person: Text
    employer: Text
    deeds: Text
    nominating_department: DepartmentCode

    def new_id(self) -> UUID:
        """One commendation per person (name at employer) per campaign."""
        return uuid5(self.campaign_id, f"commendation:{natural_key(self.person)}@{natural_key(self.employer)}")


class ReviewNomination(Command):
    command: Literal["ReviewNomination"] = "ReviewNomination"
    business_date = "reviewed_on"
    commendation_id: UUID
    approved: bool
    reason: str | None = None
    reviewed_on: date


class ConferCommendation(Command):
    command: Literal["ConferCommendation"] = "ConferCommendation"
    business_date = "conferred_on"
    commendation_id: UUID
    ceremony_id: UUID
    conferred_on: date


class PubliciseCommendation(Command):
    command: Literal["PubliciseCommendation"] = "PubliciseCommendation"
    business_date = "published_on"
    commendation_id: UUID
    outlet: Text
    title: Text
    published_on: date


COMMANDS: dict[str, type[Command]] = {cls.__name__: cls for cls in Command.__subclasses__()}
"""Every command class by name, in declaration order."""

ALL: tuple[type[Command], ...] = tuple(COMMANDS.values())


def parse(text: str | bytes) -> Command:
    """Build the command a JSON object names in its ``"command"`` field."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise InvalidCommand(f"not JSON: {e}", [{"loc": (), "msg": str(e), "type": "json_invalid"}]) from None
    return parse_obj(data)


def parse_obj(data: Any) -> Command:
    """Like :func:`parse`, from already-decoded JSON (a dict)."""
    name = data.get("command") if isinstance(data, dict) else None
    cls = COMMANDS.get(name) if isinstance(name, str) else None
    if cls is None:
        msg = f"unknown command {name!r}: expected one of {', '.join(COMMANDS)}"
        raise InvalidCommand(msg, [{"loc": ("command",), "msg": msg, "input": name, "type": "union_tag_invalid"}])
    # The constructor turns pydantic's errors into InvalidCommand, detail kept.
    return cls(**data)
