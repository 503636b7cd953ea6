"""The ``quality-ledger`` command (also ``python -m quality_ledger``).

Every failure is one line on stderr, ``quality-ledger: <ErrorClass>: <message>``,
and an exit code from one documented table (``exits``, docs/cli.md): scripts
and auditors can trust both, and nobody has to read a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from quality_ledger.cli import exits
from quality_ledger.cli.parser import parse
from quality_ledger.errors import LedgerError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (never raise, never print a traceback)."""
    _tolerate_narrow_terminals()
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
    except LedgerError as e:
        _say(f"{type(e).__name__}: {e}")
        return exits.exit_code(e)
    except BrokenPipeError:
        _silence_stdout()
        return exits.BROKEN_PIPE
    except KeyboardInterrupt as e:  # an import says where to resume
        _say(f"interrupted: {e}" if str(e) else "interrupted")
        return exits.INTERRUPTED
    except Exception as e:  # the last line of defence: one line, not a traceback
        _say(f"internal error: {type(e).__name__}: {e} (a bug: please report it with the command line)")
        return exits.INTERNAL
    return code


def _run(argv: list[str]) -> int:
    try:
        args = parse(argv)
    except SystemExit as e:  # --help and --version print, then exit
        return e.code if isinstance(e.code, int) else exits.OK
    # Loaded only now: the ledger, SQLAlchemy and eventsourcing take most of a second.
    from quality_ledger.cli.actions import ACTIONS

    subcommands = (getattr(args, f"{group}_action", "") for group in ("audit", "views", "privacy", "schema"))
    name = " ".join(x for x in (args.action, *subcommands) if x)
    return ACTIONS[name](args)


def _tolerate_narrow_terminals() -> None:
    """Titles and names are Chinese: on a stdout that cannot encode them (an
    ASCII or Latin-1 locale, a legacy Windows console) print ``\\u897f``
    escapes instead of failing. JSON stays valid: those are JSON escapes too."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and getattr(sys.stdout, "errors", None) == "strict":
        reconfigure(errors="backslashreplace")


def _say(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    print(f"quality-ledger: {' '.join(message.split())}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Python's documented recipe for a closed pipe: point stdout at devnull so
    the interpreter's final flush does not complain, then exit quietly."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (tests capture it): nothing will flush it
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
