"""What a correctly recorded case shows, worked out from the case's data alone.

Kept apart from the loader, and reading nothing the ledger computes, so that a
test can compare these figures with the ledger's (a command lost, refused or
recorded twice shows up as a difference) without checking the ledger against
itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from quality_ledger.domain.transitions import INSPECTION
from quality_ledger.domain.values import ActivityStatus, CommendationStatus, InspectionStatus, Verdict
from quality_ledger.scenarios.specs import ActivitySpec, Case, InspectionSpec, NominationSpec, SampleSpec

__all__ = [
    "Expected",
    "achieved",
    "activity_state",
    "commendation_state",
    "expected",
    "failed",
    "inspection_state",
    "verdict",
]


@dataclass(frozen=True)
class Expected:
    """Figures a correctly recorded case shows; keys are the ledger's state names."""

    departments: int
    activities: int
    activities_by_state: dict[str, int]
    activities_by_focus_area: dict[str, int]
    activities_by_department: dict[str, int]
    inspections: int
    inspections_by_verdict: dict[str, int]
    """``conforming``, ``nonconforming``, or ``pending`` (no verdict yet)."""
    inspections_by_state: dict[str, int]
    samples: int
    samples_tested: int
    samples_failed: int
    """Tested samples whose current result (after any re-test) is a failure."""
    samples_failed_originally: int
    objections: int
    overturned_on_retest: int
    rectifications: int
    failed_follow_ups: int
    penalties: int
    transfers: int
    targets: dict[str, dict[str, int]]
    """Activity title -> metric -> target."""
    achieved: dict[str, dict[str, int]]
    """Activity title -> metric -> total reported."""
    commendations_by_state: dict[str, int]
    media_items: int
    bulletins: dict[str, int]
    """Bulletin title -> number of inspections it lists."""


def activity_state(a: ActivitySpec) -> ActivityStatus:
    if a.completed is not None:
        return ActivityStatus.COMPLETED
    if a.postponed is not None:
        return ActivityStatus.POSTPONED
    if a.cancelled is not None:
        return ActivityStatus.CANCELLED
    return ActivityStatus.STARTED if a.started_on else ActivityStatus.SCHEDULED


def achieved(a: ActivitySpec) -> dict[str, int]:
    """Metric -> the sum of the amounts reported on it."""
    totals = dict.fromkeys(a.targets, 0)
    for report in a.progress:
        for metric, amount in report.amounts.items():
            totals[metric] = totals.get(metric, 0) + amount
    return totals


def _retested(s: SampleSpec) -> bool:
    return s.objection is not None and s.objection.tested_on is not None


def _failed_originally(s: SampleSpec) -> bool:
    return s.tested_on is not None and bool(s.failed_items)


def failed(s: SampleSpec) -> bool:
    """The current result failed: a re-test replaces the original."""
    if s.objection is not None and s.objection.tested_on is not None:
        return bool(s.objection.failed_items)
    return _failed_originally(s)


def verdict(i: InspectionSpec) -> Verdict | None:
    if i.notified_on is None:
        return None
    return Verdict.NONCONFORMING if any(failed(s) for s in i.samples) else Verdict.CONFORMING


def inspection_state(i: InspectionSpec) -> InspectionStatus:
    """The case's events, in the order the loader records them, through the domain's table."""
    r = i.rectification
    happened: list[tuple[str, bool | None, bool]] = [
        ("SampleTaken", None, bool(i.samples)),
        ("VerdictIssued", None, i.notified_on is not None),
        ("RectificationOrdered", None, r is not None),
        ("RectificationVerified", r.follow_up.passed if r and r.follow_up else None, bool(r and r.follow_up)),
        ("PenaltyImposed", None, i.penalty is not None),
        ("CaseTransferred", None, i.transfer is not None),
        ("Closed", None, i.closed_on is not None),
    ]
    return INSPECTION.fold((event, passed) for event, passed, did in happened if did)


def commendation_state(n: NominationSpec) -> CommendationStatus:
    if n.rejection is not None:
        return CommendationStatus.REJECTED
    if n.conferred_on is not None:
        return CommendationStatus.CONFERRED
    return CommendationStatus.APPROVED


def _count(values: list[str]) -> dict[str, int]:
    return dict(Counter(values))


def expected(case: Case) -> Expected:
    """What loading ``case`` into a fresh ledger should record."""
    samples = [s for i in case.inspections for s in i.samples]
    objected = [s for s in samples if s.objection is not None]
    rectifications = [i.rectification for i in case.inspections if i.rectification is not None]
    verdicts = [verdict(i) for i in case.inspections]
    return Expected(
        departments=len(case.departments),
        activities=len(case.activities),
        activities_by_state=_count([activity_state(a).value for a in case.activities]),
        activities_by_focus_area=_count([a.focus_area.value for a in case.activities]),
        activities_by_department=_count([a.lead for a in case.activities]),
        inspections=len(case.inspections),
        inspections_by_verdict=_count([v.value if v else "pending" for v in verdicts]),
        inspections_by_state=_count([inspection_state(i).value for i in case.inspections]),
        samples=len(samples),
        samples_tested=sum(s.tested_on is not None for s in samples),
        samples_failed=sum(failed(s) for s in samples),
        samples_failed_originally=sum(_failed_originally(s) for s in samples),
        objections=len(objected),
        overturned_on_retest=sum(_retested(s) and not failed(s) for s in objected),
        rectifications=len(rectifications),
        failed_follow_ups=sum(r.follow_up is not None and not r.follow_up.passed for r in rectifications),
        penalties=sum(i.penalty is not None for i in case.inspections),
        transfers=sum(i.transfer is not None for i in case.inspections),
        targets={a.title: dict(a.targets) for a in case.activities if a.targets},
        achieved={a.title: achieved(a) for a in case.activities if a.targets},
        commendations_by_state=_count([commendation_state(n).value for n in case.nominations]),
        media_items=sum(len(n.publicity) for n in case.nominations),
        bulletins={b.title: len(b.inspections) for b in case.bulletins},
    )
