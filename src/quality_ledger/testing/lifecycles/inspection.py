"""An inspection's lifecycle in order, along the spot-check path: samples, results,
verdict, objections and re-tests, then the follow-ups of a nonconforming verdict and closing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.values import Actor, SubjectKind
from quality_ledger.testing.lifecycles.base import Step, Strategy, _Clock
from quality_ledger.testing.values import (
    INSPECTION_KINDS,
    PRODUCT_CATEGORIES,
    _one_in,
    dates_within,
    names,
    sample_ids,
    shift,
)

__all__ = ["inspection_lifecycles"]


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
            passed, items = _outcome(draw)
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
            passed, items = _outcome(draw)
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


def _outcome(draw: st.DrawFn) -> tuple[bool, tuple[str, ...]]:
    """A test's outcome: passed, or failed with one or two nonconforming items."""
    passed = draw(st.booleans())
    return passed, () if passed else tuple(draw(st.lists(names(), min_size=1, max_size=2)))
