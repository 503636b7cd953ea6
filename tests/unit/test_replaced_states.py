"""``Frozen.replaced``, the copy every event's ``apply`` evolves a state with,
and the transition table's remembered answers: both faster stand-ins that
must give exactly what they stand in for."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from pydantic import ValidationError

from quality_ledger.domain.activity import ActivityState, Progress
from quality_ledger.domain.transitions import ACTIVITY, FINAL_CONFORMING, INSPECTION
from quality_ledger.domain.values import ActivityStatus, InspectionStatus


def planned_state() -> ActivityState:
    return ActivityState(
        id=uuid4(),
        campaign_id=uuid4(),
        title="open day",
        lead_department="XA-QTS",
        focus_area="everyone-takes-part",
        activity_kind="other",
        partners=("XA-FDA",),
        progress=(Progress(metric="visitors", target=100),),
    )


def test_a_replaced_state_equals_pydantics_copy_with_the_same_update() -> None:
    # given a state
    state = planned_state()
    changes = {"status": ActivityStatus.STARTED, "started_on": date(2017, 9, 2)}
    # when it is replaced with changes
    replaced = state.replaced(**changes)
    copied = state.model_copy(update=changes)
    # then it is what model_copy gives: same fields, same fields set, same JSON, and a new object
    assert replaced == copied
    assert replaced.__pydantic_fields_set__ == copied.__pydantic_fields_set__
    assert replaced.model_dump_json() == copied.model_dump_json()
    assert replaced is not state
    # and the original is unchanged, and the copy as frozen as it
    assert state.status == ActivityStatus.PLANNED
    with pytest.raises(ValidationError, match="frozen"):
        replaced.title = "changed"  # type: ignore[misc]


def test_replacing_nothing_gives_an_equal_copy() -> None:
    state = planned_state()
    assert state.replaced() == state
    assert state.replaced() is not state


def test_the_transition_table_gives_the_same_answer_asked_again_and_with_other_conditions() -> None:
    # when a guard's question is asked twice, and with and without its condition
    for _ in range(2):
        # then each answer is the table's, whichever was asked first
        assert ACTIVITY.allows("start", ActivityStatus.SCHEDULED)
        assert not ACTIVITY.allows("start", ActivityStatus.COMPLETED)
        assert INSPECTION.allows("close", InspectionStatus.VERDICT_ISSUED, {FINAL_CONFORMING})
        assert not INSPECTION.allows("close", InspectionStatus.VERDICT_ISSUED)
        assert ACTIVITY.after("Completed") == ActivityStatus.COMPLETED
    # and what the table does not have is still refused, every time
    for _ in range(2):
        with pytest.raises(KeyError):
            ACTIVITY.sources("fly")
        with pytest.raises(KeyError):
            ACTIVITY.after("ProgressReported")
