"""Exports for auditors: the audit trail, and an evidence bundle (events with
their metadata, chain links, the verification report and a checkpoint), as
JSON Lines or CSV. Everything streams page by page, so memory stays flat
however long the log is."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO

from quality_ledger.audit.verify import Checkpoint, VerifyReport, links
from quality_ledger.eventlog import EventLog
from quality_ledger.privacy.at_rest import MAGIC
from quality_ledger.projections.audit_trail import AuditEntry, AuditPage


class Ledger(Protocol):
    """What the exports ask of a ``Ledger`` (named here so that audit never
    imports the application layer); its event log comes from ``EventLog.of``."""

    @property
    def audit_trail(self) -> Callable[..., AuditPage]: ...

    def verify(self) -> VerifyReport: ...

    def checkpoint(self) -> Checkpoint: ...


Format = Literal["jsonl", "csv"]
TRAIL_FIELDS = tuple(AuditEntry.model_fields)
EVENT_FIELDS = ("position", "aggregate_id", "version", "topic", "payload")
LINK_FIELDS = ("position", "notification_id", "digest", "link")


class _Writer:
    def __init__(self, stream: TextIO, fmt: Format, fields: tuple[str, ...]) -> None:
        self.stream = stream
        self.csv = csv.DictWriter(stream, fieldnames=fields) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writeheader()

    def write(self, row: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow({k: "" if v is None else v for k, v in row.items()})
        else:
            self.stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def trail_rows(ledger: Ledger, **filters: Any) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        page = ledger.audit_trail(after=after, limit=1000, **filters)
        for entry in page.entries:
            yield entry.model_dump(mode="json")
        if page.next_after is None:
            return
        after = page.next_after


def export_trail(ledger: Ledger, target: TextIO | str | PathLike[str], fmt: Format = "jsonl", **filters: Any) -> int:
    """Write the (filtered) audit trail to an open text stream, or to a file at
    a path (``str`` or ``Path``: an auditor's script names files as strings);
    returns how many entries."""
    if isinstance(target, str | PathLike):
        with Path(target).open("w", encoding="utf-8", newline="") as stream:
            return export_trail(ledger, stream, fmt, **filters)
    writer = _Writer(target, fmt, TRAIL_FIELDS)
    count = 0
    for row in trail_rows(ledger, **filters):
        writer.write(row)
        count += 1
    return count


def export_evidence(
    ledger: Ledger,
    directory: str | PathLike[str],
    fmt: Format = "jsonl",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write events, links, report and checkpoint into ``directory`` (``str`` or
    ``Path``), creating it if needed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    log = EventLog.of(ledger)
    head = log.position()
    counts = {"events": 0, "links": 0}
    with (directory / f"events.{fmt}").open("w", encoding="utf-8", newline="") as stream:
        writer = _Writer(stream, fmt, EVENT_FIELDS)
        for n in log.notifications(until=head):
            payload = _payload(n.state)
            writer.write(
                {
                    "position": n.id,
                    "aggregate_id": str(n.originator_id),
                    "version": n.originator_version,
                    "topic": n.topic,
                    "payload": payload,
                }
            )
            counts["events"] += 1
            if progress is not None and counts["events"] % 1000 == 0:
                progress(counts["events"], head)
    with (directory / f"links.{fmt}").open("w", encoding="utf-8", newline="") as stream:
        writer = _Writer(stream, fmt, LINK_FIELDS)
        for link in links(log.chain):
            writer.write(
                {
                    "position": link.position,
                    "notification_id": link.notification_id,
                    "digest": link.digest.hex(),
                    "link": link.link.hex(),
                }
            )
            counts["links"] += 1
    (directory / "report.json").write_text(ledger.verify().model_dump_json(indent=2), encoding="utf-8")
    (directory / "checkpoint.json").write_text(ledger.checkpoint().model_dump_json(indent=2), encoding="utf-8")
    return counts


def _payload(state: bytes) -> str:
    """A stored row's bytes as the bundle's text: the JSON as it is, or, for a
    ledger encrypted at rest, ``base64:`` and the sealed bytes, exactly (the
    links are digests of the stored bytes, which a reader must recover)."""
    if state.startswith(MAGIC):
        return "base64:" + base64.b64encode(state).decode("ascii")
    return state.decode("utf-8", errors="replace")
