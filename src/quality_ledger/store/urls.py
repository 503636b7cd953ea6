"""Ledger URLs: which one applies, how to name it in a message, and the file
a ``sqlite:`` URL means. Every error here is a :class:`ConfigurationError`
raised before anything is opened."""

from __future__ import annotations

import os
import re
from urllib.parse import SplitResult, unquote, urlsplit

from quality_ledger.errors import ConfigurationError

DEFAULT_URL = "sqlite:///quality_ledger.db"
URL_VARIABLE = "QUALITY_LEDGER_URL"
MEMORY_URL = "memory://"


def resolve_url(url: str | None) -> str:
    """The URL given, else ``$QUALITY_LEDGER_URL``, else ``./quality_ledger.db``."""
    return url or os.environ.get(URL_VARIABLE) or DEFAULT_URL


def redact(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return re.sub(r":[^:/@]*@", ":***@", url, count=1)
    if password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@", 1)).geturl()


def split(url: str) -> tuple[SplitResult, str]:
    """The URL's parts and its scheme without a driver (``postgresql+psycopg``)."""
    if not isinstance(url, str):
        msg = f"a ledger URL is a string, got {type(url).__name__}"
        raise ConfigurationError(msg)
    if "\x00" in url:
        msg = f"the ledger URL {redact(url)!r} contains a NUL byte"
        raise ConfigurationError(msg)
    try:
        parts = urlsplit(url)
    except ValueError as e:
        msg = f"invalid ledger URL {redact(url)!r}: {e}"
        raise ConfigurationError(msg) from None
    return parts, parts.scheme.split("+")[0]


def sqlite_path(url: str) -> str | None:
    """The file a ``sqlite:`` URL names, ``None`` for an in-memory database.

    As in SQLAlchemy: ``sqlite:///relative.db``, ``sqlite:////absolute.db``;
    ``sqlite://x.db`` (two slashes) would name a host, and is refused rather
    than taken for a file.
    """
    parts, _ = split(url)
    if parts.netloc:
        msg = (
            f"{redact(url)!r} has two slashes, so {parts.netloc!r} would be a host: "
            f"write sqlite:///{parts.netloc}{parts.path} (relative) or sqlite:////abs/path.db"
        )
        raise ConfigurationError(msg)
    path = unquote(parts.path)
    path = path[1:] if path.startswith("/") else path
    return None if path in ("", ":memory:") else path
