"""Bounded input on a ledger, on each engine: a refused name records nothing, and
a command at every bound is recorded and read back unchanged. The bounds
themselves, without a ledger, are tested in tests/unit/test_bounds.py."""

from __future__ import annotations

from uuid import UUID

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain import values as v
from quality_ledger.errors import InvalidCommand
from tests.conftest import QTS, event_count, plan_campaign

SOME_ID = UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8")
ASTRAL = "𠀀"  # CJK extension B: 4 bytes in UTF-8


def test_a_right_to_left_override_in_a_user_name_records_nothing(ledger: Ledger) -> None:
    before = event_count(ledger)
    with pytest.raises(InvalidCommand):
        ledger.execute(
            c.PostponeActivity(activity_id=SOME_ID, reason="rain"), Actor(user="\u202ezhang.min", department="XA-QPC")
        )
    assert event_count(ledger) == before


def test_a_command_at_every_bound_is_recorded_and_read_back_unchanged(ledger: Ledger) -> None:
    # given a launched campaign; when a schedule with the longest place in astral characters is executed
    campaign_id = plan_campaign(ledger)
    activity = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title=ASTRAL * v.MAX_NAME,
            lead_department="XA-QTS",
            focus_area="craftsman-spirit",
            partners=tuple(ASTRAL * v.MAX_NAME for _ in range(v.MAX_ITEMS)),
            targets={"m" + "x" * 63: v.MAX_COUNT},
        ),
        QTS,
    ).aggregate_id
    # then it is recorded as given and the views hold it
    state = ledger.get(activity)
    assert state.title == ASTRAL * v.MAX_NAME  # type: ignore[attr-defined]
    assert ledger.activity_board(campaign_id)[0].title == ASTRAL * v.MAX_NAME
