"""Raw input for :func:`quality_ledger.commands.parse_obj`: JSON-like command
objects of every kind with any field values, as a service receives them.

A field may be missing, of the wrong type or extra; ids and sample ids may
name what a ledger holds or be made up. What parses must then meet the rules;
what does not must be refused as :class:`~quality_ledger.errors.InvalidCommand`.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Union
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.testing.values import _BLANKS, _one_in, calendar_dates, department_codes, metrics, names

__all__ = ["raw_commands", "texts"]

Strategy = st.SearchStrategy


@functools.cache
def texts() -> Strategy[str]:
    """Any text a caller might send: names, blanks, arbitrary code points."""
    return st.one_of(names(), st.sampled_from(_BLANKS), st.text(max_size=12))


_DEPARTMENT_FIELDS = frozenset(
    {"organiser", "code", "lead_department", "inspecting_department", "nominating_department"}
)


@functools.cache
def _junk() -> Strategy[Any]:
    return st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2))


def _field_values(name: str, annotation: Any, ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[Any]:
    """Values for one command field: mostly of its type (valid or not), now and then junk."""
    proper = _typed_values(name, annotation, ids, samples)
    return _one_in(10).flatmap(lambda rare: _junk() if rare else proper)


def _typed_values(name: str, annotation: Any, ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _typed_values(name, args[0], ids, samples)
    if origin in (Union, types.UnionType):
        options = [_typed_values(name, a, ids, samples) for a in args if a is not type(None)]
        return st.one_of(st.none(), *options)
    if origin is tuple:
        return st.lists(_typed_values(name, args[0], ids, samples), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(st.one_of(metrics(), texts()), st.integers(-3, 300), max_size=3)
    if annotation is UUID:
        return st.one_of(st.sampled_from(ids), st.uuids()) if ids else st.uuids()
    scalar = _SCALARS.get(annotation)
    if scalar is not None:
        return scalar
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.one_of(st.sampled_from(tuple(member.value for member in annotation)), texts())
    if name == "sample_id":
        return st.one_of(st.sampled_from(samples), texts()) if samples else texts()
    if name in _DEPARTMENT_FIELDS:
        return st.one_of(department_codes(), texts())
    return texts()


_SCALARS: dict[Any, Strategy[Any]] = {
    date: calendar_dates(),
    bool: st.booleans(),
    int: st.integers(-10, 10**6),
    Decimal: st.decimals(),
}


def raw_commands(ids: Sequence[UUID] = (), samples: Sequence[str] = ()) -> Strategy[dict[str, Any]]:
    """JSON-like command objects of every kind with arbitrary field values.

    Ids and sample ids come from ``ids`` and ``samples`` where given (so some
    commands reach real aggregates), or are made up; dates range over the
    whole calendar; a field may be missing, of the wrong type, or extra.
    """
    return _raw_commands(tuple(ids), tuple(samples))


@functools.cache
def _raw_commands(ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[dict[str, Any]]:
    fields = {
        command: {
            name: _field_values(name, field.annotation, ids, samples)
            for name, field in command.model_fields.items()
            if name != "command"
        }
        for command in c.ALL
    }

    @st.composite
    def raw(draw: st.DrawFn) -> dict[str, Any]:
        command = draw(st.sampled_from(c.ALL))
        data: dict[str, Any] = {"command": command.__name__}
        for name, values in fields[command].items():
            if name == "idempotency_key" and not draw(_one_in(6)):
                continue
            if draw(_one_in(16)):
                continue  # missing, required or not
            data[name] = draw(values)
        if draw(_one_in(20)):
            data["colour"] = draw(texts())
        return data

    return raw()
