"""The ledger on PostgreSQL against bare ``eventsourcing.postgres``, in alternating blocks.

    scripts/postgres start        # prints the URL of the private test server
    .venv/bin/python benchmarks/bench_postgres.py --rounds 5

The server is ``--url``, else ``$QUALITY_LEDGER_TEST_POSTGRES_URL``. Three
comparisons, each side in its own fresh schema, the sides alternating in
blocks in one process (``_harness.interleave``):

- commands/s, one writer, without and with an idempotency key: 100 started
  activities, then blocks of ``--block`` ``ReportProgress`` commands
  round-robin (as ``bench_execute.py`` does on SQLite). Bare: eventsourcing's
  ``Application`` on eventsourcing's own PostgreSQL recorder with our mapper
  (load, ``report_progress``, ``save``). Ledger: ``Ledger.execute``
  (validation, authorisation, metadata, receipt, the hash chain and the
  idempotency record written in the same transaction).
- catch-up events/s over a log of ``--events`` events made once. Bare:
  ``select_notifications`` in pages of 500 and the mapper's decode. Ledger:
  the views runner applying every event to every view, each block into a
  fresh schema of the same server.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
from _common import LANES, BareDecode, BareWriter, CatchUp, LedgerWriter, generate
from _harness import Comparison, interleave, rounds_argument

URL_VARIABLE = "QUALITY_LEDGER_TEST_POSTGRES_URL"


def in_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = schema
    return parts._replace(query=urlencode(query)).geturl()


def schemas_on(url: str) -> Callable[[], AbstractContextManager[str]]:
    """Fresh schemas on the server of ``url``: a context manager yielding a
    ledger URL in a new, empty schema, dropped afterwards."""

    @contextmanager
    def fresh() -> Iterator[str]:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        server = urlsplit(url)._replace(query="").geturl()
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        try:
            yield in_schema(url, schema)
        finally:
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA {schema} CASCADE")

    return fresh


def commands(url: str, *, keyed: bool, block: int, rounds: int, cache: bool = False) -> Comparison:
    fresh = schemas_on(url)
    with ExitStack() as stack:
        ours = LedgerWriter(stack.enter_context(fresh()), block, keyed=keyed)
        stack.callback(ours.close)
        bare = BareWriter(stack.enter_context(fresh()), block, keyed=keyed, cache=cache)
        stack.callback(bare.close)
        title = f"execute, PostgreSQL, {'with' if keyed else 'without'} a key"
        if cache:
            title += ", the peer with eventsourcing's aggregate cache"
        return interleave(title, ours, bare, rounds=rounds, unit="commands")


def catch_up(url: str, *, events: int, rounds: int) -> Comparison:
    fresh = schemas_on(url)
    with fresh() as events_url:
        count = generate(events_url, events)
        print(f"catch-up: a log of {count:,} events", flush=True)
        views, bare = CatchUp(events_url, fresh), BareDecode(events_url)
        try:
            title = f"catch-up of {count:,} events, PostgreSQL"
            return interleave(title, views, bare, rounds=rounds, names=("views", "bare read+decode"))
        finally:
            views.close()
            bare.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(URL_VARIABLE), help=f"default: ${URL_VARIABLE}")
    rounds_argument(parser)
    parser.add_argument("--block", type=int, default=200, help="commands per block")
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    if not args.url:
        parser.error(f"give --url or set {URL_VARIABLE} (scripts/postgres start prints it)")
    print(f"{args.block} ReportProgress commands per block over {LANES} started activities", flush=True)
    results = [commands(args.url, keyed=keyed, block=args.block, rounds=args.rounds) for keyed in (False, True)]
    results.append(commands(args.url, keyed=False, block=args.block, rounds=args.rounds, cache=True))
    results.append(catch_up(args.url, events=args.events, rounds=args.rounds))
    for result in results:
        print(result.report())


if __name__ == "__main__":
    main()
