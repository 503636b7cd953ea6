"""eventsourcing's own recorder test cases, run against the ledger's chained recorders.

The hash chain rides inside the store's insert (``audit/recorders.py``,
``audit/postgres.py``), so it must not break a promise the store made:
events read back as written, per-aggregate version conflicts refused,
notification ids ascending and never interleaved between two concurrent
inserts, readers unharmed by writers, subscriptions woken by commits; and
that, whatever each case wrote, the chain itself still verifies. The
cases are eventsourcing's (``eventsourcing.tests.persistence``); only how a
recorder is made is ours. SQLite and PostgreSQL recorders are built from a
ledger URL through ``store_env`` and eventsourcing's factory, as
``Ledger.open`` builds them; each PostgreSQL case gets a schema of its own.

Not run here, and why:

- ``TrackingRecorderTestCase`` and ``ProcessRecorderTestCase``: the chained
  recorders are application recorders only; the ledger keeps no tracking
  records in the event store (each view tracks its position in its own
  SQLAlchemy tables, ``projections/tables.py``).
- ``AggregateRecorderTestCase`` as it stands: written for aggregate
  recorders, it asserts that ``insert_events`` returns ``None``, where every
  application recorder (eventsourcing's own unchained ones too) returns the
  new notification ids. Its other assertions (reading back, version
  conflicts, ``select_events`` with ``gt``, ``lte``, ``desc``, ``limit``) are
  kept: it runs on :class:`AsAggregateRecorder`, which passes every call to
  the chained recorder and drops only that return value.
- ``InfrastructureFactoryTestCase``: it tests eventsourcing's factories and
  their cipher and compressor settings, which the ledger does not take from
  its settings (``docs/guide.md``); no recorder of ours is involved.
- ``optional_test_insert_subscribe`` on SQLite: eventsourcing's SQLite
  recorder has no ``subscribe()`` (it raises ``NotImplementedError``); the
  ledger polls SQLite. It runs for memory and PostgreSQL.

Run time, all 23 cases, on a 2-core machine: about 3 s for memory and SQLite
together, 11 s for PostgreSQL, 5 s of it ``test_concurrent_no_conflicts``
(10,000 events from 10 writers while two readers poll).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from unittest import TestCase
from uuid import UUID

import pytest
from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.tests import persistence as upstream
from eventsourcing.utils import Environment

from quality_ledger.audit.chain import ChainedRecorder
from quality_ledger.audit.recorders import ChainedPOPOApplicationRecorder, ChainedSQLiteApplicationRecorder
from quality_ledger.audit.verify import verify
from quality_ledger.persistence import store_env

STORE_NAME = "quality_ledger"
"""The application name the ledger's store runs under (it names PostgreSQL's events table)."""


def from_url(case: TestCase, url: str) -> ApplicationRecorder:
    """The application recorder ``Ledger.open(url)`` would use, closed when ``case`` ends."""
    factory = InfrastructureFactory.construct(Environment(STORE_NAME, store_env(url)))
    case.addCleanup(factory.close)
    return factory.application_recorder()


def checked(case: TestCase, recorder: ApplicationRecorder) -> ApplicationRecorder:
    """``recorder``, whose chain is verified when ``case`` ends (before it is closed):
    whatever the upstream case wrote, concurrently or not, every stored event
    has its link, in order, and the chain verifies."""

    def chain_holds() -> None:
        report = verify(cast(ChainedRecorder, recorder))  # each engine's create_recorder checked its class
        assert report.ok, f"the chain broke: {report.first_break}"
        stored = len(recorder.select_notifications(start=None, limit=10**7))
        assert report.checked == stored, "every stored event has its link"

    case.addCleanup(chain_holds)
    return recorder


class AsAggregateRecorder(AggregateRecorder):
    """An application recorder seen as an aggregate recorder: ``insert_events``
    returns ``None``, as ``AggregateRecorderTestCase`` expects of one; every
    call still goes to the recorder itself."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self.recorder.insert_events(stored_events, **kwargs)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        return self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)


class _Aggregate:
    """For ``AggregateRecorderTestCase``: the engine's chained recorder, as an aggregate recorder."""

    def create_recorder(self) -> AggregateRecorder:
        return AsAggregateRecorder(super().create_recorder())  # type: ignore[misc]


class _Memory:
    def create_recorder(self) -> ApplicationRecorder:
        assert isinstance(self, TestCase)
        return checked(self, ChainedPOPOApplicationRecorder())


class _SQLite:
    def create_recorder(self) -> ApplicationRecorder:
        assert isinstance(self, TestCase)
        directory = tempfile.TemporaryDirectory(prefix="quality_ledger_conformance_")
        self.addCleanup(directory.cleanup)
        recorder = from_url(self, f"sqlite:///{Path(directory.name) / 'ledger.db'}")
        assert isinstance(recorder, ChainedSQLiteApplicationRecorder)
        return checked(self, recorder)


@pytest.mark.postgres
class _Postgres:
    url: str

    @pytest.fixture(autouse=True)
    def _schema(self, postgres_url: str) -> None:
        """A fresh schema on the test server (fails under CI when there is none, see conftest)."""
        self.url = postgres_url

    def create_recorder(self) -> ApplicationRecorder:
        from quality_ledger.audit.postgres import ChainedPostgresApplicationRecorder

        assert isinstance(self, TestCase)
        recorder = from_url(self, self.url)
        assert isinstance(recorder, ChainedPostgresApplicationRecorder)
        return checked(self, recorder)


# Memory -----------------------------------------------------------------------------


class TestChainedMemoryAggregateRecorder(_Aggregate, _Memory, upstream.AggregateRecorderTestCase):
    pass


class TestChainedMemoryApplicationRecorder(_Memory, upstream.ApplicationRecorderTestCase):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestChainedMemoryNonInterleavingIds(_Memory, upstream.NonInterleavingNotificationIDsBaseCase):
    pass


# SQLite -----------------------------------------------------------------------------


class TestChainedSQLiteAggregateRecorder(_Aggregate, _SQLite, upstream.AggregateRecorderTestCase):
    pass


class TestChainedSQLiteApplicationRecorder(_SQLite, upstream.ApplicationRecorderTestCase):
    pass


class TestChainedSQLiteNonInterleavingIds(_SQLite, upstream.NonInterleavingNotificationIDsBaseCase):
    pass


# PostgreSQL -------------------------------------------------------------------------


class TestChainedPostgresAggregateRecorder(_Aggregate, _Postgres, upstream.AggregateRecorderTestCase):
    pass


class TestChainedPostgresApplicationRecorder(_Postgres, upstream.ApplicationRecorderTestCase):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestChainedPostgresNonInterleavingIds(_Postgres, upstream.NonInterleavingNotificationIDsBaseCase):
    pass
