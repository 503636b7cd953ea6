"""The activity: one department's piece of work within a campaign."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.domain.transitions import ACTIVITY, FINISHED_ACTIVITY
from quality_ledger.domain.values import ActivityKind, ActivityStatus, FocusArea, Frozen
from quality_ledger.renamed import old_names


class Progress(Frozen):
    metric: str
    target: int
    achieved: int = 0


class ActivityState(AggregateState):
    campaign_id: UUID
    title: str
    lead_department: str
    focus_area: FocusArea
    activity_kind: ActivityKind
    partners: tuple[str, ...]
    progress: tuple[Progress, ...]
    status: ActivityStatus = ACTIVITY.initial
    starts_on: date | None = None
    ends_on: date | None = None
    place: str | None = None
    started_on: date | None = None
    completed_on: date | None = None
    outcome: str | None = None
    reason: str | None = None

    def achieved(self, metric: str) -> int:
        return next(p.achieved for p in self.progress if p.metric == metric)


class Activity(LedgerAggregate[ActivityState]):
    kind = "activity"
    state_model = ActivityState
    lifecycle = ACTIVITY

    class Event(DomainEvent):
        pass

    class Planned(CreationEvent, Event):
        campaign_id: UUID
        title: str
        lead_department: str
        focus_area: FocusArea
        activity_kind: ActivityKind
        partners: tuple[str, ...]
        targets: dict[str, int]

        def apply(self, aggregate: Any) -> None:
            aggregate.state = ActivityState(
                id=self.originator_id,
                progress=tuple(Progress(metric=m, target=t) for m, t in self.targets.items()),
                **self.payload("targets"),
            )

    class Scheduled(Event):
        starts_on: date
        ends_on: date
        place: str

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(
                status=ACTIVITY.after("Scheduled"),
                reason=None,
                **self.model_dump(include={"starts_on", "ends_on", "place"}),
            )

    class Started(Event):
        started_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=ACTIVITY.after("Started"), started_on=self.started_on)

    class ProgressReported(Event):
        metric: str
        amount: int
        reported_on: date

        def apply(self, aggregate: Any) -> None:
            progress = tuple(
                p.replaced(achieved=p.achieved + self.amount) if p.metric == self.metric else p
                for p in aggregate.state.progress
            )
            aggregate.evolve(progress=progress)

    class Completed(Event):
        completed_on: date
        outcome: str

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=ACTIVITY.after("Completed"), completed_on=self.completed_on, outcome=self.outcome)

    class Postponed(Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=ACTIVITY.after("Postponed"), reason=self.reason)

    class Cancelled(Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=ACTIVITY.after("Cancelled"), reason=self.reason)

    # Commands -------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        activity_id: UUID,
        *,
        campaign_id: UUID,
        title: str,
        lead_department: str,
        focus_area: FocusArea,
        activity_kind: ActivityKind,
        partners: Sequence[str] = (),
        targets: Mapping[str, int] | None = None,
    ) -> Activity:
        cls.check_text(title, "activity-title", "an activity's title")
        for metric, target in (targets or {}).items():
            cls.check(target > 0, "target-positive", f"target {metric} must be positive, got {target}")
        return cls._create(
            cls.Planned,
            id=activity_id,
            campaign_id=campaign_id,
            title=title,
            lead_department=lead_department,
            focus_area=focus_area,
            activity_kind=activity_kind,
            partners=tuple(partners),
            targets=dict(targets or {}),
        )

    def schedule(self, starts_on: date, ends_on: date, place: str) -> None:
        self.check_transition("schedule")
        self.check_order(starts_on, ends_on, "activity-period", "an activity ends on or after it starts")
        self.check_text(place, "activity-place", "a place")
        self.trigger_event(self.Scheduled, starts_on=starts_on, ends_on=ends_on, place=place)

    def start(self, started_on: date) -> None:
        self.check_transition("start")
        self.trigger_event(self.Started, started_on=started_on)

    def report_progress(self, metric: str, amount: int, reported_on: date) -> None:
        self.check_transition("report_progress")
        self.check(
            any(p.metric == metric for p in self.state.progress),
            "progress-declared-metric",
            f"{metric!r} is not a declared target of this activity",
        )
        self.check(amount >= 0, "progress-not-negative", f"progress {amount} is negative")
        self.trigger_event(self.ProgressReported, metric=metric, amount=amount, reported_on=reported_on)

    def complete(self, completed_on: date, outcome: str) -> None:
        self.check_transition("complete")
        self.check_text(outcome, "completion-outcome", "an outcome")
        if self.state.started_on is not None:
            self.check_order(self.state.started_on, completed_on, "complete-after-start", "completed before it started")
        self.trigger_event(self.Completed, completed_on=completed_on, outcome=outcome)

    def postpone(self, reason: str) -> None:
        self.check_transition("postpone")
        self.check_text(reason, "postpone-reason", "a reason to postpone")
        self.trigger_event(self.Postponed, reason=reason)

    def cancel(self, reason: str) -> None:
        self.check_transition("cancel")
        self.check_text(reason, "cancel-reason", "a reason to cancel")
        self.trigger_event(self.Cancelled, reason=reason)

    @property
    def is_finished(self) -> bool:
        return self.state.status in FINISHED_ACTIVITY


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"ActivityView": "ActivityState"})
