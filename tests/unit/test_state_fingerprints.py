"""A snapshot's fingerprint: what must change it, and what must not.

It is the SHA-256 of the state model's JSON Schema with its annotations
(titles, descriptions) dropped and its sets sorted, plus the aggregate's
``state_revision``. Anything that changes which stored states validate, or
the default a missing field takes, changes it; documentation and ordering do
not (they would throw every snapshot away for nothing).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest
from pydantic import Field

from quality_ledger.domain.activity import Activity
from quality_ledger.domain.base import AggregateState, state_fingerprint
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation
from quality_ledger.domain.inspection import Inspection
from quality_ledger.receipts import CommandRecord


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


Reordered = StrEnum("Colour", {"BLUE": "blue", "RED": "red"})  # type: ignore[misc]
"""The same members in another order."""


class Base(AggregateState):
    title: str
    count: int = 0
    colour: Colour = Colour.RED


def aggregate(model: type[AggregateState], revision: int = 1) -> Any:
    """A stand-in aggregate class: all the fingerprint reads is its state model and revision
    (a real subclass would register an eventsourcing topic on every call)."""
    return type("Stand", (), {"state_model": model, "state_revision": revision})


BASE = state_fingerprint(aggregate(Base))


class Documented(AggregateState):
    """A docstring, and descriptions and titles, change no stored state."""

    count: int = Field(0, description="how many", title="Count of things")
    title: str = Field(description="a field named title is a field, not an annotation")
    colour: Reordered = Reordered.RED  # type: ignore[valid-type]


class AddedField(Base):
    extra: int = 0


class RenamedField(AggregateState):
    heading: str
    count: int = 0
    colour: Colour = Colour.RED


class ChangedType(AggregateState):
    title: str
    count: float = 0
    colour: Colour = Colour.RED


class ChangedDefault(AggregateState):
    title: str
    count: int = 1
    colour: Colour = Colour.RED


class NowOptional(AggregateState):
    title: str | None
    count: int = 0
    colour: Colour = Colour.RED


Wider = StrEnum("Colour", {"RED": "red", "BLUE": "blue", "GREEN": "green"})  # type: ignore[misc]
"""The same enumeration, named the same, with one member more."""


class AddedMember(AggregateState):
    title: str
    count: int = 0
    colour: Wider = Wider.RED  # type: ignore[valid-type]


def test_documentation_and_field_order_leave_the_fingerprint_unchanged() -> None:
    assert state_fingerprint(aggregate(Documented)) == BASE


Hue = StrEnum("Hue", {"RED": "red", "BLUE": "blue"})  # type: ignore[misc]
"""The same enumeration under another class name: how the code spells it, not what is stored."""


class Point(AggregateState):
    x: int


class Place(AggregateState):
    x: int


class RenamedClasses(AggregateState):
    title: str
    count: int = 0
    colour: Hue = Hue.RED  # type: ignore[valid-type]


class Holding(AggregateState):
    at: Point | None = None


class HoldingRenamed(AggregateState):
    at: Place | None = None


def test_renaming_a_nested_class_leaves_the_fingerprint_unchanged() -> None:
    # Enum and model names are what a rename changes; the stored state is the same.
    assert state_fingerprint(aggregate(RenamedClasses)) == BASE
    assert state_fingerprint(aggregate(HoldingRenamed)) == state_fingerprint(aggregate(Holding))


class Tree(AggregateState):
    children: list[Tree] = []


class Node(AggregateState):
    children: list[Node] = []


def test_a_recursive_state_has_a_fingerprint_independent_of_its_name() -> None:
    assert state_fingerprint(aggregate(Tree)) == state_fingerprint(aggregate(Node))
    assert state_fingerprint(aggregate(Tree)) != state_fingerprint(aggregate(Holding))


@pytest.mark.parametrize(
    "model",
    [AddedField, RenamedField, ChangedType, ChangedDefault, NowOptional, AddedMember],
    ids=lambda m: m.__name__,
)
def test_a_change_to_what_validates_or_to_a_default_changes_the_fingerprint(model: type[AggregateState]) -> None:
    assert state_fingerprint(aggregate(model)) != BASE


def test_a_new_state_revision_changes_the_fingerprint() -> None:
    # given: apply() now derives a field differently, the shape unchanged: the aggregate bumps its revision
    assert state_fingerprint(aggregate(Base, revision=2)) != BASE


def test_every_aggregate_has_its_own_stable_fingerprint() -> None:
    fingerprints = [state_fingerprint(cls) for cls in (Activity, Campaign, Commendation, Inspection, CommandRecord)]
    assert len(set(fingerprints)) == len(fingerprints)
    assert all(len(f) == 64 and int(f, 16) >= 0 for f in fingerprints)
    assert state_fingerprint(Inspection) == state_fingerprint(Inspection)


def test_the_state_models_id_and_version_are_part_of_every_shape() -> None:
    # A guard on the helper above: Base really is an aggregate state.
    assert Base(id=UUID(int=1), title="t").version == 0
