"""The command line's grammar: every command, option and help text.

This module imports only the standard library, ``quality_ledger.errors`` and ``quality_ledger.bounds``
so that ``--help`` and ``--version`` answer at once; the ledger, SQLAlchemy
and eventsourcing load only when a command runs (see ``actions``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple, NoReturn
from uuid import UUID

from quality_ledger.bounds import CHUNK_SIZE, DEFAULT_CHUNK_SIZE
from quality_ledger.errors import LedgerError

PROG = "quality-ledger"
URL_VARIABLE = "QUALITY_LEDGER_URL"
DEFAULT_URL = "sqlite:///quality_ledger.db"
"""Copies of ``quality_ledger.persistence``'s constants (that module imports
eventsourcing); tests/integration/test_cli.py holds them equal."""

MAX_POSITION = 2**63 - 1
"""Positions and limits are stored as signed 64-bit integers."""


class UsageError(LedgerError, ValueError):
    """The command line itself is wrong: an unknown option, a missing or
    malformed argument. argparse's message, on one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that an error raises instead of printing usage and
    exiting, so that ``main`` reports it as one line with a documented code."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _Version(argparse.Action):
    """``--version``, looked up only when asked (importlib.metadata costs a few ms)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("quality_ledger")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"{PROG} {number}")  # on stdout, as argparse's own version action does
        parser.exit()


# Argument types: each raises ArgumentTypeError with a message naming the value.


def uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        msg = f"not an id (a UUID such as 3f2b...-...): {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def count(text: str) -> int:
    """A position or offset: 0 .. 2**63-1."""
    return _integer(text, 0)


def positive(text: str) -> int:
    """A page size or position that must be at least 1."""
    return _integer(text, 1)


def _integer(text: str, lowest: int) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"not a whole number: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not lowest <= value <= MAX_POSITION:
        msg = f"{value} is out of range ({lowest} .. {MAX_POSITION})"
        raise argparse.ArgumentTypeError(msg)
    return value


def chunk_size(text: str) -> int:
    """Commands per transaction of ``import``, within :data:`~quality_ledger.bounds.CHUNK_SIZE`."""
    value = _integer(text, CHUNK_SIZE.low)
    if value > CHUNK_SIZE.high:
        msg = f"{value} is out of range ({CHUNK_SIZE.low} .. {CHUNK_SIZE.high})"
        raise argparse.ArgumentTypeError(msg)
    return value


def instant(text: str) -> datetime:
    """An ISO 8601 date or date-time; naive means UTC, a bare date its midnight."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        msg = f"not an ISO 8601 date or time (2017-09-15, 2017-09-15T08:00, 2017-09-15T08:00+08:00): {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Cut(NamedTuple):
    """``--as-of``: the instant, and whether it was given as a bare date."""

    instant: datetime
    bare_date: bool


def as_of(text: str) -> Cut:
    """A bare date means the end of that day (UTC): everything recorded on it counts."""
    value = instant(text)
    if len(text.strip()) == len("2017-09-15"):
        return Cut(datetime.combine(value.date(), time.max, tzinfo=UTC), bare_date=True)
    return Cut(value, bare_date=False)


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"not an ISO 8601 date (2017-09-15): {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def public_key(text: str) -> str:
    """An Ed25519 public key as printed by ``audit keygen``: 64 hex digits."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        msg = f"not an Ed25519 public key (64 hex digits, as 'audit keygen' prints): {text[:80]!r}"
        raise argparse.ArgumentTypeError(msg)
    return raw.hex()


# The grammar.


def _common(*, views: bool = True) -> _Parser:
    """Options every command accepts, before or after its name.

    ``default=SUPPRESS`` on the copies under each command means "not given
    here": they then leave the value parsed before the command untouched.
    """
    common = _Parser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"the ledger: sqlite:///FILE, postgresql://USER@HOST/DB or memory:// (default: ${URL_VARIABLE}, else {DEFAULT_URL})",
    )
    if views:
        common.add_argument(
            "--key-file",
            type=Path,
            default=argparse.SUPPRESS,
            metavar="PATH",
            help="the at-rest encryption key of a ledger created with one (32 bytes, or 64 hex digits; docs/privacy.md)",
        )
        common.add_argument(
            "--views-url",
            default=argparse.SUPPRESS,
            metavar="URL",
            help="database of the SQL views, if not the ledger's own (any SQLAlchemy URL)",
        )
    return common


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout instead of text (keys: docs/cli.md)"
    )


def _out(parser: argparse.ArgumentParser, what: str, *, required: bool = False) -> None:
    parser.add_argument("--out", type=Path, required=required, metavar="PATH", help=what)
    parser.add_argument("--force", action="store_true", help="replace what --out names if it already exists")


def build() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(
        prog=PROG,
        description="Event-sourced ledgers of public quality campaigns: load, inspect, audit and verify them.",
        epilog="Exit codes: 0 ok, 1 a finding (broken chain, differing views), 2 usage or input, "
        "3 store unavailable, 70 internal error, 130 interrupted. See docs/cli.md.",
        parents=[_common()],
    )
    parser.set_defaults(url=None, views_url=None, key_file=None)
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    sub = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="load the Xi'an 2017 Quality Month and print where it stands",
        description="Load the Xi'an 2017 Quality Month (895 events) and print where it stands. "
        "Loading again records nothing.",
    )
    demo.add_argument(
        "--allow-other-campaigns",
        action="store_true",
        help="load the demo into a ledger that already holds other campaigns (it stays there: the log is append-only)",
    )

    load = sub.add_parser(
        "load",
        parents=[common],
        help="record a case file (TOML) through commands and print where its campaign stands",
        description="Check the case file, rehearse it on an empty in-memory ledger, then record it. "
        "A case the rules refuse records nothing; loading it again records nothing new. Format: docs/cases.md.",
    )
    load.add_argument("case", type=Path, metavar="CASE.toml", help="the case file")

    importing = sub.add_parser(
        "import",
        parents=[common],
        help="record a file of commands (JSON Lines, one command and its actor a line) in bulk",
        description="Record each line's command as its actor, in order, a chunk of commands per transaction. "
        "A refused command or a bad line is named by its line; its chunk records nothing, the chunks before it "
        "stay recorded. Commands with idempotency keys make a rerun safe. Format: docs/cli.md, 'Bulk import'.",
    )
    importing.add_argument("file", type=Path, metavar="FILE.jsonl", help="the file, or - for stdin")
    importing.add_argument(
        "--chunk-size",
        type=chunk_size,
        default=DEFAULT_CHUNK_SIZE,
        metavar="N",
        help=f"commands per transaction ({CHUNK_SIZE.low} to {CHUNK_SIZE.high}, default {DEFAULT_CHUNK_SIZE})",
    )
    importing.add_argument(
        "--progress", action="store_true", help="a progress line on stderr even when it is not a terminal"
    )
    _json(importing)

    status = sub.add_parser("status", parents=[common], help="print where a campaign stands, or list the campaigns")
    status.add_argument(
        "campaign", type=uuid, nargs="?", help="campaign id (default: the only campaign; with several, a list)"
    )
    _json(status)

    history = sub.add_parser("history", parents=[common], help="print an aggregate's recorded events")
    history.add_argument("aggregate", type=uuid, help="id of a campaign, activity, inspection or commendation")
    _json(history)

    report = sub.add_parser(
        "report",
        parents=[common],
        help="write a campaign's report: one self-contained HTML page, bilingual, printable on A4",
        description="Write the campaign report (targets, activities, timeline, bulletin, rectifications, "
        "scorecard, commendations) as one HTML file that needs no network, ending with an integrity footer: "
        "log position, hash chain verified, checkpoint, replay certificate. Exit 1 if the chain is broken "
        "(the page is written and says so). docs/report.md.",
    )
    report.add_argument("campaign", type=uuid, nargs="?", help="campaign id (default: the only campaign)")
    _out(report, "the HTML file to write (its directory must exist)", required=True)
    report.add_argument(
        "--as-of",
        type=as_of,
        metavar="WHEN",
        help="the report as it stood at this recorded instant (ISO 8601; naive is UTC; a bare date means the end of that day)",
    )
    report.add_argument(
        "--occurred-by", type=day, metavar="DATE", help="the report as the log tells the state on this business date"
    )
    report.add_argument(
        "--since",
        type=Path,
        metavar="FILE",
        help="a trusted checkpoint JSON file: verify only the events appended after it (else the whole chain)",
    )
    report.add_argument(
        "--certificate",
        type=Path,
        metavar="FILE",
        help="a replay certificate JSON file to show instead of replaying the log again",
    )

    audit = sub.add_parser(
        "audit", parents=[common], help="audit trail, hash-chain verification, checkpoints, replays, exports"
    ).add_subparsers(dest="audit_action", required=True, metavar="AUDIT_COMMAND")
    trail = audit.add_parser("trail", parents=[common], help="who did what, when: filtered, one page at a time")
    trail.add_argument("--actor", metavar="USER", help="only events recorded by this user")
    trail.add_argument("--department", metavar="CODE", help="only events recorded by this department (XA-QTS)")
    trail.add_argument("--aggregate", type=uuid, metavar="ID", help="only this aggregate's events")
    trail.add_argument("--since", type=instant, metavar="WHEN", help="recorded at or after (ISO 8601; naive is UTC)")
    trail.add_argument("--until", type=instant, metavar="WHEN", help="recorded before (ISO 8601; naive is UTC)")
    trail.add_argument(
        "--after", type=count, default=0, metavar="POSITION", help="start after this position (from the previous page)"
    )
    trail.add_argument("--limit", type=positive, default=50, metavar="N", help="entries per page (default 50)")
    _json(trail)

    check = audit.add_parser(
        "verify", parents=[common], help="recompute the hash chain over the whole log (exit 1 on a break)"
    )
    held = check.add_mutually_exclusive_group()
    held.add_argument("--against", type=Path, metavar="FILE", help="a checkpoint JSON file the log must still match")
    held.add_argument(
        "--since",
        type=Path,
        metavar="FILE",
        help="a trusted checkpoint JSON file: check only the events appended after it",
    )
    check.add_argument(
        "--public-key", type=public_key, metavar="HEX", help="trusted Ed25519 public key of a signed checkpoint"
    )
    check.add_argument(
        "--certificate", type=Path, metavar="FILE", help="a replay certificate JSON file to compare with a fresh replay"
    )
    _json(check)

    point = audit.add_parser("checkpoint", parents=[common], help="print or write the log's size and head link")
    point.add_argument("--sign-key", type=Path, metavar="PEM", help="Ed25519 private key (PEM) to sign it with")
    _out(point, "write the checkpoint JSON to this file instead of stdout")

    keygen = audit.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing checkpoints (opens no ledger)",
        description="Write a new private key (PEM, mode 0600) and print its public key (hex) on stdout.",
    )
    keygen.add_argument("private_key", type=Path, metavar="PEM", help="where to write the private key")
    keygen.add_argument("--force", action="store_true", help="replace an existing key file (the old key is lost)")

    cert = audit.add_parser("certificate", parents=[common], help="digest of every view after a full replay")
    cert.add_argument("--position", type=count, metavar="N", help="replay up to this position (default: all)")
    _out(cert, "write the certificate JSON to this file instead of stdout")

    replay = audit.add_parser(
        "replay",
        parents=[common],
        help="where campaigns stood at a recorded instant, a position or a business date",
        description="Replay the log into memory up to a cut and print each campaign's status then. "
        "--as-of cuts by when events were recorded, --occurred-by by their business dates.",
    )
    cut = replay.add_mutually_exclusive_group()
    cut.add_argument(
        "--as-of",
        type=as_of,
        metavar="WHEN",
        help="recorded at or before this instant (ISO 8601; naive is UTC; a bare date means the end of that day)",
    )
    cut.add_argument("--position", type=count, metavar="N", help="up to this log position")
    replay.add_argument(
        "--occurred-by", type=day, metavar="DATE", help="what the log says about the state on this business date"
    )

    export = audit.add_parser("export", parents=[common], help="export the audit trail or an evidence bundle")
    export.add_argument(
        "what", choices=["trail", "evidence"], help="trail: one file; evidence: events, links, report, checkpoint"
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="file format (default jsonl)")
    _out(export, "a file (trail) or a directory (evidence); its parent must exist", required=True)

    views = sub.add_parser(
        "views", parents=[common], help="rebuild the SQL views from the log, or verify them against a rebuild"
    ).add_subparsers(dest="views_action", required=True, metavar="VIEWS_COMMAND")
    views.add_parser("rebuild", parents=[common], help="clear the views and apply the whole log again")
    views_migrate = views.add_parser(
        "migrate",
        parents=[common],
        help="bring the views to this version without downtime (blue/green)",
        description="Rebuild the views from zero beside the live ones, check them and swap them in with one "
        "transaction, if they were built by another version (readers keep reading the old ones until then). "
        "Waits for a migration another process is running. docs/views.md, 'Versions and migrations'.",
    )
    views_migrate.add_argument(
        "--force", action="store_true", help="rebuild even if the views are at this version (to recover, or to test)"
    )
    views_verify = views.add_parser(
        "verify", parents=[common], help="rebuild in a scratch file and list every differing row (exit 1 if any)"
    )
    _json(views_verify)

    _privacy(sub, common)

    schema = sub.add_parser("schema", help="machine-readable schemas for services in any language").add_subparsers(
        dest="schema_action", required=True, metavar="SCHEMA_COMMAND"
    )
    schema_export = schema.add_parser(
        "export",
        help="write JSON Schema of every command and event version, and the views' SQL DDL (opens no ledger)",
        description="Write JSON Schema (draft 2020-12) of every command and of every version of every stored "
        "event, the SQL views' DDL for SQLite and PostgreSQL, and index.json (docs/schemas.md).",
    )
    schema_export.add_argument("directory", type=Path, metavar="DIR", help="where to write (created if missing)")
    schema_export.add_argument(
        "--force", action="store_true", help="write into DIR even if it is not empty (files of the same names replaced)"
    )
    return parser


SUBJECT_HELP = (
    "the data subject, KIND:WHO: user:NAME (a clerk's user name) or nominee:PERSON@EMPLOYER "
    "(a Quality Craftsman nominee); width, case and spacing do not matter"
)


def _privacy(sub: Any, common: argparse.ArgumentParser) -> None:
    """``privacy show`` and ``privacy forget``: a data subject's access and erasure requests (docs/privacy.md)."""
    privacy = sub.add_parser(
        "privacy",
        parents=[common],
        help="personal data of one data subject: show it (an access request), or erase it for good",
    ).add_subparsers(dest="privacy_action", required=True, metavar="PRIVACY_COMMAND")

    show = privacy.add_parser(
        "show",
        parents=[common],
        help="every event field that holds the subject's data, readable (records nothing)",
        description="List every field of every event that holds the data subject's data, readable: "
        "for a data-access request (PIPL Art. 45, GDPR Art. 15). Each line names the log position, the event, "
        "the field, whether it is stored sealed under the subject's key or in plain text (written before "
        "sealing), and the value. Reads the whole log once. docs/privacy.md.",
    )
    show.add_argument("subject", metavar="SUBJECT", help=SUBJECT_HELP)
    _json(show)

    forget = privacy.add_parser(
        "forget",
        parents=[common],
        help="erase a data subject: destroy its key, record who did it and why (cannot be undone)",
        description="Erase a data subject (PIPL Art. 47, GDPR Art. 17): record the erasure (who, when, "
        "--reason), destroy the subject's key, replace the snapshots and rebuild the views that held its data. "
        "Afterwards its sealed fields read as [erased] everywhere and the hash chain still verifies. "
        "The command runs with the store's own credentials (whoever can run it could change the database "
        "directly), so it authorises the erasure itself: as a privacy officer of --department, and records "
        "--user of --department as who erased. Asks to confirm on a terminal; elsewhere it needs --yes. "
        "What erasure cannot reach (events written before sealing, backups, earlier exports): docs/privacy.md.",
    )
    forget.add_argument("subject", metavar="SUBJECT", help=SUBJECT_HELP)
    forget.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="the legal basis, recorded with the erasure (a request's reference, 'PIPL Art. 47')",
    )
    forget.add_argument("--user", required=True, metavar="NAME", help="who erases: recorded as the erasure's user")
    forget.add_argument(
        "--department",
        required=True,
        metavar="CODE",
        help="the department the user acts for as privacy officer: recorded with the erasure",
    )
    forget.add_argument(
        "--yes", action="store_true", help="erase without asking (required when stdin is not a terminal)"
    )
    _json(forget)


def parse(argv: list[str]) -> argparse.Namespace:
    return build().parse_args(argv)
