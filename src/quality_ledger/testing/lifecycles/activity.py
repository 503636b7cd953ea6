"""An activity's lifecycle in order: planned, maybe scheduled or postponed, started,
progress reported, then completed, cancelled or left running."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.values import ActivityKind, Actor, FocusArea
from quality_ledger.testing.lifecycles.base import Step, Strategy, _Clock
from quality_ledger.testing.values import _one_in, dates_within, metrics, names

__all__ = ["activity_lifecycles"]


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
