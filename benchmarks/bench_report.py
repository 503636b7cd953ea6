"""How long the campaign report takes on a long log (issue 16: under 5 s at 1M events from caught-up views).

    .venv/bin/python benchmarks/bench_report.py --events 10000
    .venv/bin/python benchmarks/bench_report.py --events 1000000 --workdir bench-logs   # keeps log, views, certificate

On a generated log (``testing.synthetic.fill`` through ``bench_scale.cached_log``,
shared with bench_scale.py in ``--workdir``), with the views caught up once
into their own file beside it (timed, kept for reruns):

- the report from caught-up views, as an auditor makes it daily (totals
  counted in SQL, each list capped at ``reports.MAX_ROWS`` rows): the chain
  verified since a checkpoint taken just before (nothing appended since: the
  cost of the check itself) and a replay certificate supplied: gathering the
  figures, rendering the page, writing it (median of ``--rounds``);
- the footer's two costs that grow with the log, once each: ``verify()`` of
  the whole chain, and ``replay_certificate()`` (a replay from zero; its
  result is cached in ``--workdir``; ``--no-certificate`` skips it and
  supplies a stand-in, which the page marks as supplied).

Ends with the figures as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_scale import cached_log, url_of

from quality_ledger import Ledger
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.reports import campaign_report, render

TARGET_SECONDS = 5.0


def catch_up(url: str, views_url: str) -> tuple[int, float]:
    started = time.perf_counter()
    with Ledger.open(url, views_url=views_url, read_your_writes=False, create=False) as ledger:
        applied = ledger.views.catch_up()
    return applied, time.perf_counter() - started


def certificate_for(ledger: Ledger, cache: Path | None, *, compute: bool) -> tuple[ReplayCertificate, float | None]:
    position = ledger.position()
    if cache is not None and cache.exists():
        cached = ReplayCertificate.model_validate_json(cache.read_text(encoding="utf-8"))
        if cached.position == position:
            return cached, None
    if not compute:
        return ReplayCertificate(position=position, digest="0" * 64), None
    started = time.perf_counter()
    found = ledger.replay_certificate()
    seconds = time.perf_counter() - started
    if cache is not None:
        cache.write_text(found.model_dump_json(), encoding="utf-8")
    return found, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="log size (default 10,000)")
    parser.add_argument("--rounds", type=int, default=5, help="reports made from caught-up views (median; default 5)")
    parser.add_argument("--workdir", type=Path, help="keep the log, its views and its certificate here for reruns")
    parser.add_argument(
        "--no-certificate", action="store_true", help="do not replay for the certificate (minutes at 1M events)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        path, events = cached_log(workdir, args.events)
        url = url_of(path)
        views_url = url_of(workdir / f"views-{args.events}.db")
        applied, catch_up_s = catch_up(url, views_url)
        print(f"views: {applied:,} events applied in {catch_up_s:.1f} s", flush=True)
        with Ledger.open(url, views_url=views_url, read_your_writes=False, create=False) as ledger:
            cache = workdir / f"certificate-{args.events}.json" if args.workdir else None
            certificate, certificate_s = certificate_for(ledger, cache, compute=not args.no_certificate)
            gathered, rendered, written, sizes = [], [], [], []
            for n in range(args.rounds):
                trusted = ledger.checkpoint()
                started = time.perf_counter()
                report = campaign_report(ledger, since=trusted, certificate=certificate)
                gathered.append(time.perf_counter() - started)
                started = time.perf_counter()
                page = render(report)
                rendered.append(time.perf_counter() - started)
                started = time.perf_counter()
                out = Path(scratch) / f"report-{n}.html"
                out.write_text(page, encoding="utf-8")
                written.append(time.perf_counter() - started)
                sizes.append(len(page.encode()))
                print(
                    f"round {n + 1}: figures {gathered[-1]:.2f} s, render {rendered[-1]:.2f} s, "
                    f"write {written[-1]:.2f} s, {sizes[-1] / 1e6:.1f} MB",
                    flush=True,
                )
            started = time.perf_counter()
            verified = ledger.verify()
            verify_s = time.perf_counter() - started
    activities = report.body.activities
    targets = report.body.targets
    fast = statistics.median(g + r + w for g, r, w in zip(gathered, rendered, written, strict=True))
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(f"load average (1, 5, 15 min) at the end: {load}; {args.rounds} rounds, medians")
    print()
    print(
        "| events | activities / targets (listed) | gather | render | write | total (median) | page "
        f"| goal (< {TARGET_SECONDS:.0f} s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {events:,} | {activities.total:,} / {targets.total:,} ({len(activities.rows)} / {len(targets.rows)}) | "
        f"{statistics.median(gathered):.2f} s | {statistics.median(rendered):.2f} s | "
        f"{statistics.median(written):.2f} s | {fast:.2f} s | {statistics.median(sizes) / 1e6:.2f} MB | "
        f"{'met' if fast < TARGET_SECONDS else 'not met'} |"
    )
    print()
    print("| events | views catch-up (once) | verify(), whole chain | replay_certificate() |")
    print("|---|---|---|---|")
    certificate_text = (
        f"{certificate_s:.1f} s"
        if certificate_s is not None
        else "skipped (--no-certificate)"
        if args.no_certificate
        else "cached"
    )
    print(
        f"| {events:,} | {catch_up_s:.1f} s ({applied:,} applied) | {verify_s:.2f} s "
        f"({verified.checked:,} events, {'ok' if verified.ok else 'BROKEN'}) | {certificate_text} |"
    )


if __name__ == "__main__":
    main()
