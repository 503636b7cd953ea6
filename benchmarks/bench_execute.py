"""Commands per second through Ledger.execute against a bare eventsourcing app.

Both sides do the same work on the same kind of SQLite file: load the
activity, call its command method, save the same events. The bare side is
eventsourcing's Application with our mapper and nothing else; the ledger adds
command validation, authorisation, metadata and the receipt. Runs alternate,
each on a fresh file; medians of --runs runs are reported side by side. The
workload (``_common.py``) is the one ``bench_postgres.py`` runs on PostgreSQL.

    .venv/bin/python benchmarks/bench_execute.py --runs 5 --commands 2000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from _common import LANES, commands_bare, commands_ledger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands", type=int, default=2000)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"ledger": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, fn in (("bare", commands_bare), ("ledger", commands_ledger)):
                rates[name].append(fn(f"sqlite:///{tmp}/{name}-{run}.db", args.commands))
    bare = statistics.median(rates["bare"])
    ours = statistics.median(rates["ledger"])
    print(f"commands per run: {args.commands}, runs: {args.runs}, activities: {LANES}")
    print(f"bare eventsourcing Application : median {bare:8.0f} commands/s  {[round(r) for r in rates['bare']]}")
    print(f"Ledger.execute                 : median {ours:8.0f} commands/s  {[round(r) for r in rates['ledger']]}")
    print(f"overhead (bare rate / ledger rate): {bare / ours:.2f}x")


if __name__ == "__main__":
    main()
