"""Workloads the benchmark scripts share, measured the same way on every engine.

Imported by the scripts beside it (``.venv/bin/python benchmarks/bench_x.py``
puts this directory on ``sys.path``); not a benchmark of its own.
"""

from __future__ import annotations

import time
from datetime import date
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.persistence import PydanticMapper, env_for

ORGANISER = Actor(user="bench", department="XA-QPC")
LEAD = Actor(user="bench", department="XA-QTS")
LANES = 100


class Bare(Application[UUID]):
    """The bare peer: eventsourcing's own ``Application`` and recorder (no hash
    chain) with the ledger's mapper, on the ledger's tables. The ledger's own
    store refuses an unchained recorder, so the peer is built here."""

    name = "quality_ledger"

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JSONTranscoder())


def bare_store(url: str) -> Bare:
    return Bare(env=env_for(url))


def setup(ledger: Ledger) -> list[UUID]:
    campaign = ledger.execute(
        c.PlanCampaign(
            title="bench", theme="t", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
        ),
        ORGANISER,
    ).aggregate_id
    ledger.execute(c.EnlistDepartment(campaign_id=campaign, code="XA-QTS", name_zh="质监", name_en="QTS"), ORGANISER)
    ledger.execute(c.LaunchCampaign(campaign_id=campaign, launched_on=date(2017, 9, 1)), ORGANISER)
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


def commands_ledger(url: str, commands: int) -> float:
    """Commands/s through ``Ledger.execute``: ``commands`` progress reports round-robin over the lanes."""
    with Ledger.open(url) as ledger:
        ids = setup(ledger)
        started = time.perf_counter()
        for n in range(commands):
            ledger.execute(
                c.ReportProgress(
                    activity_id=ids[n % LANES], metric="enterprises", amount=1, reported_on=date(2017, 9, 3)
                ),
                LEAD,
            )
        return commands / (time.perf_counter() - started)


def commands_bare(url: str, commands: int) -> float:
    """Commands/s for the same work on eventsourcing's own ``Application`` and recorder with our mapper."""
    with Ledger.open(url) as ledger:
        ids = setup(ledger)
    store = bare_store(url)
    try:
        started = time.perf_counter()
        for n in range(commands):
            activity: Activity = store.repository.get(ids[n % LANES])
            activity.report_progress("enterprises", 1, date(2017, 9, 3))
            store.save(activity)
        return commands / (time.perf_counter() - started)
    finally:
        store.close()


def decode_all(store: Application[UUID]) -> int:
    """Reads the whole log with ``select_notifications`` in pages of 500 and decodes each event; returns the count."""
    count, start = 0, 1
    while notifications := store.recorder.select_notifications(start=start, limit=500):
        for notification in notifications:
            store.mapper.to_domain_event(notification)
        count += len(notifications)
        start = notifications[-1].id + 1
    return count
