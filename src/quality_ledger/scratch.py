"""Scratch space on disk for replays: ``as_of``, ``replay_certificate`` and
``verify_views`` build a whole log's views (and ``as_of`` a copy of the log)
in a temporary directory instead of in memory, so their peak memory stays
flat however long the log is (docs/audit.md, "Replays").

The directory is made where :func:`tempfile.gettempdir` says (``TMPDIR``
first), never in the working directory, and removed when the replay is done,
also when it fails; whatever a crash leaves behind is named ``quality-ledger-
scratch-*`` there. The scratch store is always a SQLite file, whatever the
ledger's own store is (PostgreSQL included): it is private to this process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from quality_ledger.errors import ConfigurationError

PREFIX = "quality-ledger-scratch-"
"""The name every scratch directory starts with."""


def directory() -> tempfile.TemporaryDirectory[str]:
    """A new scratch directory; ``cleanup()`` it (or use it with ``with``).

    Also removed when garbage-collected or at interpreter exit, should a
    caller forget."""
    where = tempfile.gettempdir()
    if Path(where) == Path.cwd() and not any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        # tempfile's last resort when no temporary directory is usable: not ours to litter.
        msg = f"no usable temporary directory for a replay's scratch files (would be the working directory {where}): set TMPDIR"
        raise ConfigurationError(msg)
    try:
        return tempfile.TemporaryDirectory(prefix=PREFIX)
    except OSError as e:
        msg = f"cannot make a scratch directory for a replay in {tempfile.gettempdir()}: {e.strerror or e} (set TMPDIR)"
        raise ConfigurationError(msg) from e


def sqlite_url(where: str, name: str) -> str:
    """The ``sqlite:`` URL of the file ``name`` in the scratch directory
    ``where`` (an absolute path), quoted so that any character of ``TMPDIR``
    reaches the file system as it is."""
    return "sqlite:///" + quote(str(Path(where, name)))
