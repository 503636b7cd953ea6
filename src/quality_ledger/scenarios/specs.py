"""The shape of a case file: the pydantic models a TOML case is validated against.

Each field reuses the bounded type of the command field it feeds (``Name``,
``Text``, ``Money``, ...), so a case that validates meets the same bounds as
the commands it becomes, and a bad value is refused while the file is read,
before anything is recorded. Every model is frozen and refuses unknown fields:
a misspelt field is an error, never a silently ignored line. See docs/cases.md.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from quality_ledger.domain.values import (
    MAX_INSPECTIONS,
    MAX_TARGETS,
    ActivityKind,
    Count,
    DepartmentCode,
    FocusArea,
    FreeText,
    Metric,
    Money,
    Name,
    Names,
    SampleId,
    SubjectKind,
    Target,
    Text,
)

__all__ = [
    "ActivitySpec",
    "BulletinSpec",
    "CampaignSpec",
    "Cancelled",
    "Case",
    "Completed",
    "ConclusionSpec",
    "DepartmentSpec",
    "FollowUp",
    "InspectionSpec",
    "Key",
    "MediaSpec",
    "NominationSpec",
    "PenaltySpec",
    "Postponed",
    "Progress",
    "RectificationSpec",
    "Retest",
    "SampleSpec",
    "Schedule",
    "TransferSpec",
]

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
"""A short ASCII name (``press-conference``): part of idempotency keys, so visible and unambiguous."""


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CampaignSpec(Spec):
    title: Name
    theme: Name
    purpose: FreeText = ""
    organiser: DepartmentCode
    organiser_name_zh: Name | None = None
    organiser_name_en: Name | None = None
    partners: Names = ()
    starts_on: date
    ends_on: date
    launched_on: date
    focus_areas: tuple[FocusArea, ...] = tuple(FocusArea)


class DepartmentSpec(Spec):
    code: DepartmentCode
    name_zh: Name
    name_en: Name


class Schedule(Spec):
    starts_on: date
    ends_on: date
    place: Name


class Progress(Spec):
    """One progress report: how much was added to each metric that day."""

    reported_on: date
    amounts: dict[Metric, Count] = Field(min_length=1, max_length=MAX_TARGETS)


class Completed(Spec):
    on: date
    outcome: Text


class Postponed(Spec):
    """Postponed before it started (the ledger allows no other postponement)."""

    reason: Text


class Cancelled(Spec):
    reason: Text


class ActivitySpec(Spec):
    key: Key
    title: Name
    lead: DepartmentCode
    focus_area: FocusArea
    kind: ActivityKind = ActivityKind.OTHER
    planned_by_organiser: bool = False
    """Planned by the campaign's organiser rather than by the lead department."""
    partners: Names = ()
    targets: dict[Metric, Target] = Field(default_factory=dict, max_length=MAX_TARGETS)
    schedule: Schedule
    started_on: date | None = None
    progress: tuple[Progress, ...] = ()
    completed: Completed | None = None
    postponed: Postponed | None = None
    cancelled: Cancelled | None = None

    @model_validator(mode="after")
    def _one_ending(self) -> Self:
        endings = [name for name in ("completed", "postponed", "cancelled") if getattr(self, name) is not None]
        if len(endings) > 1:
            msg = f"activity {self.key!r} has {' and '.join(endings)}: give at most one ending"
            raise ValueError(msg)
        return self


class Retest(Spec):
    """The subject's objection to a failed result, and the re-test (复检) it led to."""

    lodged_on: date
    tested_on: date | None = None
    failed_items: Names = ()
    """Empty: the re-test passed and overturns the original failure."""


class SampleSpec(Spec):
    sample_id: SampleId
    product: Name
    batch: Name
    taken_on: date
    tested_on: date | None = None
    failed_items: Names = ()
    """Empty: the sample passed (once tested)."""
    objection: Retest | None = None


class FollowUp(Spec):
    verified_on: date
    passed: bool
    notes: FreeText = ""


class RectificationSpec(Spec):
    ordered_on: date
    due_on: date
    requirements: Text
    follow_up: FollowUp | None = None


class PenaltySpec(Spec):
    amount: Money
    """Yuan, to the fen; write it as a string (``"50000.00"``) to keep it exact."""
    reason: Text
    decided_on: date


class TransferSpec(Spec):
    authority: Name
    transferred_on: date


class InspectionSpec(Spec):
    reference: Name
    department: DepartmentCode
    kind: Name
    subject: Name
    subject_kind: SubjectKind = SubjectKind.ENTERPRISE
    product_category: Name
    planned_on: date
    activity: Key | None = None
    """Key of the activity the inspection belongs to; None: the campaign itself."""
    samples: tuple[SampleSpec, ...] = ()
    notified_on: date | None = None
    rectification: RectificationSpec | None = None
    penalty: PenaltySpec | None = None
    transfer: TransferSpec | None = None
    closed_on: date | None = None


class BulletinSpec(Spec):
    key: Key
    title: Name
    published_by: DepartmentCode
    published_on: date
    inspections: tuple[Name, ...] = Field(min_length=1, max_length=MAX_INSPECTIONS)
    """References of the inspections it lists."""


class MediaSpec(Spec):
    outlet: Name
    title: Name
    published_on: date


class NominationSpec(Spec):
    key: Key
    person: Name
    employer: Name
    deeds: Text
    nominated_by: DepartmentCode
    reviewed_on: date
    rejection: FreeText | None = None
    """The reviewer's reason to reject; None: approved."""
    ceremony: Key | None = None
    """Key of the award-ceremony activity where it is conferred (with ``conferred_on``)."""
    conferred_on: date | None = None
    publicity: tuple[MediaSpec, ...] = ()

    @model_validator(mode="after")
    def _conferred_at_a_ceremony(self) -> Self:
        if (self.ceremony is None) != (self.conferred_on is None):
            msg = f"nomination {self.key!r}: give both ceremony and conferred_on, or neither"
            raise ValueError(msg)
        return self


class ConclusionSpec(Spec):
    concluded_on: date
    summary: Text
    override_reason: FreeText | None = None
    """Why the campaign concludes while activities still run (the ledger asks for one then)."""


class Case(Spec):
    """A whole case: what :func:`~quality_ledger.scenarios.loader.load` records."""

    key: Key
    """Prefix of every idempotency key: change it to load a variant beside the original."""
    campaign: CampaignSpec
    departments: tuple[DepartmentSpec, ...] = ()
    activities: tuple[ActivitySpec, ...] = ()
    inspections: tuple[InspectionSpec, ...] = ()
    bulletins: tuple[BulletinSpec, ...] = ()
    nominations: tuple[NominationSpec, ...] = ()
    conclusion: ConclusionSpec | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        """Every name a case uses to point at another part of it names exactly one."""
        _distinct("departments", [d.code for d in self.departments])
        activities = _distinct("activities", [a.key for a in self.activities])
        inspections = _distinct("inspections", [i.reference for i in self.inspections])
        _distinct("bulletins", [b.key for b in self.bulletins])
        _distinct("nominations", [n.key for n in self.nominations])
        for i in self.inspections:
            _known(f"inspection {i.reference!r}", "activity", i.activity, activities)
            _distinct(f"inspection {i.reference!r}: samples", [s.sample_id for s in i.samples])
        for b in self.bulletins:
            for reference in b.inspections:
                _known(f"bulletin {b.key!r}", "inspection", reference, inspections)
        for n in self.nominations:
            _known(f"nomination {n.key!r}", "ceremony activity", n.ceremony, activities)
        return self

    def activity(self, key: str) -> ActivitySpec:
        return next(a for a in self.activities if a.key == key)

    def inspection(self, reference: str) -> InspectionSpec:
        return next(i for i in self.inspections if i.reference == reference)


def _distinct(what: str, names: list[str]) -> set[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            msg = f"{what} names {name!r} twice"
            raise ValueError(msg)
        seen.add(name)
    return seen


def _known(who: str, what: str, name: str | None, known: set[str]) -> None:
    if name is not None and name not in known:
        msg = f"{who} names the {what} {name!r}, which the case does not hold"
        raise ValueError(msg)
