"""Value objects shared by the aggregates, the commands and the views."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from quality_ledger.domain.personal import Personal
from quality_ledger.errors import InvalidCommand
from quality_ledger.renamed import old_names

# Bounds -----------------------------------------------------------------------
#
# Every bound on input is declared here, once, with the type of the field it
# bounds; commands reuse these types and docs/guide.md ("Limits") lists them.
# They apply where input enters (commands and actors), never to stored events:
# an event an earlier version recorded must always load, so event models keep
# plain ``str``, ``int`` and ``Decimal``.

MAX_NAME = 200
"""Characters in a name, title, place or other one-line text (also the views' ``ql_samples.sample_id`` column)."""
MAX_TEXT = 4000
"""Characters in free text: a purpose, summary, outcome, reason, requirements, notes."""
MAX_USER = 128
"""Characters in a user name (room for an e-mail address as login)."""
MAX_KEY = 200
"""Characters in an idempotency key."""
MAX_ITEMS = 50
"""Entries in a list of names: partners, non-conforming items."""
MAX_TARGETS = 20
"""Metrics an activity can set targets for."""
MAX_INSPECTIONS = 1000
"""Inspections one bulletin lists."""
MAX_COUNT = 10**9
"""Largest target or progress amount: far above any real campaign's figures, and
small enough that ``achieved`` (the sum of amounts) stays exact in a BIGINT for
9 billion reports and in a JSON consumer's float (2**53) for 9 million."""
MAX_MONEY = Decimal("999999999999.99")
"""Largest penalty (yuan): 14 digits, 2 after the point; fits the views' NUMERIC(16, 2)."""
MAX_COMMAND_BYTES = 64 * 1024
"""A whole command as canonical JSON (UTF-8). The field bounds above keep every
valid command below it; the check guards against a field added without a bound."""


_KINDS = {"Cc": "a control character", "Cs": "a lone surrogate", "Co": "a private-use character"}


def _names(char: str) -> str:
    category = unicodedata.category(char)
    return f"U+{ord(char):04X} ({unicodedata.name(char, '') or _KINDS.get(category, category)})"


# One-line text: no control characters, no line or paragraph separators, and no
# lone surrogates (UTF-8 cannot encode them: neither the log nor a view could).
_LINE = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Identifiers (user names, sample ids, idempotency keys) must look like what
# they are: nothing invisible that makes two ids look alike or reorders them
# on screen (bidi overrides and isolates, zero-width characters, BOM).
_IDENTIFIER = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp", "Zs"})
_IGNORABLE = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement
)
"""Default-ignorable code points outside category Cf: rendered as nothing."""


def _ignorable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE)


def _refuse(forbidden: frozenset[str], *, allowed: str = "", ignorable: bool = False) -> Callable[[str], str]:
    """A validator refusing characters of the ``forbidden`` Unicode categories
    (except those in ``allowed``), and default-ignorable ones if ``ignorable``."""

    def check(value: str) -> str:
        # isprintable() is True when there is no C* or Z* character but the
        # ASCII space: the common case, checked in C.
        if value.isprintable() and not (ignorable and any(map(_ignorable, value))):
            return value
        for char in value:
            if char == " " or char in allowed:
                continue
            if unicodedata.category(char) in forbidden or (ignorable and _ignorable(char)):
                msg = f"must not contain {_names(char)}"
                raise ValueError(msg)
        return value

    return check


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


DepartmentCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=32)
]
"""A department's short code, e.g. ``XA-QTS``: ASCII only, so nothing invisible or look-alike."""

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(_refuse(_LINE, allowed="\t")),
]
"""Non-blank one-line text: names, titles, places, products; CJK, mixed scripts and emoji welcome."""

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(_refuse(_LINE, allowed="\n\t")),
]
"""Non-blank free text (a summary, an outcome, a reason): lines and tabs allowed, no other control characters."""

FreeText = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_refuse(_LINE, allowed="\n\t"))]
"""Free text that may be empty (a purpose, notes), kept exactly as given."""

UserName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_USER),
    AfterValidator(_nfc),
    AfterValidator(_refuse(_IDENTIFIER, ignorable=True)),
]
"""Who acts: NFC-normalised, so the composed and decomposed spellings of one
name (``é`` and ``e`` + U+0301) are one user; nothing invisible (bidi
controls, zero-width characters) and no space but U+0020."""

SampleId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(_refuse(_IDENTIFIER, ignorable=True)),
]
"""A sample's id as printed on its seal: visible characters and U+0020 only.
Not normalised: it must match the id an earlier version recorded, byte for byte."""

IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_KEY), AfterValidator(_refuse(_IDENTIFIER, ignorable=True))
]
"""An idempotency key: visible characters only, never normalised (a retry must name the same record)."""

Metric = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
"""A progress metric's name, e.g. ``experts`` or ``enterprises``."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A progress amount: 0 to :data:`MAX_COUNT`."""

Target = Annotated[int, Field(gt=0, le=MAX_COUNT)]
"""A target: 1 to :data:`MAX_COUNT`."""

Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, max_digits=14, decimal_places=2, allow_inf_nan=False)]
"""An amount of money in yuan, to the fen."""

Names = Annotated[tuple[Name, ...], Field(max_length=MAX_ITEMS)]
"""Up to :data:`MAX_ITEMS` names (partners, non-conforming items)."""


class Frozen(BaseModel):
    """Immutable, strict-about-extras base for values, events and states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replaced(self, **changes: Any) -> Self:
        """A copy with ``changes``, unvalidated: what ``model_copy(update=changes)``
        gives, in two thirds of its time (it goes through the ``copy`` module
        three times). Events' ``apply`` evolves the states with it, once or
        twice per event, on every replay and every command. Like
        ``model_copy``, for values already validated (an event's)."""
        cls = type(self)
        copied = cls.__new__(cls)
        private = self.__pydantic_private__
        _set(copied, "__dict__", {**self.__dict__, **changes})
        _set(copied, "__pydantic_extra__", None)  # extra="forbid": there is none
        _set(copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | changes.keys())
        _set(copied, "__pydantic_private__", None if private is None else dict(private))
        return copied


_set = object.__setattr__


class Validated(BaseModel):
    """Input models (commands, actors): bad input raises ``InvalidCommand``
    with pydantic's detail, so callers catch one error family."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise invalid(e) from None


SHOWN_ERRORS = 5
"""Field errors an InvalidCommand's message names; ``errors`` keeps them all."""


def invalid(error: ValidationError) -> InvalidCommand:
    """One line however wild the input: at most :data:`SHOWN_ERRORS` errors, each location cut short."""
    details = error.errors(include_url=False)
    shown = [f"{_location(d['loc'])}: {d['msg']}" for d in details[:SHOWN_ERRORS]]
    if len(details) > SHOWN_ERRORS:
        shown.append(f"and {len(details) - SHOWN_ERRORS} more")
    return InvalidCommand(f"invalid {error.title}: {'; '.join(shown)}", [dict(d) for d in details])


def _location(loc: tuple[int | str, ...]) -> str:
    text = ".".join(map(str, loc)) or "(root)"
    return text if len(text) <= 80 else f"{text[:77]}..."


class Actor(Validated):
    """Who issued a command: a person acting for a department."""

    user: UserName
    department: DepartmentCode

    @classmethod
    def checked(cls, actor: object) -> Self:
        """``actor`` validated again, however it was built.

        ``model_construct`` and ``model_copy(update=...)`` skip validation, so
        an ``Actor`` instance proves nothing about its fields: the ledger
        re-validates before recording who acted. Raises ``InvalidCommand``.
        """
        if not isinstance(actor, Actor):
            msg = f"not an actor: {type(actor).__name__}"
            raise InvalidCommand(msg)
        return cls(**{name: getattr(actor, name, None) for name in cls.model_fields})


class EventMeta(Frozen):
    """What every stored event carries besides its payload.

    ``recorded_at`` is the event's own timestamp; ``occurred_on`` is set only
    where the business date differs from the recording date.
    """

    user: Annotated[str, Personal("user", by=("user",))]
    """The clerk's user name: personal data of the clerk (docs/privacy.md)."""
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


class CampaignStatus(StrEnum):
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


class ActivityStatus(StrEnum):
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


class InspectionStatus(StrEnum):
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


class LodgedBy(StrEnum):
    """Who put an objection on the record: the two ways the authorization
    rules let one in (``quality_ledger.policy``). Either way the objection is
    the subject's; this says whether the inspecting department recorded what
    the subject lodged with it, or a representative of the subject lodged it
    directly. ``None`` where it is used means "not recorded": objections from
    before 0.2 (``Inspection.ResultObjected`` v1), or let in by a custom policy
    for an actor who is neither."""

    INSPECTING_DEPARTMENT = "inspecting-department"
    SUBJECT = "subject"


class CommendationStatus(StrEnum):
    NOMINATED = "nominated"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFERRED = "conferred"


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(
    __name__,
    {
        "CampaignState": "CampaignStatus",
        "ActivityState": "ActivityStatus",
        "InspectionState": "InspectionStatus",
        "CommendationState": "CommendationStatus",
    },
)
