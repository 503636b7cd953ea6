"""What the ``Ledger``'s parts share: the attributes they read, and the guard
that turns a store's failures into the ledger's own errors.

``Ledger`` (ledger.py) is assembled from its writing part (writing.py), its
reading part (:class:`~quality_ledger.reading.Reading`) and its audit part
(:class:`~quality_ledger.auditing.Auditing`); each part reaches the stored
events only through the :class:`~quality_ledger.eventlog.EventLog` port.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from quality_ledger.eventlog import EventLog
from quality_ledger.persistence import Location, is_store_error
from quality_ledger.policy import Policy
from quality_ledger.projections import Views


class Part:
    """The state every part of the ledger reads (set by ``Ledger.__init__``)."""

    _log: EventLog
    location: Location
    """Where the store is, and how its failures are named."""
    policy: Policy
    views: Views
    read_your_writes: bool


_S = TypeVar("_S", bound=Part)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def guarded(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """A read method whose store failures reach the caller as the ledger's own
    errors (a damaged file, a lock, a lost server), each naming the store: a
    service catches ``LedgerError`` and never a driver's exception. The store
    is asked afresh on the next call, so the same ledger works again once the
    store is back."""

    @functools.wraps(method)
    def guarded_method(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            if is_store_error(e):
                raise self.location.failure(e) from e
            raise

    return guarded_method
