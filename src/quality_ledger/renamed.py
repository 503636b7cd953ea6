"""Old names kept working, with a warning, after a rename.

Downstream services import the library's classes by name. When a name
changes, the old one keeps resolving to the same class for at least one
minor release and says so with a :class:`DeprecationWarning` naming the new
name, rather than breaking an import at deploy time. Stored data never
depends on these names: events and snapshots are stored under stable names
(``quality_ledger.names``).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping


def old_names(module: str, renames: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` (PEP 562) that resolves each old name in
    ``renames`` to the new name's object in ``module``, warning once per use."""

    def __getattr__(name: str) -> object:  # noqa: N807 - PEP 562 looks it up by this name
        new = renames.get(name)
        if new is None:
            msg = f"module {module!r} has no attribute {name!r}"
            raise AttributeError(msg)
        warnings.warn(f"{module}.{name} is now {new}", DeprecationWarning, stacklevel=2)
        return getattr(sys.modules[module], new)

    return __getattr__
