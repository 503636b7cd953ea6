"""Replays: the ledger as it stood at an instant or position, and the replay
certificate, a digest of every view after a full replay from zero.

Both are built in a scratch SQLite file on disk (:mod:`quality_ledger.scratch`),
and the certificate's digest is hashed as the rows stream by, so neither
holds the log or its views in memory."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, func, select

from quality_ledger.domain.values import Frozen
from quality_ledger.eventlog import PAGE, EventLog
from quality_ledger.projections.audit_trail import naive_utc, trail
from quality_ledger.projections.comparison import batches
from quality_ledger.projections.runner import Views, replayed
from quality_ledger.projections.schema import VIEW_TABLES


class ReplayCertificate(Frozen):
    """Digest of all views after replaying the log up to ``position`` from zero;
    the same on every run and machine for the same log."""

    position: int
    digest: str


def certificate(log: EventLog, position: int) -> ReplayCertificate:
    with replayed(log.recorder, log.mapper, position) as views:
        return ReplayCertificate(position=position, digest=digest(views))


def digest(views: Connection) -> str:
    """SHA-256 of the views' canonical JSON: one object of every view table
    by name (sorted), each a list of its rows in primary-key order, each row
    an object of its columns (sorted) with neutral values, non-JSON values as
    ``str()``, compact separators, UTF-8. Written into the hash a batch of
    rows at a time, never built whole: these are the bytes ``json.dumps``
    gives for the whole document, which certificates issued before the
    streaming already hold (tests/integration/test_certificate_stream.py
    keeps that oracle)."""
    sha = hashlib.sha256(b"{")
    for n, table in enumerate(sorted(VIEW_TABLES, key=lambda t: t.name)):
        sha.update(b"%s%s:[" % (b"," if n else b"", _canonical(table.name)))
        separator = b""
        for batch in batches(views, table):
            if batch:
                sha.update(separator + _canonical(batch)[1:-1])  # the rows without the list's brackets
                separator = b","
        sha.update(b"]")
    sha.update(b"}")
    return sha.hexdigest()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":")).encode()


def position_at(views: Views, log: EventLog, instant: datetime) -> int:
    """The end of the longest prefix of the log recorded at or before ``instant``."""
    with views.reading() as connection:
        later = connection.execute(
            select(func.min(trail.c.position)).where(trail.c.recorded_at > naive_utc(instant))
        ).scalar_one()
    return (later - 1) if later is not None else log.position()


def replay_into(source: EventLog, target: EventLog, until: int, occurred_by: date | None = None) -> int:
    """Copy the stored events up to ``until`` into ``target``; with
    ``occurred_by``, each aggregate stops before its first event whose
    business date is later (events without one never stop it)."""
    stopped: set[Any] = set()
    copied = 0
    batch: list[StoredEvent] = []
    for n in source.notifications(until=until):
        if occurred_by is not None:
            if n.originator_id in stopped:
                continue
            meta = source.decode(n).meta
            if meta is not None and meta.occurred_on is not None and meta.occurred_on > occurred_by:
                stopped.add(n.originator_id)
                continue
        batch.append(StoredEvent(n.originator_id, n.originator_version, n.topic, n.state))
        if len(batch) >= PAGE:
            target.insert(batch)
            copied += len(batch)
            batch = []
    if batch:
        target.insert(batch)
        copied += len(batch)
    return copied
