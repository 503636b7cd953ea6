"""A command at the size bound appends in well under a second (issue 11).

Interleaved in one process: blocks of the largest ``PlanCampaign`` (every text
field at its bound in 4-byte characters, 50 partners, the longest key: close to
the 64 KiB command bound) alternate with blocks of a small one, on the same
ledger, for ``--rounds`` rounds. Reports the median milliseconds per command
of each, and the median ratio with its min-max.

    .venv/bin/python benchmarks/bench_bounds.py --url sqlite:///tmp/b.db --rounds 5 --block 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from itertools import count

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain import values as v

ASTRAL = "\U00020000"  # CJK extension B: 4 bytes in UTF-8
ORGANISER = Actor(user="bench", department="XA-QPC")
serial = count()


def largest() -> c.PlanCampaign:
    n = f"{next(serial):08}"
    name = n + ASTRAL * (v.MAX_NAME - len(n))
    return c.PlanCampaign(
        title=name,
        theme=name,
        purpose=ASTRAL * v.MAX_TEXT,
        organiser="XA-QPC",
        partners=tuple(name for _ in range(v.MAX_ITEMS)),
        starts_on=date(2017, 9, 1),
        ends_on=date(2017, 9, 30),
        idempotency_key=n + ASTRAL * (v.MAX_KEY - len(n)),
    )


def small() -> c.PlanCampaign:
    n = next(serial)
    return c.PlanCampaign(
        title=f"campaign {n}", theme="t", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
    )


def block(ledger: Ledger, make: type[c.PlanCampaign] | object, size: int) -> float:
    commands = [make() for _ in range(size)]  # type: ignore[operator]
    started = time.perf_counter()
    for command in commands:
        ledger.execute(command, ORGANISER)
    return (time.perf_counter() - started) / size * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=20)
    args = parser.parse_args()
    print(f"largest command: {len(largest().model_dump_json().encode()):,} bytes as JSON")
    big_ms, small_ms = [], []
    with Ledger.open(args.url) as ledger:
        block(ledger, small, 5)  # warm up
        for _ in range(args.rounds):
            big_ms.append(block(ledger, largest, args.block))
            small_ms.append(block(ledger, small, args.block))
    ratios = [b / s for b, s in zip(big_ms, small_ms, strict=True)]
    print(f"largest: median {statistics.median(big_ms):.1f} ms/command ({', '.join(f'{x:.1f}' for x in big_ms)})")
    print(f"small:   median {statistics.median(small_ms):.1f} ms/command ({', '.join(f'{x:.1f}' for x in small_ms)})")
    print(
        f"ratio largest/small: median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
