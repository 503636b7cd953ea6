"""Six bugs a downstream service could plant, one at a time, for the kit to find.

Each is a ledger that differs from the library's in one rule, as a service's
own handler or view code could: the kit's promise is that ``find_failure``
finds each and reduces it to at most 8 commands (``test_planted_bugs.py``
checks what it finds; ``benchmarks/bench_planted.py`` measures how fast, over
many seeds). Written as a service would, outside the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.base import LedgerAggregate
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.values import ActivityStatus
from quality_ledger.errors import IllegalTransition
from quality_ledger.handlers import Changes, CommandContext, handle, inspected, led, lodged_by
from quality_ledger.projections import ActivityRow, ScorecardLine
from quality_ledger.receipts import Receipt
from quality_ledger.testing.machine import LedgerMachine

Handler = Callable[[c.Command, CommandContext], Changes]


@contextmanager
def lenient(aggregate: LedgerAggregate[Any], rule: str) -> Iterator[None]:
    """``aggregate`` with the check of ``rule`` lost, for one command."""
    strict = aggregate.check
    aggregate.check = lambda condition, name, detail: strict(condition or name == rule, name, detail)  # type: ignore[method-assign]
    try:
        yield
    finally:
        del aggregate.check


def late_objection(command: c.Command, ctx: CommandContext) -> Changes:
    """The objection window is not checked."""
    if not isinstance(command, c.ObjectToResult):
        return handle(command, ctx)
    inspection = inspected(command, ctx, command.inspection_id)
    with lenient(inspection, OBJECTION_WINDOW.id):
        inspection.object_to_result(command.sample_id, command.lodged_on, lodged_by=lodged_by(ctx, inspection.state))
    return Changes(inspection)


def penalty_on_conforming(command: c.Command, ctx: CommandContext) -> Changes:
    """A penalty needs a verdict, not a nonconforming one."""
    if not isinstance(command, c.ImposePenalty):
        return handle(command, ctx)
    inspection = inspected(command, ctx, command.inspection_id)
    with lenient(inspection, "penalty-after-nonconforming"):
        inspection.impose_penalty(command.amount, command.reason, command.decided_on)
    return Changes(inspection)


def progress_after_completion(command: c.Command, ctx: CommandContext) -> Changes:
    """Progress is recorded on a completed activity too."""
    if not isinstance(command, c.ReportProgress):
        return handle(command, ctx)
    activity = led(command, ctx, command.activity_id)
    if activity.state.status is not ActivityStatus.COMPLETED:
        return handle(command, ctx)
    activity.check_transition = lambda *_: None  # type: ignore[method-assign]
    try:
        activity.report_progress(command.metric, command.amount, command.reported_on)
    finally:
        del activity.check_transition
    return Changes(activity)


class RecordsThenRaises(Ledger):
    """Taking a sample is recorded, then refused (an error raised after the commit)."""

    def execute(self, command: c.Command, actor: Actor, *, correlation_id: UUID | None = None) -> Receipt:
        receipt = super().execute(command, actor, correlation_id=correlation_id)
        if isinstance(command, c.TakeSample) and receipt.events:
            raise IllegalTransition("inspection", "sampling", "take a sample")
        return receipt


class CancelledCountedCompleted(Ledger):
    """The scorecard counts cancelled activities as completed."""

    def department_scorecard(self, campaign_id: UUID, as_of: Any = None) -> list[ScorecardLine]:
        return [
            line.model_copy(update={"activities_completed": line.activities_completed + line.activities_cancelled})
            for line in super().department_scorecard(campaign_id, as_of)
        ]


class BoardLosesOutcome(Ledger):
    """The activity board drops a completed activity's outcome."""

    def activity_board(self, campaign_id: UUID) -> list[ActivityRow]:
        return [row.model_copy(update={"outcome": None}) for row in super().activity_board(campaign_id)]


def _with_handler(handler: Handler) -> type[Ledger]:
    return type(f"Ledger_{handler.__name__}", (Ledger,), {"handle": staticmethod(handler)})


def machine_for(ledger: type[Ledger]) -> type[LedgerMachine]:
    class Planted(LedgerMachine):
        def make_ledger(self) -> Ledger:
            return ledger.open("memory://")

    Planted.__name__ = Planted.__qualname__ = f"Machine_{ledger.__name__}"
    return Planted


PLANTED: dict[str, type[LedgerMachine]] = {
    "late objection": machine_for(_with_handler(late_objection)),
    "penalty on a conforming inspection": machine_for(_with_handler(penalty_on_conforming)),
    "progress after completion": machine_for(_with_handler(progress_after_completion)),
    "a handler that records, then raises": machine_for(RecordsThenRaises),
    "cancelled counted as completed": machine_for(CancelledCountedCompleted),
    "activity_board bug": machine_for(BoardLosesOutcome),
}
