"""Steps at the edges of the rules: each window rule's first and last days and
the days just outside; what the transition tables refuse from the status an
aggregate is in; and the follow-ups that need a nonconforming verdict, on an
inspection without one. A state machine expects the ledger to accept a step
just inside a rule and the rule to refuse one just outside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.rules import OBJECTION_WINDOW, WindowRule
from quality_ledger.domain.transitions import ACTIVITY, COMMENDATION, INSPECTION, Lifecycle
from quality_ledger.domain.values import Verdict
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.moves.activity import _activity_offers
from quality_ledger.testing.moves.commendation import _commendation_offers
from quality_ledger.testing.moves.inspection import _holds, _inspection_offers
from quality_ledger.testing.pools import Maker, Offer, Strategy, T, _actor_of, _pick, _responsible
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import ORGANISER, _one_in

__all__ = ["WINDOW_EDGES", "Edge", "EdgeStep", "edge_steps", "refused_steps"]


@dataclass(frozen=True)
class EdgeStep(Step):
    """A step at the edge of a rule: just ``inside`` it (the ledger must accept it),
    or just outside (``rule`` must refuse it: nothing is recorded)."""

    rule: str = ""
    inside: bool = False


@dataclass(frozen=True, eq=False)
class Edge:
    """A step at a rule's edge, drawn when called: ``inside`` the rule (to be
    accepted) or just outside it (``rule`` must refuse it)."""

    state: LedgerState
    maker: Maker
    rule: str
    inside: bool

    def __call__(self, draw: st.DrawFn) -> EdgeStep:
        command = self.maker(draw)
        who = _responsible(self.state, command) or [ORGANISER]
        return EdgeStep(command, draw(_actor_of(who)), rule=self.rule, inside=self.inside)


WindowStarts = Callable[[LedgerState, UUID | None], list[tuple[date, Callable[[date], Maker]]]]
"""For a window rule: the windows open in a state (of one aggregate, if given), each
as its first day and a maker of the command that the rule judges, lodged on a given day."""


def _objection_windows(state: LedgerState, aggregate_id: UUID | None) -> list[tuple[date, Callable[[date], Maker]]]:
    windows: list[tuple[date, Callable[[date], Maker]]] = []
    for inspection in state.inspections.values():
        if aggregate_id not in (None, inspection.id) or inspection.notified_on is None:
            continue
        if not INSPECTION.allows("object_to_result", inspection.status, _holds(inspection)):
            continue
        objectable = [s.sample_id for s in inspection.samples if s.result and not s.result.passed and not s.objected_on]
        if objectable:
            windows.append((inspection.notified_on, _objection_on(inspection.id, objectable)))
    return windows


def _objection_on(inspection_id: UUID, objectable: Sequence[str]) -> Callable[[date], Maker]:
    def on(day: date) -> Maker:
        def make(draw: st.DrawFn) -> c.Command:
            return c.ObjectToResult(inspection_id=inspection_id, sample_id=draw(_pick(objectable)), lodged_on=day)

        return make

    return on


WINDOW_EDGES: dict[WindowRule, WindowStarts] = {OBJECTION_WINDOW: _objection_windows}
"""Every window rule of :mod:`quality_ledger.domain.rules`, and where its windows open:
the kit draws steps on its first and last days and on the days just outside."""

_GUARDED = {
    "order_rectification": "rectification-after-nonconforming",
    "impose_penalty": "penalty-after-nonconforming",
    "transfer_case": "transfer-after-nonconforming",
}
"""Inspection steps that the table allows after any verdict, but that the domain
refuses unless the verdict is final and nonconforming: by these rules."""


def _edges(state: LedgerState, aggregate_id: UUID | None = None, *, out_of_turn: bool = True) -> list[Edge]:
    """Steps at the edge of every rule ``state`` (or one aggregate of it) is near:
    each window rule's first and last days and the days just outside them; what
    the transition tables refuse from the status each aggregate is in (progress
    after completion, a sample after the verdict); and the follow-ups that need
    a nonconforming verdict, on an inspection without one. Without ``out_of_turn``,
    only the edges of named rules (windows and follow-ups)."""
    edges: list[Edge] = []
    for rule, windows in WINDOW_EDGES.items():
        for start, on in windows(state, aggregate_id):
            for days in (-1, 0, rule.days, rule.days + 1):
                try:
                    day = start + timedelta(days=days)
                except OverflowError:
                    continue
                edges.append(_edge(state, on(day), rule.id, inside=rule.holds(start, day)))

    def chosen(views: Mapping[UUID, T]) -> list[T]:
        return [v for i, v in views.items() if aggregate_id in (None, i)]

    for activity in chosen(state.activities):
        campaign = state.campaigns[activity.campaign_id]
        if out_of_turn:
            edges += _out_of_turn(state, ACTIVITY, activity.status, _activity_offers(campaign, activity))
    for inspection in chosen(state.inspections):
        offers = _inspection_offers(inspection)
        if out_of_turn:
            # The guarded follow-ups can be drawn in any status (only a valid step needs the verdict).
            anyhow = [(m, kind, maker, ok or m in _GUARDED) for m, kind, maker, ok in offers]
            edges += _out_of_turn(state, INSPECTION, inspection.status, anyhow)
        if not (inspection.has_final_verdict and inspection.verdict is Verdict.NONCONFORMING):
            edges += [
                _edge(state, maker, _GUARDED[method], inside=False)
                for method, _, maker, _ in offers
                if method in _GUARDED and INSPECTION.allows(method, inspection.status)
            ]
    for commendation in chosen(state.commendations):
        if out_of_turn:
            edges += _out_of_turn(state, COMMENDATION, commendation.status, _commendation_offers(state, commendation))
    return edges


def _out_of_turn(
    state: LedgerState, lifecycle: Lifecycle[Any], status: Any, offers: Sequence[Offer], *, only_closed: bool = False
) -> list[Edge]:
    """The drawable offers that ``lifecycle`` refuses from ``status`` whatever conditions hold
    (with ``only_closed``, only those a status leading here allowed: progress after completion)."""
    closed = _just_closed(lifecycle, status) if only_closed else None
    return [
        _edge(state, maker, f"transition table: cannot {lifecycle.action(method)} when {status}", inside=False)
        for method, _, maker, ok in offers
        if ok and lifecycle.refuses(method, status) and (closed is None or method in closed)
    ]


def _closed_edges(state: LedgerState, aggregate_id: UUID) -> list[Edge]:
    """The steps the last transition of ``aggregate_id`` just closed (see :func:`_out_of_turn`)."""
    if (activity := state.activities.get(aggregate_id)) is not None:
        offers = _activity_offers(state.campaigns[activity.campaign_id], activity)
        return _out_of_turn(state, ACTIVITY, activity.status, offers, only_closed=True)
    if (inspection := state.inspections.get(aggregate_id)) is not None:
        offers = _inspection_offers(inspection)
        return _out_of_turn(state, INSPECTION, inspection.status, offers, only_closed=True)
    if (commendation := state.commendations.get(aggregate_id)) is not None:
        offers = _commendation_offers(state, commendation)
        return _out_of_turn(state, COMMENDATION, commendation.status, offers, only_closed=True)
    return []


def _just_closed(lifecycle: Lifecycle[Any], status: Any) -> set[str]:
    """The commands a status with a transition into ``status`` allowed, and ``status`` refuses."""
    before = {s for t in lifecycle.transitions if any(o.status == status for o in t.outcomes) for s in t.sources}
    return {
        t.command
        for t in lifecycle.transitions
        if any(s in before for s in t.sources) and lifecycle.refuses(t.command, status)
    }


def _edge(state: LedgerState, maker: Maker, rule: str, *, inside: bool) -> Edge:
    return Edge(state, maker, rule, inside)


def edge_steps(state: LedgerState, *, focus: UUID | None = None, only_focus: bool = False) -> Strategy[EdgeStep]:
    """A step at the edge of a rule, for what ``state`` holds (the ``focus`` aggregate's,
    two times in three if it has any, always with ``only_focus``); empty if no rule is near.
    Edges of named rules (windows, follow-ups that need a nonconforming verdict) are
    preferred two times in three over the lifecycle's out-of-turn steps."""
    return _edge_step(state, focus, only_focus)


@st.composite
def _edge_step(draw: st.DrawFn, state: LedgerState, focus: UUID | None, only_focus: bool) -> EdgeStep:
    focused = _edges(state, focus) if focus is not None else []
    use_focus = bool(focused) and (only_focus or not draw(_one_in(3)))
    edges = focused if use_focus else [] if only_focus else _edges(state)
    if not edges:
        return draw(st.nothing())
    # The edges of named rules are few and brief (a verdict is soon followed up): prefer them.
    named = _edges(state, focus if use_focus else None, out_of_turn=False)
    return draw(_pick(named if named and not draw(_one_in(3)) else edges))(draw)


def refused_steps(state: LedgerState, aggregate_id: UUID) -> Strategy[list[EdgeStep]]:
    """Every step at an edge that ``aggregate_id`` must refuse now, each as an
    :class:`EdgeStep`: the lifecycle steps its last transition just closed
    (progress after completion, a sample after the verdict) and the steps just
    outside its named rules (an objection on the window's 16th day, a penalty
    without a final nonconforming verdict). All of them at once: refusals leave
    the state as it is, and a rule's edge is often near only briefly."""
    return _refused_steps(state, aggregate_id)


@st.composite
def _refused_steps(draw: st.DrawFn, state: LedgerState, aggregate_id: UUID) -> list[EdgeStep]:
    named = [edge for edge in _edges(state, aggregate_id, out_of_turn=False) if not edge.inside]
    return [edge(draw) for edge in [*_closed_edges(state, aggregate_id), *named]]
