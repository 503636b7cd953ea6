"""Catch-up rate into all views against a bare read-and-decode of the same log, on SQLite.

    .venv/bin/python benchmarks/bench_views.py --events 100000 --rounds 5 --memory

A log with a realistic mix (activities with progress reports, inspections with
samples, results, verdicts and rectifications) is generated once through the
domain methods and saved in large chunks. Then, in alternating blocks in one
process (``_harness.interleave``): (a) bare: eventsourcing's recorder,
``select_notifications`` in pages of 500 and the mapper's decode; (b) the
ledger's runner applying every event to every view, each block into a fresh
views file. With ``--memory``, each side then runs once more in a spawned
child, whose own peak RSS is reported.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import BareDecode, CatchUp, catch_up_once, decode_once, generate, sqlite_views_in
from _harness import baseline_rss, interleave, peak_rss, rounds_argument


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    rounds_argument(parser)
    parser.add_argument("--memory", action="store_true", help="also the peak RSS of each side, in a child")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events_url = f"sqlite:///{tmp}/events.db"
        started = time.perf_counter()
        count = generate(events_url, args.events)
        print(f"generated {count:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        views, bare = CatchUp(events_url, sqlite_views_in(Path(tmp))), BareDecode(events_url)
        try:
            result = interleave(
                f"catch-up of {count:,} events", views, bare, rounds=args.rounds, names=("views", "bare read+decode")
            )
        finally:
            views.close()
            bare.close()
        print(result.report())
        if args.memory:
            print(f"peak RSS of a child that only imports the ledger: {baseline_rss():.0f} MB")
            _, seconds, mb = peak_rss(decode_once, events_url)
            print(f"bare read+decode in a child : {seconds:.1f} s, peak RSS {mb:.0f} MB")
            _, seconds, mb = peak_rss(catch_up_once, events_url, f"sqlite:///{tmp}/views-child.db")
            print(f"catch-up in a child         : {seconds:.1f} s, peak RSS {mb:.0f} MB")


if __name__ == "__main__":
    main()
