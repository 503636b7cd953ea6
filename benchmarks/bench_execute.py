"""Commands per second through ``Ledger.execute`` against a bare eventsourcing app, on SQLite.

Both sides do the same work on their own SQLite file: load the activity,
call its command method, save the same events. The bare side is
eventsourcing's ``Application`` with our mapper and nothing else; the ledger
adds command validation, authorisation, metadata, the hash chain, the
receipt and (with a key) the idempotency record, which the bare side then
saves too: with a key, both save the same events, the activity's and the
command record's (the issue's "bare peer saving the same events"), and the
difference is the ledger's own work. The two run in alternating
blocks of ``--block`` commands in one process (``_harness.interleave``),
once without and once with an idempotency key, each comparison on fresh
files; then once more without a key against the peer with eventsourcing's
own aggregate cache on. The workload (``_common.py``) is the one
``bench_postgres.py`` runs on PostgreSQL.

    .venv/bin/python benchmarks/bench_execute.py --rounds 5 --block 400
"""

from __future__ import annotations

import argparse
import tempfile

from _common import LANES, BareWriter, LedgerWriter
from _harness import Comparison, interleave, rounds_argument


def compare(url_of: str, *, keyed: bool, block: int, rounds: int, cache: bool = False) -> Comparison:
    ours = LedgerWriter(f"{url_of}-ledger.db", block, keyed=keyed)
    bare = BareWriter(f"{url_of}-bare.db", block, keyed=keyed, cache=cache)
    try:
        title = f"execute, SQLite, {'with' if keyed else 'without'} a key"
        if cache:
            title += ", the peer with eventsourcing's aggregate cache"
        return interleave(title, ours, bare, rounds=rounds, unit="commands")
    finally:
        ours.close()
        bare.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rounds_argument(parser)
    parser.add_argument("--block", type=int, default=400, help="commands per block")
    args = parser.parse_args()
    print(f"{args.block} ReportProgress commands per block over {LANES} started activities", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for keyed in (False, True):
            results.append(compare(f"sqlite:///{tmp}/{'keyed' if keyed else 'plain'}", keyed=keyed, **vars(args)))
        # The ledger's writer keeps the aggregates it decided on; eventsourcing can too, when asked:
        results.append(compare(f"sqlite:///{tmp}/cached", keyed=False, cache=True, **vars(args)))
    for result in results:
        print(result.report())


if __name__ == "__main__":
    main()
