"""The ``Ledger`` facade: the one entry point other services code against."""

from __future__ import annotations

import functools
import logging
import os
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    EventStore,
    JSONTranscoder,
    Mapper,
    PersistenceError,
)
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import Environment, EnvType
from sqlalchemy import Connection

from quality_ledger import commands as c
from quality_ledger.audit import replay
from quality_ledger.audit import verify as audit_verify
from quality_ledger.audit.chain import ChainedRecorder
from quality_ledger.audit.recorders import ChainedPOPOApplicationRecorder
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint, VerifyReport
from quality_ledger.bounds import (
    PAGE,
    POSITION,
    START,
    VERSION,
    check_day,
    check_id,
    check_instant,
    check_optional_id,
    check_text,
)
from quality_ledger.domain.base import AggregateState, DomainEvent, LedgerAggregate, Snapshot
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.values import Actor, EventMeta, Frozen
from quality_ledger.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    IdempotencyConflict,
    InvalidCommand,
    NotFound,
    ReadOnly,
    StoreUnavailable,
)
from quality_ledger.guarantees import check_store, refuse_overrides
from quality_ledger.handlers import Context, handle
from quality_ledger.persistence import (
    MEMORY_URL,
    STATEMENT_TIMEOUT_SETTING,
    Location,
    PydanticMapper,
    is_store_error,
    locate,
)
from quality_ledger.policy import DepartmentPolicy, Policy
from quality_ledger.projections import Views, ViewsReport, queries, views_engine
from quality_ledger.projections.migration import MigrationReport, Outdated
from quality_ledger.projections.runner import Progress
from quality_ledger.receipts import CommandRecord, Receipt, record_id
from quality_ledger.snapshots import ReplaceablePOPOAggregateRecorder, SnapshotRepository, SnapshotStore
from quality_ledger.status import CampaignStatus, campaign_status

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the instant to record as recorded-at (timezone-aware)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(method: Callable[Concatenate[Ledger, _P], _R]) -> Callable[Concatenate[Ledger, _P], _R]:
    """A read method whose store failures reach the caller as the ledger's own
    errors (a damaged file, a lock, a lost server), each naming the store: a
    service catches ``LedgerError`` and never a driver's exception. The store
    is asked afresh on the next call, so the same ledger works again once the
    store is back."""

    @functools.wraps(method)
    def guarded(self: Ledger, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            if is_store_error(e):
                raise self.location.failure(e) from e
            raise

    return guarded


class RecordedEvent(Frozen):
    """One stored event as history shows it."""

    aggregate_id: UUID
    version: int
    name: str
    recorded_at: datetime
    meta: EventMeta | None
    payload: dict[str, Any]


class _Store(Application[UUID]):
    """eventsourcing's application, with our mapper; kept private so services
    cannot bypass commands by saving aggregates directly."""

    name = "quality_ledger"
    is_snapshotting_enabled = True
    snapshot_class = Snapshot
    snapshot_every = 50
    """Take a snapshot when an aggregate's version reaches a multiple of this."""

    def __init__(self, env: Mapping[str, str]) -> None:
        refuse_overrides(os.environ)
        super().__init__(env=env)
        try:
            check_store(self.recorder, self.mapper)
        except BaseException:
            self.close()
            raise

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The settings the ledger chose, and nothing from ``os.environ``
        (eventsourcing would merge it in: see :mod:`quality_ledger.guarantees`)."""
        settings = dict(type(self).env)
        settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        settings.update(env or {})
        return Environment(name, settings)

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JSONTranscoder())

    def construct_recorder(self) -> ApplicationRecorder:
        # The in-memory factory ignores APPLICATION_RECORDER_TOPIC.
        if isinstance(self.factory, POPOFactory):
            return ChainedPOPOApplicationRecorder()
        recorder = super().construct_recorder()
        statement_timeout = self.env.get(STATEMENT_TIMEOUT_SETTING)
        if statement_timeout is not None:
            recorder.statement_timeout = float(statement_timeout)  # type: ignore[attr-defined]  # the chained PostgreSQL recorder's
        return recorder

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """eventsourcing's snapshot table, in a store that can also overwrite a
        stale snapshot (see :mod:`quality_ledger.snapshots`)."""
        recorder: AggregateRecorder
        if isinstance(self.factory, POPOFactory):
            recorder = ReplaceablePOPOAggregateRecorder()
        else:
            recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return SnapshotStore(mapper=self.mapper, recorder=recorder)

    def construct_repository(self) -> Repository[UUID]:
        """A repository that loads a snapshot only if it fits today's state
        model, else replays and replaces it: a snapshot never breaks a read."""
        snapshots = cast(SnapshotStore, self.snapshots)  # always on (construct_env), built above
        return SnapshotRepository(self.events, snapshot_store=snapshots)


def event_name(event: object) -> str:
    """``Campaign.Planned``: aggregate and past-tense event."""
    return type(event).__qualname__


class Ledger:
    """A quality campaign ledger: execute commands, read state and history.

    Open one with :meth:`open`; close it (or use ``with``) to release the
    store's connections.
    """

    handle = staticmethod(handle)
    """Maps a command to aggregate methods; a test seam (see quality_ledger.testing)."""

    def __init__(
        self,
        store: _Store,
        url: str,
        policy: Policy,
        views: Views,
        *,
        read_your_writes: bool = True,
        clock: Clock | None = None,
        location: Location | None = None,
    ) -> None:
        self._store = store
        self.url = url
        self.location = location or Location(url, {}, url)
        """Where the store is, and how its failures are named."""
        self.policy = policy
        self.views = views
        self.read_your_writes = read_your_writes
        self.clock = clock
        self.as_of_position: int | None = None
        """Set on a replayed, read-only ledger: the last log position it holds."""

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        policy: Policy | None = None,
        views_url: str | None = None,
        read_your_writes: bool = True,
        batch_size: int = 1000,
        clock: Clock | None = None,
        create: bool = True,
        adopt: bool = False,
        outdated_views: Outdated | None = None,
    ) -> Ledger:
        """Open the ledger at ``url``.

        ``None`` means ``$QUALITY_LEDGER_URL`` if set, else the SQLite file
        ``quality_ledger.db`` in the working directory. ``sqlite:///path``
        opens a file, ``postgresql://user:pw@host:port/db`` a server, and
        ``memory://`` keeps everything in this process (for tests).

        The views live in the event store's database unless ``views_url``
        (any SQLAlchemy URL) puts them elsewhere. With ``read_your_writes``
        every query first applies what the log holds beyond the views, so it
        sees every command executed before it; without it, queries read the
        views as they stand (kept current by ``ledger.views.start()`` or by
        another process).

        ``clock`` (a callable returning a timezone-aware ``datetime``) stamps
        recorded-at instead of the wall clock: for deterministic tests and
        for importing historical records, whose recorded-at then says so.

        Nothing is created that was not asked for. ``create=False`` opens
        only an existing ledger (else :class:`NoLedger`, creating nothing): what
        read-only tools use. A ledger file is created only in a directory
        that exists. A database that holds other tables but no ledger is
        refused, naming them, unless ``adopt=True`` asks for a ledger beside
        them. A SQLite file (or directory) this process cannot write, or a
        ``sqlite:///...?mode=ro`` URL, opens read-only: reads and
        :meth:`verify` work, the views are built in memory, and
        :meth:`execute` raises :class:`ReadOnly`. Whatever goes wrong is one
        :class:`LedgerError` naming the cause (docs/guide.md, "Opening a ledger").

        Views built by another version of the projections are migrated
        blue/green on opening (``outdated_views="migrate"``, the default on
        SQLite and in memory), refused with :class:`ViewsOutdated`
        (``"refuse"``, the default on PostgreSQL, where other processes share
        them) or left unserved until :meth:`migrate_views` (``"defer"``):
        docs/views.md, "Versions and migrations".
        """
        location = locate(url, create=create, adopt=adopt)
        try:
            store = _Store(env=location.env)
        except Exception as e:
            if is_store_error(e):
                raise location.failure(e) from e
            raise
        try:
            engine = views_engine(views_url or location.views_url)
            views = Views(engine, store.recorder, store.mapper, batch_size=batch_size, outdated=outdated_views)
        except BaseException as e:
            store.close()
            if isinstance(e, Exception) and is_store_error(e):
                raise location.failure(e) from e
            raise
        return cls(
            store,
            location.url,
            policy or DepartmentPolicy(),
            views,
            read_your_writes=read_your_writes,
            clock=clock,
            location=location,
        )

    @property
    def read_only(self) -> bool:
        """Opened read-only (a read-only file or directory, or ``mode=ro``): it records nothing."""
        return self.location.read_only or self.as_of_position is not None

    @classmethod
    def in_memory(cls, *, policy: Policy | None = None) -> Ledger:
        return cls.open(MEMORY_URL, policy=policy)

    def close(self) -> None:
        self.views.close()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # Writing ------------------------------------------------------------------

    @_guarded
    def execute(self, command: c.Command, actor: Actor, *, correlation_id: UUID | None = None) -> Receipt:
        """Record what ``command`` decides, atomically, or raise and record nothing.

        With an idempotency key, a repeat returns the first receipt and records
        nothing; the same key with a different command raises
        :class:`IdempotencyConflict`. A concurrent writer on the same aggregate
        makes this raise :class:`ConcurrencyConflict`; nothing is retried.
        """
        if self.as_of_position is not None:
            msg = f"this ledger is a replay up to position {self.as_of_position}: it records nothing"
            raise ReadOnly(msg)
        if not isinstance(command, c.Command):
            msg = f"not a command: {type(command).__name__}"
            raise InvalidCommand(msg)
        # Built with model_construct (or copied with an update), a model skips
        # validation: whatever enters the log is validated here, once more.
        command = type(command)(**command.model_dump())
        actor = Actor.checked(actor)
        key = command.idempotency_key
        if key is not None and (earlier := self._earlier_receipt(command, key)) is not None:
            return earlier

        work = self.handle(command, Context(self._store.repository, self.policy, actor))
        command_id = uuid4()
        meta = EventMeta(
            user=actor.user,
            department=actor.department,
            command=command.name,
            command_id=command_id,
            correlation_id=correlation_id or command_id,
            occurred_on=command.occurred_on,
        )
        now = self._now()
        events = [
            self._with_meta(event, meta, now)
            for aggregate in (work.primary, *work.others)
            for event in aggregate.collect_events()
        ]
        receipt = Receipt(
            aggregate_id=work.primary.id,
            version=work.primary.version,
            events=tuple(event_name(e) for e in events),
            command_id=command_id,
            correlation_id=meta.correlation_id,
            idempotency_key=key,
        )
        if key is not None:
            record = CommandRecord.accept(key, command.fingerprint(), receipt)
            events.extend(self._with_meta(e, meta, now) for e in record.collect_events())
        try:
            self._store.save(*events)
        except StoreIntegrityError as e:
            if key is not None and (earlier := self._earlier_receipt(command, key)) is not None:
                return earlier  # lost a race with the same command: it counts once
            msg = f"{command.name}: another writer changed {work.primary.kind} {work.primary.id} first"
            raise ConcurrencyConflict(msg) from e
        except PersistenceError as e:
            msg = f"{command.name}: the store failed ({type(e).__name__}: {e}); outcome unknown, retry with the same idempotency key"
            raise StoreUnavailable(msg) from e
        self._snapshot(events)
        return receipt

    def _snapshot(self, events: list[Any]) -> None:
        """Snapshot each aggregate whose new version reached a multiple of the interval.

        Runs after the command has committed, so it must not raise: a caller
        who saw an error would retry and record the command twice. Snapshots
        are caches; a failed one is logged and the aggregate replays from its
        events until the next interval."""
        every = self._store.snapshot_every
        for event in events:
            if event.originator_version % every == 0:
                try:
                    self._store.take_snapshot(event.originator_id, version=event.originator_version)
                except Exception:
                    log.warning(
                        "snapshot of %s at version %d failed after the command committed; it stays unsnapshotted",
                        event.originator_id,
                        event.originator_version,
                        exc_info=True,
                    )

    def _now(self) -> datetime | None:
        if self.clock is None:
            return None
        now = self.clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            msg = f"the ledger's clock must return a timezone-aware datetime, got {now!r}"
            raise ConfigurationError(msg)
        return now

    @staticmethod
    def _with_meta(event: Any, meta: EventMeta, now: datetime | None) -> Any:
        """The event as stored: metadata attached, recorded-at from the ledger's clock if it has one."""
        timestamp = now or event.timestamp
        occurred = meta.occurred_on if meta.occurred_on != timestamp.date() else None
        update = {"meta": meta.model_copy(update={"occurred_on": occurred}), "timestamp": timestamp}
        return event.model_copy(update=update)

    def _earlier_receipt(self, command: c.Command, key: str) -> Receipt | None:
        try:
            record: CommandRecord = self._store.repository.get(record_id(key))
        except AggregateNotFoundError:
            return None
        if record.state.fingerprint != command.fingerprint():
            msg = f"idempotency key {key!r} was used for a different command ({record.state.receipt.events})"
            raise IdempotencyConflict(msg)
        return record.state.receipt

    # Reading ------------------------------------------------------------------

    @_guarded
    def get(self, aggregate_id: UUID, version: int | None = None) -> AggregateState:
        """The read-only state of an aggregate, now or at ``version``."""
        aggregate_id = check_id("aggregate_id", aggregate_id)
        if version is not None:
            VERSION.check("version", version)
        view: AggregateState = self._load(aggregate_id, version).view()
        return view

    def _load(self, aggregate_id: UUID, version: int | None = None) -> LedgerAggregate[Any]:
        if version == 0:
            msg = f"no aggregate {aggregate_id} at version 0: the first version is 1"
            raise NotFound(msg)
        try:
            aggregate: LedgerAggregate[Any] = self._store.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            msg = f"no aggregate with id {aggregate_id}"
            raise NotFound(msg) from None
        if version is not None and aggregate.version != version:
            msg = f"{aggregate.kind} {aggregate_id} has no version {version} (latest {aggregate.version})"
            raise NotFound(msg)
        return aggregate

    @_guarded
    def campaigns(self) -> list[queries.CampaignLine]:
        """Every campaign in the ledger, oldest first."""
        with self._views() as connection:
            return queries.campaigns(connection)

    @_guarded
    def campaign_status(self, campaign_id: UUID) -> CampaignStatus:
        """Where a campaign stands: activities, inspections, targets, awards (from the views)."""
        campaign_id = check_id("campaign_id", campaign_id)
        with self._views() as connection:
            return queries.campaign_status(connection, campaign_id)

    @_guarded
    def activity_board(self, campaign_id: UUID) -> list[queries.ActivityRow]:
        """Each activity's state, lead department, schedule and progress."""
        campaign_id = check_id("campaign_id", campaign_id)
        with self._views() as connection:
            return queries.activity_board(connection, campaign_id)

    @_guarded
    def inspection_register(self, campaign_id: UUID, as_of: date | None = None) -> list[queries.InspectionRow]:
        """Each inspection's state, verdict, open and overdue rectifications (as of a date, default today)."""
        campaign_id = check_id("campaign_id", campaign_id)
        as_of = check_day("as_of", as_of)
        with self._views() as connection:
            return queries.inspection_register(connection, campaign_id, as_of)

    @_guarded
    def bulletin(self, campaign_id: UUID, bulletin_id: UUID | None = None) -> list[queries.BulletinLine]:
        """Per product category: inspections, samples, pass rate, nonconforming subjects."""
        campaign_id = check_id("campaign_id", campaign_id)
        bulletin_id = check_optional_id("bulletin_id", bulletin_id)
        with self._views() as connection:
            return queries.bulletin(connection, campaign_id, bulletin_id)

    @_guarded
    def department_scorecard(self, campaign_id: UUID, as_of: date | None = None) -> list[queries.ScorecardLine]:
        """Per department: activities planned, completed, cancelled; inspections; overdue rectifications."""
        campaign_id = check_id("campaign_id", campaign_id)
        as_of = check_day("as_of", as_of)
        with self._views() as connection:
            return queries.department_scorecard(connection, campaign_id, as_of)

    @_guarded
    def audit_trail(
        self,
        *,
        actor: str | None = None,
        department: str | None = None,
        aggregate_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> queries.AuditPage:
        """Who did what, when: events in log order, filtered, one page at a time.

        ``after`` is a log position (0 to 2**63 - 1), ``limit`` a page size
        (1 to 10,000): see :mod:`quality_ledger.bounds`.
        """
        actor = check_text("actor", actor)
        if actor is not None:  # user names are recorded in NFC (domain.values.UserName): look them up the same way
            actor = unicodedata.normalize("NFC", actor)
        department = check_text("department", department)
        aggregate_id = check_optional_id("aggregate_id", aggregate_id)
        since = check_instant("since", since)
        until = check_instant("until", until)
        POSITION.check("after", after)
        PAGE.check("limit", limit)
        with self._views() as connection:
            return queries.audit_trail(
                connection,
                actor=actor,
                department=department,
                aggregate_id=aggregate_id,
                since=since,
                until=until,
                after=after,
                limit=limit,
            )

    @_guarded
    def verify_views(self, *, progress: Progress | None = None) -> ViewsReport:
        """Rebuild the views from zero in a scratch database and list every difference."""
        return self.views.verify(progress=progress)

    @_guarded
    def rebuild_views(self, *, progress: Progress | None = None) -> int:
        """Clear the views and apply the whole log again; returns how many events were applied."""
        return self.views.rebuild(progress=progress)

    @_guarded
    def migrate_views(self, *, force: bool = False, progress: Progress | None = None) -> MigrationReport:
        """Bring the views to this code's version without downtime: rebuilt from
        zero beside the live ones, checked, swapped in by one transaction
        (``force``: even if already at this version). Readers keep reading the
        old views until the swap; see docs/views.md, "Versions and migrations"."""
        return self.views.migrate(force=force, progress=progress)

    @contextmanager
    def _views(self) -> Iterator[Connection]:
        with self.views.reading(catch_up=self.read_your_writes) as connection:
            yield connection

    @_guarded
    def campaign_status_from_events(self, campaign_id: UUID) -> CampaignStatus:
        """The same figures as :meth:`campaign_status`, computed by replaying the
        aggregates instead of reading the views: the reference the views are
        checked against."""
        campaign = self._load(check_id("campaign_id", campaign_id))
        if not isinstance(campaign, Campaign):
            msg = f"{campaign.kind} {campaign_id} is not a campaign"
            raise NotFound(msg)
        state = campaign.view()
        return campaign_status(
            state,
            (self._load(i).view() for i in state.activity_ids),
            (self._load(i).view() for i in state.inspection_ids),
            (self._load(i).view() for i in state.commendation_ids),
        )

    @_guarded
    def history(self, aggregate_id: UUID) -> list[RecordedEvent]:
        """Every recorded event of an aggregate, oldest first, with metadata."""
        aggregate_id = check_id("aggregate_id", aggregate_id)
        recorded = [self._recorded(cast(DomainEvent, e)) for e in self._store.events.get(aggregate_id)]
        if not recorded:
            msg = f"no aggregate with id {aggregate_id}"
            raise NotFound(msg)
        return recorded

    @staticmethod
    def _recorded(event: DomainEvent) -> RecordedEvent:
        return RecordedEvent(
            aggregate_id=event.originator_id,
            version=event.originator_version,
            name=event_name(event),
            recorded_at=event.timestamp,
            meta=event.meta,
            payload=event.payload(mode="json"),
        )

    # Audit ----------------------------------------------------------------------

    @property
    def chain(self) -> ChainedRecorder:
        """The store's recorder seen as the keeper of the hash chain."""
        return cast(ChainedRecorder, self._store.recorder)

    @_guarded
    def verify(
        self,
        *,
        against: Checkpoint | None = None,
        public_key: str | None = None,
        certificate: ReplayCertificate | None = None,
        progress: Progress | None = None,
    ) -> VerifyReport:
        """Recompute the hash chain over the whole log and report the first break.

        ``against`` a checkpoint also catches a cut tail or rewritten history
        (and a forged checkpoint: give the trusted ``public_key`` for signed
        ones); a ``certificate`` is compared with a fresh replay of the views.
        """
        report = audit_verify.verify(self.chain, against=against, public_key=public_key, progress=progress)
        if certificate is not None:
            same = self.replay_certificate(certificate.position) == certificate
            report = report.model_copy(update={"certificate_ok": same, "ok": report.ok and same})
        return report

    @_guarded
    def checkpoint(self, private_key_pem: bytes | None = None) -> Checkpoint:
        """Size and head link of the log now; signed with an Ed25519 key if given."""
        point = audit_verify.checkpoint(self.chain)
        return point.signed(private_key_pem) if private_key_pem else point

    @_guarded
    def replay_certificate(self, position: int | None = None) -> ReplayCertificate:
        """Digest of every view after replaying the log from zero up to ``position``."""
        if position is not None:
            POSITION.check("position", position)
        return replay.certificate(
            self._store.recorder, self._store.mapper, self.position() if position is None else position
        )

    @_guarded
    def as_of(
        self, instant: datetime | None = None, *, position: int | None = None, occurred_by: date | None = None
    ) -> Ledger:
        """A read-only ledger holding the log as it stood at ``instant`` (recorded
        time) or ``position``, with every query and view as they stood then.

        With ``occurred_by``, it answers "what was known then about the state
        on that business date": each aggregate stops before its first event
        whose business date (``occurred_on``) is later. Close it when done.
        """
        instant = check_instant("instant", instant)
        occurred_by = check_day("occurred_by", occurred_by)
        if position is not None:
            POSITION.check("position", position)
        until = position if position is not None else replay.position_at(self, instant) if instant else self.position()
        until = min(until, self.position())
        replayed = Ledger.open(MEMORY_URL, policy=self.policy)
        try:
            replay.replay_into(self, replayed, until, occurred_by)
        except BaseException:
            replayed.close()
            raise
        replayed.as_of_position = until
        return replayed

    @_guarded
    def position(self) -> int:
        """The position of the last stored event (0 for an empty log)."""
        return self._store.recorder.max_notification_id() or 0

    def events(self, start: int = 1, page: int = 500) -> Iterator[tuple[int, DomainEvent]]:
        """Every stored event in commit order, with its position, read in pages
        (``start`` from 1, ``page`` from 1 to 10,000, checked at once)."""
        START.check("start", start)
        PAGE.check("page", page)
        return self._guarded_events(start, page)

    def _guarded_events(self, start: int, page: int) -> Iterator[tuple[int, DomainEvent]]:
        try:
            yield from self._events(start, page)
        except Exception as e:
            if is_store_error(e):
                raise self.location.failure(e) from e
            raise

    def _events(self, start: int, page: int) -> Iterator[tuple[int, DomainEvent]]:
        recorder = self._store.recorder
        mapper = self._store.mapper
        while True:
            notifications = recorder.select_notifications(start=start, limit=page)
            for n in notifications:
                yield n.id, cast(DomainEvent, mapper.to_domain_event(n))
            if len(notifications) < page:
                return
            start = notifications[-1].id + 1
