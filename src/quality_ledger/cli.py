"""The ``quality-ledger`` command: demo, status, history, audit trail, views.

Exit codes scripts can trust: 0 when all is well, 1 when the ledger refused
or found a problem (an error, a broken chain, differing views), 2 for bad
usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from quality_ledger import render
from quality_ledger.audit.export import export_evidence, export_trail
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint, generate_key
from quality_ledger.errors import LedgerError
from quality_ledger.ledger import Ledger
from quality_ledger.persistence import DEFAULT_URL, URL_VARIABLE
from quality_ledger.progress import Bar


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quality-ledger", description="Event-sourced quality campaign ledgers.")
    parser.add_argument("--url", default=None, help=f"ledger to open (default: ${URL_VARIABLE}, else {DEFAULT_URL})")
    parser.add_argument("--views-url", default=None, help="database of the views (default: the ledger's own)")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("demo", help="load the Xi'an 2017 Quality Month and print where it stands")
    status = sub.add_parser("status", help="print where a campaign stands")
    status.add_argument("campaign", type=UUID, nargs="?", help="campaign id (default: the only campaign, else a list)")
    history = sub.add_parser("history", help="print an aggregate's recorded events")
    history.add_argument("aggregate", type=UUID)
    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_action", required=True)
    trail = audit.add_parser("trail", help="who did what, when: filtered, paginated")
    trail.add_argument("--actor", help="user name")
    trail.add_argument("--department", help="department code")
    trail.add_argument("--aggregate", type=UUID, help="aggregate id")
    trail.add_argument("--since", type=datetime.fromisoformat, help="recorded at or after (ISO 8601, UTC if naive)")
    trail.add_argument("--until", type=datetime.fromisoformat, help="recorded before (ISO 8601, UTC if naive)")
    trail.add_argument("--after", type=int, default=0, help="start after this position (from the previous page)")
    trail.add_argument("--limit", type=int, default=50)
    check = audit.add_parser("verify", help="check the log against its hash chain (exit 1 on a break)")
    check.add_argument("--against", type=Path, help="a checkpoint JSON file to hold the log to")
    check.add_argument("--public-key", help="trusted Ed25519 public key (hex) of a signed checkpoint")
    check.add_argument("--certificate", type=Path, help="a replay certificate JSON file to compare")
    point = audit.add_parser("checkpoint", help="print (or write) the log's size and head link")
    point.add_argument("--sign-key", type=Path, help="Ed25519 private key (PEM) to sign it with")
    point.add_argument("--out", type=Path, help="write the checkpoint JSON here")
    keygen = audit.add_parser("keygen", help="make an Ed25519 key pair for signing checkpoints")
    keygen.add_argument("private_key", type=Path, help="where to write the private key (PEM)")
    cert = audit.add_parser("certificate", help="digest of all views after a full replay")
    cert.add_argument("--out", type=Path)
    replay = audit.add_parser("replay", help="where campaigns stood at an instant or position")
    replay.add_argument("--as-of", type=datetime.fromisoformat, help="recorded at or before (ISO 8601, UTC if naive)")
    replay.add_argument("--position", type=int, help="up to this log position")
    replay.add_argument("--occurred-by", type=date.fromisoformat, help="and only business dates up to this day")
    export = audit.add_parser("export", help="export the audit trail or an evidence bundle")
    export.add_argument("what", choices=["trail", "evidence"])
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--out", type=Path, required=True, help="a file (trail) or a directory (evidence)")
    views = sub.add_parser("views", help="rebuild or verify the SQL views")
    views.add_argument("views_action", choices=["rebuild", "verify"])
    return parser


def _demo(ledger: Ledger) -> int:
    from quality_ledger.scenarios import xian2017

    bar = Bar("loading the Xi'an 2017 Quality Month")
    before = ledger.position()
    campaign_id = xian2017.load(ledger)
    recorded = ledger.position() - before
    bar.close("already loaded, nothing new recorded" if recorded == 0 else f"{recorded} events recorded")
    print(render.campaign_status(ledger.campaign_status(campaign_id)))
    return 0


def _status(ledger: Ledger, campaign: UUID | None) -> int:
    if campaign is None:
        campaigns = ledger.campaigns()
        if len(campaigns) != 1:
            print(
                render.table(["campaign", "status", "title"], [(c.campaign_id, c.status, c.title) for c in campaigns])
            )
            return 0
        campaign = campaigns[0].campaign_id
    print(render.campaign_status(ledger.campaign_status(campaign)))
    return 0


def _trail(ledger: Ledger, args: argparse.Namespace) -> int:
    page = ledger.audit_trail(
        actor=args.actor,
        department=args.department,
        aggregate_id=args.aggregate,
        since=args.since,
        until=args.until,
        after=args.after,
        limit=args.limit,
    )
    rows = [
        (
            e.position,
            f"{e.recorded_at:%Y-%m-%d %H:%M:%S}",
            e.occurred_on or "",
            e.actor or "",
            e.department or "",
            e.event,
            e.summary,
        )
        for e in page.entries
    ]
    print(render.table(["pos", "recorded at (UTC)", "occurred", "user", "dept", "event", "summary"], rows))
    if page.next_after is not None:
        print(f"\nmore: --after {page.next_after}", file=sys.stderr)
    return 0


def _audit(ledger: Ledger, args: argparse.Namespace) -> int:
    action = args.audit_action
    if action == "trail":
        return _trail(ledger, args)
    if action == "verify":
        against = Checkpoint.model_validate_json(args.against.read_text()) if args.against else None
        certificate = ReplayCertificate.model_validate_json(args.certificate.read_text()) if args.certificate else None
        bar = Bar("verifying the hash chain")
        report = ledger.verify(against=against, public_key=args.public_key, certificate=certificate, progress=bar)
        bar.close(f"{report.checked} events checked")
        print(report.model_dump_json(indent=2))
        if report.first_break is not None:
            print(f"BROKEN at {report.first_break}", file=sys.stderr)
        return 0 if report.ok else 1
    if action == "checkpoint":
        point = ledger.checkpoint(args.sign_key.read_bytes() if args.sign_key else None)
        _emit(point.model_dump_json(indent=2), args.out)
        return 0
    if action == "keygen":
        pem, public = generate_key()
        args.private_key.write_bytes(pem)
        args.private_key.chmod(0o600)
        print(public)
        return 0
    if action == "certificate":
        _emit(ledger.replay_certificate().model_dump_json(indent=2), args.out)
        return 0
    if action == "replay":
        bar = Bar("replaying")
        with ledger.as_of(args.as_of, position=args.position, occurred_by=args.occurred_by) as then:
            bar.close(f"{then.position()} events up to position {then.as_of_position}")
            for campaign in then.campaigns():
                print(render.campaign_status(then.campaign_status(campaign.campaign_id)), end="\n\n")
        return 0
    if args.what == "trail":
        with args.out.open("w", encoding="utf-8", newline="") as stream:
            count = export_trail(ledger, stream, args.format)
        print(f"{count} audit-trail entries written to {args.out}", file=sys.stderr)
        return 0
    bar = Bar("exporting evidence")
    counts = export_evidence(ledger, args.out, args.format, progress=bar)
    bar.close(f"{counts['events']} events, {counts['links']} links")
    return 0


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _views(ledger: Ledger, action: str) -> int:
    if action == "rebuild":
        bar = Bar("rebuilding views")
        applied = ledger.views.rebuild(progress=bar)
        bar.close(f"{applied} events applied")
        return 0
    bar = Bar("verifying views")
    report = ledger.views.verify(progress=bar)
    bar.close("equal to a rebuild" if report.ok else f"{len(report.differences)} differences")
    for difference in report.differences:
        print(difference)
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with Ledger.open(args.url, views_url=args.views_url) as ledger:
            if args.action == "demo":
                return _demo(ledger)
            if args.action == "status":
                return _status(ledger, args.campaign)
            if args.action == "audit":
                return _audit(ledger, args)
            if args.action == "views":
                return _views(ledger, args.views_action)
            for event in ledger.history(args.aggregate):
                who = f"{event.meta.user}@{event.meta.department}" if event.meta else "-"
                print(f"v{event.version}  {event.recorded_at:%Y-%m-%d %H:%M:%S}  {who}  {event.name}  {event.payload}")
            return 0
    except LedgerError as e:
        print(f"quality-ledger: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
