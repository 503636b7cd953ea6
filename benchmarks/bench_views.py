"""Catch-up rate into all views against a bare read-and-decode of the same log, on SQLite.

    .venv/bin/python benchmarks/bench_views.py --events 100000 --rounds 5 --memory
    .venv/bin/python benchmarks/bench_views.py --log bench-logs/log-100000.db --rounds 5

A log with a realistic mix (activities with progress reports, inspections with
samples, results, verdicts and rectifications) is generated once through the
domain methods and saved in large chunks. Then, in alternating blocks in one
process (``_harness.interleave``): (a) bare: eventsourcing's recorder,
``select_notifications`` in pages of 500 and the mapper's decode; (b) the
ledger's runner applying every event to every view, each block into a fresh
views file. ``--log`` reads a log generated before (by ``bench_scale.py
--workdir``, say) instead, from a copy: the file itself is never opened. With ``--memory``, each side then runs once more in a spawned
child, whose own peak RSS is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import BareDecode, CatchUp, catch_up_once, decode_once, generate, sqlite_views_in
from _harness import baseline_rss, interleave, peak_rss, rounds_argument


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--log", type=Path, help="a SQLite log to read (a copy of it) instead of generating one")
    rounds_argument(parser)
    parser.add_argument("--memory", action="store_true", help="also the peak RSS of each side, in a child")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events_url = f"sqlite:///{tmp}/events.db"
        started = time.perf_counter()
        if args.log is not None:
            count = copy_log(args.log, Path(tmp) / "events.db")
            print(f"copied {args.log.name}: {count:,} events", flush=True)
        else:
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


def copy_log(source: Path, target: Path) -> int:
    """Copy a closed SQLite log file (with the -wal it may have left) and count its events."""
    if not source.is_file():
        msg = f"no log at {source}"
        raise SystemExit(msg)
    for companion in ("", "-wal"):
        if Path(f"{source}{companion}").is_file():
            shutil.copyfile(f"{source}{companion}", f"{target}{companion}")
    with contextlib.closing(sqlite3.connect(target)) as copy:
        return int(copy.execute("SELECT count(*) FROM stored_events").fetchone()[0])


if __name__ == "__main__":
    main()
