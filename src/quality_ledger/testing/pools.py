"""What the moves of every aggregate share: the kinds of move, the pools of
names and users a state machine's steps draw from, actors of the responsible
department (as the ledger's own policy says), and days after a given one.

Moves are drawn procedurally inside one composite per call: building a tree
of strategies for every aggregate at every step would cost more than
executing the command.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Container, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.domain.transitions import Lifecycle
from quality_ledger.domain.values import Actor
from quality_ledger.policy import responsible_departments
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import WORDS, _one_in, dates_within, names, shift, user_names

__all__ = ["NAME_POOL", "USER_POOL", "Maker", "Move", "Offer", "Strategy", "Tagged"]

Strategy = st.SearchStrategy
T = typing.TypeVar("T")

Move = Callable[[st.DrawFn], Step]
"""Draws one step of one aggregate's lifecycle."""
Tagged = tuple[type[c.Command], Move]
"""A move and the kind of command it makes."""
Maker = Callable[[st.DrawFn], c.Command]
"""Draws one command (its actor is drawn apart)."""
Offer = tuple[str, type[c.Command], Maker, bool]
"""A move an aggregate could make: its command method in the transition table, the
kind of command, its maker, and whether what the status does not say allows it."""


def _allowed(
    lifecycle: Lifecycle[Any], status: Any, offers: Sequence[Offer], holds: Sequence[str] = ()
) -> list[tuple[type[c.Command], Maker]]:
    """The offers the transition table allows from ``status``, in the order given."""
    return [(kind, maker) for method, kind, maker, ok in offers if ok and lifecycle.allows(method, status, holds)]


def _issued_by(state: LedgerState, makers: Sequence[tuple[type[c.Command], Maker]]) -> list[Tagged]:
    """Each maker's kind, and a move that draws its command and an actor responsible for it."""

    def move(command: Maker) -> Move:
        return lambda draw: _issuer(draw, state, command(draw))

    return [(kind, move(command)) for kind, command in makers]


def _pick(options: Sequence[T]) -> Strategy[T]:
    """One of ``options``, uniformly: drawn by its index, as ``sampled_from(options)`` draws it.

    Not ``sampled_from(options)`` itself: hypothesis labels that strategy with
    the hash of its elements, and the moves and edges picked here are closures
    made afresh at every step, hashed by their address. Two picks among
    different closures then shared a label whenever the allocator reused an
    address, and hypothesis's mutator pairs spans by label: the same seed gave
    other programs from another folder, or with hypothesis's cache of
    constants present or not. A range of indices hashes the same in every
    process; the choices drawn are unchanged."""
    chosen = tuple(options)

    def element(index: int) -> T:
        return chosen[index]

    return st.sampled_from(range(len(chosen))).map(element)


def _actor_of(departments: Sequence[str]) -> Strategy[Actor]:
    return st.builds(Actor, user=_users(), department=_pick(departments))


class _Known:
    """What ``state`` holds, as the authorization rules ask for it
    (:class:`~quality_ledger.policy.Parties`): ``None`` for what it does not hold."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state

    def campaign(self, campaign_id: UUID) -> CampaignState | None:
        return self.state.campaigns.get(campaign_id)

    def activity(self, activity_id: UUID) -> ActivityState | None:
        return self.state.activities.get(activity_id)

    def inspection(self, inspection_id: UUID) -> InspectionState | None:
        return self.state.inspections.get(inspection_id)

    def commendation(self, commendation_id: UUID) -> CommendationState | None:
        return self.state.commendations.get(commendation_id)


def _responsible(state: LedgerState, command: c.Command) -> list[str]:
    """The departments that may issue ``command`` in ``state``, as the ledger's own
    rules say (:func:`~quality_ledger.policy.responsible_departments`): asked, not copied."""
    return sorted(responsible_departments(command, _Known(state)))


def _issuer(draw: st.DrawFn, state: LedgerState, command: c.Command) -> Step:
    """``command`` with an actor of a department responsible for it (a step the default policy accepts)."""
    return Step(command, draw(_actor_of(_responsible(state, command))))


NAME_POOL: tuple[str, ...] = (
    *WORDS,
    "監(jiān)督抽查",
    "質(zhì)量強市",
    "西安市質(zhì)監(jiān)局",
    "電(diàn)線電(diàn)纜",
    "產(chǎn)品標(biāo)準(zhǔn)",
    "陕西省质监局",
    "建设品质西安",
    "王師傅（焊工）",
    "QC小組·Xi'an",
    "Quality Month 質量月",
    "e\u0301lectrique 電線",
    "ﬁbre 纖維製品",
    "Ⅻ月 2017",
    "𠀀𠀁 工匠",
    "𪚥精神",
    "Åsa Öberg",
    "Nguyễn Thị Hoa",
    "Пётр Иванов",
    "محمد 質檢",
    "Ｑｕａｌｉｔｙ\u3000月",
    "西安\u3000品質",
)
"""Names as services receive them, fixed: one choice each, where :func:`names` takes dozens."""

USER_POOL: tuple[str, ...] = (
    "zhang.min",
    "li.wei",
    "chen.jing",
    "wu.gang",
    "王芳",
    "監(jiān)察員",
    "ｗａｎｇ．ｆａｎｇ",
)


@functools.cache
def _words() -> Strategy[str]:
    """Names for the steps of a state machine: from :data:`NAME_POOL` seven
    times in eight, else :func:`names`. A program draws hundreds of them, and
    hypothesis cuts short the programs whose draws run long."""
    return _one_in(8).flatmap(lambda rich: names() if rich else _pick(NAME_POOL))


@functools.cache
def _users() -> Strategy[str]:
    return _one_in(8).flatmap(lambda rich: user_names() if rich else _pick(USER_POOL))


def _day_within(draw: st.DrawFn, campaign: CampaignState) -> date:
    """A day of the campaign's period."""
    return draw(dates_within(campaign.starts_on, campaign.ends_on))


def _on_or_after(draw: st.DrawFn, day: date, max_days: int = 10) -> date:
    """A date from ``day`` to ``max_days`` later (held at the calendar's end)."""
    return shift(day, draw(st.integers(0, max_days)))


Keyed = typing.TypeVar(
    "Keyed", c.PlanCampaign, c.PlanActivity, c.PlanInspection, c.NominateCraftsman, c.PublishBulletin
)


def _unique(command: Keyed, name: str, taken: Container[UUID]) -> Keyed:
    """``command``, with the text field ``name`` numbered if the id it derives is ``taken``."""
    base, n = getattr(command, name), 1
    while command.new_id() in taken:
        n += 1
        command = command.model_copy(update={name: f"{base} {n}"})
    return command
