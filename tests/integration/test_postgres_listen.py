"""Following the log: LISTEN/NOTIFY on PostgreSQL, polling on SQLite.

The PostgreSQL followers here poll once an hour, so only a NOTIFY can explain
their catching up within a test's bounded wait.
"""

from __future__ import annotations

import os
import threading
from datetime import date
from typing import Any

import psycopg
import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from tests.conftest import ORGANISER, postgres_connect
from tests.integration.workers import Workers, wait_until

pytestmark = pytest.mark.slow

DEADLINE = 60.0
AN_HOUR = 3600.0
LISTENER = f"quality_ledger views follower {os.getpid()}"
"""The application_name of this process's listening connection (see following._Wakeups)."""


def plan(url: str, prefix: str, count: int) -> int:
    """Another service: plans ``count`` campaigns, one command (one commit) at a time."""
    with Ledger.open(url) as ledger:
        for n in range(count):
            ledger.execute(
                c.PlanCampaign(
                    title=f"{prefix} {n}",
                    theme="following",
                    organiser="XA-QPC",
                    starts_on=date(2017, 9, 1),
                    ends_on=date(2017, 9, 30),
                ),
                ORGANISER,
            )
        return ledger.position()


def listeners(url: str) -> list[int]:
    """Backends of this process's follower that LISTEN."""
    with postgres_connect(url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND query LIKE 'LISTEN%%'", (LISTENER,)
        )
        return [r[0] for r in rows]


@pytest.mark.postgres
def test_a_follower_on_postgresql_is_woken_by_each_commit_of_another_process(postgres_url: str) -> None:
    # given: a follower that polls once an hour, listening
    with Ledger.open(postgres_url, read_your_writes=False) as ledger:
        ledger.views.start(interval=AN_HOUR)
        wait_until(lambda: len(listeners(postgres_url)) == 1, "the follower to LISTEN", DEADLINE)

        for round_ in range(3):
            # when: another process commits commands one by one
            (head,) = Workers(plan, [(postgres_url, f"round {round_}", 10)]).wait(DEADLINE)

            # then: the follower catches up with them, woken by their NOTIFY
            wait_until(lambda head=head: ledger.views.position() == head, f"the views to reach {head}", DEADLINE)
        ledger.views.stop()
    assert listeners(postgres_url) == []  # stopping closed the listening connection


@pytest.mark.postgres
def test_a_follower_listens_again_after_its_connection_is_cut(postgres_url: str) -> None:
    # given: a listening follower that polls once an hour
    with Ledger.open(postgres_url, read_your_writes=False) as ledger:
        ledger.views.start(interval=AN_HOUR)
        wait_until(lambda: len(listeners(postgres_url)) == 1, "the follower to LISTEN", DEADLINE)
        (cut,) = listeners(postgres_url)

        # when: its listening connection is terminated by the server
        with postgres_connect(postgres_url) as connection:
            connection.execute("SELECT pg_terminate_backend(%s)", (cut,))
        # and: another process commits
        wait_until(lambda: listeners(postgres_url) not in ([], [cut]), "the follower to LISTEN again", DEADLINE)
        (head,) = Workers(plan, [(postgres_url, "after the cut", 5)]).wait(DEADLINE)

        # then: it listens on a new connection and catches up
        wait_until(lambda: ledger.views.position() == head, f"the views to reach {head}", DEADLINE)
        ledger.views.stop()


@pytest.mark.postgres
def test_stopping_a_listening_follower_does_not_wait_for_its_interval(postgres_url: str) -> None:
    # given: a listening follower that polls once an hour
    ledger = Ledger.open(postgres_url, read_your_writes=False)
    ledger.views.start(interval=AN_HOUR)
    wait_until(lambda: len(listeners(postgres_url)) == 1, "the follower to LISTEN", DEADLINE)

    # when: it is stopped
    stopping = threading.Thread(target=ledger.views.stop)
    stopping.start()
    stopping.join(DEADLINE)

    # then: stop returned (within the bounded wait, far short of the hour)
    assert not stopping.is_alive()
    ledger.close()


def test_a_follower_on_sqlite_polls_and_follows_another_process(tmp_path: Any) -> None:
    # given: a follower of a SQLite file, polling often
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url, read_your_writes=False) as ledger:
        ledger.views.start(interval=0.05)

        # when: another process commits commands
        (head,) = Workers(plan, [(url, "polled", 10)]).wait(DEADLINE)

        # then: the follower catches up by polling
        wait_until(lambda: ledger.views.position() == head, f"the views to reach {head}", DEADLINE)
        ledger.views.stop()


def notify_and_roll_back(url: str, pids: list[int]) -> None:
    """Notify in a transaction that then fails; ``pids`` gets the sender's backend pid."""
    with postgres_connect(url) as writer, writer.transaction():
        pids.append(writer.info.backend_pid)
        writer.execute('NOTIFY "quality_ledger_events"')
        writer.execute("DO $$ BEGIN RAISE EXCEPTION 'rolled back'; END $$")


@pytest.mark.postgres
def test_a_notification_arrives_only_when_an_append_commits(postgres_url: str) -> None:
    # given: a plain connection listening on the ledger's channel
    with Ledger.open(postgres_url) as ledger, postgres_connect(postgres_url) as listener:
        listener.execute('LISTEN "quality_ledger_events"')

        # when: another process commits one command
        Workers(plan, [(postgres_url, "notified", 1)]).wait(DEADLINE)

        # then: the channel carried a notification
        assert list(listener.notifies(timeout=DEADLINE, stop_after=1)), "no NOTIFY on commit"
        assert ledger.position() == 1

        # when: a transaction that notifies is rolled back, as a failed append is
        sender: list[int] = []
        with pytest.raises(psycopg.errors.RaiseException):
            notify_and_roll_back(postgres_url, sender)

        # then: nothing of it was delivered (the channel is the database's: tests running
        # beside this one may notify on it, so only the rolled-back sender counts)
        assert [n for n in listener.notifies(timeout=0.5) if n.pid in sender] == []
