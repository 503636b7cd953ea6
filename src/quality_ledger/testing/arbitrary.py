"""Any command aimed at what a ledger state holds, whether the rules allow it now
or not: many out of turn (kinds that the lifecycle of the aggregate they name
does not allow now), some at a rule's edge, for checking that whatever the
ledger refuses it refuses cleanly."""

from __future__ import annotations

import enum
import types
import typing
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Union
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.testing.edges import _edges, edge_steps
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.moves import _KINDS, _moves, _pick_kind
from quality_ledger.testing.pools import Strategy, _actor_of, _pick, _responsible, _words
from quality_ledger.testing.raw import _DEPARTMENT_FIELDS
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import (
    ORGANISER,
    REFERENCE_PERIOD,
    _one_in,
    department_codes,
    metrics,
    sample_ids,
    shift,
)

__all__ = ["any_commands_for"]


def any_commands_for(state: LedgerState, *, focus: UUID | None = None) -> Strategy[Step]:
    """A command of any kind aimed at what ``state`` holds, whether the rules allow it now or not.

    Every command validates as input (so it reaches the rules rather than
    stopping at :class:`~quality_ledger.errors.InvalidCommand`); ids, sample
    ids and department codes mostly name what exists; dates lie near the
    state's own. Many are out of turn: kinds that the lifecycle of the
    aggregate they name does not allow now, where a missing guard would let
    them through; two in three of those name the ``focus`` aggregate, if
    given (a state machine passes the one its last step touched). Half
    of them, when some rule is near, are an :class:`EdgeStep`: just inside or
    just outside a rule (:func:`edge_steps`), which a state machine expects
    the ledger to accept or refuse. Three
    times in four the actor is one the policy accepts, so the domain's
    rules, not authorisation, decide. For checking that whatever the ledger
    refuses it refuses cleanly, and that whatever it accepts keeps every
    invariant.
    """
    return _any_step(_Pools(state), focus)


@st.composite
def _any_step(draw: st.DrawFn, pools: _Pools, focus: UUID | None) -> Step:
    # Half the time, a step at a rule's edge: random dates and kinds rarely land there.
    if draw(st.booleans()) and _edges(pools.state):
        return draw(edge_steps(pools.state, focus=focus))
    aim: dict[str, Any] = {}
    out_of_turn = pools.out_of_turn_for(focus)
    # Mostly commands whose target exists, so the rules decide rather than NotFound.
    if draw(_one_in(10)):
        cls = draw(st.sampled_from(c.ALL))
    elif out_of_turn and not draw(_one_in(3)):
        cls = _pick_kind(draw, out_of_turn)
        aim = {_TARGET_FIELDS[_target(cls) or ""]: focus}
    else:
        any_out_of_turn: bool = draw(st.booleans())
        cls = _pick_kind(draw, pools.out_of_turn if pools.out_of_turn and any_out_of_turn else pools.aimed)
    fields = {
        name: aim[name] if name in aim else draw(pools.values(name, field.annotation, constrained=bool(field.metadata)))
        for name, field in cls.model_fields.items()
        if name not in ("command", "idempotency_key")
    }
    command = cls(**fields)
    who = _responsible(pools.state, command)
    if who and not draw(_one_in(4)):
        return Step(command, draw(_actor_of(who)))
    return Step(command, draw(_actor_of(pools.departments)))


def _target(cls: type[c.Command]) -> str | None:
    """Which of the state's aggregates a command acts on (None: it creates a campaign)."""
    fields = cls.model_fields
    for name in ("inspection_id", "commendation_id", "activity_id", "campaign_id"):
        if name in fields and not (name == "activity_id" and "campaign_id" in fields):
            return _ID_POOLS[name]
    return None


_TARGET_FIELDS = {
    "inspections": "inspection_id",
    "commendations": "commendation_id",
    "activities": "activity_id",
    "campaigns": "campaign_id",
}
"""The field that names a command's target, by the pool it is drawn from."""

_ID_POOLS = {
    "campaign_id": "campaigns",
    "activity_id": "activities",
    "ceremony_id": "activities",
    "inspection_id": "inspections",
    "inspection_ids": "inspections",
    "commendation_id": "commendations",
}
"""Which of the state's aggregates an id field names."""


class _Pools:
    """What ``any_commands_for`` draws from: the state's ids, samples, departments, dates."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state
        self.ids: dict[str, tuple[UUID, ...]] = {
            pool: tuple(getattr(state, pool)) for pool in ("campaigns", "activities", "inspections", "commendations")
        }
        self.aimed = tuple(cls for cls in c.ALL if (t := _target(cls)) is None or self.ids[t])
        """Command kinds whose target exists (always PlanCampaign)."""
        allowed = _moves(state)
        self.out_of_turn = tuple(cls for cls in self.aimed if cls not in allowed and cls is not c.PlanCampaign)
        """Kinds whose target exists, but that no lifecycle allows now."""
        self.samples = state.sample_ids
        codes = {code for campaign in state.campaigns.values() for code in campaign.department_codes()}
        codes.update(campaign.organiser for campaign in state.campaigns.values())
        self.departments = tuple(sorted(codes)) or (ORGANISER,)
        self.metrics = tuple(sorted({p.metric for a in state.activities.values() for p in a.progress}))
        anchors = state.dates() or REFERENCE_PERIOD
        self.dates = st.tuples(_pick(anchors), st.integers(-3, 20)).map(lambda t: shift(*t))

    def out_of_turn_for(self, aggregate_id: UUID | None) -> tuple[type[c.Command], ...]:
        """Kinds of command that act on ``aggregate_id``'s kind of aggregate but that its lifecycle does not allow now."""
        pool = next((p for p, ids in self.ids.items() if aggregate_id in ids), None)
        if aggregate_id is None or pool is None:
            return ()
        allowed = _moves(self.state, aggregate_id)
        return tuple(cls for cls in _KINDS if _target(cls) == pool and cls not in allowed)

    def values(self, name: str, annotation: Any, *, constrained: bool = False) -> Strategy[Any]:
        """Valid input for field ``name``; ``constrained``: pydantic keeps constraints
        (Text, DepartmentCode, Metric) apart from the annotation of a top-level field."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            return self.values(name, args[0], constrained=True)
        if annotation is str:
            # Free text may be empty (a purpose, notes); constrained text may not.
            return self._text(name) if constrained else st.one_of(st.just(""), _words())
        if origin in (Union, types.UnionType):
            return st.one_of(
                st.none(), *(self.values(name, a, constrained=constrained) for a in args if a is not type(None))
            )
        if origin is tuple:
            min_size = 1 if name == "inspection_ids" else 0
            return st.lists(self.values(name, args[0]), min_size=min_size, max_size=3).map(tuple)
        if origin is dict:
            return st.dictionaries(metrics(), st.integers(1, 200), max_size=2)
        if annotation is UUID:
            known = self.ids[_ID_POOLS[name]] if name in _ID_POOLS else ()
            if not known:
                return st.uuids()
            return _one_in(10).flatmap(lambda made_up: st.uuids() if made_up else _pick(known))
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return st.sampled_from(annotation)
        scalars: dict[Any, Strategy[Any]] = {
            date: self.dates,
            bool: st.booleans(),
            int: st.integers(0, 100),
            Decimal: st.decimals(min_value=0, max_value=1_000_000, places=2),
        }
        return scalars[annotation]

    def _text(self, name: str) -> Strategy[str]:
        if name == "sample_id":
            return st.one_of(_pick(self.samples), sample_ids()) if self.samples else sample_ids()
        if name == "metric":
            return st.one_of(_pick(self.metrics), metrics()) if self.metrics else metrics()
        if name in _DEPARTMENT_FIELDS:
            return st.one_of(_pick(self.departments), department_codes())
        return _words()
