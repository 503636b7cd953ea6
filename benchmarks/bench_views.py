"""Catch-up rate into all views against a bare read-and-decode of the same log.

    .venv/bin/python benchmarks/bench_views.py --events 100000 --runs 3
    .venv/bin/python benchmarks/bench_views.py --events 1000000 --runs 1   # peak memory

A log with a realistic mix (activities with progress reports, inspections with
samples, results, verdicts and rectifications) is generated once through the
domain methods and saved in large chunks. Each run then reads it twice, side
by side: (a) bare: ``select_notifications`` in pages of 500 and the mapper's
decode; (b) the ledger's runner applying every event to every view in a fresh
views database. Each measurement runs in its own process, so its peak RSS
is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import decode_all

from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger
from quality_ledger.persistence import store_env
from quality_ledger.testing.synthetic import fill


def generate(url: str, events: int) -> int:
    with Ledger.open(url, read_your_writes=False) as ledger:
        return fill(ledger, events)


def peak_rss_mb() -> float:
    """This process's own peak resident set (VmHWM; ru_maxrss would carry the
    launching parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, events_url: str, views_url: str) -> dict[str, float]:
    started = time.perf_counter()
    if kind == "bare":
        store = EventLog(env=store_env(events_url))
        count = decode_all(store)
        store.close()
    else:
        with Ledger.open(events_url, views_url=views_url, read_your_writes=False) as ledger:
            count = ledger.views.catch_up()
    elapsed = time.perf_counter() - started
    peak_mb = peak_rss_mb()
    return {"events": count, "rate": count / elapsed, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "EVENTS_URL", "VIEWS_URL"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        events_url = f"sqlite:///{tmp}/events.db"
        started = time.perf_counter()
        count = generate(events_url, args.events)
        print(f"generated {count} events in {time.perf_counter() - started:.0f} s", flush=True)
        results: dict[str, list[dict[str, float]]] = {"bare": [], "views": []}
        for run in range(args.runs):
            for kind in ("bare", "views"):
                views_url = f"sqlite:///{tmp}/views-{run}.db"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, events_url, views_url],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[kind].append(json.loads(out.stdout))
                print(kind, results[kind][-1], flush=True)
    bare = statistics.median(r["rate"] for r in results["bare"])
    views = statistics.median(r["rate"] for r in results["views"])
    print(f"events: {count}, runs: {args.runs}")
    print(
        f"bare read + decode      : median {bare:9.0f} events/s, peak {max(r['peak_mb'] for r in results['bare']):.0f} MB"
    )
    print(
        f"catch-up into all views : median {views:9.0f} events/s, peak {max(r['peak_mb'] for r in results['views']):.0f} MB"
    )
    print(f"ratio (bare / views): {bare / views:.2f}x")


if __name__ == "__main__":
    main()
