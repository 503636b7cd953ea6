"""The ``quality-ledger`` command: demo, status and history at a terminal."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from uuid import UUID

from quality_ledger import render
from quality_ledger.errors import LedgerError
from quality_ledger.ledger import Ledger
from quality_ledger.persistence import DEFAULT_URL, URL_VARIABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quality-ledger", description="Event-sourced quality campaign ledgers.")
    parser.add_argument(
        "--url",
        default=None,
        help=f"ledger to open (default: ${URL_VARIABLE}, else {DEFAULT_URL})",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("demo", help="load the Xi'an 2017 Quality Month and print where it stands")
    status = sub.add_parser("status", help="print where a campaign stands")
    status.add_argument("campaign", type=UUID, help="campaign id")
    history = sub.add_parser("history", help="print an aggregate's recorded events")
    history.add_argument("aggregate", type=UUID, help="aggregate id")
    return parser


def _demo(ledger: Ledger) -> int:
    from quality_ledger.scenarios import xian2017

    started = time.perf_counter()
    print(f"Loading the Xi'an 2017 Quality Month into {ledger.url} ...", file=sys.stderr, flush=True)
    before = ledger.position()
    campaign_id = xian2017.load(ledger)
    recorded = ledger.position() - before
    elapsed = time.perf_counter() - started
    note = "already loaded, nothing new recorded" if recorded == 0 else f"{recorded} events recorded"
    print(f"... {note} in {elapsed:.1f} s; campaign {campaign_id}\n", file=sys.stderr, flush=True)
    print(render.campaign_status(ledger.campaign_status(campaign_id)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with Ledger.open(args.url) as ledger:
            if args.action == "demo":
                return _demo(ledger)
            if args.action == "status":
                print(render.campaign_status(ledger.campaign_status(args.campaign)))
                return 0
            for event in ledger.history(args.aggregate):
                who = f"{event.meta.user}@{event.meta.department}" if event.meta else "-"
                print(f"v{event.version}  {event.recorded_at:%Y-%m-%d %H:%M:%S}  {who}  {event.name}  {event.payload}")
            return 0
    except LedgerError as e:
        print(f"quality-ledger: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
