"""The ``Ledger`` facade: the one entry point other services code against.

It checks what callers pass and delegates: commands to the writing part
(:mod:`quality_ledger.writing`); aggregates, history and the views' figures
to the reading part (:class:`~quality_ledger.reading.Reading`); the chain,
checkpoints and certificates to the audit part
(:class:`~quality_ledger.auditing.Auditing`, over :mod:`quality_ledger.audit`).
All of them reach the stored events through one port,
:class:`~quality_ledger.eventlog.EventLog`, which keeps eventsourcing's
application private: a service cannot save an aggregate around the
commands. docs/architecture.md draws the layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from tempfile import TemporaryDirectory
from types import TracebackType
from uuid import UUID

from quality_ledger import commands as c
from quality_ledger import scratch
from quality_ledger.audit import replay
from quality_ledger.auditing import Auditing
from quality_ledger.batches import BatchReceipts, BatchSummary, Progress
from quality_ledger.bounds import CACHED_AGGREGATES, CHUNK_SIZE, DEFAULT_CHUNK_SIZE, POSITION, check_day, check_instant
from quality_ledger.domain.values import Actor
from quality_ledger.erasing import ForgetReport, PersonalData, Privacy
from quality_ledger.errors import InvalidCommand, ReadOnly
from quality_ledger.eventlog import EventLog
from quality_ledger.handlers import handle
from quality_ledger.parts import guarded
from quality_ledger.persistence import MEMORY_URL, Location, is_store_error, locate, redact
from quality_ledger.policy import DepartmentPolicy, Policy
from quality_ledger.privacy import KeyStore
from quality_ledger.projections import Views, views_engine
from quality_ledger.projections.migration import Outdated
from quality_ledger.reading import Reading, RecordedEvent, event_name
from quality_ledger.receipts import Receipt
from quality_ledger.writing import Clock, Writer, validated

__all__ = [
    "BatchReceipts",
    "BatchSummary",
    "Clock",
    "ForgetReport",
    "Ledger",
    "PersonalData",
    "RecordedEvent",
    "event_name",
]


class Ledger(Reading, Auditing, Privacy):
    """A quality campaign ledger: execute commands, read state and history.

    Open one with :meth:`open`; close it (or use ``with``) to release the
    store's connections.
    """

    handle = staticmethod(handle)
    """Maps a command to aggregate methods; a test seam (see quality_ledger.testing)."""

    def __init__(
        self,
        events: EventLog,
        url: str,
        policy: Policy,
        views: Views,
        *,
        read_your_writes: bool = True,
        clock: Clock | None = None,
        location: Location | None = None,
    ) -> None:
        self._log = events
        self._writer = Writer(events)
        self.url = url
        self.location = location or Location(url, {}, url)
        """Where the store is, and how its failures are named."""
        self.policy = policy
        self.views = views
        self.read_your_writes = read_your_writes
        self.clock = clock
        self.as_of_position: int | None = None
        """Set on a replayed, read-only ledger: the last log position it holds."""
        self._encryption_key: bytes | None = None
        """The at-rest key it was opened with: a replay's scratch copy is encrypted with it too."""
        self._scratch: TemporaryDirectory[str] | None = None
        """A replayed ledger's scratch directory (its store), removed by :meth:`close`."""

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
        encryption_key: bytes | None = None,
        key_store: KeyStore | None = None,
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

        ``encryption_key`` (32 bytes) creates a ledger encrypted at rest,
        and opens one: every stored row and snapshot is compressed and
        sealed with AES-GCM. A ledger keeps what it was created as: an
        encrypted one opened without its key, or with another, and a plain
        one opened with a key, raise :class:`EncryptionKeyError`
        (docs/privacy.md, "Encryption at rest").

        ``key_store`` keeps the data subjects' keys somewhere else than the
        default table beside the events: a KMS behind
        :class:`~quality_ledger.privacy.KeyStore` (docs/privacy.md, "Keys").
        """
        location = locate(url, create=create, adopt=adopt)
        try:
            events = EventLog(env=location.env, encryption_key=encryption_key, key_store=key_store)
        except Exception as e:
            if is_store_error(e):
                raise location.failure(e) from e
            raise
        try:
            engine = views_engine(views_url or location.views_url)
            views = Views(engine, events.recorder, events.mapper, batch_size=batch_size, outdated=outdated_views)
        except BaseException as e:
            events.close()
            if isinstance(e, Exception) and is_store_error(e):
                raise location.failure(e) from e
            raise
        opened = cls(
            events,
            location.url,
            policy or DepartmentPolicy(),
            views,
            read_your_writes=read_your_writes,
            clock=clock,
            location=location,
        )
        opened._encryption_key = encryption_key
        return opened

    @property
    def read_only(self) -> bool:
        """Opened read-only (a read-only file or directory, or ``mode=ro``): it records nothing."""
        return self.location.read_only or self.as_of_position is not None

    @classmethod
    def in_memory(cls, *, policy: Policy | None = None) -> Ledger:
        return cls.open(MEMORY_URL, policy=policy)

    def close(self) -> None:
        try:
            self.views.close()
            self._log.close()
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # Writing ------------------------------------------------------------------

    @guarded
    def execute(self, command: c.Command, actor: Actor, *, correlation_id: UUID | None = None) -> Receipt:
        """Record what ``command`` decides, atomically, or raise and record nothing.

        With an idempotency key, a repeat returns the first receipt and records
        nothing; the same key with a different command raises
        :class:`IdempotencyConflict`. A concurrent writer on the same aggregate
        makes this raise :class:`ConcurrencyConflict`; nothing is retried.
        """
        self._refuse_replay()
        command, actor = validated(command, actor)
        return self._writer.execute(self.handle, self.policy, self.clock, command, actor, correlation_id)

    def execute_many(
        self,
        pairs: Iterable[tuple[c.Command, Actor]],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        correlation_id: UUID | None = None,
        progress: Progress | None = None,
    ) -> BatchSummary:
        """Record many ``(command, actor)`` pairs, in order, a chunk at a time;
        return what was recorded (commands, events, first and last position).

        Each command is decided as :meth:`execute` decides it (validation,
        authorization, rules, idempotency, its own command id and metadata),
        against the state that includes the batch's earlier commands. Each
        chunk of ``chunk_size`` commands (1 to 5,000; fewer if their events
        reach 4 MB) is stored in one transaction, all or nothing. ``pairs``
        is read lazily, one chunk ahead at most, so a generator of a million
        commands runs in flat memory. ``correlation_id`` ties every command
        of the batch together (by default each is its own). ``progress`` is
        called after each chunk with the summary so far.

        A refused command raises :class:`BatchRefused` naming its index: its
        chunk recorded nothing, the chunks before it stay recorded, and
        ``resume_at`` is the first command not recorded. With idempotency
        keys, running the whole batch again is safe: what was recorded
        records nothing twice. A store failure stops the batch as
        :class:`StoreUnavailable` or :class:`ConcurrencyConflict`, naming
        the chunk (docs/guide.md, "Bulk import").
        """
        return self.execute_each(pairs, chunk_size=chunk_size, correlation_id=correlation_id, progress=progress).drain()

    def execute_each(
        self,
        pairs: Iterable[tuple[c.Command, Actor]],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        correlation_id: UUID | None = None,
        progress: Progress | None = None,
    ) -> BatchReceipts:
        """:meth:`execute_many`, giving each command's receipt (the one
        :meth:`execute` would give) once its chunk is recorded. Nothing is
        decided until the first receipt is asked for; ``.summary`` on the
        result says what was recorded so far."""
        self._refuse_replay()
        if self.location.read_only:
            msg = f"the ledger at {redact(self.url)} is open read-only (a read-only file or directory, or mode=ro): it records nothing"
            raise ReadOnly(msg)
        CHUNK_SIZE.check("chunk_size", chunk_size)
        if correlation_id is not None and not isinstance(correlation_id, UUID):
            msg = f"correlation_id must be a UUID, got {type(correlation_id).__name__}"
            raise InvalidCommand(msg)
        return BatchReceipts(
            self._writer,
            pairs,
            handle=self.handle,
            policy=self.policy,
            clock=self.clock,
            correlation_id=correlation_id,
            chunk_size=chunk_size,
            keep=CACHED_AGGREGATES,
            failure=self.location.failure,
            progress=progress,
        )

    def _refuse_replay(self) -> None:
        if self.as_of_position is not None:
            msg = f"this ledger is a replay up to position {self.as_of_position}: it records nothing"
            raise ReadOnly(msg)

    @guarded
    def as_of(
        self, instant: datetime | None = None, *, position: int | None = None, occurred_by: date | None = None
    ) -> Ledger:
        """A read-only ledger holding the log as it stood at ``instant`` (recorded
        time) or ``position``, with every query and view as they stood then.

        With ``occurred_by``, it answers "what was known then about the state
        on that business date": each aggregate stops before its first event
        whose business date (``occurred_on``) is later.

        The replay is a SQLite ledger in a scratch directory on disk (under
        ``TMPDIR``; whatever this ledger's store, PostgreSQL included), not
        in memory, so a long log replays in flat memory. Closing it removes
        that directory: use it as a context manager (``with ledger.as_of(...)
        as then:``) or call :meth:`close`; a forgotten one is removed when
        garbage-collected or at exit.
        """
        instant = check_instant("instant", instant)
        occurred_by = check_day("occurred_by", occurred_by)
        if position is not None:
            POSITION.check("position", position)
        until = (
            position
            if position is not None
            else replay.position_at(self.views, self._log, instant)
            if instant
            else self.position()
        )
        until = min(until, self.position())
        where = scratch.directory()
        try:
            replayed = Ledger.open(
                scratch.sqlite_url(where.name, "replay.db"), policy=self.policy, encryption_key=self._encryption_key
            )
        except BaseException:
            where.cleanup()
            raise
        replayed._scratch = where
        replayed._log.share_keys(self._log)  # the copy holds the rows, not the key table
        try:
            replay.replay_into(self._log, replayed._log, until, occurred_by)
        except BaseException:
            replayed.close()
            raise
        replayed.as_of_position = until
        return replayed
