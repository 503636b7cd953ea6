"""Following the log continuously: a background thread that catches the views
up whenever new events may be there, woken by PostgreSQL's NOTIFY where the
store sends one, polling elsewhere."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import ApplicationRecorder

if TYPE_CHECKING:
    import psycopg


class Follower:
    """Runs ``catch_up`` in a background thread until stopped; keeps what stopped it."""

    def __init__(self, catch_up: Callable[[], object], recorder: ApplicationRecorder) -> None:
        self.catch_up = catch_up
        self.recorder = recorder
        self.error: BaseException | None = None
        """What stopped the thread, if anything did: :meth:`stop` re-raises it."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval: float) -> None:
        """Follow the log until :meth:`stop` (nothing new if already following).

        On PostgreSQL the thread LISTENs for the NOTIFY that every append
        sends at commit (see :class:`_Wakeups`) and catches up as soon as one
        arrives; ``interval`` then only bounds the time between two catch-ups,
        a safety net for a wake-up lost with a dropped connection. SQLite and
        the in-memory store cannot notify: there it polls every ``interval`` s.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._follow, args=(interval,), name="quality-ledger-views", daemon=True)
        self._thread.start()

    def _follow(self, interval: float) -> None:
        wakeups = _Wakeups.of(self.recorder)
        try:
            while not self._stop.is_set():
                # LISTEN before catching up, so a commit between the two still wakes the wait below.
                listening = wakeups is not None and wakeups.listen()
                try:
                    self.catch_up()
                except BaseException as e:
                    self.error = e
                    return
                if wakeups is not None and listening:
                    wakeups.wait(interval, self._stop)
                else:
                    # Polling; on PostgreSQL only until LISTEN works again.
                    self._stop.wait(interval if wakeups is None else min(interval, _Wakeups.RECONNECT))
        finally:
            if wakeups is not None:
                wakeups.close()

    def halt(self) -> None:
        """Stop following and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def stop(self) -> None:
        """Stop following; re-raises what stopped the thread, if anything did."""
        self.halt()
        if self.error is not None:
            raise self.error


class _Wakeups:
    """PostgreSQL's LISTEN/NOTIFY as the follower's doorbell.

    eventsourcing's PostgreSQL recorder runs ``NOTIFY <events table>`` inside
    every append's transaction; the server delivers it only when that
    transaction commits, and never for one rolled back, so a wake-up means
    new events are visible. The payload is not used: the follower then
    catches up from its tracked position as usual, so wake-ups that coalesce,
    arrive twice or come from another schema's table of the same name cost a
    cheap empty catch-up, and correctness never depends on them. A dedicated
    connection listens (a pooled one would be held for good); if it drops,
    the follower catches up at once and listens again on a new one (polling
    every second while it cannot).
    """

    SLICE = 0.1
    """Longest wait before looking at the stop flag again (bounds ``stop()``)."""
    RECONNECT = 1.0
    """Longest wait before trying to LISTEN again after the connection was lost."""

    def __init__(self, conninfo: str, kwargs: dict[str, Any], channel: str) -> None:
        self.conninfo = conninfo
        self.kwargs = {
            "connect_timeout": 5,
            # Names the follower in pg_stat_activity, e.g. for a DBA (or a test) to find it.
            "application_name": f"quality_ledger views follower {os.getpid()}",
            **{k: v for k, v in kwargs.items() if k != "row_factory"},
        }
        self.channel = channel
        self.connection: psycopg.Connection[Any] | None = None

    @classmethod
    def of(cls, recorder: ApplicationRecorder) -> _Wakeups | None:
        """Wake-ups for a recorder that notifies (eventsourcing's PostgreSQL one), else None."""
        channel = getattr(recorder, "channel_name", None)
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        if not isinstance(channel, str) or pool is None:
            return None
        return cls(pool.conninfo, dict(pool.kwargs or {}), channel)

    def listen(self) -> bool:
        """Connect and LISTEN unless already listening; False if the server cannot be reached now."""
        if self.connection is not None and not self.connection.closed:
            return True
        import psycopg  # PostgreSQL is optional: imported only where used
        from psycopg.sql import SQL, Identifier

        try:
            connection = psycopg.connect(self.conninfo, autocommit=True, **self.kwargs)
        except psycopg.Error:
            return False
        try:
            connection.execute(SQL("LISTEN {0}").format(Identifier(self.channel)))
        except psycopg.Error:
            connection.close()
            return False
        self.connection = connection
        return True

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Until a notification arrives, ``timeout`` s pass or ``stop`` is set."""
        import psycopg

        deadline = time.monotonic() + timeout
        while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            assert self.connection is not None
            try:
                if next(self.connection.notifies(timeout=min(self.SLICE, remaining), stop_after=1), None):
                    # One catch-up answers every commit so far: drain what else is queued.
                    for _ in self.connection.notifies(timeout=0):
                        pass
                    return
            except psycopg.Error:
                self.close()  # the follower catches up and listen() reconnects
                return

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
