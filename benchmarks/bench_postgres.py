"""The ledger on PostgreSQL against bare ``eventsourcing.postgres``, side by side.

    scripts/postgres start        # prints the URL of the private test server
    .venv/bin/python benchmarks/bench_postgres.py --url "$(scripts/postgres url)" --runs 5

Two measurements, each run on a fresh schema, bare and ledger alternating:

- commands/s, one writer: 100 started activities, then ``--commands``
  ``ReportProgress`` commands round-robin (as ``bench_execute.py`` does on
  SQLite). Bare: eventsourcing's ``Application`` on eventsourcing's own
  PostgreSQL recorder with our mapper (load, ``report_progress``, ``save``).
  Ledger: ``Ledger.execute`` (validation, authorisation, metadata, receipt,
  the hash chain written in the same transaction).
- catch-up events/s: a log of ``--events`` events made once. Bare:
  ``select_notifications`` in pages of 500 and the mapper's decode. Ledger:
  the views runner applying every event to every view, into a fresh schema of
  the same server.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
from _common import LANES, bare_store, commands_bare, commands_ledger, decode_all

from quality_ledger import Ledger
from quality_ledger.testing.synthetic import fill


def in_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = schema
    return parts._replace(query=urlencode(query)).geturl()


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A ledger URL in a new, empty schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    server = urlsplit(url)._replace(query="").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(url, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def catch_up_bare(events_url: str) -> float:
    store = bare_store(events_url)
    try:
        started = time.perf_counter()
        count = decode_all(store)
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def catch_up_views(events_url: str) -> float:
    with fresh_schema(events_url) as views_url, Ledger.open(events_url, views_url=views_url) as ledger:
        started = time.perf_counter()
        count = ledger.views.catch_up()
        return count / (time.perf_counter() - started)


def alternate(runs: int, sides: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(runs):
        for name, measure in sides.items():
            rates[name].append(measure())
            print(f"  run {run + 1} {name}: {rates[name][-1]:,.0f}/s", flush=True)
    return rates


def report(title: str, unit: str, rates: dict[str, list[float]]) -> None:
    bare, ours = (statistics.median(rates[k]) for k in rates)
    print(title)
    for name, values in rates.items():
        print(f"  {name:8}: median {statistics.median(values):9,.0f} {unit}/s  {[round(v) for v in values]}")
    print(f"  ratio (bare / ledger): {bare / ours:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="postgresql://user:password@host:port/database")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()

    def with_fresh(measure: Callable[[str, int], float]) -> Callable[[], float]:
        def run() -> float:
            with fresh_schema(args.url) as url:
                return measure(url, args.commands)

        return run

    print(f"commands: {args.commands} per run, {args.runs} runs, {LANES} activities", flush=True)
    commands = alternate(args.runs, {"bare": with_fresh(commands_bare), "ledger": with_fresh(commands_ledger)})
    with fresh_schema(args.url) as events_url:
        with Ledger.open(events_url, read_your_writes=False) as ledger:
            count = fill(ledger, args.events)
        print(f"catch-up: a log of {count} events, {args.runs} runs", flush=True)
        catch_up = alternate(
            args.runs, {"bare": lambda: catch_up_bare(events_url), "ledger": lambda: catch_up_views(events_url)}
        )
    report("commands through one writer", "commands", commands)
    report("catch-up from position 0", "events", catch_up)


if __name__ == "__main__":
    main()
