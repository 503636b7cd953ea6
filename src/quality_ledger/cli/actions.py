"""What each command does, once the command line is parsed.

Imported only after parsing (it loads the ledger, SQLAlchemy and
eventsourcing). Each action checks its file arguments first, then opens the
ledger: read-only commands with ``create=False``, so that a mistyped path says
"no ledger at PATH" instead of creating an empty ledger there. A finding (a
broken chain, differing views) is printed in full on stdout, then raised, so
that ``main`` adds its one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from quality_ledger import commands as c
from quality_ledger import files, render
from quality_ledger.audit.export import export_evidence, export_trail
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint, generate_key
from quality_ledger.cli import importing
from quality_ledger.cli.exits import Finding
from quality_ledger.cli.parser import UsageError
from quality_ledger.domain.values import Actor
from quality_ledger.errors import ConfigurationError, IntegrityError
from quality_ledger.ledger import Ledger
from quality_ledger.persistence import redact
from quality_ledger.policy import DepartmentPolicy
from quality_ledger.privacy import ERASED
from quality_ledger.progress import Bar

Action = Callable[[argparse.Namespace], int]


def _open(args: argparse.Namespace, *, create: bool, **options: Any) -> Ledger:
    """The ledger the command line names (``--url``, ``--views-url``, ``--key-file``), with ``Ledger.open``'s ``options``."""
    return Ledger.open(
        args.url, views_url=args.views_url, create=create, encryption_key=importing.key_of(args), **options
    )


LONG_CATCH_UP = 20_000
"""Events behind from which a read's catch-up shows progress on stderr (about half a second's work)."""


def _caught_up(ledger: Ledger) -> None:
    """Bring the views up to the log before a read: with a progress bar on
    stderr when that is long work (a big import since the views last read),
    without a word otherwise."""
    bar, shown = Bar("catching up the views"), False  # a Bar says nothing until called

    def progress(applied: int, total: int) -> None:
        nonlocal shown
        if total >= LONG_CATCH_UP:
            shown = True
            bar(applied, total)

    applied = ledger.catch_up_views(progress=progress)
    if shown:
        bar.close(f"{applied:,} events applied")


def _where(url: str) -> str:
    """The ledger's URL without its password, and for a SQLite file its full path."""
    shown = redact(url)
    if urlsplit(url).scheme.split("+")[0] == "sqlite":
        rest = unquote(url.split("://", 1)[1])
        path = rest[1:] if rest.startswith("/") else rest
        if path and path != ":memory:":
            return f"{shown} ({Path(path).absolute()})"
    return shown


def demo(args: argparse.Namespace) -> int:
    from quality_ledger.scenarios import xian2017

    spec = xian2017.XIAN_2017.campaign
    demo_id = c.PlanCampaign(
        title=spec.title, theme=spec.theme, organiser=spec.organiser, starts_on=spec.starts_on, ends_on=spec.ends_on
    ).new_id()
    with _open(args, create=True) as ledger:
        others = [x for x in ledger.campaigns() if x.campaign_id != demo_id]
        if others and not args.allow_other_campaigns:
            msg = (
                f"the ledger at {redact(ledger.url)} already holds {len(others)} other campaign(s) "
                f"({others[0].title!r}...); the log is append-only, so the demo would stay there for good: "
                "pass --allow-other-campaigns to load it anyway, or give another --url"
            )
            raise ConfigurationError(msg)
        bar = Bar("loading the Xi'an 2017 Quality Month")
        before = ledger.position()
        campaign_id = xian2017.load(ledger)
        recorded = ledger.position() - before
        bar.close("already loaded, nothing new recorded" if recorded == 0 else f"{recorded} events recorded")
        print(render.campaign_status(ledger.campaign_status(campaign_id)))
        print(f"\nledger: {_where(ledger.url)}")
    return 0


def load(args: argparse.Namespace) -> int:
    from quality_ledger.scenarios import loader

    case = loader.read_case(args.case)
    bar = Bar(f"rehearsing {args.case}")
    loader.rehearse(case)
    bar.close("the rules accept every step")
    with _open(args, create=True) as ledger:
        bar = Bar(f"loading {args.case}")
        before = ledger.position()
        campaign_id = loader.load(ledger, case, progress=bar)
        recorded = ledger.position() - before
        bar.close("already loaded, nothing new recorded" if recorded == 0 else f"{recorded} events recorded")
        print(render.campaign_status(ledger.campaign_status(campaign_id)))
        print(f"\nledger: {_where(ledger.url)}")
    return 0


def status(args: argparse.Namespace) -> int:
    with _open(args, create=False) as ledger:
        _caught_up(ledger)
        campaigns = ledger.campaigns()
        chosen = args.campaign or (campaigns[0].campaign_id if len(campaigns) == 1 else None)
        state = ledger.campaign_status(chosen) if chosen is not None else None
    if args.json:
        doc = {
            "campaigns": [x.model_dump(mode="json") for x in campaigns],
            "status": None if state is None else render.status_document(state),
        }
        print(render.document(doc))
    else:
        print(render.campaign_status(state) if state is not None else render.campaigns(campaigns))
    return 0


def history(args: argparse.Namespace) -> int:
    with _open(args, create=False) as ledger:
        events = ledger.history(args.aggregate)
    if args.json:
        doc = {"aggregate_id": str(args.aggregate), "events": [e.model_dump(mode="json") for e in events]}
        print(render.document(doc))
    else:
        print(render.history(events))
    return 0


def trail(args: argparse.Namespace) -> int:
    with _open(args, create=False) as ledger:
        _caught_up(ledger)
        page = ledger.audit_trail(
            actor=args.actor,
            department=args.department,
            aggregate_id=args.aggregate,
            since=args.since,
            until=args.until,
            after=args.after,
            limit=args.limit,
        )
    if args.json:
        print(render.document(page.model_dump(mode="json")))
        return 0
    print(render.trail(page))
    if page.next_after is not None:
        sys.stdout.flush()  # keep the table before the hint when both go to one terminal
        print(f"more: --after {page.next_after}", file=sys.stderr)
    return 0


def verify(args: argparse.Namespace) -> int:
    against = files.read_model(args.against, Checkpoint, "checkpoint") if args.against else None
    since = files.read_model(args.since, Checkpoint, "checkpoint") if args.since else None
    certificate = (
        files.read_model(args.certificate, ReplayCertificate, "replay certificate") if args.certificate else None
    )
    with _open(args, create=False) as ledger:
        bar = Bar("verifying the hash chain")
        report = ledger.verify(
            against=against, since=since, public_key=args.public_key, certificate=certificate, progress=bar
        )
        bar.close(f"{report.checked} events checked")
    print(render.document(report.model_dump(mode="json")) if args.json else render.verify(report))
    if report.first_break is not None:
        msg = f"BROKEN at {report.first_break}"
        raise IntegrityError(msg)
    if not report.ok:
        msg = f"the replay certificate for position {certificate.position if certificate else '?'} differs"
        raise IntegrityError(msg)
    return 0


def checkpoint(args: argparse.Namespace) -> int:
    key = files.private_key(args.sign_key) if args.sign_key else None
    if args.out:
        files.check_out(args.out, force=args.force)
    with _open(args, create=False) as ledger:
        point = ledger.checkpoint(key)
    _emit(point.model_dump_json(indent=2), args.out)
    return 0


def keygen(args: argparse.Namespace) -> int:
    files.check_out(args.private_key, force=args.force)
    pem, public = generate_key()
    files.write_private(args.private_key, pem, force=args.force)
    print(public)
    return 0


def certificate(args: argparse.Namespace) -> int:
    if args.out:
        files.check_out(args.out, force=args.force)
    with _open(args, create=False) as ledger:
        bar = Bar("replaying every view")
        found = ledger.replay_certificate()
        bar.close(f"up to position {found.position}")
    _emit(found.model_dump_json(indent=2), args.out)
    return 0


def replay(args: argparse.Namespace) -> int:
    instant = args.as_of.instant if args.as_of else None
    with _open(args, create=False) as ledger:
        bar = Bar("replaying")
        with ledger.as_of(instant, position=args.position, occurred_by=args.occurred_by) as then:
            bar.close(f"{then.position()} events up to position {then.as_of_position}")
            if then.position() == 0 and ledger.position() > 0 and args.as_of:
                _explain_empty(ledger, args)
            for campaign in then.campaigns():
                print(render.campaign_status(then.campaign_status(campaign.campaign_id)), end="\n\n")
    return 0


def report(args: argparse.Namespace) -> int:
    from quality_ledger import reports

    since = files.read_model(args.since, Checkpoint, "checkpoint") if args.since else None
    certificate = (
        files.read_model(args.certificate, ReplayCertificate, "replay certificate") if args.certificate else None
    )
    files.check_out(args.out, force=args.force)
    with _open(args, create=False) as ledger:
        if args.as_of is None and args.occurred_by is None:  # a replay reads its own views, not these
            _caught_up(ledger)
        bar = Bar("gathering the report and verifying the chain")
        found = reports.write_report(
            ledger,
            args.out,
            args.campaign,
            force=args.force,
            as_of=args.as_of.instant if args.as_of else None,
            occurred_by=args.occurred_by,
            since=since,
            certificate=certificate,
        )
        bar.close(f"up to position {found.integrity.position}")
    print(f"report of {found.body.header.title!r} written to {args.out}", file=sys.stderr)
    if not found.integrity.chain_ok:
        msg = f"BROKEN at {found.integrity.first_break} (the report says so in its footer)"
        raise IntegrityError(msg)
    return 0


def _explain_empty(ledger: Ledger, args: argparse.Namespace) -> None:
    """--as-of is recorded time; a date there usually meant a business date."""
    first = ledger.audit_trail(limit=1).entries[0].recorded_at
    day = args.as_of.instant.date()
    print(
        f"quality-ledger: note: nothing was recorded by {args.as_of.instant:%Y-%m-%d %H:%M:%S} UTC "
        f"(the first event was recorded at {first:%Y-%m-%d %H:%M:%S} UTC): --as-of cuts by recorded time; "
        f"for the state on the business date {day} use --occurred-by {day}",
        file=sys.stderr,
    )


def export(args: argparse.Namespace) -> int:
    files.check_out(args.out, force=args.force, directory=args.what == "evidence")
    with _open(args, create=False) as ledger:
        if args.what == "trail":
            with files.writing(args.out) as stream:
                count = export_trail(ledger, stream, args.format)
            print(f"{count} audit-trail entries written to {args.out}", file=sys.stderr)
            return 0
        bar = Bar("exporting evidence")
        with files.directory(args.out) as into:
            counts = export_evidence(ledger, into, args.format, progress=bar)
        bar.close(f"{counts['events']} events, {counts['links']} links written to {args.out}")
    return 0


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        print(text)
        return
    with files.writing(out) as stream:
        stream.write(text + "\n")


def views_rebuild(args: argparse.Namespace) -> int:
    with _open(args, create=True) as ledger:
        bar = Bar("rebuilding views")
        applied = ledger.views.rebuild(progress=bar)
        bar.close(f"{applied} events applied")
    return 0


def views_migrate(args: argparse.Namespace) -> int:
    with _open(args, create=False, outdated_views="defer") as ledger:
        bar = Bar("migrating views")
        report = ledger.migrate_views(force=args.force, progress=bar)
        if report.migrated:
            was = report.from_version or "none recorded"
            bar.close(f"{report.applied} events applied, version {was} -> {report.to_version}, swapped in")
        else:
            bar.close(f"already at version {report.to_version}, nothing to do (--force rebuilds anyway)")
    return 0


def views_verify(args: argparse.Namespace) -> int:
    with _open(args, create=False) as ledger:
        bar = Bar("verifying views")
        report = ledger.views.verify(progress=bar)
        bar.close("equal to a rebuild" if report.ok else f"{len(report.rows)} differences")
    if args.json:
        doc = {
            "ok": report.ok,
            "position": report.position,
            "differences": [r.model_dump(mode="json") for r in report.rows],
        }
        print(render.document(doc))
    elif report.rows:
        print("\n".join(map(str, report.rows)))
    if not report.ok:
        msg = f"the views differ from a rebuild up to position {report.position} in {len(report.rows)} place(s)"
        raise Finding(msg)
    return 0


def schema_export(args: argparse.Namespace) -> int:
    from quality_ledger import schemas

    index = schemas.export(args.directory, force=args.force)
    versions = sum(len(e["versions"]) for e in index["events"].values())
    print(
        f"{len(index['commands'])} command schemas, {versions} event schemas ({len(index['events'])} events), "
        f"DDL for {', '.join(index['views'])} written to {args.directory}",
        file=sys.stderr,
    )
    return 0


def privacy_show(args: argparse.Namespace) -> int:
    with _open(args, create=False) as ledger:
        held = ledger.personal_data(args.subject)
    if args.json:
        print(render.document(held.model_dump(mode="json")))
        return 0
    key = f"key {held.key_id}" if held.key_id is not None else "no key: nothing sealed"
    lines = [f"subject {held.subject}  {key}"]
    if held.items:
        events = len({item.position for item in held.items})
        lines.append(f"{len(held.items)} field(s) in {events} event(s)")
        rows = [
            (i.position, i.event, i.field, "sealed" if i.sealed else "plain", _one_line(i.value)) for i in held.items
        ]
        lines += ["", render.table(["pos", "event", "field", "stored", "value"], rows)]
    else:
        lines.append("no event holds this subject's data")
    print("\n".join(lines))
    return 0


def _one_line(value: str) -> str:
    """``value`` with its control characters escaped, so that one item stays one line."""
    return "".join(repr(ch)[1:-1] if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value)


def privacy_forget(args: argparse.Namespace) -> int:
    """Erase a data subject as the store's owner: see the command's help.

    Whoever can run this command holds the store's credentials and could
    change the database directly, so a policy read from elsewhere would
    protect nothing; what matters is that the erasure records who did it
    (``--user`` of ``--department``) and why. Progress and the report name
    the subject's kind and key, never the subject: they end up in logs."""
    actor = Actor(user=args.user, department=args.department)
    if not args.yes and not _interactive():
        msg = "stdin is not a terminal, so the erasure cannot be confirmed: pass --yes to erase for good (nothing done)"
        raise UsageError(msg)
    policy = DepartmentPolicy(privacy_officers={actor.department})
    with _open(args, create=False, policy=policy) as ledger:
        if not args.yes:
            held = ledger.personal_data(args.subject)
            if held.key_id is not None and not ledger.read_only:  # else forget says why it cannot
                _confirm(held.subject, len(held.items))
        kind = args.subject.partition(":")[0].strip()
        started = time.perf_counter()

        def step(what: str) -> None:
            print(f"erasing a {kind} subject: {what}", file=sys.stderr, flush=True)

        done = ledger.forget(args.subject, reason=args.reason, actor=actor, step=step)
        step(f"done in {time.perf_counter() - started:.1f} s")
    if args.json:
        print(render.document(done.model_dump(mode="json")))
        return 0
    legacy = (
        f"{done.legacy_events} event(s) written before sealing still hold its data in plain text (docs/privacy.md)"
        if done.legacy_events
        else "no event written before sealing holds its data"
    )
    print(
        "\n".join(
            [
                f"erased a {done.kind} subject: key {done.key_id} destroyed",
                f"erasure recorded at position {done.position} by {actor.user} of {actor.department}",
                f"{done.sealed_events} event(s) now read its fields as {ERASED!r}",
                legacy,
                f"{done.snapshots_replaced} snapshot(s) replaced; views rebuilt",  # else forget raised
            ]
        )
    )
    return 0


def _interactive() -> bool:
    stdin = sys.stdin
    return stdin is not None and stdin.isatty()


def _confirm(subject: str, fields: int) -> None:
    """Ask on the terminal; anything but the subject's kind erases nothing."""
    kind = subject.partition(":")[0]
    print(
        f"This erases {subject} for good: its key is destroyed and its {fields} field(s) will read {ERASED!r}.",
        file=sys.stderr,
    )
    print(f"Type {kind!r} to confirm: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):  # end of input: the terminal echoed no newline
        print(file=sys.stderr)
    if answer.strip() != kind:
        msg = f"not confirmed (expected {kind!r}): nothing erased"
        raise UsageError(msg)


ACTIONS: dict[str, Action] = {
    "demo": demo,
    "load": load,
    "import": importing.run,
    "status": status,
    "history": history,
    "report": report,
    "audit trail": trail,
    "audit verify": verify,
    "audit checkpoint": checkpoint,
    "audit keygen": keygen,
    "audit certificate": certificate,
    "audit replay": replay,
    "audit export": export,
    "views rebuild": views_rebuild,
    "views migrate": views_migrate,
    "views verify": views_verify,
    "privacy show": privacy_show,
    "privacy forget": privacy_forget,
    "schema export": schema_export,
}
