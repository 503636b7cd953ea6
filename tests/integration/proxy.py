"""A loopback TCP proxy between a ledger and its PostgreSQL server, for the
tests that must lose a connection at a chosen moment: the whole server out
of reach (:meth:`LoopbackProxy.cut`), or one reply that never reaches the
client (a subclass's :meth:`LoopbackProxy.swallows`). The server is real;
only the wire between it and the ledger is cut."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Self
from urllib.parse import urlsplit


class LoopbackProxy:
    """Forwards a port of 127.0.0.1 to the server. While ``refusing`` (after
    :meth:`cut`, until :meth:`restore`), new connections are closed at once."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    @contextlib.contextmanager
    def running(cls, server_url: str) -> Iterator[Self]:
        """A proxy to the server ``server_url`` names, closed on the way out (a fixture's body)."""
        parts = urlsplit(server_url)
        proxy = cls(parts.hostname or "127.0.0.1", parts.port or 5432)
        try:
            yield proxy
        finally:
            proxy.close()

    def url(self, url: str) -> str:
        """``url`` (same user, password, database and query) through this proxy."""
        parts = urlsplit(url)
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{self.port}").geturl()

    def swallows(self, seen: bytes) -> bool:
        """Whether to drop the connection instead of passing on what the server
        just sent. ``seen`` is the chunk read, after the previous chunk's last
        16 bytes, so a short message split between two reads is still found.
        This proxy passes everything on: subclasses choose what to swallow."""
        return False

    def cut(self) -> None:
        """The server out of reach: every open connection closed, new ones refused."""
        self.refusing.set()
        self.sever()

    def restore(self) -> None:
        self.refusing.clear()

    def sever(self) -> None:
        """Close every open connection, on both sides."""
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        tail = b""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if from_server:
                    seen = tail + data
                    tail = seen[-16:]
                    if self.swallows(seen):
                        break
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
