"""``Ledger.execute_many``: the bulk path records what ``execute`` one by one
would, a chunk per transaction, each chunk all or nothing.

The reference is the Xi'an 2017 case executed one command at a time in
memory; every test that compares runs the batch on each engine (memory,
SQLite, PostgreSQL) and compares the logs event by event (topics, ids,
versions, payloads, metadata but for command ids and instants), the
receipts, the views and the snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.values import ActivityStatus, CampaignStatus
from quality_ledger.errors import (
    BatchRefused,
    ConcurrencyConflict,
    IdempotencyConflict,
    IllegalTransition,
    InvalidCommand,
    PermissionDenied,
    ReadOnly,
)
from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import BatchSummary
from quality_ledger.receipts import Receipt
from quality_ledger.scenarios import xian2017
from quality_ledger.scenarios.planner import Step, plan
from tests.conftest import ORGANISER, OUTSIDER, QTS

Pair = tuple[c.Command, Actor]

IDS = ("command_id", "correlation_id")


def normalised(ledger: Ledger) -> list[tuple[str, dict[str, Any]]]:
    """The whole log as comparable rows: each event's topic and fields, less
    what differs from run to run (instants, command and correlation ids)."""
    log = EventLog.of(ledger)
    rows = []
    for row in log.notifications():
        fields = log.decode(row).model_dump(mode="json", exclude={"timestamp"})
        for name in IDS:
            fields["meta"].pop(name)
            if "receipt" in fields:  # an idempotency record keeps the receipt
                fields["receipt"].pop(name)
        rows.append((row.topic, fields))
    return rows


def bare(receipt: Receipt) -> dict[str, Any]:
    return receipt.model_dump(exclude=set(IDS))


def snapshots(ledger: Ledger) -> set[tuple[UUID, int]]:
    """Which aggregates have a snapshot at which version."""
    log = EventLog.of(ledger)
    ids = {UUID(str(row.originator_id)) for row in log.notifications()}
    return {(s.originator_id, s.originator_version) for i in ids for s in log.snapshots.get(i)}


@dataclass(frozen=True)
class Reference:
    """The Xi'an case executed one command at a time, in memory."""

    steps: list[Step]
    receipts: list[Receipt]
    log: list[tuple[str, dict[str, Any]]]
    status: dict[str, Any]
    snapshots: set[tuple[UUID, int]]

    @property
    def pairs(self) -> list[Pair]:
        return [(s.command, s.actor) for s in self.steps]

    def events_of(self, commands: int) -> int:
        """Log rows recorded by the first ``commands`` steps (each step has an idempotency record)."""
        return sum(len(r.events) + 1 for r in self.receipts[:commands])


@pytest.fixture(scope="module")
def reference() -> Reference:
    steps = plan(xian2017.case())
    with Ledger.open("memory://") as one_by_one:
        receipts = [one_by_one.execute(s.command, s.actor) for s in steps]
        status = one_by_one.campaign_status(receipts[0].aggregate_id).model_dump()
        return Reference(steps, receipts, normalised(one_by_one), status, snapshots(one_by_one))


def counted(pairs: list[Pair], pulled: list[int], ledger: Ledger) -> Iterator[Pair]:
    """``pairs``, noting the ledger's position each time the next one is pulled."""
    for pair in pairs:
        pulled.append(ledger.position())
        yield pair


# The same log as one by one ----------------------------------------------------------


def test_execute_many_records_the_log_views_and_snapshots_that_execute_one_by_one_does(
    ledger: Ledger, reference: Reference
) -> None:
    # given the Xi'an case's commands, streamed from a generator
    progress: list[BatchSummary] = []
    # when they are executed as one batch, in chunks of 64
    summary = ledger.execute_many((p for p in reference.pairs), chunk_size=64, progress=progress.append)
    # then the log, the views and the snapshots are those of the one-by-one run
    assert normalised(ledger) == reference.log
    assert ledger.campaign_status(reference.receipts[0].aggregate_id).model_dump() == reference.status
    assert snapshots(ledger) == reference.snapshots
    # and the summary counts what was recorded, chunk by chunk
    commands = len(reference.steps)
    assert summary == BatchSummary(
        commands=commands,
        events=len(reference.log),
        chunks=-(-commands // 64),
        first_position=1,
        last_position=ledger.position(),
    )
    assert [p.commands for p in progress] == [min(64 * n, commands) for n in range(1, summary.chunks + 1)]
    assert [p.last_position for p in progress] == [reference.events_of(p.commands) for p in progress]


def test_execute_each_gives_the_receipts_execute_gives(ledger: Ledger, reference: Reference) -> None:
    # when the case is executed as a batch, asking for each receipt
    receipts = list(ledger.execute_each(reference.pairs, chunk_size=100))
    # then each is the receipt execute gave for that command, but for its ids
    assert [bare(r) for r in receipts] == [bare(r) for r in reference.receipts]
    # and every command has its own command id, which is also its correlation id
    assert len({r.command_id for r in receipts}) == len(receipts)
    assert all(r.correlation_id == r.command_id for r in receipts)


def test_a_cache_of_three_aggregates_reloads_evicted_ones_from_the_store(
    ledger: Ledger, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a batch that may keep only 3 aggregates loaded between chunks
    monkeypatch.setattr("quality_ledger.ledger.CACHED_AGGREGATES", 3)
    receipts = ledger.execute_each(reference.pairs, chunk_size=16)
    # when the case runs through it
    receipts.drain()
    # then evicted aggregates were loaded again with everything earlier chunks recorded
    assert len(receipts.aggregates) <= 3
    assert normalised(ledger) == reference.log


def test_a_chunk_is_cut_once_its_events_reach_the_byte_bound(
    ledger: Ledger, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a byte bound that the first command's events already reach
    monkeypatch.setattr("quality_ledger.batches.CHUNK_BYTES", 1)
    # when the first 5 commands run with room for 1,000 a chunk
    summary = ledger.execute_many(reference.pairs[:5])
    # then each was a chunk of its own
    assert (summary.commands, summary.chunks) == (5, 5)
    assert normalised(ledger) == reference.log[: reference.events_of(5)]


def test_running_the_batch_again_records_nothing_and_gives_the_first_receipts(
    ledger: Ledger, reference: Reference
) -> None:
    # given the case recorded once as a batch
    first = list(ledger.execute_each(reference.pairs))
    position = ledger.position()
    # when the same keyed commands are run again
    again = ledger.execute_each(reference.pairs)
    receipts = list(again)
    # then nothing is recorded and the first receipts come back
    assert ledger.position() == position
    assert receipts == first
    assert again.summary == BatchSummary(commands=len(first), repeated=len(first))


# Within a chunk --------------------------------------------------------------------------


def launched_campaign_pairs(title: str = "Bulk month") -> tuple[UUID, list[Pair]]:
    plan_ = c.PlanCampaign(
        title=title, theme="t", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
    )
    campaign_id = plan_.new_id()
    return campaign_id, [
        (plan_, ORGANISER),
        (c.EnlistDepartment(campaign_id=campaign_id, code="XA-QTS", name_zh="市质监局", name_en="QTS"), ORGANISER),
        (c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER),
    ]


def test_later_commands_of_a_chunk_see_what_earlier_ones_decided(ledger: Ledger) -> None:
    # given a campaign planned, a department enlisted, the campaign launched, and an
    # activity of that department planned and started, all in one chunk
    campaign_id, pairs = launched_campaign_pairs()
    activity = c.PlanActivity(
        campaign_id=campaign_id, title="open day", lead_department="XA-QTS", focus_area="everyone-takes-part"
    )
    pairs += [(activity, QTS), (c.StartActivity(activity_id=activity.new_id(), started_on=date(2017, 9, 2)), QTS)]
    # when they are executed as one batch
    summary = ledger.execute_many(pairs)
    # then each command was decided against the state the earlier ones left, in one transaction
    assert summary.chunks == 1
    campaign, started = ledger.get(campaign_id), ledger.get(activity.new_id())
    assert isinstance(campaign, CampaignState)
    assert isinstance(started, ActivityState)
    assert (campaign.status, started.status) == (CampaignStatus.LAUNCHED, ActivityStatus.STARTED)
    assert [e.name for e in ledger.history(campaign_id)] == [
        "Campaign.Planned",
        "Campaign.DepartmentEnlisted",
        "Campaign.Launched",
        "Campaign.ActivityAdded",
    ]


def test_planning_again_what_an_earlier_command_or_chunk_planned_is_refused(ledger: Ledger) -> None:
    # given a campaign planned by an earlier batch
    _, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs[:1])
    _, others = launched_campaign_pairs("Another month")
    # when a batch plans another campaign twice, then the second plan is refused
    with pytest.raises(BatchRefused, match=r"^command 1 \(PlanCampaign\): InvariantViolated: \[campaign-unique\]"):
        ledger.execute_many([others[0], others[0]])
    # and when a batch plans the stored one again, it is refused too
    with pytest.raises(BatchRefused, match=r"^command 0 \(PlanCampaign\): InvariantViolated: \[campaign-unique\]"):
        ledger.execute_many(pairs[:1])
    assert ledger.position() == 1


def test_an_idempotency_key_repeated_within_a_chunk_counts_once(ledger: Ledger) -> None:
    # given the same keyed command twice in one chunk
    _, pairs = launched_campaign_pairs()
    keyed = pairs[0][0].model_copy(update={"idempotency_key": "plan-once"})
    # when the batch runs
    receipts = list(ledger.execute_each([(keyed, ORGANISER), (keyed, ORGANISER)]))
    # then the second gives the first's receipt and records nothing
    assert receipts[0] == receipts[1]
    assert ledger.position() == 2  # the campaign's event and the key's record


def test_a_key_reused_for_another_command_in_a_chunk_refuses_the_chunk(ledger: Ledger) -> None:
    # given a key used by two different commands of one chunk
    _, pairs = launched_campaign_pairs()
    first = pairs[0][0].model_copy(update={"idempotency_key": "k"})
    other = pairs[0][0].model_copy(update={"idempotency_key": "k", "theme": "another"})
    # when the batch runs, then the second is refused by index and nothing is recorded
    with pytest.raises(BatchRefused, match=r"^command 1 \(PlanCampaign\): IdempotencyConflict: ") as refused:
        ledger.execute_many([(first, ORGANISER), (other, ORGANISER)])
    assert isinstance(refused.value.cause, IdempotencyConflict)
    assert ledger.position() == 0


# Refusals --------------------------------------------------------------------------------

REFUSED_AT = 150
CHUNK = 64


def with_refusal(reference: Reference) -> list[Pair]:
    """The case with a second launch of the campaign slipped in at REFUSED_AT."""
    pairs = reference.pairs
    relaunch = c.LaunchCampaign(campaign_id=reference.receipts[0].aggregate_id, launched_on=date(2017, 9, 2))
    return [*pairs[:REFUSED_AT], (relaunch, ORGANISER), *pairs[REFUSED_AT:]]


def test_a_refused_command_names_its_index_and_its_chunk_records_nothing(ledger: Ledger, reference: Reference) -> None:
    # given the case with a refused command in its third chunk
    done: list[BatchSummary] = []
    # when it runs as a batch
    with pytest.raises(BatchRefused) as refused:
        ledger.execute_many(with_refusal(reference), chunk_size=CHUNK, progress=done.append)
    # then the refusal names the command by index, with the cause execute would give
    error = refused.value
    assert (error.index, error.command, error.resume_at) == (REFUSED_AT, "LaunchCampaign", 2 * CHUNK)
    assert isinstance(error.cause, IllegalTransition)
    assert str(error).startswith(f"command {REFUSED_AT} (LaunchCampaign): IllegalTransition: ")
    assert "\n" not in str(error)
    # and the first two chunks are recorded, the third not at all
    assert [d.commands for d in done] == [CHUNK, 2 * CHUNK]
    assert ledger.position() == reference.events_of(2 * CHUNK) == done[-1].last_position
    assert normalised(ledger) == reference.log[: ledger.position()]


def test_resuming_at_the_failed_chunk_completes_the_log_of_an_uninterrupted_run(
    ledger: Ledger, reference: Reference
) -> None:
    # given a batch stopped by a refused command
    pairs = with_refusal(reference)
    with pytest.raises(BatchRefused) as refused:
        ledger.execute_many(pairs, chunk_size=CHUNK)
    # when the refused command is dropped and the batch resumes where it says
    del pairs[refused.value.index]
    summary = ledger.execute_many(pairs[refused.value.resume_at :], chunk_size=CHUNK)
    # then the log is that of a run that never stopped
    assert summary.repeated == 0
    assert normalised(ledger) == reference.log


def test_rerunning_a_keyed_batch_from_the_start_completes_it_recording_nothing_twice(
    ledger: Ledger, reference: Reference
) -> None:
    # given a batch of keyed commands stopped by a refused command
    pairs = with_refusal(reference)
    with pytest.raises(BatchRefused) as refused:
        ledger.execute_many(pairs, chunk_size=CHUNK)
    # when the whole batch runs again without it
    del pairs[refused.value.index]
    summary = ledger.execute_many(pairs, chunk_size=CHUNK)
    # then what was recorded counts once, and the log is that of a run that never stopped
    assert summary.repeated == refused.value.resume_at
    assert normalised(ledger) == reference.log


def test_a_command_the_policy_refuses_is_refused_in_a_batch_too(ledger: Ledger) -> None:
    # given a campaign planned by someone whose department does not organise it
    _, pairs = launched_campaign_pairs()
    # when the batch runs, then it is refused as execute would refuse it
    with pytest.raises(BatchRefused) as refused:
        ledger.execute_many([(pairs[0][0], OUTSIDER)])
    assert isinstance(refused.value.cause, PermissionDenied)
    assert ledger.position() == 0


@pytest.mark.parametrize(
    ("item", "cause"),
    [
        ("PlanCampaign", "not a \\(command, actor\\) pair: str"),
        ((object(), ORGANISER), "not a command: object"),
        ((c.LaunchCampaign(campaign_id=uuid4(), launched_on=date(2017, 9, 1)), "zhang.min"), "not an actor: str"),
        (
            (
                c.LaunchCampaign.model_construct(campaign_id=uuid4(), launched_on=date(2017, 9, 1), idempotency_key=""),
                ORGANISER,
            ),
            "InvalidCommand: ",
        ),
        ((c.LaunchCampaign(campaign_id=uuid4(), launched_on=date(2017, 9, 1)), ORGANISER), "NotFound: "),
    ],
)
def test_an_item_that_is_not_a_valid_pair_is_refused_by_index(ledger: Ledger, item: object, cause: str) -> None:
    # given a good first command and a bad second item
    _, pairs = launched_campaign_pairs()
    # when the batch runs, then the second is refused by index and the chunk records nothing
    with pytest.raises(BatchRefused, match=f"^command 1 .*{cause}") as refused:
        ledger.execute_many([pairs[0], item])  # type: ignore[list-item]
    assert refused.value.resume_at == 0
    assert ledger.position() == 0


# Streaming -------------------------------------------------------------------------------


def test_the_input_is_read_lazily_a_chunk_at_a_time(ledger: Ledger, reference: Reference) -> None:
    # given a generator of the case's first 10 commands that notes the position at each pull
    pulled: list[int] = []
    receipts = ledger.execute_each(counted(reference.pairs[:10], pulled, ledger), chunk_size=4)
    # then nothing is read before the first receipt is asked for
    assert pulled == []
    # when the first receipt is asked for
    first = next(receipts)
    # then one chunk was read and recorded, and nothing more
    assert bare(first) == bare(reference.receipts[0])
    assert pulled == [0, 0, 0, 0]
    assert ledger.position() == reference.events_of(4)
    # and each later chunk is read only after the one before it was stored
    rest = list(receipts)
    assert len(rest) == 9
    assert pulled == [0] * 4 + [reference.events_of(4)] * 4 + [reference.events_of(8)] * 2


def test_a_million_commands_need_not_be_materialised(ledger: Ledger) -> None:
    # given an endless generator of progress reports on one started activity
    campaign_id, pairs = launched_campaign_pairs()
    activity = c.PlanActivity(
        campaign_id=campaign_id,
        title="open day",
        lead_department="XA-QTS",
        focus_area="everyone-takes-part",
        targets={"visitors": 100},
    )
    ledger.execute_many([*pairs, (activity, QTS)])
    ledger.execute(c.StartActivity(activity_id=activity.new_id(), started_on=date(2017, 9, 2)), QTS)

    def reports() -> Iterator[Pair]:
        while True:
            yield (
                c.ReportProgress(
                    activity_id=activity.new_id(), metric="visitors", amount=1, reported_on=date(2017, 9, 3)
                ),
                QTS,
            )

    # when only the first 25 receipts are taken
    receipts = ledger.execute_each(reports(), chunk_size=10)
    taken = [next(receipts) for _ in range(25)]
    # then three chunks were recorded, and the generator was never run to its end
    assert receipts.summary.chunks == 3
    assert [r.version for r in taken] == list(range(3, 28))
    assert ledger.get(activity.new_id()).version == 32


# Metadata, clocks and what refuses --------------------------------------------------------


def test_a_batch_shares_a_correlation_id_when_given_one_and_stamps_the_ledgers_clock(ledger: Ledger) -> None:
    # given a ledger whose clock says 8 o'clock on 1 September 2017, and a correlation id
    instant = datetime(2017, 9, 1, 8, tzinfo=UTC)
    ledger.clock = lambda: instant
    correlation = uuid4()
    campaign_id, pairs = launched_campaign_pairs()
    # when a batch runs with it
    receipts = list(ledger.execute_each(pairs, correlation_id=correlation))
    # then every event carries its own command's id, the shared correlation id and that instant
    history = ledger.history(campaign_id)
    assert [e.meta.command_id for e in history if e.meta] == [r.command_id for r in receipts]
    assert {e.meta.correlation_id for e in history if e.meta} == {correlation}
    assert {e.recorded_at for e in history} == {instant}
    assert [e.meta.user for e in history if e.meta] == ["zhang.min"] * 3


def test_a_replay_refuses_a_batch_before_reading_it(ledger: Ledger) -> None:
    # given a replayed ledger
    _, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs)
    pulled: list[int] = []
    # when a batch is given to it, then it refuses and reads nothing
    with ledger.as_of(position=1) as replay, pytest.raises(ReadOnly, match="replay up to position 1"):
        replay.execute_many(counted(pairs, pulled, ledger))
    assert pulled == []


def test_a_read_only_file_refuses_a_batch_before_reading_it(tmp_path: Path) -> None:
    # given a ledger file opened read-only
    _, pairs = launched_campaign_pairs()
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        ledger.execute_many(pairs[:1])
    pulled: list[int] = []
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}?mode=ro") as read_only:
        # when a batch is given to it, then it refuses and reads nothing
        with pytest.raises(ReadOnly, match="is open read-only"):
            read_only.execute_many(counted(pairs, pulled, read_only))
        assert read_only.position() == 1
    assert pulled == []


@pytest.mark.parametrize("chunk_size", [0, 5001, "10", 2.0, True])
def test_a_chunk_size_out_of_bounds_is_refused(ledger: Ledger, chunk_size: object) -> None:
    _, pairs = launched_campaign_pairs()
    with pytest.raises(InvalidCommand, match="chunk_size must be a whole number from 1 to 5000"):
        ledger.execute_many(pairs, chunk_size=chunk_size)  # type: ignore[arg-type]
    assert ledger.position() == 0


def test_something_that_is_not_iterable_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidCommand, match="iterable of \\(command, actor\\) pairs, not int"):
        ledger.execute_many(42)  # type: ignore[arg-type]


def test_a_writer_that_changes_an_aggregate_between_chunks_makes_the_next_chunk_a_conflict(ledger: Ledger) -> None:
    # given a campaign, and a batch enlisting departments in it, two per chunk
    campaign_id, pairs = launched_campaign_pairs()
    ledger.execute_many(pairs[:1])
    enlist = [
        (c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh="部门", name_en=code), ORGANISER)
        for code in ("XA-A", "XA-B", "XA-C", "XA-D")
    ]

    def interrupted() -> Iterator[Pair]:
        yield from enlist[:2]
        yield enlist[2]
        # another writer enlists a department while the batch holds the campaign loaded
        ledger.execute(c.EnlistDepartment(campaign_id=campaign_id, code="XA-E", name_zh="部门", name_en="E"), ORGANISER)
        yield enlist[3]

    # when the batch runs, then its second chunk is a conflict, none of it recorded
    with pytest.raises(ConcurrencyConflict, match=r"^commands 2-3: .*run the batch again from command 2"):
        ledger.execute_many(interrupted(), chunk_size=2)
    campaign = ledger.get(campaign_id)
    assert isinstance(campaign, CampaignState)
    assert [d.code for d in campaign.departments] == ["XA-A", "XA-B", "XA-E"]


# Interrupted (Ctrl-C) ------------------------------------------------------------------


class Interrupting:
    """The log's ``insert``, interrupted as Ctrl-C interrupts it on its
    ``on_call``-th call: before the rows are stored, or once they are (the
    signal came during the commit, and Python raises it on the next line)."""

    def __init__(self, insert: Any, *, on_call: int, committed: bool) -> None:
        self.insert = insert
        self.on_call = on_call
        self.committed = committed
        self.calls = 0

    def __call__(self, rows: Any) -> list[int]:
        self.calls += 1
        if self.calls == self.on_call:
            if self.committed:
                self.insert(rows)
            raise KeyboardInterrupt
        return list(self.insert(rows))


@pytest.mark.parametrize("committed", [False, True], ids=["before-the-commit", "after-the-commit"])
def test_an_interrupt_while_a_chunk_is_stored_leaves_a_summary_that_says_whether_it_was(
    ledger: Ledger, reference: Reference, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    # given the case's keyed commands, and a Ctrl-C landing on the third chunk's store
    log = EventLog.of(ledger)
    monkeypatch.setattr(log, "insert", Interrupting(log.insert, on_call=3, committed=committed))
    # when the batch runs
    receipts = ledger.execute_each(reference.pairs, chunk_size=CHUNK)
    with pytest.raises(KeyboardInterrupt):
        receipts.drain()
    # then its summary counts the third chunk exactly when the store holds it
    recorded = (3 if committed else 2) * CHUNK
    assert (receipts.summary.commands, receipts.summary.chunks) == (recorded, recorded // CHUNK)
    assert receipts.summary.last_position == ledger.position() == reference.events_of(recorded)
    assert receipts.summary.events == reference.events_of(recorded)
    # and resuming there repeats no command and completes the log of a run never interrupted
    monkeypatch.undo()
    resumed = ledger.execute_many(reference.pairs[receipts.summary.commands :], chunk_size=CHUNK)
    assert resumed.repeated == 0
    assert normalised(ledger) == reference.log


def test_an_interrupt_after_another_writers_rows_still_finds_the_chunk(
    ledger: Ledger, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a batch whose second chunk is stored after another writer's command, then interrupted
    log = EventLog.of(ledger)
    first, rest = reference.pairs[:CHUNK], reference.pairs[CHUNK : 2 * CHUNK]

    def between() -> Iterator[Pair]:
        yield from first
        ledger.execute(
            c.PlanCampaign(
                title="Another month", theme="t", organiser="XA-QPC", starts_on=date(2017, 9, 1),
                ends_on=date(2017, 9, 30),
            ),
            ORGANISER,
        )  # fmt: skip
        yield from rest

    # (the other writer's command is the insert's second call, the chunk its third)
    monkeypatch.setattr(log, "insert", Interrupting(log.insert, on_call=3, committed=True))
    receipts = ledger.execute_each(between(), chunk_size=CHUNK)
    # when it is interrupted after the second commit
    with pytest.raises(KeyboardInterrupt):
        receipts.drain()
    # then the summary counts both chunks, and its last position is the log's head
    assert (receipts.summary.commands, receipts.summary.chunks) == (2 * CHUNK, 2)
    assert receipts.summary.last_position == ledger.position() == reference.events_of(2 * CHUNK) + 1
    assert receipts.summary.events == reference.events_of(2 * CHUNK)
