"""Value objects shared by the aggregates, the commands and the views."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from quality_ledger.errors import InvalidCommand

DepartmentCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=32)
]
"""A department's short code, e.g. ``XA-QTS``."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
"""Non-blank free text (names, reasons, outcomes); CJK and mixed scripts welcome."""

Metric = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
"""A progress metric's name, e.g. ``experts`` or ``enterprises``."""


class Frozen(BaseModel):
    """Immutable, strict-about-extras base for values, events and states."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Validated(BaseModel):
    """Input models (commands, actors): bad input raises ``InvalidCommand``
    with pydantic's detail, so callers catch one error family."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise invalid(e) from None


def invalid(error: ValidationError) -> InvalidCommand:
    details = error.errors(include_url=False)
    lines = "; ".join(f"{'.'.join(map(str, d['loc'])) or '(root)'}: {d['msg']}" for d in details)
    return InvalidCommand(f"invalid {error.title}: {lines}", [dict(d) for d in details])


class Actor(Validated):
    """Who issued a command: a person acting for a department."""

    user: Text
    department: DepartmentCode


class EventMeta(Frozen):
    """What every stored event carries besides its payload.

    ``recorded_at`` is the event's own timestamp; ``occurred_on`` is set only
    where the business date differs from the recording date.
    """

    user: str
    department: str
    command: str
    command_id: UUID
    correlation_id: UUID
    occurred_on: date | None = None


class FocusArea(StrEnum):
    """The campaign's declared priorities ("three characteristics")."""

    EVERYONE_TAKES_PART = "everyone-takes-part"
    LIVELIHOOD = "livelihood-and-quality-safety"
    CRAFTSMAN_SPIRIT = "craftsman-spirit"


class CampaignState(StrEnum):
    PLANNED = "planned"
    LAUNCHED = "launched"
    CONCLUDED = "concluded"


class ActivityKind(StrEnum):
    PRESS_CONFERENCE = "press-conference"
    EXHIBITION = "exhibition"
    MEETING = "meeting"
    PUBLICITY = "publicity"
    EDUCATION = "education"
    EXPERT_VISIT = "expert-visit"
    TRAINING = "training"
    DRILL = "drill"
    FREE_TESTING = "free-testing"
    AWARD_CEREMONY = "award-ceremony"
    SURVEY = "survey"
    ENFORCEMENT = "enforcement"
    OTHER = "other"


class ActivityState(StrEnum):
    PLANNED = "planned"
    SCHEDULED = "scheduled"
    STARTED = "started"
    POSTPONED = "postponed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SubjectKind(StrEnum):
    ENTERPRISE = "enterprise"
    SITE = "site"
    MARKET = "market"


class InspectionState(StrEnum):
    PLANNED = "planned"
    SAMPLING = "sampling"
    VERDICT_ISSUED = "verdict-issued"
    RECTIFICATION_ORDERED = "rectification-ordered"
    RECTIFIED = "rectified"
    RECTIFICATION_FAILED = "rectification-failed"
    PENALISED = "penalised"
    TRANSFERRED = "transferred"
    CLOSED = "closed"


class Verdict(StrEnum):
    CONFORMING = "conforming"
    NONCONFORMING = "nonconforming"


class CommendationState(StrEnum):
    NOMINATED = "nominated"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFERRED = "conferred"
