"""How the read, audit and import paths scale with the log: 10k, 100k and 1M events on SQLite.

    .venv/bin/python benchmarks/bench_scale.py --sizes 10000,100000 --rounds 5
    .venv/bin/python benchmarks/bench_scale.py --sizes 1000000 --workdir bench-logs   # keeps the log for reruns

For each size, on a generated log (``_common.generate``: realistic events
from the domain methods, saved in chunks through the ledger's chained store,
so it verifies and the views catch up; cached in ``--workdir`` if given):

- catch-up into all views against a bare read and decode, and ``verify()``
  against a raw read, each in alternating blocks in one process
  (``_harness.interleave``): median rates and the median ratio (min-max);
- ``verify(since=checkpoint)`` over 1,000 events appended after the
  checkpoint, on a copy of the log (if the ledger has ``since``);
- ``get()`` of the log's campaign, which has no snapshot and about one event
  in twelve of the log: seconds and events, to read how it grows;
- peak RSS of each path in its own spawned child (``_harness.peak_rss``):
  catch-up, verify, ``as_of(head)`` plus a ``campaign_status``,
  ``replay_certificate()``, ``verify_views()``;
- bulk import through ``Ledger.execute_many``: its peak RSS in a child,
  then its rate against the bare import (:func:`bare_import`: the same
  commands decided by the domain's aggregates and saved by eventsourcing's
  ``Application`` a chunk at a time), interleaved, each block into a fresh
  log; until the ledger has it, the row says "not built yet".

Ends with the figures as Markdown tables.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from _common import (
    LEAD,
    Bare,
    BareDecode,
    CatchUp,
    RawRead,
    Verify,
    bare_store,
    catch_up_once,
    generate,
    launched_campaign,
    remove_sqlite,
    sqlite_views_in,
)
from _harness import Comparison, baseline_rss, interleave, peak_rss, rounds_argument

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.audit.verify import VerifyReport
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.campaign import Campaign
from quality_ledger.testing.synthetic import fill

NEW_EVENTS = 1000
"""Events appended after the checkpoint for ``verify(since=...)``."""

NOT_BUILT = "not built yet"
EXECUTE_MANY = "execute_many"
"""The bulk import path (issue 14), looked up by name until every ledger has it."""


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def move_sqlite(source: Path, target: Path) -> None:
    """Move a closed SQLite file with whatever companions (-wal, -shm) it left."""
    for companion in source.parent.glob(f"{source.name}*"):
        companion.rename(target.parent / (target.name + companion.name[len(source.name) :]))


def cached_log(workdir: Path, size: int) -> tuple[Path, int]:
    """The log of ``size`` events in ``workdir``, generated once (under a
    temporary name, so an interrupted build is never reused)."""
    path = workdir / f"log-{size}.db"
    if path.exists():
        with Ledger.open(url_of(path), read_your_writes=False, create=False) as ledger:
            events = ledger.position()
        print(f"log of {events:,} events: reusing {path.name}", flush=True)
        return path, events
    building = workdir / f"building-{size}.db"
    remove_sqlite(building)
    started = time.perf_counter()
    events = generate(url_of(building), size)
    move_sqlite(building, path)
    print(f"log of {events:,} events: generated in {time.perf_counter() - started:.0f} s", flush=True)
    return path, events


# Paths run once in a spawned child, for their own peak memory -------------------------


def verify_once(url: str) -> int:
    reader = Verify(url)
    try:
        return reader()
    finally:
        reader.close()


def as_of_once(url: str) -> int:
    """An auditor's replay: the log up to its head, then the campaign's figures (which build the views)."""
    with Ledger.open(url, read_your_writes=False, create=False) as ledger:
        campaign = first_campaign(ledger)
        with ledger.as_of(position=ledger.position()) as then:
            then.campaign_status(campaign)
            return then.position()


def certificate_once(url: str) -> int:
    with Ledger.open(url, read_your_writes=False, create=False) as ledger:
        return ledger.replay_certificate().position


def verify_views_once(url: str, views_url: str) -> int:
    """``verify_views()`` against views already caught up; returns the differences found (0 expected)."""
    with Ledger.open(url, views_url=views_url, read_your_writes=False, create=False) as ledger:
        return len(ledger.verify_views().differences)


def import_stream(campaign: UUID, commands: int) -> Iterator[tuple[c.Command, Actor]]:
    """Activities in the shape of a real import: plan, start, eight progress reports, complete."""
    day = date(2017, 9, 2)
    n = 0
    while True:
        plan = c.PlanActivity(
            campaign_id=campaign,
            title=f"imported visit {n}",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            targets={"enterprises": 88},
        )
        activity = plan.new_id()
        steps: list[c.Command] = [plan, c.StartActivity(activity_id=activity, started_on=day)]
        steps += [
            c.ReportProgress(activity_id=activity, metric="enterprises", amount=1, reported_on=day) for _ in range(8)
        ]
        steps.append(c.CompleteActivity(activity_id=activity, completed_on=day, outcome="done"))
        for step in steps:
            if commands <= 0:
                return
            commands -= 1
            yield step, LEAD
        n += 1


def import_campaign(ledger: Ledger) -> UUID:
    """The launched campaign an import's activities are planned in, with the department that leads them."""
    return launched_campaign(ledger, "import")


def ledger_import(ledger: Ledger, campaign: UUID, commands: int) -> None:
    """``commands`` commands of :func:`import_stream` through ``execute_many``."""
    execute_many: Callable[..., object] = getattr(ledger, EXECUTE_MANY)
    result = execute_many(import_stream(campaign, commands))
    if inspect.isgenerator(result):  # a streamed answer does its work as it is read
        for _ in result:
            pass


def import_once(url: str, commands: int) -> tuple[int, float, float]:
    """Events recorded by ``execute_many`` over ``commands`` commands, and the
    seconds it took: on the wall clock, and on the CPU (this process's; on a
    shared machine the figure that other loads disturb least)."""
    with Ledger.open(url) as ledger:
        campaign = import_campaign(ledger)
        before = ledger.position()
        started, cpu_started = time.perf_counter(), time.process_time()
        ledger_import(ledger, campaign, commands)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        return ledger.position() - before, seconds, cpu_seconds


WARM_UP_COMMANDS = 2000
"""Commands each side imports, untimed, before the comparison (a full-size warm-up block would double a 1M run)."""

BARE_CHUNK = 1000
"""Commands the bare import decides between two saves (``execute_many``'s default chunk)."""


def bare_import(store: Bare, campaign_id: UUID, commands: int) -> None:
    """The bare peer of an import: the same commands of :func:`import_stream`
    decided by the domain's aggregate methods directly, the aggregates held
    in a dict, saved by eventsourcing's ``Application.save`` every
    ``BARE_CHUNK`` commands (one transaction each). Nothing else: no
    validation, authorisation, metadata, sealing, chain, receipt or snapshot."""
    campaign: Campaign = store.repository.get(campaign_id)
    held: dict[UUID, Activity] = {}
    for n, (command, _) in enumerate(import_stream(campaign_id, commands), start=1):
        if isinstance(command, c.PlanActivity):
            activity_id = command.new_id()
            campaign.add_activity(activity_id, command.lead_department)
            held[activity_id] = Activity.plan(activity_id, **command.model_dump(exclude={"command", "idempotency_key"}))
        elif isinstance(command, c.StartActivity):
            held[command.activity_id].start(command.started_on)
        elif isinstance(command, c.ReportProgress):
            held[command.activity_id].report_progress(command.metric, command.amount, command.reported_on)
        elif isinstance(command, c.CompleteActivity):
            held[command.activity_id].complete(command.completed_on, command.outcome)
        else:  # pragma: no cover - import_stream makes only these
            msg = f"the bare import does not decide {command.name}"
            raise TypeError(msg)
        if n % BARE_CHUNK == 0:
            store.save(campaign, *held.values())
            held = {i: a for i, a in held.items() if not a.is_finished}
    store.save(campaign, *held.values())


class Import:
    """One side of the import comparison: each block imports ``commands``
    commands into a fresh log, made with its campaign in ``prepare``
    (untimed); the block's units are the events it recorded."""

    def __init__(self, workdir: Path, name: str, commands: int, *, bare: bool) -> None:
        self.path = workdir / f"import-{name}.db"
        self.commands = commands
        self.bare = bare
        self.recorded: list[int] = []
        self._run: Callable[[], None] | None = None
        self._position: Callable[[], int] = int
        self._close: Callable[[], object] = int

    def prepare(self) -> None:
        self.close()
        ledger = Ledger.open(url_of(self.path))
        campaign = import_campaign(ledger)
        if self.bare:
            ledger.close()
            store = bare_store(url_of(self.path))
            self._run = lambda: bare_import(store, campaign, self.commands)
            self._position, self._close = store.recorder.max_notification_id, store.close
        else:
            self._run = lambda: ledger_import(ledger, campaign, self.commands)
            self._position, self._close = ledger.position, ledger.close
        self._before = self._position()

    def __call__(self) -> int:
        assert self._run is not None, "prepare() first"
        self._run()
        self.recorded.append(self._position() - self._before)
        return self.recorded[-1]

    def close(self) -> None:
        self._close()
        self._close = int
        remove_sqlite(self.path)


# In the parent ------------------------------------------------------------------------


def first_campaign(ledger: Ledger) -> UUID:
    """The generated log opens with its campaign's first event."""
    _, event = next(ledger.events(1, 1))
    return event.originator_id


def has_since() -> bool:
    return "since" in inspect.signature(Ledger.verify).parameters


def verify_since(log: Path, scratch: Path, rounds: int) -> tuple[int, list[float]]:
    """Milliseconds of ``verify(since=checkpoint)`` after ``NEW_EVENTS`` appended to a copy of the log."""
    for companion in log.parent.glob(f"{log.name}*"):
        shutil.copy(companion, scratch.parent / (scratch.name + companion.name[len(log.name) :]))
    try:
        with Ledger.open(url_of(scratch), read_your_writes=False, create=False) as ledger:
            point = ledger.checkpoint()
            verify: Callable[..., VerifyReport] = ledger.verify  # 'since' is not in every version
            added = fill(ledger, NEW_EVENTS, seed="since")
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                report = verify(since=point)
                times.append((time.perf_counter() - started) * 1000)
                if not report.ok:
                    msg = f"verify(since=...) found a break in an untouched log: {report.first_break}"
                    raise RuntimeError(msg)
            return added, times
    finally:
        remove_sqlite(scratch)


def timed_get(url: str, rounds: int) -> tuple[int, list[float]]:
    """Seconds of ``get()`` of the log's campaign (no snapshot: every event replayed)."""
    with Ledger.open(url, read_your_writes=False, create=False) as ledger:
        campaign = first_campaign(ledger)
        times, version = [], 0
        for _ in range(rounds):
            started = time.perf_counter()
            state = ledger.get(campaign)
            times.append(time.perf_counter() - started)
            version = state.version
        return version, times


PATHS = ("verify", "since", "get", "memory", "catch-up", "import")
"""What ``--only`` may name, in the order they run: the longest (catch-up,
import) last, so a run stopped early still has the rest."""

NOT_RUN = "not run"


@dataclass
class Figures:
    size: int
    events: int
    url: str
    workdir: Path
    rounds: int
    catch_up: Comparison | None = None
    verify: Comparison | None = None
    since: str = NOT_RUN
    get: str = NOT_RUN
    memory: dict[str, str] = field(default_factory=dict)
    imported: str = NOT_RUN
    import_vs_bare: Comparison | None = None

    def measure(self, path: str) -> None:
        {
            "verify": self.measure_verify,
            "since": self.measure_since,
            "get": self.measure_get,
            "memory": self.measure_memory,
            "catch-up": self.measure_catch_up,
            "import": self.measure_import,
        }[path]()

    def measure_catch_up(self) -> None:
        views, bare = CatchUp(self.url, sqlite_views_in(self.workdir)), BareDecode(self.url)
        try:
            self.catch_up = interleave(
                f"catch-up, {self.events:,} events",
                views,
                bare,
                rounds=self.rounds,
                names=("views", "bare read+decode"),
            )
        finally:
            views.close()
            bare.close()
        print(self.catch_up.report(), flush=True)

    def measure_verify(self) -> None:
        ours, raw = Verify(self.url), RawRead(self.url)
        try:
            self.verify = interleave(
                f"verify, {self.events:,} events", ours, raw, rounds=self.rounds, names=("verify", "raw read")
            )
        finally:
            ours.close()
            raw.close()
        print(self.verify.report(), flush=True)

    def measure_since(self) -> None:
        if has_since():
            log = self.workdir / f"log-{self.size}.db"
            added, times = verify_since(log, self.workdir / f"since-{self.size}.db", self.rounds)
            self.since = f"{statistics.median(times):.1f} ms ({min(times):.1f}-{max(times):.1f}), {added:,} new"
        else:
            self.since = NOT_BUILT
            print("verify(since=...): Ledger.verify has no 'since' yet", flush=True)
        print(f"verify(since=...): {self.since}", flush=True)

    def measure_get(self) -> None:
        version, seconds = timed_get(self.url, self.rounds)
        self.get = f"{statistics.median(seconds):.2f} s for {version:,} events"
        print(f"get() of the campaign: {self.get} ({', '.join(f'{s:.2f}' for s in seconds)})", flush=True)

    def measure_memory(self) -> None:
        views_path = self.workdir / f"views-{self.size}.db"
        remove_sqlite(views_path)
        paths: dict[str, tuple[Callable[..., int], tuple[str, ...]]] = {
            "catch-up": (catch_up_once, (self.url, url_of(views_path))),
            "verify": (verify_once, (self.url,)),
            "as_of": (as_of_once, (self.url,)),
            "replay_certificate": (certificate_once, (self.url,)),
            "verify_views": (verify_views_once, (self.url, url_of(views_path))),
        }
        try:
            for name, (fn, args) in paths.items():
                result, elapsed, mb = peak_rss(fn, *args)
                if name == "verify_views" and result:
                    msg = f"verify_views found {result} differences in views just caught up"
                    raise RuntimeError(msg)
                self.memory[name] = f"{mb:.0f}"
                print(f"peak RSS, {name}: {mb:.0f} MB ({elapsed:.1f} s in the child)", flush=True)
        finally:
            remove_sqlite(views_path)

    def measure_import(self) -> None:
        if not hasattr(Ledger, EXECUTE_MANY):
            self.imported = NOT_BUILT
            print("import: Ledger.execute_many does not exist yet", flush=True)
            return
        target = self.workdir / f"import-{self.size}.db"
        remove_sqlite(target)
        load = os.getloadavg()[0]
        try:
            (recorded, seconds_taken, cpu_seconds), _, mb = peak_rss(import_once, url_of(target), self.size)
        finally:
            remove_sqlite(target)
        print(
            f"import, in a child: {recorded / seconds_taken:,.0f} events/s, peak {mb:.0f} MB ({recorded:,} events); "
            f"{recorded / cpu_seconds:,.0f} events per CPU-second ({seconds_taken:.1f} s wall, {cpu_seconds:.1f} s "
            f"CPU; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)",
            flush=True,
        )
        self.import_vs_bare = self.compare_import()
        print(self.import_vs_bare.report(), flush=True)
        self.imported = (
            f"{self.import_vs_bare.project_rate:,.0f} events/s, {self.import_vs_bare.spread()} bare "
            f"({self.import_vs_bare.bare_rate:,.0f}), peak {mb:.0f} MB"
        )

    def compare_import(self) -> Comparison:
        """``execute_many`` against the bare import, interleaved, each block a fresh log."""
        for name, bare in (("warm-ledger", False), ("warm-bare", True)):  # imports and caches, on neither side's clock
            warm = Import(self.workdir, name, WARM_UP_COMMANDS, bare=bare)
            warm.prepare()
            warm()
            warm.close()
        ours = Import(self.workdir, f"ledger-{self.size}", self.size, bare=False)
        bare = Import(self.workdir, f"bare-{self.size}", self.size, bare=True)
        try:
            comparison = interleave(
                f"import, {self.size:,} commands", ours, bare, rounds=self.rounds, warm_up=False,
                names=("execute_many", "bare import"),
            )  # fmt: skip
        finally:
            ours.close()
            bare.close()
        if ours.recorded != bare.recorded:
            msg = f"the two imports recorded different numbers of events: {ours.recorded} and {bare.recorded}"
            raise RuntimeError(msg)
        return comparison


def rate(comparison: Comparison | None) -> tuple[str, str]:
    if comparison is None:
        return NOT_RUN, NOT_RUN
    return f"{comparison.project_rate:,.0f}", comparison.spread()


def tables(all_figures: list[Figures], baseline: float | None) -> str:
    lines = [
        "| events | catch-up, events/s | ratio to bare read+decode | verify, events/s | ratio to raw read "
        "| verify(since), 1,000 new | get() of the campaign | import (execute_many) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in all_figures:
        (catch_up, catch_up_ratio), (verify, verify_ratio) = rate(f.catch_up), rate(f.verify)
        lines.append(
            f"| {f.events:,} | {catch_up} | {catch_up_ratio} | {verify} | {verify_ratio} "
            f"| {f.since} | {f.get} | {f.imported} |"
        )
    if baseline is not None and any(f.memory for f in all_figures):
        names = ["catch-up", "verify", "as_of", "replay_certificate", "verify_views"]
        lines += ["", f"Peak RSS in MB, each path in its own child (a child that only imports: {baseline:.0f} MB):", ""]
        lines += ["| events | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        lines += [
            f"| {f.events:,} | " + " | ".join(f.memory.get(n, NOT_RUN) for n in names) + " |" for f in all_figures
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated log sizes")
    parser.add_argument("--workdir", type=Path, help="keep the generated logs here for reruns (default: a temp dir)")
    parser.add_argument("--only", default=",".join(PATHS), help=f"comma-separated, of: {', '.join(PATHS)}")
    rounds_argument(parser)
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    only = [p.strip() for p in args.only.split(",")]
    if unknown := set(only) - set(PATHS):
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(PATHS)}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        baseline = baseline_rss() if "memory" in only else None
        figures = []
        for size in sizes:
            log, events = cached_log(workdir, size)
            figures.append(Figures(size=size, events=events, url=url_of(log), workdir=workdir, rounds=args.rounds))
            for path in PATHS:
                if path in only:
                    figures[-1].measure(path)
    print()
    print(tables(figures, baseline))


if __name__ == "__main__":
    main()
