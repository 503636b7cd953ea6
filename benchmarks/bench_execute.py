"""Commands per second through Ledger.execute against a bare eventsourcing app.

Both sides do the same work on the same kind of SQLite file: load the
activity, call its command method, save the same events. The bare side is
eventsourcing's Application with our mapper and nothing else; the ledger adds
command validation, authorisation, metadata and the receipt. Runs alternate,
each on a fresh file; medians of --runs runs are reported side by side.

    .venv/bin/python benchmarks/bench_execute.py --runs 5 --commands 2000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from uuid import UUID

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.ledger import _Store
from quality_ledger.persistence import env_for

ORGANISER = Actor(user="bench", department="XA-QPC")
LEAD = Actor(user="bench", department="XA-QTS")
LANES = 100


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


def run_ledger(path: Path, commands: int) -> float:
    with Ledger.open(f"sqlite:///{path}") as ledger:
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


def run_bare(path: Path, commands: int) -> float:
    with Ledger.open(f"sqlite:///{path}") as ledger:
        ids = setup(ledger)
    store = _Store(env=env_for(f"sqlite:///{path}"))
    try:
        started = time.perf_counter()
        for n in range(commands):
            activity: Activity = store.repository.get(ids[n % LANES])
            activity.report_progress("enterprises", 1, date(2017, 9, 3))
            store.save(activity)
        return commands / (time.perf_counter() - started)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands", type=int, default=2000)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"ledger": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, fn in (("bare", run_bare), ("ledger", run_ledger)):
                rates[name].append(fn(Path(tmp) / f"{name}-{run}.db", args.commands))
    bare = statistics.median(rates["bare"])
    ours = statistics.median(rates["ledger"])
    print(f"commands per run: {args.commands}, runs: {args.runs}, activities: {LANES}")
    print(f"bare eventsourcing Application : median {bare:8.0f} commands/s  {[round(r) for r in rates['bare']]}")
    print(f"Ledger.execute                 : median {ours:8.0f} commands/s  {[round(r) for r in rates['ledger']]}")
    print(f"overhead (bare rate / ledger rate): {bare / ours:.2f}x")


if __name__ == "__main__":
    main()
