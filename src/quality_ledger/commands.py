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
import re
import unicodedata
from datetime import date
from itertools import accumulate
from typing import Any, ClassVar, Literal, Self
from uuid import UUID, uuid5

from pydantic import Field, model_validator

from quality_ledger.domain.values import (
    MAX_COMMAND_BYTES,
    MAX_INSPECTIONS,
    MAX_TARGETS,
    ActivityKind,
    Count,
    DepartmentCode,
    FocusArea,
    FreeText,
    IdempotencyKey,
    Metric,
    Money,
    Name,
    Names,
    SampleId,
    SubjectKind,
    Target,
    Text,
    Validated,
)
from quality_ledger.errors import InvalidCommand

NAMESPACE = UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8")
"""Root of every natural-key id this library derives."""

MAX_JSON_BYTES = 6 * MAX_COMMAND_BYTES
"""Largest input :func:`parse` reads, as UTF-8: room for a command at its
bound with every character written as a ``\\u`` escape (as ``json.dumps``
does: 12 bytes for a 4-byte character) and indented."""
MAX_JSON_DEPTH = 16
"""Deepest nesting of arrays and objects :func:`parse` reads (a command needs 2)."""


def natural_key(text: str) -> str:
    """Normalise a name so width, case and spacing variants are one key."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class Command(Validated):
    """Base of all commands; ``business_date`` names the business date field."""

    business_date: ClassVar[str | None] = None

    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _within_size(self) -> Self:
        size = len(self.model_dump_json().encode())
        if size > MAX_COMMAND_BYTES:
            msg = f"the command is {size} bytes as JSON, over the limit of {MAX_COMMAND_BYTES}"
            raise ValueError(msg)
        return self

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
    title: Name
    theme: Name
    purpose: FreeText = ""
    organiser: DepartmentCode
    partners: Names = ()
    starts_on: date
    ends_on: date
    focus_areas: tuple[FocusArea, ...] = tuple(FocusArea)

    def new_id(self) -> UUID:
        return uuid5(NAMESPACE, f"campaign:{self.organiser}:{natural_key(self.title)}")


class EnlistDepartment(Command):
    command: Literal["EnlistDepartment"] = "EnlistDepartment"
    campaign_id: UUID
    code: DepartmentCode
    name_zh: Name
    name_en: Name


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
    override_reason: FreeText | None = None


class PublishBulletin(Command):
    command: Literal["PublishBulletin"] = "PublishBulletin"
    business_date = "published_on"
    campaign_id: UUID
    title: Name
    published_on: date
    inspection_ids: tuple[UUID, ...] = Field(min_length=1, max_length=MAX_INSPECTIONS)

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"bulletin:{natural_key(self.title)}")


# Activity ---------------------------------------------------------------------


class PlanActivity(Command):
    command: Literal["PlanActivity"] = "PlanActivity"
    campaign_id: UUID
    title: Name
    lead_department: DepartmentCode
    focus_area: FocusArea
    activity_kind: ActivityKind = ActivityKind.OTHER
    partners: Names = ()
    targets: dict[Metric, Target] = Field(default_factory=dict, max_length=MAX_TARGETS)

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"activity:{natural_key(self.title)}")


class ScheduleActivity(Command):
    command: Literal["ScheduleActivity"] = "ScheduleActivity"
    activity_id: UUID
    starts_on: date
    ends_on: date
    place: Name


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
    amount: Count
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
    reference: Name
    inspecting_department: DepartmentCode
    inspection_kind: Name
    subject_name: Name
    subject_kind: SubjectKind = SubjectKind.ENTERPRISE
    product_category: Name
    planned_on: date

    def new_id(self) -> UUID:
        return uuid5(self.campaign_id, f"inspection:{natural_key(self.reference)}")


class TakeSample(Command):
    command: Literal["TakeSample"] = "TakeSample"
    business_date = "taken_on"
    inspection_id: UUID
    sample_id: SampleId
    product: Name
    batch: Name
    taken_on: date


class RecordSampleResult(Command):
    command: Literal["RecordSampleResult"] = "RecordSampleResult"
    business_date = "tested_on"
    inspection_id: UUID
    sample_id: SampleId
    passed: bool
    nonconforming_items: Names = ()
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
    sample_id: SampleId
    lodged_on: date


class RecordRetestResult(Command):
    command: Literal["RecordRetestResult"] = "RecordRetestResult"
    business_date = "tested_on"
    inspection_id: UUID
    sample_id: SampleId
    passed: bool
    nonconforming_items: Names = ()
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
    notes: FreeText = ""


class ImposePenalty(Command):
    command: Literal["ImposePenalty"] = "ImposePenalty"
    business_date = "decided_on"
    inspection_id: UUID
    amount: Money
    reason: Text
    decided_on: date


class TransferCase(Command):
    command: Literal["TransferCase"] = "TransferCase"
    business_date = "transferred_on"
    inspection_id: UUID
    authority: Name
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
    person: Name
    employer: Name
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
    reason: FreeText | None = None
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
    outlet: Name
    title: Name
    published_on: date


COMMANDS: dict[str, type[Command]] = {cls.__name__: cls for cls in Command.__subclasses__()}
"""Every command class by name, in declaration order."""

ALL: tuple[type[Command], ...] = tuple(COMMANDS.values())


def parse(text: str | bytes) -> Command:
    """Build the command a JSON object names in its ``"command"`` field.

    The input's size and nesting are bounded before the JSON parser sees it:
    a parser handed megabytes, or arrays nested thousands deep (which make it
    recurse until Python gives up), would fail in ways no caller expects.
    """
    if isinstance(text, bytes | bytearray):
        _check_size(len(text) // 4)  # UTF-16 or UTF-32 as json allows: at most 4 bytes a character
        try:
            text = bytes(text).decode(json.detect_encoding(text))
        except UnicodeDecodeError as e:
            raise _not_json(f"not text in {e.encoding}: {e.reason}") from None
    _check_size(len(text))  # characters: a lower bound on the bytes, and cheap
    _check_size(len(text.encode("utf-8", "surrogatepass")))
    if (depth := _depth(text)) > MAX_JSON_DEPTH:
        raise _not_json(f"JSON nested {depth} deep, over the limit of {MAX_JSON_DEPTH}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise _not_json(f"not JSON: {e}") from None
    return parse_obj(data)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """How deep arrays and objects nest, strings ignored (an upper bound on what the parser meets)."""
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def _check_size(size: int) -> None:
    if size > MAX_JSON_BYTES:
        raise _not_json(f"input of {size} bytes or more in UTF-8, over the limit of {MAX_JSON_BYTES}")


def _not_json(msg: str) -> InvalidCommand:
    return InvalidCommand(msg, [{"loc": (), "msg": msg, "type": "json_invalid"}])


def parse_obj(data: Any) -> Command:
    """Like :func:`parse`, from already-decoded JSON (a dict)."""
    name = data.get("command") if isinstance(data, dict) else None
    cls = COMMANDS.get(name) if isinstance(name, str) else None
    if cls is None:
        shown = repr(name) if len(repr(name)) <= 80 else f"{repr(name)[:77]}..."
        msg = f"unknown command {shown}: expected one of {', '.join(COMMANDS)}"
        raise InvalidCommand(msg, [{"loc": ("command",), "msg": msg, "input": name, "type": "union_tag_invalid"}])
    if not all(isinstance(key, str) for key in data):
        msg = "a command's field names are strings"
        raise InvalidCommand(msg, [{"loc": (), "msg": msg, "type": "dict_type"}])
    # The constructor turns pydantic's errors into InvalidCommand, detail kept.
    return cls(**data)
