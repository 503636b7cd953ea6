"""A whole campaign in order: planned, departments enlisted, launched, activities
and inspections run side by side (their lifecycles interleaved), concluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.testing.lifecycles.activity import activity_lifecycles
from quality_ledger.testing.lifecycles.base import Step, Strategy
from quality_ledger.testing.lifecycles.inspection import inspection_lifecycles
from quality_ledger.testing.values import (
    DEPARTMENTS,
    ORGANISER,
    _one_in,
    actors,
    campaign_periods,
    dates_within,
    names,
    shift,
)

__all__ = ["Scenario", "plan_campaigns", "scenarios"]


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
