"""Verify and as-of replay rates on SQLite, beside a bare read of the same log.

    .venv/bin/python benchmarks/bench_audit.py --events 100000 --runs 5

Per run, side by side on one file: (a) bare: ``select_notifications`` in
pages of 2,000, no decoding (the floor any verifier pays to read the log);
(b) ``Ledger.verify()``: read events and chain, recompute every link;
(c) ``Ledger.as_of(position=head)``: copy the log into a read-only in-memory
ledger and query its campaign status (which builds every view).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger
from quality_ledger.testing.synthetic import fill


def bare(ledger: Ledger) -> int:
    count, start = 0, 1
    recorder = EventLog.of(ledger).recorder
    while page := recorder.select_notifications(start=start, limit=2000):
        count += len(page)
        start = page[-1].id + 1
    return count


def verify(ledger: Ledger) -> int:
    report = ledger.verify()
    assert report.ok, report
    return report.checked


def as_of(ledger: Ledger) -> int:
    with ledger.as_of(position=ledger.position()) as then:
        campaign = then.campaigns()[0].campaign_id
        then.campaign_status(campaign)
        return then.position()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Ledger.open(f"sqlite:///{tmp}/log.db", read_your_writes=False) as ledger:
        size = fill(ledger, args.events)
        rates: dict[str, list[float]] = {"bare read": [], "verify": [], "as-of replay + views": []}
        for _ in range(args.runs):
            for name, fn in (("bare read", bare), ("verify", verify), ("as-of replay + views", as_of)):
                started = time.perf_counter()
                count = fn(ledger)
                rates[name].append(count / (time.perf_counter() - started))
    print(f"events: {size}, runs: {args.runs}")
    base = statistics.median(rates["bare read"])
    for name, values in rates.items():
        median = statistics.median(values)
        print(
            f"{name:22}: median {median:9.0f} events/s  (bare read / this: {base / median:5.2f}x)  {[round(v) for v in values]}"
        )


if __name__ == "__main__":
    main()
