"""Verify and as-of replay rates on SQLite, each against a bare read of the same log.

    .venv/bin/python benchmarks/bench_audit.py --events 100000 --rounds 5

On one generated log, two comparisons, each in alternating blocks in one
process (``_harness.interleave``):

- ``Ledger.verify()`` (read events and chain, recompute every link) against
  a raw read: ``select_notifications`` in pages of 2,000 without decoding,
  the floor any verifier pays to read the log;
- ``Ledger.as_of(position=head)`` plus one ``campaign_status`` (copy the log
  into a read-only in-memory ledger, then build every view) against a bare
  read and decode of the same rows.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from _common import BareDecode, RawRead, Verify, generate
from _harness import interleave, rounds_argument

from quality_ledger.ledger import Ledger


class AsOf:
    """The replay an auditor asks for: the log up to its head, then the campaign's figures."""

    def __init__(self, url: str) -> None:
        self.ledger = Ledger.open(url, read_your_writes=False, create=False)

    def __call__(self) -> int:
        with self.ledger.as_of(position=self.ledger.position()) as then:
            then.campaign_status(then.campaigns()[0].campaign_id)
            return then.position()

    def close(self) -> None:
        self.ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    rounds_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/log.db"
        started = time.perf_counter()
        count = generate(url, args.events)
        print(f"generated {count:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        results = []
        for title, ours, bare, names in (
            (f"verify() of {count:,} events", Verify(url), RawRead(url), ("verify", "raw read")),
            (f"as_of(head) of {count:,} events + views", AsOf(url), BareDecode(url), ("as_of", "bare read+decode")),
        ):
            try:
                results.append(interleave(title, ours, bare, rounds=args.rounds, names=names))
            finally:
                ours.close()
                bare.close()
    for result in results:
        print(result.report())


if __name__ == "__main__":
    main()
