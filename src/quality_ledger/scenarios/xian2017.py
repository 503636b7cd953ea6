"""Xi'an's 2017 Quality Month, the library's reference case: ``xian2017.toml`` beside this module.

The case is data (docs/cases.md describes the format), shipped with the
package; this module names it and keeps the calls that demos, tests and
benchmarks make: :func:`load` records it through public commands, with the
actor of the department that would really act and an idempotency key per
command, so loading it again records nothing; :func:`conclude` concludes it;
:func:`expected` works out from the data alone what the ledger should then show.

The campaign, its theme, departments and named activities come from the China
Quality News Network report (reporter Jiang Dan). The inspected enterprises,
sites and markets, samples, results, nominees, penalties and progress figures
other than "58 experts, 88 enterprises" are invented for illustration and
describe no real party.

The file is read on first use, not at import, and once per process.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING
from uuid import UUID

from quality_ledger.ledger import Ledger
from quality_ledger.receipts import Receipt
from quality_ledger.scenarios import expected as _expected
from quality_ledger.scenarios import loader
from quality_ledger.scenarios.expected import Expected
from quality_ledger.scenarios.planner import clerk
from quality_ledger.scenarios.specs import (
    ActivitySpec,
    BulletinSpec,
    CampaignSpec,
    Cancelled,
    Case,
    Completed,
    ConclusionSpec,
    DepartmentSpec,
    FollowUp,
    InspectionSpec,
    MediaSpec,
    NominationSpec,
    PenaltySpec,
    Postponed,
    Progress,
    RectificationSpec,
    Retest,
    SampleSpec,
    Schedule,
    TransferSpec,
)

__all__ = [
    "ACTIVITIES",
    "BULLETINS",
    "CAMPAIGN",
    "CONCLUSION",
    "DEPARTMENTS",
    "FILE",
    "INSPECTIONS",
    "NOMINATIONS",
    "XIAN_2017",
    "ActivitySpec",
    "BulletinSpec",
    "CampaignSpec",
    "Cancelled",
    "Completed",
    "ConclusionSpec",
    "DepartmentSpec",
    "Expected",
    "FollowUp",
    "InspectionSpec",
    "MediaSpec",
    "NominationSpec",
    "PenaltySpec",
    "Postponed",
    "Progress",
    "RectificationSpec",
    "Retest",
    "SampleSpec",
    "Scenario",
    "Schedule",
    "TransferSpec",
    "case",
    "clerk",
    "conclude",
    "expected",
    "load",
]

FILE = "xian2017.toml"
"""The case file's name inside the ``quality_ledger.scenarios`` package."""

Scenario = Case
"""The former name of :class:`~quality_ledger.scenarios.specs.Case`."""


@cache
def case() -> Case:
    """The reference case, read from the package's data file."""
    text = files("quality_ledger.scenarios").joinpath(FILE).read_text(encoding="utf-8")
    return loader.parse_case(text, f"quality_ledger/scenarios/{FILE}")


_PARTS = {
    "CAMPAIGN": "campaign",
    "DEPARTMENTS": "departments",
    "ACTIVITIES": "activities",
    "INSPECTIONS": "inspections",
    "BULLETINS": "bulletins",
    "NOMINATIONS": "nominations",
    "CONCLUSION": "conclusion",
}

if TYPE_CHECKING:
    XIAN_2017: Case
    CAMPAIGN: CampaignSpec
    DEPARTMENTS: tuple[DepartmentSpec, ...]
    ACTIVITIES: tuple[ActivitySpec, ...]
    INSPECTIONS: tuple[InspectionSpec, ...]
    BULLETINS: tuple[BulletinSpec, ...]
    NOMINATIONS: tuple[NominationSpec, ...]
    CONCLUSION: ConclusionSpec | None


def __getattr__(name: str) -> object:
    """``XIAN_2017`` and its parts, read from the data file when first asked for (PEP 562)."""
    if name == "XIAN_2017":
        return case()
    if name in _PARTS:
        return getattr(case(), _PARTS[name])
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def load(ledger: Ledger, scenario: Case | None = None) -> UUID:
    """Record the reference case (or ``scenario``) in ``ledger``; return the campaign's id.

    The campaign is left running: see :func:`conclude`. Loading again records nothing.
    """
    return loader.load(ledger, scenario or case())


def conclude(ledger: Ledger, campaign_id: UUID, scenario: Case | None = None) -> Receipt:
    """Conclude the loaded campaign (some activities still run, so with the case's override reason)."""
    return loader.conclude(ledger, campaign_id, scenario or case())


def expected(scenario: Case | None = None) -> Expected:
    """What loading the reference case (or ``scenario``) into a fresh ledger should record."""
    return _expected.expected(scenario or case())
