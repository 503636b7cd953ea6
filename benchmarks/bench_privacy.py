"""What sealing personal fields and encrypting events at rest cost, side by side (issue 15).

    .venv/bin/python benchmarks/bench_privacy.py --rounds 5
    .venv/bin/python benchmarks/bench_privacy.py --rounds 5 --postgres "$(scripts/postgres url)"

Each comparison runs its two sides in alternating blocks in one process
(``_harness.interleave``), each side on its own fresh SQLite file:

0. The mapper alone, no database (``--round-trips`` per block): one
   ``ReportProgress`` event encoded and decoded, sealed against plain and
   at rest against sealed. The CPU price the rows below pay per event.
1. ``execute`` (``ReportProgress``, as ``bench_execute.py``), without and with
   an idempotency key: the ledger as it is (every event's ``meta.user``
   sealed under the clerk's key) against the same ledger with sealing off.
2. ``execute`` on a ledger encrypted at rest (``encryption_key``, sealed too)
   against a sealed-only one.
3. Catch-up into all views from zero (as ``bench_views.py``) of a log written
   sealed, read by a ledger that opens the sealed fields, against a log of
   the same events written and read with sealing off.
4. Catch-up of a log encrypted at rest against a sealed-only one.
5. ``Ledger.forget`` on logs of ``--forget-sizes`` events: a nominee, a clerk
   who recorded a few commands, and the clerk who recorded every event of
   the log (the worst case: every row holds his key id). Each forget runs
   once, in a spawned child (``_harness.peak_rss``) on its own copy of the
   log: the wall seconds of ``forget`` (and of each of its steps) and the
   child's peak RSS; the copy must verify afterwards. No peer: figures only.

"Sealing off" is a benchmark-only peer, built the way the bare peer is:
``mapper.privacy = None`` on the peer's ledger before it writes anything, so
the personal fields are written (and read) as plain text. Every log is
checked before it is measured: sealed rows hold sealed fields, plain rows
none, encrypted rows start with the at-rest magic.

With ``--postgres URL``, comparison 1 runs on PostgreSQL too, each side in a
fresh schema. The table at the end (goal | figure | ratio) is for
docs/benchmarks.md; a ratio is the first side's rate over the second's
(below 1: the first is slower).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from _common import (
    LANES,
    LEAD,
    CatchUp,
    LedgerWriter,
    launched_campaign,
    remove_sqlite,
    setup,
    sqlite_views_in,
)
from _harness import Comparison, baseline_rss, interleave, peak_rss, rounds_argument
from bench_views import copy_log
from eventsourcing.persistence import JSONTranscoder

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.eventlog import EventLog
from quality_ledger.policy import DepartmentPolicy
from quality_ledger.privacy.at_rest import MAGIC, EventCipher
from quality_ledger.privacy.fields import MARK
from quality_ledger.store.mapper import PydanticMapper
from quality_ledger.testing.synthetic import fill

KEY = os.urandom(32)
"""The at-rest key of every encrypted ledger here (made per run, never stored)."""

POLICY = DepartmentPolicy(privacy_officers={"XA-DPO"})
OFFICER = Actor(user="dpo", department="XA-DPO")
CLERK = Actor(user="clerk.forgotten", department="XA-QTS")
"""The clerk who records a few commands on the forget logs (and is forgotten)."""
NOMINEE = ("张敏", "西安示范电缆厂")
FILL_USER = "synthetic"
"""The user ``testing.synthetic.fill`` stamps on every event it makes."""


def unseal(ledger: Ledger) -> None:
    """The benchmark-only peer: this ledger writes and reads personal fields in plain text."""
    cast(PydanticMapper, EventLog.of(ledger).mapper).privacy = None


def check_rows(ledger: Ledger, *, sealed: bool, at_rest: bool) -> None:
    """Stop if the log is not what its side claims: sealed fields in every
    row (or none), every row encrypted at rest (or none)."""
    log = EventLog.of(ledger)
    rows = list(log.notifications(page=200, until=200))
    if not rows:
        msg = "the benchmark's log is empty"
        raise RuntimeError(msg)
    for row in rows:
        if row.state.startswith(MAGIC) != at_rest:
            msg = f"row {row.id} is {'not ' if at_rest else ''}encrypted at rest, against its side's claim"
            raise RuntimeError(msg)
        state = log.plain(row) if at_rest else row.state
        if (MARK in state) != sealed:
            msg = f"row {row.id} {'holds no' if sealed else 'holds'} sealed fields, against its side's claim"
            raise RuntimeError(msg)


# The mapper alone ---------------------------------------------------------------------


class RoundTrips:
    """The CPU cost alone, without the database: ``block`` round trips of one
    ``ReportProgress`` event (its ``meta.user`` personal) through a mapper,
    encoded to a stored row and decoded back."""

    def __init__(self, mapper: PydanticMapper, event: object, block: int) -> None:
        self.mapper, self.event, self.block = mapper, event, block

    def __call__(self) -> int:
        to_stored, to_domain, event = self.mapper.to_stored_event, self.mapper.to_domain_event, self.event
        for _ in range(self.block):
            to_domain(to_stored(event))
        return self.block


def mappers(*, at_rest: bool, block: int, rounds: int) -> Comparison:
    """Mapper round trips: sealed against plain, or at rest against sealed."""
    with Ledger.in_memory() as ledger:
        ids = setup(ledger)
        ledger.execute(
            c.ReportProgress(activity_id=ids[0], metric="enterprises", amount=1, reported_on=date(2017, 9, 3)), LEAD
        )
        log = EventLog.of(ledger)
        event = log.decode(list(log.notifications())[-1])
        sealed = cast(PydanticMapper, log.mapper)
        other = PydanticMapper(transcoder=JSONTranscoder())
        if at_rest:
            other.privacy, other.at_rest = sealed.privacy, EventCipher(KEY)
            sides = {"at rest+sealed": other, "sealed": sealed}
        else:
            sides = {"sealed": sealed, "plain": other}
        for name, mapper in sides.items():
            row = mapper.to_stored_event(event)
            if (MARK in mapper.plain(row)) != (name != "plain") or row.state.startswith(MAGIC) != name.startswith("at"):
                msg = f"the {name} mapper does not write what its side claims"
                raise RuntimeError(msg)
        (first, first_mapper), (second, second_mapper) = sides.items()
        return interleave(
            f"mapper round trip of one event: {first} / {second}",
            RoundTrips(first_mapper, event, block),
            RoundTrips(second_mapper, event, block),
            rounds=rounds,
            unit="round trips",
            names=(first, second),
        )


# Writing -----------------------------------------------------------------------------


class Writer(LedgerWriter):
    """``LedgerWriter``'s workload on a ledger sealed or not, encrypted at rest or not."""

    def __init__(
        self, url: str, block: int, *, keyed: bool, sealed: bool = True, encryption_key: bytes | None = None
    ) -> None:
        self.sealed = sealed
        self.encryption_key = encryption_key
        super().__init__(url, block, keyed=keyed)
        check_rows(self.ledger, sealed=sealed, at_rest=encryption_key is not None)

    def open(self, url: str) -> Ledger:
        ledger = Ledger.open(url, encryption_key=self.encryption_key)
        if not self.sealed:
            unseal(ledger)
        return ledger


def execute(
    fresh: Callable[[], AbstractContextManager[str]],
    engine: str,
    *,
    keyed: bool,
    at_rest: bool,
    block: int,
    rounds: int,
) -> Comparison:
    """``execute`` on two fresh ledgers: sealed against plain, or at rest against sealed."""
    with ExitStack() as stack:
        if at_rest:
            first = Writer(stack.enter_context(fresh()), block, keyed=keyed, encryption_key=KEY)
            second = Writer(stack.enter_context(fresh()), block, keyed=keyed)
            names = ("at rest+sealed", "sealed")
        else:
            first = Writer(stack.enter_context(fresh()), block, keyed=keyed)
            second = Writer(stack.enter_context(fresh()), block, keyed=keyed, sealed=False)
            names = ("sealed", "plain")
        stack.callback(first.close)
        stack.callback(second.close)
        title = f"execute, {engine}, {'with' if keyed else 'without'} a key: {names[0]} / {names[1]}"
        return interleave(title, first, second, rounds=rounds, unit="commands", names=names)


# Catching up -------------------------------------------------------------------------


def make_log(url: str, events: int, *, sealed: bool = True, encryption_key: bytes | None = None) -> int:
    """``testing.synthetic.fill``'s log (the same events for the same size),
    written sealed or plain, encrypted at rest or not."""
    with Ledger.open(url, read_your_writes=False, encryption_key=encryption_key) as ledger:
        if not sealed:
            unseal(ledger)
        written = fill(ledger, events)
        check_rows(ledger, sealed=sealed, at_rest=encryption_key is not None)
        return written


class Reader(CatchUp):
    """``CatchUp``'s workload by a ledger that opens sealed fields or has sealing
    off, with the at-rest key or without."""

    def __init__(
        self,
        events_url: str,
        fresh_views: Callable[[], AbstractContextManager[str]],
        *,
        sealed: bool = True,
        encryption_key: bytes | None = None,
    ) -> None:
        super().__init__(events_url, fresh_views, encryption_key=encryption_key)
        self.sealed = sealed

    def prepare(self) -> None:
        super().prepare()
        if not self.sealed:
            assert self.ledger is not None
            unseal(self.ledger)


def catch_up(directory: Path, *, at_rest: bool, events: int, rounds: int) -> tuple[int, Comparison]:
    """Catch-up from zero of two logs of the same events: sealed against plain,
    or at rest against sealed; the logs' length and the comparison."""
    kind = "at-rest" if at_rest else "sealed"
    first_url, second_url = f"sqlite:///{directory}/{kind}-1.db", f"sqlite:///{directory}/{kind}-2.db"
    if at_rest:
        written = make_log(first_url, events, encryption_key=KEY)
        make_log(second_url, events)
        first = Reader(first_url, sqlite_views_in(directory), encryption_key=KEY)
        second = Reader(second_url, sqlite_views_in(directory))
        names = ("at rest+sealed", "sealed")
    else:
        written = make_log(first_url, events)
        make_log(second_url, events, sealed=False)
        first = Reader(first_url, sqlite_views_in(directory))
        second = Reader(second_url, sqlite_views_in(directory), sealed=False)
        names = ("sealed", "plain")
    try:
        title = f"catch-up of {written:,} events, SQLite: {names[0]} / {names[1]}"
        return written, interleave(title, first, second, rounds=rounds, names=names)
    finally:
        first.close()
        second.close()


# Forgetting --------------------------------------------------------------------------


def forget_log(path: Path, events: int) -> int:
    """A log of about ``events`` events for ``forget``: ``fill``'s log (every
    event by :data:`FILL_USER`), then a campaign planned by :data:`CLERK` with
    one nominee, nominated and approved; the views caught up, as a live
    ledger's are. Returns the log's length."""
    with Ledger.open(f"sqlite:///{path}", policy=POLICY, read_your_writes=False) as ledger:
        fill(ledger, events)
        campaign_id = launched_campaign(ledger, "nominations", CLERK)
        person, employer = NOMINEE
        commendation_id = ledger.execute(
            c.NominateCraftsman(
                campaign_id=campaign_id,
                person=person,
                employer=employer,
                deeds=f"{person}的事迹：改进退火工艺",
                nominating_department="XA-QTS",
            ),
            CLERK,
        ).aggregate_id
        ledger.execute(
            c.ReviewNomination(commendation_id=commendation_id, approved=True, reviewed_on=date(2017, 9, 20)), CLERK
        )
        ledger.views.catch_up()
        return EventLog.of(ledger).position()


def subjects() -> dict[str, str]:
    """The three subjects forgotten, by what they are."""
    person, employer = NOMINEE
    return {
        f"nominee:{person}@{employer}": "nominee",
        f"user:{CLERK.user}": "clerk (a few commands)",
        f"user:{FILL_USER}": "clerk (every event)",
    }


def forget_once(url: str, subject: str) -> tuple[int, int, float, dict[str, float]]:
    """Forget ``subject`` (run in a spawned child): the report's sealed events
    and snapshots replaced, the seconds ``forget`` took (opening the ledger
    excluded), and the seconds of each of its steps, as its ``step``
    callback tells them."""
    marks: list[tuple[str, float]] = []
    with Ledger.open(url, policy=POLICY) as ledger:
        started = time.perf_counter()
        report = ledger.forget(
            subject,
            reason="benchmark: erasure request",
            actor=OFFICER,
            step=lambda what: marks.append((what, time.perf_counter())),
        )
        ended = time.perf_counter()
    ends = [t for _, t in marks[1:]] + [ended]
    steps = {what.split()[0]: end - begun for (what, begun), end in zip(marks, ends, strict=True)}
    return report.sealed_events, report.snapshots_replaced, ended - started, steps


def verified(url: str) -> None:
    """Stop unless the log at ``url`` still verifies (after a ``forget``: it must)."""
    with Ledger.open(url, read_your_writes=False, create=False) as ledger:
        report = ledger.verify()
    if not report.ok:
        msg = f"the log does not verify after forget: {report.first_break}"
        raise RuntimeError(msg)


@dataclass
class Forgot:
    """One ``forget``: what it reached, its seconds, its steps' and its child's peak RSS."""

    what: str
    events: int
    seconds: float
    mb: float
    sealed: int
    snapshots: int
    steps: dict[str, float]

    def major(self) -> str:
        """The steps that take the time: the scan of the log, the views' rebuild, the file's rewrite."""
        names = {"finding": "scan", "rebuilding": "views", "scrubbing": "vacuum"}
        return ", ".join(f"{names[what]} {self.steps[what]:.1f}" for what in names if what in self.steps)

    def line(self) -> str:
        steps = ", ".join(f"{what} {seconds:.1f}" for what, seconds in self.steps.items())
        return (
            f"  forget a {self.what:24} on {self.events:>7,} events: {self.seconds:6.1f} s, peak RSS {self.mb:4.0f} MB"
            f"  ({self.sealed:,} events' fields erased, {self.snapshots} snapshots replaced)\n    steps (s): {steps}"
        )


def forget(directory: Path, sizes: list[int]) -> list[Forgot]:
    """Each subject forgotten once on each size, each on its own copy of the log."""
    found: list[Forgot] = []
    for size in sizes:
        base = directory / f"forget-{size}.db"
        started = time.perf_counter()
        events = forget_log(base, size)
        print(f"forget: a log of {events:,} events made in {time.perf_counter() - started:.0f} s", flush=True)
        for subject, what in subjects().items():
            copy = directory / f"forget-{size}-copy.db"
            copy_log(base, copy)
            (sealed, snapshots, seconds, steps), _, mb = peak_rss(forget_once, f"sqlite:///{copy}", subject)
            verified(f"sqlite:///{copy}")
            done = Forgot(what, events, seconds, mb, sealed, snapshots, steps)
            print(done.line(), flush=True)
            found.append(done)
            remove_sqlite(copy)
        remove_sqlite(base)
    return found


# Reporting ---------------------------------------------------------------------------


def table(comparisons: list[tuple[str, Comparison]], forgets: list[Forgot], floor: float) -> str:
    rows = ["| goal | figure | ratio |", "|---|---|---|"]
    for goal, result in comparisons:
        figure = (
            f"{result.project} {result.project_rate:,.0f} {result.unit}/s, "
            f"{result.bare} {result.bare_rate:,.0f} {result.unit}/s"
        )
        rows.append(f"| {goal} | {figure} | {result.spread()} |")
    for done in forgets:
        rows.append(
            f"| forget a {done.what}, {done.events:,} events | {done.seconds:.1f} s ({done.major()}), peak RSS {done.mb:.0f} MB "
            f"(import-only child {floor:.0f} MB) | - |"
        )
    return "\n".join(rows)


def load() -> str:
    """The load averages (1, 5, 15 minutes) and the cores: how shared the machine was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rounds_argument(parser)
    parser.add_argument("--block", type=int, default=400, help="commands per execute block")
    parser.add_argument("--round-trips", type=int, default=5000, help="mapper round trips per block")
    parser.add_argument("--events", type=int, default=20_000, help="events in each catch-up log")
    parser.add_argument(
        "--forget-sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10_000, 100_000],
        help="sizes of the forget logs, comma-separated (default 10000,100000)",
    )
    parser.add_argument("--postgres", metavar="URL", help="also execute sealed against plain on this server")
    args = parser.parse_args()
    print(f"load before: {load()}", flush=True)
    print(f"{args.block} ReportProgress commands per block over {LANES} started activities", flush=True)
    comparisons: list[tuple[str, Comparison]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = sqlite_views_in(directory, prefix="ledger")
        for at_rest in (False, True):
            result = mappers(at_rest=at_rest, block=args.round_trips, rounds=args.rounds)
            goal = "at rest / sealed" if at_rest else "sealed / plain"
            comparisons.append((f"mapper round trip (encode+decode), no database: {goal}", result))
        for keyed in (False, True):
            result = execute(files, "SQLite", keyed=keyed, at_rest=False, block=args.block, rounds=args.rounds)
            comparisons.append((f"execute, SQLite, {'with' if keyed else 'no'} key: sealed / plain", result))
        for keyed in (False, True):
            result = execute(files, "SQLite", keyed=keyed, at_rest=True, block=args.block, rounds=args.rounds)
            comparisons.append((f"execute, SQLite, {'with' if keyed else 'no'} key: at rest / sealed", result))
        if args.postgres:
            from bench_postgres import schemas_on

            for keyed in (False, True):
                result = execute(
                    schemas_on(args.postgres), "PostgreSQL", keyed=keyed, at_rest=False, block=args.block,
                    rounds=args.rounds,
                )  # fmt: skip
                comparisons.append((f"execute, PostgreSQL, {'with' if keyed else 'no'} key: sealed / plain", result))
        for at_rest in (False, True):
            written, result = catch_up(directory, at_rest=at_rest, events=args.events, rounds=args.rounds)
            goal = "at rest / sealed" if at_rest else "sealed / plain"
            comparisons.append((f"catch-up into all views, SQLite, {written:,} events: {goal}", result))
        floor = baseline_rss()
        print(f"peak RSS of a child that only imports the ledger: {floor:.0f} MB", flush=True)
        forgets = forget(directory, args.forget_sizes)
    print()
    for _, result in comparisons:
        print(result.report())
    print(f"\nload after: {load()}\n")
    print(table(comparisons, forgets, floor))


if __name__ == "__main__":
    main()
