"""One hierarchy for everything the ledger refuses.

Each error also subclasses the built-in that fits, so callers that only know
Python's own exceptions still catch sensible things. Every refusal happens
before anything is recorded: an error means the log is unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BatchRefused",
    "ConcurrencyConflict",
    "ConfigurationError",
    "IdempotencyConflict",
    "IllegalTransition",
    "IntegrityError",
    "InvalidCommand",
    "InvariantViolated",
    "LedgerError",
    "NoLedger",
    "NotFound",
    "PermissionDenied",
    "ProjectionFailed",
    "ReadOnly",
    "RuleViolation",
    "StoreUnavailable",
    "ViewsOutdated",
]


class LedgerError(Exception):
    """Base of every error quality_ledger raises on purpose."""


class InvalidCommand(LedgerError, ValueError):
    """The input could not be turned into a valid command.

    ``errors`` keeps pydantic's structured detail (location, message, input)
    so a service can point its own user at the offending field.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[dict[str, Any]] = errors or []


class RuleViolation(LedgerError, ValueError):
    """A business rule refused the command."""


class IllegalTransition(RuleViolation):
    """The aggregate's state machine has no such step from where it stands."""

    def __init__(self, kind: str, state: str, action: str) -> None:
        super().__init__(f"{kind} is {state}: cannot {action}")
        self.kind = kind
        self.state = state
        self.action = action


class InvariantViolated(RuleViolation):
    """A named invariant would no longer hold."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"[{rule}] {detail}")
        self.rule = rule
        self.detail = detail


class IdempotencyConflict(LedgerError, ValueError):
    """An idempotency key was reused for a different command."""


class NotFound(LedgerError, LookupError):
    """No aggregate (or version of one) with that id."""


class ConcurrencyConflict(LedgerError, RuntimeError):
    """Another writer recorded on the same aggregate first; nothing was saved.

    Re-read and decide again: the ledger never retries silently.
    """


class PermissionDenied(LedgerError, PermissionError):
    """The authorization policy refused this actor this command."""


class IntegrityError(LedgerError):
    """The stored log is not what was recorded (tampering or corruption)."""


class ConfigurationError(LedgerError, ValueError):
    """The ledger cannot be opened as asked (bad URL, unknown scheme)."""


class EncryptionKeyError(ConfigurationError):
    """A ledger encrypted at rest opened without its key, or with another
    one; a plain ledger opened with a key; a key that is not 32 bytes."""


class NoLedger(LedgerError, FileNotFoundError):
    """There is no ledger where one was expected (and none was to be created)."""


class ProjectionFailed(LedgerError, RuntimeError):
    """A view handler could not apply an event; the batch it was in left the
    views untouched and the runner stopped there."""

    def __init__(self, position: int, topic: str, cause: BaseException) -> None:
        super().__init__(f"projection stopped at position {position} ({topic}): {type(cause).__name__}: {cause}")
        self.position = position
        self.topic = topic


class ReadOnly(LedgerError, PermissionError):
    """A replayed ledger (``as_of``) answers questions but records nothing."""


class StoreUnavailable(LedgerError, ConnectionError):
    """The store could not be reached or failed mid-write: the command's
    outcome is unknown. Retry with the same idempotency key; it counts once."""


class ViewsOutdated(LedgerError, RuntimeError):
    """The SQL views were built by another version of the projections (another
    shape or logic) and this ledger will not serve or extend them until they
    are migrated: ``quality-ledger views migrate`` (docs/views.md)."""


class BatchRefused(LedgerError, ValueError):
    """A command of ``execute_many`` was refused: the chunk it belongs to
    recorded nothing, the chunks before it stay recorded.

    ``index`` is the refused command's place in the batch (0-based),
    ``cause`` the error ``execute`` would have raised for it, and
    ``resume_at`` the first command not recorded (the failed chunk's first):
    fix the refused command and run the batch again from there, or run it
    all again if every command has an idempotency key.
    """

    def __init__(self, index: int, command: str, cause: LedgerError, resume_at: int) -> None:
        where = f"command {index} ({command})"
        super().__init__(f"{where}: {type(cause).__name__}: {cause} (not recorded from command {resume_at} on)")
        self.index = index
        self.command = command
        self.cause = cause
        self.resume_at = resume_at
