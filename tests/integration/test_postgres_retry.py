"""execute_with_retry: re-read, decide again, and retry a command that lost a race.

Two ledgers on one store (a SQLite file, then PostgreSQL) make a real race:
one ledger loads the campaign to decide, the other records on it first, and
the first one's save conflicts on the aggregate's version.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from quality_ledger import Ledger, execute_with_retry
from quality_ledger import commands as c
from quality_ledger.errors import ConcurrencyConflict, InvariantViolated
from quality_ledger.handlers import Changes, CommandContext, handle
from tests.conftest import ORGANISER, plan_campaign


@pytest.fixture
def two_ledgers(durable_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    with Ledger.open(durable_url) as ours, Ledger.open(durable_url) as theirs:
        yield ours, theirs


def enlist(campaign_id: UUID, code: str) -> c.EnlistDepartment:
    return c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh="部门", name_en="dept")


class Racer:
    """Builds our command from a fresh read. For the first ``wins`` attempts,
    the other ledger records on the same campaign after ours has loaded it
    and before ours saves (through ``Ledger.handle``, the seam between the
    two), so our save loses a real race on the aggregate's version."""

    def __init__(self, ours: Ledger, theirs: Ledger, campaign_id: UUID, wins: int) -> None:
        self.ours, self.theirs, self.campaign_id, self.wins = ours, theirs, campaign_id, wins
        self.built: list[int] = []
        self.handled = 0
        ours.handle = self.handle  # type: ignore[method-assign]

    def __call__(self) -> c.Command:
        version = self.ours.get(self.campaign_id).version
        self.built.append(version)
        return enlist(self.campaign_id, f"OURS-{version}")

    def handle(self, command: c.Command, context: CommandContext) -> Changes:
        work = handle(command, context)
        self.handled += 1
        if self.handled <= self.wins:
            self.theirs.execute(enlist(self.campaign_id, f"THEIRS-{self.handled}"), ORGANISER)
        return work


def test_a_lost_race_is_retried_on_what_the_winner_left(two_ledgers: tuple[Ledger, Ledger]) -> None:
    # given: a campaign, and another writer that records first, once
    ours, theirs = two_ledgers
    campaign_id = plan_campaign(ours, launch=False)
    racer = Racer(ours, theirs, campaign_id, wins=1)
    pauses: list[float] = []

    # when: we enlist through the retry helper
    receipt = execute_with_retry(ours, racer, ORGANISER, attempts=3, backoff=0.5, sleep=pauses.append)

    # then: the first attempt conflicted; the command was built again from the new state and recorded
    assert racer.built == [3, 4]
    assert receipt.version == 5
    codes = [d.code for d in ours.get(campaign_id).departments]  # type: ignore[attr-defined]
    assert codes[-2:] == ["THEIRS-1", "OURS-4"]
    # and: it paused once, a random time up to the first backoff
    assert len(pauses) == 1
    assert 0 <= pauses[0] <= 0.5


def test_the_retries_are_bounded_and_the_last_conflict_surfaces(two_ledgers: tuple[Ledger, Ledger]) -> None:
    # given: another writer that always records first
    ours, theirs = two_ledgers
    campaign_id = plan_campaign(ours, launch=False)
    racer = Racer(ours, theirs, campaign_id, wins=100)
    pauses: list[float] = []

    # when: we enlist with four attempts
    with pytest.raises(ConcurrencyConflict):
        execute_with_retry(ours, racer, ORGANISER, attempts=4, backoff=0.1, max_backoff=0.3, sleep=pauses.append)

    # then: it tried four times, pausing between tries with backoff growing up to its cap
    assert len(racer.built) == 4
    assert len(pauses) == 3
    assert all(0 <= p <= cap for p, cap in zip(pauses, [0.1, 0.2, 0.3], strict=True))
    # and: none of our commands was recorded
    codes = [d.code for d in ours.get(campaign_id).departments]  # type: ignore[attr-defined]
    assert not [code for code in codes if code.startswith("OURS")]


def test_other_errors_are_not_retried(two_ledgers: tuple[Ledger, Ledger]) -> None:
    # given: a command that breaks a rule (a department enlisted twice)
    ours, _ = two_ledgers
    campaign_id = plan_campaign(ours, launch=False)
    built: list[int] = []

    def again() -> c.Command:
        built.append(1)
        return enlist(campaign_id, "XA-QTS")

    # when / then: the rule's error surfaces at once, after one attempt
    with pytest.raises(InvariantViolated):
        execute_with_retry(ours, again, ORGANISER, attempts=5, sleep=lambda _: None)
    assert built == [1]


def test_at_least_one_attempt_is_required(two_ledgers: tuple[Ledger, Ledger]) -> None:
    ours, _ = two_ledgers
    with pytest.raises(ValueError, match="attempts"):
        execute_with_retry(ours, lambda: enlist(UUID(int=0), "XA-X"), ORGANISER, attempts=0)
