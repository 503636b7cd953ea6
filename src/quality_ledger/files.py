"""Files named on the command line: read them with a one-line error naming
the file, and write them without clobbering one or leaving half of one
(the CLI's, the report's, the schema export's).

Every check here runs before the ledger is opened, so a bad argument costs
nothing and changes nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from quality_ledger.errors import ConfigurationError, InvalidCommand

Model = TypeVar("Model", bound=BaseModel)


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        msg = f"cannot read the {what} {path}: {_reason(e)}"
        raise ConfigurationError(msg) from None


def read_model(path: Path, model: type[Model], what: str) -> Model:
    """A JSON file parsed into ``model``; any fault names the file."""
    data = read_bytes(path, what)
    try:
        return model.model_validate_json(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        msg = f"{path} is not a {what}: {where}: {first['msg']}"
        raise InvalidCommand(msg, errors=[dict(x) for x in e.errors(include_url=False)]) from None


def private_key(path: Path) -> bytes:
    """An unencrypted Ed25519 private key in PEM, as ``audit keygen`` writes it."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = read_bytes(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        msg = f"{path} is not an unencrypted PEM private key (make one with 'quality-ledger audit keygen')"
        raise InvalidCommand(msg) from None
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path} holds a {type(key).__name__.lstrip('_')}; checkpoints are signed with an Ed25519 key"
        raise InvalidCommand(msg)
    return data


def encryption_key(path: Path) -> bytes:
    """A ledger's at-rest key from a file: 32 raw bytes, or 64 hex digits
    (docs/privacy.md, "Encryption at rest")."""
    data = read_bytes(path, "encryption key file")
    if len(data) == 32:
        return data
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != 32:
        msg = f"{path} holds no encryption key: 32 bytes, or 64 hex digits, expected"
        raise ConfigurationError(msg)
    return key


def check_out(path: Path, *, force: bool, directory: bool = False) -> None:
    """Refuse, before any work, an output that cannot or must not be written."""
    parent = path.absolute().parent
    if not parent.is_dir():
        msg = f"cannot write {path}: the directory {parent} does not exist"
        raise ConfigurationError(msg)
    if directory:
        if path.exists() and not path.is_dir():
            msg = f"cannot write into {path}: it is a file, not a directory"
            raise ConfigurationError(msg)
        if path.is_dir() and any(path.iterdir()) and not force:
            msg = f"{path} is not empty: pass --force to write into it"
            raise ConfigurationError(msg)
        return
    if path.is_dir():
        msg = f"cannot write {path}: it is a directory"
        raise ConfigurationError(msg)
    if path.exists() and not force:
        msg = f"{path} already exists: pass --force to replace it"
        raise ConfigurationError(msg)


def _scratch(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def writing(path: Path) -> Iterator[TextIO]:
    """A text stream that becomes ``path`` only once complete (checked by :func:`check_out`)."""
    scratch = _scratch(path)
    try:
        with scratch.open("x", encoding="utf-8", newline="") as stream:
            yield stream
        scratch.replace(path)
    except OSError as e:
        msg = f"cannot write {path}: {_reason(e)}"
        raise ConfigurationError(msg) from None
    finally:
        scratch.unlink(missing_ok=True)


@contextmanager
def directory(path: Path) -> Iterator[Path]:
    """A directory to fill: ``path`` itself if it exists (empty, or ``--force``),
    else a scratch directory renamed to ``path`` once complete."""
    if path.is_dir():
        yield path
        return
    scratch = _scratch(path)
    try:
        scratch.mkdir()
        yield scratch
        scratch.rename(path)
    except OSError as e:
        msg = f"cannot write {path}: {_reason(e)}"
        raise ConfigurationError(msg) from None
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Write a secret readable by its owner only (0600 from the first byte).

    Without ``force`` the file is created exclusively: an existing key is
    never replaced, even by a race.
    """
    target = _scratch(path) if force else path
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        msg = f"{path} already exists: pass --force to replace the key (the old one is then lost)"
        raise ConfigurationError(msg) from None
    except OSError as e:
        msg = f"cannot write {path}: {_reason(e)}"
        raise ConfigurationError(msg) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        if force:
            target.replace(path)
    except OSError as e:
        target.unlink(missing_ok=True)
        msg = f"cannot write {path}: {_reason(e)}"
        raise ConfigurationError(msg) from None
    finally:
        if force:
            target.unlink(missing_ok=True)
