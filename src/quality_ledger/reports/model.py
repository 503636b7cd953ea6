"""What a campaign report holds, as plain values: gathered from the ledger
(:mod:`.gather`), then rendered (:mod:`.html`). Kept apart so the page can be
rendered, and tested, from figures alone, and the figures read without a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from uuid import UUID

from quality_ledger.figures import pass_rate
from quality_ledger.projections import ScorecardLine

MAX_ROWS = 300
"""The most rows any one list of the page shows (activities, targets,
nonconforming subjects, rectifications, departments, nominations...).

A reader reads a few hundred rows, not forty thousand: without a cap the
page of a 1M-event log was 44 MB and took 10 s to make, growing with the
log. With it, the report's cost is bounded by what it shows; every total
is still counted over all rows (in SQL), and a capped list says how many
it left out and where to read them all."""

TIMELINE_COLUMNS = 62
"""The most columns the timeline draws: a campaign of up to two months gets
one per day; a longer one, one per span of days (a year: one per 6 days)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first rows of a list, how many it holds in all, and where to read
    every one of them (``source``: a view table or a ``Ledger`` query), so a
    capped list on the page names what it left out."""

    rows: tuple[T, ...]
    total: int
    source: str

    @property
    def more(self) -> int:
        """Rows not shown."""
        return self.total - len(self.rows)


@dataclass(frozen=True)
class Header:
    campaign_id: UUID
    title: str
    theme: str
    organiser: str
    starts_on: date
    ends_on: date
    status: str
    launched_on: date | None
    concluded_on: date | None


@dataclass(frozen=True)
class Target:
    """One target of one activity (58 experts), and how far it got."""

    activity: str
    metric: str
    achieved: int
    target: int

    @property
    def percent(self) -> float:
        return 100.0 * self.achieved / self.target


@dataclass(frozen=True)
class MetricTotal:
    """Every activity's targets of one metric added up: the campaign's own progress on it."""

    metric: str
    activities: int
    achieved: int
    target: int


@dataclass(frozen=True)
class ActivityLine:
    title: str
    lead_department: str
    focus_area: str
    activity_kind: str
    status: str
    starts_on: date | None
    ends_on: date | None
    place: str | None


@dataclass(frozen=True)
class Totals:
    """The campaign's counts over all its rows, whatever the lists show."""

    departments: int
    activities: int
    inspections: int
    samples_tested: int
    samples_failed: int
    bulletins: int
    commendations: int
    open_rectifications: int
    overdue_rectifications: int

    @property
    def pass_rate(self) -> float | None:
        """Share of tested samples whose current result is a pass (``None`` before any)."""
        return pass_rate(self.samples_tested, self.samples_failed)


@dataclass(frozen=True)
class CategoryLine:
    """One product category of the bulletin, over inspections with a verdict.
    ``subjects`` are the first nonconforming subjects (the page shows at most
    :data:`MAX_ROWS` of them in all), ``subjects_total`` how many there are."""

    product_category: str
    inspections: int
    samples_tested: int
    samples_failed: int
    subjects: tuple[str, ...]
    subjects_total: int

    @property
    def subjects_more(self) -> int:
        """Nonconforming subjects not shown."""
        return self.subjects_total - len(self.subjects)

    @property
    def pass_rate(self) -> float | None:
        return pass_rate(self.samples_tested, self.samples_failed)


@dataclass(frozen=True)
class Day:
    """One column of the timeline: activities starting and inspections planned
    from ``on`` to ``last`` (one day, or several when the period is long)."""

    on: date
    last: date
    activities: int
    inspections: int


@dataclass(frozen=True)
class Timeline:
    """The campaign's days (grouped into spans of ``span`` days when the period
    is long), and what falls outside them (an activity with no date, a late
    inspection)."""

    days: tuple[Day, ...]
    span: int
    earlier: int
    later: int
    undated: int


@dataclass(frozen=True)
class Rectification:
    reference: str
    subject_name: str
    product_category: str
    department: str
    due_on: date | None
    overdue: bool


@dataclass(frozen=True)
class Commendation:
    person: str
    employer: str
    nominated_by: str
    status: str
    conferred_on: date | None
    publicity: int


@dataclass(frozen=True)
class Integrity:
    """What ties a printed copy to the log (docs/report.md says how to check it).

    ``position`` is the last log position the figures include; ``log_size``
    and ``head`` are the checkpoint of the whole log when the report was
    made (``position`` is smaller only for a report cut at an earlier
    instant). ``chain_ok`` is the hash chain's verification, over the whole
    log or, with ``since_size``, over what was appended after a trusted
    checkpoint of that size. The replay certificate is of the log up to
    ``certificate_position``; ``certificate_supplied`` says it was given,
    not recomputed for this report. Over a broken chain none is computed
    (``None``): a replay of altered events certifies nothing, and may not
    even decode them.
    """

    position: int
    log_size: int
    head: str
    chain_ok: bool
    checked: int
    first_break: str | None
    since_size: int | None
    certificate_position: int | None
    certificate_digest: str | None
    certificate_supplied: bool
    generated_at: datetime
    cut: str | None


@dataclass(frozen=True)
class Body:
    """Everything the page shows above its footer, as of ``on`` (the day open
    rectifications are judged overdue against). ``by_focus_area`` counts
    activities per focus area (the campaign's own first) and state."""

    header: Header
    totals: Totals
    on: date
    by_focus_area: dict[str, dict[str, int]]
    metrics: Listing[MetricTotal]
    targets: Listing[Target]
    activities: Listing[ActivityLine]
    timeline: Timeline
    bulletin: Listing[CategoryLine]
    rectifications: Listing[Rectification]
    scorecard: Listing[ScorecardLine]
    commendations: Listing[Commendation]


@dataclass(frozen=True)
class CampaignReport:
    """The figures (read from the views in one snapshot) and the footer
    (computed from the log afterwards, so a long verification never holds
    the views)."""

    body: Body
    integrity: Integrity
