"""One transition table per aggregate: which command moves which status to which.

The domain guards (:meth:`LedgerAggregate.check_transition`), the events'
``apply``, the testing kit's moves, the projections' status columns and the
scenario's expected statuses all read these tables, so a lifecycle is written
once. A row names the aggregate's command method, the words an
:class:`~quality_ledger.errors.IllegalTransition` uses for it, the statuses it
may start from, and the statuses its events lead to (none: it keeps the status).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from quality_ledger.domain.values import ActivityStatus, CampaignStatus, CommendationStatus, InspectionStatus

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Outcome(Generic[E]):
    """The status an event leaves; ``passed`` tells two outcomes of one event apart."""

    event: str
    status: E
    passed: bool | None = None


@dataclass(frozen=True)
class Transition(Generic[E]):
    """``when`` names a condition beyond the status that admits these sources (the guard decides it)."""

    command: str
    action: str
    sources: tuple[E, ...]
    outcomes: tuple[Outcome[E], ...] = ()
    when: str | None = None


class Lifecycle(Generic[E]):
    """An aggregate's statuses and the transitions between them."""

    def __init__(self, created: Outcome[E], transitions: Iterable[Transition[E]]) -> None:
        self.created = created
        self.transitions = tuple(transitions)
        self.initial = created.status
        # Answers of sources() and after(), kept: every command's guard and
        # most events' apply ask them (a bulk import, a million times), and
        # the table never changes.
        self._sources: dict[tuple[str, frozenset[str]], frozenset[E]] = {}
        self._after: dict[tuple[str, bool | None], E] = {}

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.command for t in self.transitions))

    def rows(self, command: str) -> tuple[Transition[E], ...]:
        rows = tuple(t for t in self.transitions if t.command == command)
        if not rows:
            raise KeyError(f"no transition for {command!r}")
        return rows

    def action(self, command: str) -> str:
        return self.rows(command)[0].action

    def sources(self, command: str, holds: Collection[str] = ()) -> frozenset[E]:
        """The statuses ``command`` may start from, given which ``when`` conditions hold."""
        key = (command, frozenset(holds))
        found = self._sources.get(key)
        if found is None:
            found = frozenset(s for t in self.rows(command) if t.when is None or t.when in holds for s in t.sources)
            self._sources[key] = found
        return found

    def allows(self, command: str, status: E, holds: Collection[str] = ()) -> bool:
        return status in self.sources(command, holds)

    def refuses(self, command: str, status: E) -> bool:
        """Whether ``command`` is refused from ``status`` whatever ``when`` conditions hold."""
        conditions = {t.when for t in self.transitions if t.when is not None}
        return not self.allows(command, status, conditions)

    def outcomes(self) -> tuple[Outcome[E], ...]:
        return (self.created, *(o for t in self.transitions for o in t.outcomes))

    def changes_status(self, event: str) -> bool:
        return any(o.event == event for o in self.outcomes())

    def after(self, event: str, passed: bool | None = None) -> E:
        """The status ``event`` leaves (``KeyError`` if it keeps the status it found)."""
        found = self._after.get((event, passed))
        if found is not None:
            return found
        for o in self.outcomes():
            if o.event == event and o.passed in (None, passed):
                self._after[event, passed] = o.status
                return o.status
        raise KeyError(f"{event} does not change the status")

    def reachable_from(self, status: E) -> frozenset[E]:
        """``status`` and every status some sequence of commands can lead to from it."""
        seen, todo = {status}, [status]
        while todo:
            here = todo.pop()
            for t in self.transitions:
                if here in t.sources:
                    new = {o.status for o in t.outcomes} - seen
                    seen |= new
                    todo += new
        return frozenset(seen)

    def fold(self, events: Iterable[tuple[str, bool | None]]) -> E:
        """The status after ``events`` (name, outcome), from the creation event on."""
        status = self.initial
        for event, passed in events:
            if self.changes_status(event):
                status = self.after(event, passed)
        return status


IN = InspectionStatus
_NONCONFORMING_OPEN = (IN.VERDICT_ISSUED, IN.RECTIFICATION_ORDERED, IN.RECTIFICATION_FAILED)
FINAL_CONFORMING = "final-conforming-verdict"
"""A conforming verdict that no pending objection can change: it may be closed at once."""

INSPECTION: Lifecycle[InspectionStatus] = Lifecycle(
    Outcome("Planned", IN.PLANNED),
    [
        Transition("take_sample", "take a sample", (IN.PLANNED, IN.SAMPLING), (Outcome("SampleTaken", IN.SAMPLING),)),
        Transition("record_result", "record a sample result", (IN.SAMPLING,)),
        Transition("issue_verdict", "issue a verdict", (IN.SAMPLING,), (Outcome("VerdictIssued", IN.VERDICT_ISSUED),)),
        Transition("object_to_result", "object to a result", (IN.VERDICT_ISSUED,)),
        Transition("record_retest", "record a re-test result", (IN.VERDICT_ISSUED,)),
        Transition(
            "order_rectification",
            "order a rectification",
            (IN.VERDICT_ISSUED,),
            (Outcome("RectificationOrdered", IN.RECTIFICATION_ORDERED),),
        ),
        Transition(
            "verify_rectification",
            "verify a rectification",
            (IN.RECTIFICATION_ORDERED,),
            (
                Outcome("RectificationVerified", IN.RECTIFIED, passed=True),
                Outcome("RectificationVerified", IN.RECTIFICATION_FAILED, passed=False),
            ),
        ),
        Transition(
            "impose_penalty", "impose a penalty", _NONCONFORMING_OPEN, (Outcome("PenaltyImposed", IN.PENALISED),)
        ),
        Transition(
            "transfer_case", "transfer the case", _NONCONFORMING_OPEN, (Outcome("CaseTransferred", IN.TRANSFERRED),)
        ),
        Transition("close", "close", (IN.RECTIFIED, IN.PENALISED, IN.TRANSFERRED), (Outcome("Closed", IN.CLOSED),)),
        Transition("close", "close", (IN.VERDICT_ISSUED,), (Outcome("Closed", IN.CLOSED),), when=FINAL_CONFORMING),
    ],
)

A = ActivityStatus
_OPEN_ACTIVITY = (A.PLANNED, A.SCHEDULED, A.POSTPONED)

ACTIVITY: Lifecycle[ActivityStatus] = Lifecycle(
    Outcome("Planned", A.PLANNED),
    [
        Transition("schedule", "schedule", _OPEN_ACTIVITY, (Outcome("Scheduled", A.SCHEDULED),)),
        Transition("start", "start", (A.PLANNED, A.SCHEDULED), (Outcome("Started", A.STARTED),)),
        Transition("report_progress", "report progress", (A.STARTED,)),
        Transition("complete", "complete", (A.STARTED,), (Outcome("Completed", A.COMPLETED),)),
        Transition("postpone", "postpone", (A.PLANNED, A.SCHEDULED), (Outcome("Postponed", A.POSTPONED),)),
        Transition("cancel", "cancel", (*_OPEN_ACTIVITY, A.STARTED), (Outcome("Cancelled", A.CANCELLED),)),
    ],
)
FINISHED_ACTIVITY = frozenset(A) - {s for t in ACTIVITY.transitions for s in t.sources}
"""Statuses no command leaves: completed and cancelled."""

C = CampaignStatus
_OPEN_CAMPAIGN = (C.PLANNED, C.LAUNCHED)

CAMPAIGN: Lifecycle[CampaignStatus] = Lifecycle(
    Outcome("Planned", C.PLANNED),
    [
        Transition("enlist", "enlist a department", _OPEN_CAMPAIGN),
        Transition("launch", "launch", (C.PLANNED,), (Outcome("Launched", C.LAUNCHED),)),
        Transition("add_activity", "plan an activity", _OPEN_CAMPAIGN),
        Transition("add_inspection", "plan an inspection", _OPEN_CAMPAIGN),
        Transition("add_commendation", "nominate a craftsman", _OPEN_CAMPAIGN),
        Transition("publish_bulletin", "publish a bulletin", (C.LAUNCHED, C.CONCLUDED)),
        Transition("conclude", "conclude", (C.LAUNCHED,), (Outcome("Concluded", C.CONCLUDED),)),
    ],
)

N = CommendationStatus

COMMENDATION: Lifecycle[CommendationStatus] = Lifecycle(
    Outcome("Nominated", N.NOMINATED),
    [
        Transition(
            "review", "review", (N.NOMINATED,), (Outcome("Approved", N.APPROVED), Outcome("Rejected", N.REJECTED))
        ),
        Transition("confer", "confer", (N.APPROVED,), (Outcome("Conferred", N.CONFERRED),)),
        Transition("publicise", "publicise", (N.CONFERRED,)),
    ],
)
