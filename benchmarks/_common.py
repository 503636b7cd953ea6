"""Workloads the benchmark scripts share, measured the same way on every engine.

Imported by the scripts beside it (``.venv/bin/python benchmarks/bench_x.py``
puts this directory on ``sys.path``); not a benchmark of its own. Each side
is built once and then hands out blocks of work for
:func:`_harness.interleave`, so the two sides alternate on the same machine
state instead of running one after the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import JSONTranscoder, Mapper

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.command_records import CommandRecord, Receipt
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import Snapshot
from quality_ledger.eventlog import EventLog
from quality_ledger.persistence import PydanticMapper, env_for
from quality_ledger.privacy import FieldCipher, key_store_for
from quality_ledger.recent import MAX_RECENT
from quality_ledger.testing.synthetic import fill

ORGANISER = Actor(user="bench", department="XA-QPC")
LEAD = Actor(user="bench", department="XA-QTS")
LANES = 10
"""Started activities the commands go round: few enough that each passes the
snapshot interval every block or two (40 events per activity in a block of
400), so a load replays what a long-lived ledger's does on average, half an
interval, on both sides. (With 100 a run of 9 rounds never reached the first
snapshot: the peer's loads replayed 2, then up to 42 events, and its rate
halved from the first round to the last.)"""
SNAPSHOT_EVERY = 50
"""The ledger's snapshot interval (``EventLog.snapshot_every``; :class:`BareWriter` checks it), given to the bare peer."""


class Bare(Application[UUID]):
    """The bare peer: eventsourcing's own ``Application`` and recorder (no hash
    chain) with the ledger's mapper, on the ledger's tables. The ledger's own
    store refuses an unchained recorder, so the peer is built here.

    The mapper seals and opens personal fields with the keys in the same
    database, as the ledger's does (issue 15): the peer saves and reads the
    same rows. (benchmarks/bench_privacy.py measures what sealing costs.)
    It keeps no aggregates between commands (eventsourcing's repository
    cache is off by default); the ledger's writer does (``quality_ledger.recent``)."""

    name = "quality_ledger"
    snapshotting_intervals: ClassVar[dict[type[BaseAggregate[UUID]], int]] = {Activity: SNAPSHOT_EVERY}
    """Snapshots at the ledger's interval, as eventsourcing takes them in
    ``save``: a load replays at most as many events as the ledger's would,
    so the peer's cost per command stays flat over a run (without them it
    replayed every event of the activity, slower each round)."""
    snapshot_class = Snapshot

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env=env)
        cast(PydanticMapper, self.mapper).privacy = FieldCipher(key_store_for(self.recorder))

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JSONTranscoder())


def bare_store(url: str, *, cache: bool = False) -> Bare:
    """The bare peer on ``url``; with ``cache``, eventsourcing's own aggregate
    cache on (``AGGREGATE_CACHE_MAXSIZE``: kept, fast-forwarded from the
    store, deep-copied for each command), what the ledger's writer does its own way."""
    env = env_for(url)
    if cache:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(MAX_RECENT)
    return Bare(env=env)


def launched_campaign(ledger: Ledger, title: str, organiser: Actor = ORGANISER) -> UUID:
    """A campaign of ``organiser``'s department, planned, with XA-QTS enlisted
    to lead its activities, and launched (each step by ``organiser``); its id."""
    campaign = ledger.execute(
        c.PlanCampaign(
            title=title,
            theme="t",
            organiser=organiser.department,
            starts_on=date(2017, 9, 1),
            ends_on=date(2017, 9, 30),
        ),
        organiser,
    ).aggregate_id
    ledger.execute(c.EnlistDepartment(campaign_id=campaign, code="XA-QTS", name_zh="质监", name_en="QTS"), organiser)
    ledger.execute(c.LaunchCampaign(campaign_id=campaign, launched_on=date(2017, 9, 1)), organiser)
    return campaign


def setup(ledger: Ledger) -> list[UUID]:
    """A launched campaign with ``LANES`` started activities; returns the activities' ids."""
    campaign = launched_campaign(ledger, "bench")
    ids = []
    for n in range(LANES):
        activity = ledger.execute(
            c.PlanActivity(
                campaign_id=campaign,
                title=f"visit {n}",
                lead_department="XA-QTS",
                focus_area="everyone-takes-part",
                targets={"enterprises": 88},
            ),
            LEAD,
        ).aggregate_id
        ledger.execute(c.StartActivity(activity_id=activity, started_on=date(2017, 9, 2)), LEAD)
        ids.append(activity)
    return ids


class LedgerWriter:
    """The project's side: ``ReportProgress`` commands through ``Ledger.execute``,
    round-robin over the lanes, with an idempotency key on each if ``keyed``."""

    def __init__(self, url: str, block: int, *, keyed: bool = False) -> None:
        self.ledger = self.open(url)
        self.ids = setup(self.ledger)
        self.block = block
        self.keyed = keyed
        self.serial = count()

    def open(self, url: str) -> Ledger:
        """The ledger the commands go to (a subclass may open it its own way)."""
        return Ledger.open(url)

    def __call__(self) -> int:
        for _ in range(self.block):
            n = next(self.serial)
            self.ledger.execute(
                c.ReportProgress(
                    activity_id=self.ids[n % LANES],
                    metric="enterprises",
                    amount=1,
                    reported_on=date(2017, 9, 3),
                    idempotency_key=f"bench-{n}" if self.keyed else None,
                ),
                LEAD,
            )
        return self.block

    def close(self) -> None:
        self.ledger.close()


class BareWriter:
    """The bare side: the same events saved by eventsourcing's own ``Application``
    (load the activity, ``report_progress``, ``save``), nothing else. With
    ``keyed``, the same events as the ledger saves for a command with a key:
    the activity's and a command record's (created and saved in the same
    ``save``), without looking the key up first."""

    def __init__(self, url: str, block: int, *, keyed: bool = False, cache: bool = False) -> None:
        with Ledger.open(url) as ledger:
            self.ids = setup(ledger)
            assert EventLog.of(ledger).snapshot_every == SNAPSHOT_EVERY, "the peer snapshots at the ledger's interval"
        self.store = bare_store(url, cache=cache)
        self.block = block
        self.keyed = keyed
        self.serial = count()
        self.receipt = Receipt(
            aggregate_id=uuid.uuid4(), version=1, events=("Activity.ProgressReported",),
            command_id=uuid.uuid4(), correlation_id=uuid.uuid4(),
        )  # fmt: skip

    def __call__(self) -> int:
        for _ in range(self.block):
            n = next(self.serial)
            activity: Activity = self.store.repository.get(self.ids[n % LANES])
            activity.report_progress("enterprises", 1, date(2017, 9, 3))
            if self.keyed:
                record = CommandRecord.accept(f"bench-{n}", "0" * 64, self.receipt)
                self.store.save(activity, record)
            else:
                self.store.save(activity)
        return self.block

    def close(self) -> None:
        self.store.close()


def decode_all(store: Application[UUID]) -> int:
    """Reads the whole log with ``select_notifications`` in pages of 500 and decodes each event; returns the count."""
    decoded, start = 0, 1
    while notifications := store.recorder.select_notifications(start=start, limit=500):
        for notification in notifications:
            store.mapper.to_domain_event(notification)
        decoded += len(notifications)
        start = notifications[-1].id + 1
    return decoded


# Reading the log ---------------------------------------------------------------------


class BareDecode:
    """The bare reader: eventsourcing's recorder, ``select_notifications`` in
    pages of 500 and the mapper's decode: what any consumer of the log pays."""

    def __init__(self, url: str) -> None:
        self.store = bare_store(url)

    def __call__(self) -> int:
        return decode_all(self.store)

    def close(self) -> None:
        self.store.close()


class RawRead:
    """The floor of any verifier: ``select_notifications`` in pages of 2,000, no decoding."""

    def __init__(self, url: str) -> None:
        self.store = bare_store(url)

    def __call__(self) -> int:
        read, start = 0, 1
        while page := self.store.recorder.select_notifications(start=start, limit=2000):
            read += len(page)
            start = page[-1].id + 1
        return read

    def close(self) -> None:
        self.store.close()


class CatchUp:
    """The project's reader: the views runner applying the whole log to every
    view from zero. Each block gets an empty views database from
    ``fresh_views`` (made and opened in ``prepare``, untimed)."""

    def __init__(self, events_url: str, fresh_views: Callable[[], AbstractContextManager[str]], **options: Any) -> None:
        self.events_url = events_url
        self.fresh_views = fresh_views
        self.options = options
        """More of ``Ledger.open``'s options (an ``encryption_key``)."""
        self.stack = ExitStack()
        self.ledger: Ledger | None = None

    def prepare(self) -> None:
        self.stack.close()
        self.stack = ExitStack()
        views_url = self.stack.enter_context(self.fresh_views())
        self.ledger = self.stack.enter_context(
            Ledger.open(self.events_url, views_url=views_url, read_your_writes=False, create=False, **self.options)
        )

    def __call__(self) -> int:
        if self.ledger is None:
            self.prepare()
        assert self.ledger is not None
        return self.ledger.views.catch_up()

    def close(self) -> None:
        self.stack.close()


class Verify:
    """``Ledger.verify()`` over the whole log; a break stops the benchmark."""

    def __init__(self, url: str) -> None:
        self.ledger = Ledger.open(url, read_your_writes=False, create=False)

    def __call__(self) -> int:
        report = self.ledger.verify()
        if not report.ok:
            msg = f"the benchmark's log does not verify: {report.first_break}"
            raise RuntimeError(msg)
        return report.checked

    def close(self) -> None:
        self.ledger.close()


def remove_sqlite(path: Path) -> None:
    """Remove a SQLite file with whatever companions (-wal, -shm) it left, if any."""
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()


def sqlite_views_in(directory: Path, prefix: str = "views") -> Callable[[], AbstractContextManager[str]]:
    """Fresh SQLite files in ``directory`` (views by default), each removed after use."""

    @contextmanager
    def fresh() -> Iterator[str]:
        path = directory / f"{prefix}-{uuid.uuid4().hex[:12]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            remove_sqlite(path)

    return fresh


# One path, run once (in a child process, for its peak memory) -------------------------


def catch_up_once(events_url: str, views_url: str) -> int:
    """Catch up an empty views database from zero; returns the events applied."""
    with Ledger.open(events_url, views_url=views_url, read_your_writes=False, create=False) as ledger:
        return ledger.views.catch_up()


def decode_once(events_url: str) -> int:
    reader = BareDecode(events_url)
    try:
        return reader()
    finally:
        reader.close()


def generate(url: str, events: int) -> int:
    """A realistic log of at least ``events`` events, saved in large chunks
    through the ledger's own (chained) store: it verifies and the views
    catch up from it."""
    with Ledger.open(url, read_your_writes=False) as ledger:
        return fill(ledger, events)
