"""Plausible commands: whole campaign scenarios, each lifecycle in order.

They follow the business lifecycle with consistent dates, so most steps
succeed and the deep states (re-tests, rectifications, closing) are reached;
with ``noise`` some steps get the wrong actor or are repeated, and are refused.
Aggregate ids derive from natural keys, so a scenario knows every id before
anything runs and can be replayed on as many ledgers as a test likes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.values import (
    ActivityKind,
    Actor,
    FocusArea,
    SubjectKind,
)
from quality_ledger.testing.values import (
    DEPARTMENTS,
    INSPECTION_KINDS,
    ORGANISER,
    PRODUCT_CATEGORIES,
    _one_in,
    actors,
    campaign_periods,
    dates_within,
    metrics,
    names,
    sample_ids,
    shift,
)

__all__ = ["Scenario", "Step", "activity_lifecycles", "inspection_lifecycles", "plan_campaigns", "scenarios"]

Strategy = st.SearchStrategy

# Plausible commands -------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command and who issues it."""

    command: c.Command
    actor: Actor


@dataclass(frozen=True)
class Scenario:
    """A campaign's commands in the order a service would issue them, and the ids they name."""

    campaign_id: UUID
    departments: tuple[str, ...]
    activity_ids: tuple[UUID, ...]
    inspection_ids: tuple[UUID, ...]
    sample_ids: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def aggregate_ids(self) -> tuple[UUID, ...]:
        return (self.campaign_id, *self.activity_ids, *self.inspection_ids)


class _Clock:
    """Business dates that only move forward, as a lifecycle's do."""

    def __init__(self, draw: st.DrawFn, today: date) -> None:
        self.draw = draw
        self.today = today

    def later(self, max_days: int = 3) -> date:
        self.today = shift(self.today, self.draw(st.integers(0, max_days)))
        return self.today


def plan_campaigns(
    periods: Strategy[tuple[date, date]] | None = None, organiser: str = ORGANISER
) -> Strategy[c.PlanCampaign]:
    """``PlanCampaign`` commands with Unicode-rich titles and themes."""

    @st.composite
    def plan(draw: st.DrawFn) -> c.PlanCampaign:
        starts_on, ends_on = draw(campaign_periods() if periods is None else periods)
        return c.PlanCampaign(
            title=draw(names()),
            theme=draw(names()),
            purpose=draw(st.one_of(st.just(""), names())),
            organiser=organiser,
            partners=tuple(draw(st.lists(names(), max_size=2))),
            starts_on=starts_on,
            ends_on=ends_on,
        )

    return plan()


def activity_lifecycles(campaign_id: UUID, lead: Actor, period: tuple[date, date]) -> Strategy[tuple[UUID, list[Step]]]:
    """An activity's id and its steps: planned, maybe scheduled or postponed,
    started, progress reported, then completed, cancelled or left running."""

    @st.composite
    def lifecycle(draw: st.DrawFn) -> tuple[UUID, list[Step]]:
        targets = draw(st.dictionaries(metrics(), st.integers(1, 200), max_size=2))
        plan = c.PlanActivity(
            campaign_id=campaign_id,
            title=draw(names()),
            lead_department=lead.department,
            focus_area=draw(st.sampled_from(FocusArea)),
            activity_kind=draw(st.sampled_from(ActivityKind)),
            targets=targets,
        )
        activity_id = plan.new_id()
        clock = _Clock(draw, draw(dates_within(*period)))
        commands: list[c.Command] = [plan]
        if draw(st.booleans()):
            starts_on = clock.later()
            ends_on = clock.later(10)
            place = draw(names())
            commands.append(
                c.ScheduleActivity(activity_id=activity_id, starts_on=starts_on, ends_on=ends_on, place=place)
            )
        if draw(_one_in(4)):
            commands.append(c.PostponeActivity(activity_id=activity_id, reason=draw(names())))
            starts_on = clock.later(10)
            ends_on = clock.later(10)
            place = draw(names())
            commands.append(
                c.ScheduleActivity(activity_id=activity_id, starts_on=starts_on, ends_on=ends_on, place=place)
            )
        commands.append(c.StartActivity(activity_id=activity_id, started_on=clock.later()))
        for metric in draw(st.lists(st.sampled_from(tuple(sorted(targets))), max_size=3)) if targets else []:
            amount = draw(st.integers(0, 60))
            commands.append(
                c.ReportProgress(activity_id=activity_id, metric=metric, amount=amount, reported_on=clock.later())
            )
        ending = draw(st.sampled_from(("complete", "complete", "cancel", "running")))
        if ending == "complete":
            commands.append(
                c.CompleteActivity(activity_id=activity_id, completed_on=clock.later(), outcome=draw(names()))
            )
        elif ending == "cancel":
            commands.append(c.CancelActivity(activity_id=activity_id, reason=draw(names())))
        return activity_id, [Step(command, lead) for command in commands]

    return lifecycle()


def inspection_lifecycles(
    campaign_id: UUID, inspector: Actor, period: tuple[date, date], activity_ids: Sequence[UUID] = ()
) -> Strategy[tuple[UUID, list[Step]]]:
    """An inspection's id and its steps, following the spot-check path:
    planned, samples taken and tested, verdict, objections and re-tests, then
    rectification (verified), penalty or transfer, and closing. Dates move
    forward; an objection now and then comes after the window."""

    @st.composite
    def lifecycle(draw: st.DrawFn) -> tuple[UUID, list[Step]]:
        plan = c.PlanInspection(
            campaign_id=campaign_id,
            activity_id=draw(st.one_of(st.none(), st.sampled_from(tuple(activity_ids)))) if activity_ids else None,
            reference=draw(names()),
            inspecting_department=inspector.department,
            inspection_kind=draw(st.sampled_from(INSPECTION_KINDS)),
            subject_name=draw(names()),
            subject_kind=draw(st.sampled_from(SubjectKind)),
            product_category=draw(st.one_of(st.sampled_from(PRODUCT_CATEGORIES), names())),
            planned_on=draw(dates_within(*period)),
        )
        inspection_id = plan.new_id()
        clock = _Clock(draw, plan.planned_on)
        commands: list[c.Command] = [plan]
        samples = draw(st.lists(sample_ids(), min_size=1, max_size=3, unique_by=str.strip))
        for sample_id in samples:
            commands.append(
                c.TakeSample(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    product=draw(names()),
                    batch=draw(st.from_regex(r"[0-9]{6}-[A-Z]", fullmatch=True)),
                    taken_on=clock.later(),
                )
            )
        failed: set[str] = set()
        for sample_id in samples:
            passed = draw(st.booleans())
            items = () if passed else tuple(draw(st.lists(names(), min_size=1, max_size=2)))
            if not passed:
                failed.add(sample_id)
            commands.append(
                c.RecordSampleResult(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    passed=passed,
                    nonconforming_items=items,
                    tested_on=clock.later(),
                )
            )
        notified_on = clock.later()
        commands.append(c.IssueVerdict(inspection_id=inspection_id, notified_on=notified_on))
        objected = draw(st.lists(st.sampled_from(tuple(sorted(failed))), unique=True)) if failed else []
        for sample_id in objected:
            lodged_on = shift(notified_on, draw(st.integers(0, OBJECTION_WINDOW.days + 2)))
            clock.today = max(clock.today, lodged_on)
            commands.append(c.ObjectToResult(inspection_id=inspection_id, sample_id=sample_id, lodged_on=lodged_on))
        for sample_id in objected:
            passed = draw(st.booleans())
            items = () if passed else tuple(draw(st.lists(names(), min_size=1, max_size=2)))
            if passed:
                failed.discard(sample_id)
            commands.append(
                c.RecordRetestResult(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    passed=passed,
                    nonconforming_items=items,
                    tested_on=clock.later(),
                )
            )
        if failed:
            commands.extend(draw(_follow_ups(inspection_id, clock)))
        if not draw(_one_in(5)):
            commands.append(c.CloseInspection(inspection_id=inspection_id, closed_on=clock.later()))
        return inspection_id, [Step(command, inspector) for command in commands]

    return lifecycle()


def _follow_ups(inspection_id: UUID, clock: _Clock) -> Strategy[list[c.Command]]:
    """What follows a nonconforming verdict: rectification, penalty, transfer, or nothing yet."""

    @st.composite
    def follow_ups(draw: st.DrawFn) -> list[c.Command]:
        path = draw(st.sampled_from(("rectify", "rectify", "penalty", "transfer", "nothing")))
        commands: list[c.Command] = []
        if path == "rectify":
            ordered_on = clock.later()
            commands.append(
                c.OrderRectification(
                    inspection_id=inspection_id,
                    ordered_on=ordered_on,
                    due_on=shift(ordered_on, 30 - draw(st.integers(0, 30))),
                    requirements=draw(names()),
                )
            )
            if draw(_one_in(5)):
                return commands  # not followed up yet
            passed = draw(st.booleans())
            notes = draw(st.one_of(st.just(""), names()))
            commands.append(
                c.VerifyRectification(
                    inspection_id=inspection_id, verified_on=clock.later(10), passed=passed, notes=notes
                )
            )
            if passed:
                return commands
            path = draw(st.sampled_from(("penalty", "transfer", "nothing")))
        if path == "penalty":
            amount = draw(st.decimals(min_value=0, max_value=1_000_000, places=2))
            commands.append(
                c.ImposePenalty(
                    inspection_id=inspection_id, amount=amount, reason=draw(names()), decided_on=clock.later()
                )
            )
        elif path == "transfer":
            commands.append(
                c.TransferCase(inspection_id=inspection_id, authority=draw(names()), transferred_on=clock.later())
            )
        return commands

    return follow_ups()


def _interleave(draw: st.DrawFn, streams: list[list[Step]]) -> list[Step]:
    """Merge the streams, each kept in its own order, as concurrent work would."""
    merged: list[Step] = []
    pending = [list(s) for s in streams if s]
    while pending:
        stream = pending[draw(st.integers(0, len(pending) - 1))]
        merged.append(stream.pop(0))
        pending = [s for s in pending if s]
    return merged


def scenarios(
    periods: Strategy[tuple[date, date]] | None = None,
    *,
    max_activities: int = 2,
    max_inspections: int = 3,
    noise: bool = False,
) -> Strategy[Scenario]:
    """A whole campaign: planned, departments enlisted, launched; activities
    and inspections run side by side; concluded (with or without an override).

    With ``noise``, about one step in eight is issued by a random actor or
    repeated, so some commands are refused along the way. Ids derive from
    natural keys, so the same scenario replays identically on any ledger.
    """

    @st.composite
    def scenario(draw: st.DrawFn) -> Scenario:
        organiser = draw(actors([ORGANISER]))
        plan = draw(plan_campaigns(periods))
        campaign_id = plan.new_id()
        period = (plan.starts_on, plan.ends_on)
        enlisted = draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, max_size=3, unique_by=lambda d: d[0]))
        clerks = {code: draw(actors([code])) for code, _, _ in enlisted}
        head = [Step(plan, organiser)]
        for code, name_zh, name_en in enlisted:
            enlist = c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh=name_zh, name_en=name_en)
            head.append(Step(enlist, organiser))
        launched_on = draw(dates_within(*period))
        if not draw(_one_in(6)):
            head.append(Step(c.LaunchCampaign(campaign_id=campaign_id, launched_on=launched_on), organiser))

        streams: list[list[Step]] = []
        activity_ids: list[UUID] = []
        for _ in range(draw(st.integers(0, max_activities))):
            lead = clerks[draw(st.sampled_from(tuple(sorted(clerks))))]
            activity_id, steps = draw(activity_lifecycles(campaign_id, lead, period))
            activity_ids.append(activity_id)
            streams.append(steps)
        inspection_ids: list[UUID] = []
        samples: set[str] = set()
        for _ in range(draw(st.integers(0, max_inspections))):
            inspector = clerks[draw(st.sampled_from(tuple(sorted(clerks))))]
            inspection_id, steps = draw(inspection_lifecycles(campaign_id, inspector, period, activity_ids))
            inspection_ids.append(inspection_id)
            samples.update(s.command.sample_id for s in steps if isinstance(s.command, c.TakeSample))
            streams.append(steps)
        body = _interleave(draw, streams)

        conclude = c.ConcludeCampaign(
            campaign_id=campaign_id,
            concluded_on=shift(launched_on, draw(st.integers(0, 40))),
            summary=draw(names()),
            override_reason=draw(st.one_of(st.none(), names())),
        )
        body.insert(len(body) - draw(st.integers(0, len(body) // 2)), Step(conclude, organiser))
        steps = head + body
        if noise:
            steps = _with_noise(draw, steps)
        return Scenario(
            campaign_id=campaign_id,
            departments=tuple(code for code, _, _ in enlisted),
            activity_ids=tuple(dict.fromkeys(activity_ids)),
            inspection_ids=tuple(dict.fromkeys(inspection_ids)),
            sample_ids=tuple(sorted(samples)),
            steps=tuple(steps),
        )

    return scenario()


def _with_noise(draw: st.DrawFn, steps: list[Step]) -> list[Step]:
    noisy: list[Step] = []
    for step in steps:
        match draw(st.integers(0, 15)):
            case 15:
                noisy.append(Step(step.command, draw(actors())))
            case 14:
                noisy.extend([step, step])
            case _:
                noisy.append(step)
    return noisy
