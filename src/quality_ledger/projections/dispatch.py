"""Which view handler applies an event: one handler per event type, found by
the event's exact type, and the one list of types no view handles on purpose.

Each view module registers its handlers here with :func:`handler`;
:mod:`.schema` imports every view module, and the package imports it, so
the registry is complete whenever any part of the projections is loaded.
Handlers only move values from events into rows; every decision (verdicts,
states) was taken by the aggregate and is in the event, so the views cannot
disagree with the write side about a rule.
"""

from __future__ import annotations

from functools import singledispatch

from quality_ledger.command_records import CommandRecord
from quality_ledger.domain.base import DomainEvent
from quality_ledger.domain.campaign import Campaign
from quality_ledger.erasures import Erasure
from quality_ledger.projections.row_cache import RowCache

NOT_PROJECTED: dict[type[DomainEvent], str] = {
    Campaign.ActivityAdded: "the activity's own Activity.Planned adds its row",
    Campaign.InspectionAdded: "the inspection's own Inspection.Planned adds its row",
    Campaign.CommendationAdded: "the nomination's own Commendation.Nominated adds its row",
    CommandRecord.Accepted: "idempotency bookkeeping: no figure depends on it",
    Erasure.SubjectForgotten: "an erasure changes no figure: the views are rebuilt after it (ledger.forget)",
}
"""Event types the state views leave alone on purpose, each with the reason.

The one place that says so: any other type without a handler of its own
stops the views (:class:`Unhandled`, reported as ``ProjectionFailed``), so a
forgotten handler cannot drift unnoticed (a rebuild runs the same handlers,
so ``verify_views`` would never see it). The audit trail has no such list:
it shows every event, these included (``audit_trail.SUMMARIES``).
"""


class Unhandled(LookupError):
    """An event type with no view handler that is not declared in :data:`NOT_PROJECTED`."""

    def __init__(self, kind: type) -> None:
        super().__init__(
            f"no view handles {kind.__module__}:{kind.__qualname__}: add a handler in "
            "the view's module (quality_ledger.projections), or declare it in NOT_PROJECTED"
        )


def project(event: DomainEvent, rows: RowCache, position: int) -> None:
    """Apply one event to the state views, by the handler of its exact type.

    Exact, not by inheritance: a subclass of a handled event is a new stored
    type with its own name, and must be handled (or declared) on its own.
    """
    kind = type(event)
    handle = _handle.registry.get(kind)
    if handle is not None:
        handle(event, rows, position)
    elif kind not in NOT_PROJECTED:
        raise Unhandled(kind)


def handles(kind: type) -> bool:
    """Whether ``kind`` has a view handler of its own (for the completeness tests)."""
    return kind in _handle.registry


@singledispatch
def _handle(event: DomainEvent, rows: RowCache, position: int) -> None:
    """Only the registry matters: :func:`project` never reaches this fallback."""
    raise Unhandled(type(event))


handler = _handle.register
"""Registers a view handler for the event type its first parameter is annotated
with: ``@handler`` over ``def _(e: Campaign.Planned, rows: RowCache, position: int)``."""
