"""What one command costs on PostgreSQL, in statements: the aggregate read in
one, the append in one transaction of four (timeouts and notification, the
table lock, the events with the chain's last link, the new links), with or
without an idempotency key. A statement added to this path is a round trip
or a server call on every command, most of them under the log's lock: this
test makes it a decision rather than an accident.

Statements are counted at psycopg's cursors, where the ledger sends them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg.sql import Composable

from quality_ledger import Ledger
from quality_ledger import commands as c
from tests.conftest import QTS, plan_campaign, started_activity

pytestmark = pytest.mark.postgres


def text_of(query: Any) -> str:
    if isinstance(query, Composable):
        return query.as_string(None)
    return query.decode() if isinstance(query, bytes) else str(query)


@contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first words of every statement psycopg's cursors send meanwhile (the
    ledger's pool hands out plain ``psycopg.Cursor`` objects)."""
    sent: list[str] = []

    def spy(method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(" ".join(text_of(query).split()[:2]))
            return method(cursor, query, *args, **kwargs)

        return counted

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Cursor, "execute", spy(psycopg.Cursor.execute))
        patched.setattr(psycopg.Cursor, "executemany", spy(psycopg.Cursor.executemany))
        yield sent


@pytest.mark.parametrize("key", [None, "report-1"])
def test_a_command_reads_in_one_statement_and_appends_in_one_transaction_of_four(
    postgres_url: str, key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a started activity (and the ledger's one-time reads done)
    with Ledger.open(postgres_url) as ledger:
        activity_id = started_activity(ledger, plan_campaign(ledger))
        command = c.ReportProgress(
            activity_id=activity_id, metric="enterprises", amount=1, reported_on=date(2017, 9, 3), idempotency_key=key
        )
        # when: progress is reported
        with statements(monkeypatch) as sent:
            receipt = ledger.execute(command, QTS)
        # then: it was recorded, with these statements and no others
        assert receipt.version == 3
        assert sent == [
            "SELECT *",  # the events after the version of the activity the writer holds (none)
            "BEGIN",
            "SELECT set_config('lock_timeout',",  # both timeouts, and the notification
            "LOCK TABLE",
            "WITH last",  # the events (and the command record), with the chain's last link
            "INSERT INTO",  # the new links
            "COMMIT",
        ]
        assert ledger.verify().ok


def test_a_writer_that_holds_no_aggregate_reads_its_snapshot_and_events_in_one_statement(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a started activity, which this writer has not decided on (another process planned it)
    with Ledger.open(postgres_url) as other:
        activity_id = started_activity(other, plan_campaign(other))
    with Ledger.open(postgres_url) as ledger:
        ledger.position()  # the ledger's one-time reads
        progress = c.ReportProgress(
            activity_id=activity_id, metric="enterprises", amount=1, reported_on=date(2017, 9, 3)
        )
        # when: progress is reported twice
        with statements(monkeypatch) as first:
            ledger.execute(progress, QTS)
        with statements(monkeypatch) as second:
            receipt = ledger.execute(progress, QTS)
        # then: the first loads the activity (its latest snapshot and the events after it, one
        # statement), the second reads only the events after the version it holds
        # (the first also reads the clerk's key, once per process)
        assert (first[0], second[0]) == ("WITH s", "SELECT *")
        assert second[1:] == [
            "BEGIN",
            "SELECT set_config('lock_timeout',",
            "LOCK TABLE",
            "WITH last",
            "INSERT INTO",
            "COMMIT",
        ]
        assert receipt.version == 4
        assert ledger.verify().ok
