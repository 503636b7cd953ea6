"""The transition tables and named rules, on bare aggregates: no ledger, no store.

The tables in ``quality_ledger.domain.transitions`` are the one place each
lifecycle is written; these tests hold them complete (every status reachable,
every status-changing event and every command method has a row) and hold the
domain guards to them (for each status and each command, the guard accepts
iff the table has a row).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest

from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import DomainEvent, LedgerAggregate
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection, Subject
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.transitions import FINAL_CONFORMING, Lifecycle
from quality_ledger.domain.values import (
    ActivityKind,
    FocusArea,
    SubjectKind,
    Verdict,
)
from quality_ledger.errors import IllegalTransition
from quality_ledger.testing import gwt

CAMPAIGN_ID = UUID("78ff37a2-4de8-55d7-ae55-0020b8778fbd")
DAY = date(2017, 9, 4)

CREATED: dict[type[LedgerAggregate[Any]], gwt.EventSpec] = {
    Campaign: gwt.event(
        Campaign.Planned,
        title="質量月",
        theme="質量提升",
        purpose="宣傳",
        organiser="XA-QPC",
        partners=(),
        starts_on=DAY,
        ends_on=DAY + timedelta(days=30),
        focus_areas=(FocusArea.EVERYONE_TAKES_PART,),
    ),
    Activity: gwt.event(
        Activity.Planned,
        campaign_id=CAMPAIGN_ID,
        title="宣傳日",
        lead_department="XA-QTS",
        focus_area=FocusArea.EVERYONE_TAKES_PART,
        activity_kind=ActivityKind.EXHIBITION,
        partners=(),
        targets={},
    ),
    Inspection: gwt.event(
        Inspection.Planned,
        campaign_id=CAMPAIGN_ID,
        activity_id=None,
        inspecting_department="XA-QTS",
        inspection_kind="spot check",
        reference="2017-Q3",
        subject=Subject(name="西安某電纜廠", subject_kind=SubjectKind.ENTERPRISE),
        product_category="電線電纜",
        planned_on=DAY,
    ),
    Commendation: gwt.event(
        Commendation.Nominated,
        campaign_id=CAMPAIGN_ID,
        person="王師傅",
        employer="某廠",
        deeds="數十年如一日",
        nominated_by="XA-QTS",
    ),
}
AGGREGATES = tuple(CREATED)


def _lifecycle(kind: type[LedgerAggregate[Any]]) -> Lifecycle[Any]:
    return kind.lifecycle


def _statuses(kind: type[LedgerAggregate[Any]]) -> tuple[StrEnum, ...]:
    return tuple(type(_lifecycle(kind).initial))


def _command_methods(kind: type[LedgerAggregate[Any]]) -> set[str]:
    """The aggregate's own public command methods: not creation, guards, events or readers."""
    own = {name for klass in kind.__mro__ if klass.__module__ == kind.__module__ for name in vars(klass)}
    return {
        name
        for name in own
        if not name.startswith(("_", "check"))
        and inspect.isfunction(inspect.getattr_static(kind, name))
        and name not in {"view", "evolve", "is_finished"}
    }


def _event_classes(kind: type[LedgerAggregate[Any]]) -> set[str]:
    return {
        name for name, value in vars(kind).items() if isinstance(value, type) and issubclass(value, DomainEvent)
    } - {"Event"}


def _in_status(kind: type[LedgerAggregate[Any]], status: StrEnum, **state: Any) -> LedgerAggregate[Any]:
    """A bare aggregate made by its creation event, then put in ``status`` (and ``state``)."""
    aggregate = gwt.given(CREATED[kind]).when(lambda _: None).aggregate
    assert aggregate is not None
    aggregate.state = aggregate.state.model_copy(update={"status": status, **state})
    return aggregate


def _guard_accepts(aggregate: LedgerAggregate[Any], command: str) -> bool:
    """Whether the command method gets past its status guard: anything but
    IllegalTransition (success, another rule, arguments it cannot use) means it did."""
    method: Callable[..., Any] = getattr(aggregate, command)
    arguments = [p for p in inspect.signature(method).parameters.values() if p.kind is not p.KEYWORD_ONLY]
    try:
        method(*(None for _ in arguments))
    except IllegalTransition:
        return False
    except Exception:
        return True
    return True


@pytest.mark.parametrize("kind", AGGREGATES, ids=lambda k: k.__name__)
def test_every_status_is_reachable_from_the_first(kind: type[LedgerAggregate[Any]]) -> None:
    # given the aggregate's table / when its statuses are walked from the creation status / then all are reached
    lifecycle = _lifecycle(kind)
    assert lifecycle.reachable_from(lifecycle.initial) == set(_statuses(kind))


@pytest.mark.parametrize("kind", AGGREGATES, ids=lambda k: k.__name__)
def test_every_command_method_has_a_row_and_every_row_a_method(kind: type[LedgerAggregate[Any]]) -> None:
    # given the aggregate class and its table / then they name the same command methods
    assert set(_lifecycle(kind).commands) == _command_methods(kind)


@pytest.mark.parametrize("kind", AGGREGATES, ids=lambda k: k.__name__)
def test_every_status_an_event_leaves_is_in_the_table(kind: type[LedgerAggregate[Any]]) -> None:
    # given each event of the aggregate, applied to an aggregate in a status no event leaves twice
    lifecycle = _lifecycle(kind)
    outcome_events = {o.event for o in lifecycle.outcomes()}
    assert outcome_events <= _event_classes(kind)
    # then an event changes the status iff the table gives it an outcome (the creation event aside)
    for name in _event_classes(kind) - {lifecycle.created.event}:
        event_class = getattr(kind, name)
        changes = any(name in {o.event for o in t.outcomes} for t in lifecycle.transitions)
        assert lifecycle.changes_status(name) is changes, name
        source = inspect.getsource(event_class.apply)
        assert ("status=" in source or "status =" in source) is changes, f"{name}.apply and the table disagree"


@pytest.mark.parametrize("kind", AGGREGATES, ids=lambda k: k.__name__)
def test_the_guards_accept_a_command_iff_the_table_has_a_row(kind: type[LedgerAggregate[Any]]) -> None:
    lifecycle = _lifecycle(kind)
    for status in _statuses(kind):
        for command in lifecycle.commands:
            # given an aggregate in this status / when the command is tried / then the guard agrees with the table
            accepted = _guard_accepts(_in_status(kind, status), command)
            assert accepted is lifecycle.allows(command, status), f"{kind.__name__} {status}: {command}"


def test_closing_straight_after_a_final_conforming_verdict_is_the_tables_conditional_row() -> None:
    lifecycle = Inspection.lifecycle
    final_conforming = {"verdict": Verdict.CONFORMING, "notified_on": DAY}
    for status in _statuses(Inspection):
        # given an inspection in this status whose verdict is final and conforming
        accepted = _guard_accepts(_in_status(Inspection, status, **final_conforming), "close")
        # then close is accepted iff the table's rows allow it once the condition holds
        assert accepted is lifecycle.allows("close", status, {FINAL_CONFORMING}), status
    # and the condition does open a status the plain rows do not
    assert lifecycle.sources("close", {FINAL_CONFORMING}) > lifecycle.sources("close")


def test_a_refusal_names_the_tables_action() -> None:
    # given a closed inspection / when a sample is taken / then IllegalTransition names the table's words
    aggregate = _in_status(Inspection, Inspection.lifecycle.after("Closed"))
    with pytest.raises(IllegalTransition) as refused:
        aggregate.take_sample("S-1", "BV 2.5", "170901-A", DAY)  # type: ignore[attr-defined]
    assert refused.value.action == Inspection.lifecycle.action("take_sample") == "take a sample"
    assert str(refused.value) == "inspection is closed: cannot take a sample"


def test_the_objection_windows_id_and_check_come_from_one_parameter() -> None:
    # given the rule / then its id names its days, and its check holds exactly up to that day
    assert OBJECTION_WINDOW.id == f"objection-within-{OBJECTION_WINDOW.days}-days" == "objection-within-15-days"
    assert OBJECTION_WINDOW.holds(DAY, DAY)
    assert OBJECTION_WINDOW.holds(DAY, DAY + timedelta(days=OBJECTION_WINDOW.days))
    assert not OBJECTION_WINDOW.holds(DAY, DAY + timedelta(days=OBJECTION_WINDOW.days + 1))
    assert not OBJECTION_WINDOW.holds(DAY, DAY - timedelta(days=1))
    assert OBJECTION_WINDOW.holds(date.max - timedelta(days=1), date.max)  # no overflow near date.max


def test_the_fold_over_a_lifecycle_gives_the_status_the_aggregate_reaches() -> None:
    # given the events of a rectification that failed, then a penalty / then the table's fold ends penalised
    lifecycle = Inspection.lifecycle
    events = [("SampleTaken", None), ("VerdictIssued", None), ("RectificationOrdered", None)]
    assert lifecycle.fold([*events, ("RectificationVerified", False)]).value == "rectification-failed"
    assert lifecycle.fold([*events, ("RectificationVerified", True)]).value == "rectified"
    assert lifecycle.fold([*events, ("RectificationVerified", False), ("PenaltyImposed", None)]).value == "penalised"
    assert lifecycle.fold([("SampleResultRecorded", None)]) is lifecycle.initial
