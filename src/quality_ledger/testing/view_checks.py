"""The live views against their independent models, every difference in words.

:func:`check_views` asks the ledger each view's question and compares the
answer with :mod:`~quality_ledger.testing.view_models`: the activity board,
the inspection register, the live bulletin and each published one, the
department scorecard per campaign, and the audit trail over the whole log.
Each line it returns starts with the view's name, then where (campaign,
bulletin), the row (by its key) and the columns that differ, live against
model: enough to see which handler or query is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from quality_ledger.domain.values import Frozen
from quality_ledger.projections import AuditEntry
from quality_ledger.testing import view_models as model
from quality_ledger.testing.state import LedgerState

if TYPE_CHECKING:
    from quality_ledger.ledger import Ledger

__all__ = ["VIEWS", "check_audit_trail", "check_views"]

VIEWS = ("activity_board", "inspection_register", "bulletin", "department_scorecard", "audit_trail")
"""The views checked, as each difference line names them."""

TRAIL_PAGE = 10_000
"""Audit-trail entries read per page: the largest page the ledger serves."""


def check_views(
    ledger: Ledger, state: LedgerState, campaign_ids: Iterable[UUID] | None = None, as_of: date | None = None
) -> list[str]:
    """Every difference between the views and their models; empty when they agree.

    ``state`` is the ledger's state now (``LedgerState.read(ledger, ...)``),
    holding at least ``campaign_ids`` (default: every campaign it holds).
    ``as_of`` is the day "overdue" is judged on (default today, UTC, as the
    views' own default). The views are read through the public ``Ledger``
    methods, so a ledger that distorts them (a planted bug) is caught too.
    """
    day = as_of or datetime.now(UTC).date()
    lines: list[str] = []
    for campaign_id in campaign_ids if campaign_ids is not None else state.campaigns:
        if campaign_id not in state.campaigns:
            lines.append(f"check_views: campaign {campaign_id} is not in the state given: read it first")
            continue
        where = f"campaign {campaign_id}"
        lines += _compare(
            "activity_board",
            where,
            ledger.activity_board(campaign_id),
            model.activity_board(state, campaign_id),
            "activity_id",
        )
        lines += _compare(
            "inspection_register",
            where,
            ledger.inspection_register(campaign_id, day),
            model.inspection_register(state, campaign_id, day),
            "inspection_id",
        )
        for bulletin_id in (None, *(b.bulletin_id for b in state.campaigns[campaign_id].bulletins)):
            lines += _compare(
                "bulletin",
                where if bulletin_id is None else f"{where}, published bulletin {bulletin_id}",
                ledger.bulletin(campaign_id, bulletin_id),
                model.bulletin(state, campaign_id, bulletin_id),
                "product_category",
            )
        lines += _compare(
            "department_scorecard",
            where,
            ledger.department_scorecard(campaign_id, day),
            model.department_scorecard(state, campaign_id, day),
            "code",
        )
    return lines + check_audit_trail(ledger, state)


def check_audit_trail(ledger: Ledger, state: LedgerState | None = None) -> list[str]:
    """The whole trail against the log (``ledger.events()``): every column but the
    summary's wording, which must only be there; and, for each aggregate
    ``state`` holds, versions 1 to its current version, in order."""
    live = list(_trail(ledger))
    lines = _compare(
        "audit_trail",
        "whole log",
        [entry.model_copy(update={"summary": ""}) for entry in live],
        model.audit_trail(ledger.events(), state),
        "position",
    )
    lines += [f"audit_trail, whole log: position {e.position}: empty summary" for e in live if not e.summary.strip()]
    if state is not None:
        versions: dict[UUID, list[int]] = {}
        for entry in live:
            versions.setdefault(entry.aggregate_id, []).append(entry.version)
        for views in state.as_dict().values():
            for aggregate_id, aggregate in views.items():
                shown = versions.get(aggregate_id, [])
                if shown != list(range(1, aggregate.version + 1)):
                    lines.append(
                        f"audit_trail, whole log: aggregate {aggregate_id}: versions {shown} listed, "
                        f"but it is at version {aggregate.version}"
                    )
    return lines


def _trail(ledger: Ledger) -> Iterator[AuditEntry]:
    after: int | None = 0
    while after is not None:
        page = ledger.audit_trail(after=after, limit=TRAIL_PAGE)
        yield from page.entries
        after = page.next_after


def _compare(view: str, where: str, live: Sequence[Frozen], expected: Sequence[Frozen], key: str) -> list[str]:
    """Row by row, matched by ``key``: rows missing, rows extra, columns that differ;
    else (same rows) the order or a repeated row."""
    if list(live) == list(expected):
        return []
    at = f"{view}, {where}"
    mine: dict[Any, Frozen] = {getattr(row, key): row for row in live}
    theirs: dict[Any, Frozen] = {getattr(row, key): row for row in expected}
    lines = []
    for k in dict.fromkeys([*theirs, *mine]):
        shown, wanted = mine.get(k), theirs.get(k)
        if shown is None:
            lines.append(f"{at}: {key} {k}: missing from the view; model {wanted!r}")
        elif wanted is None:
            lines.append(f"{at}: {key} {k}: in the view only: {shown!r}")
        elif shown != wanted:
            left, right = shown.model_dump(), wanted.model_dump()
            columns = "; ".join(f"{c}: live {left[c]!r} != model {right[c]!r}" for c in left if left[c] != right[c])
            lines.append(f"{at}: {key} {k}: {columns}")
    if not lines:
        order = [getattr(row, key) for row in live], [getattr(row, key) for row in expected]
        lines.append(f"{at}: rows out of order or repeated: live {order[0]} != model {order[1]}")
    return lines
