"""Shared machinery of the aggregates: pydantic events on eventsourcing's base.

An aggregate keeps everything it knows in one frozen pydantic model,
``self.state``; events replace it with an updated copy. So the state handed
to readers is immutable by construction, and applying an event never
validates or reads a clock (those happen in the command methods).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate, CanSnapshotAggregate
from eventsourcing.utils import get_topic, resolve_topic

from quality_ledger.domain.transitions import Lifecycle
from quality_ledger.domain.values import EventMeta, Frozen
from quality_ledger.errors import IllegalTransition, InvariantViolated

StateT = TypeVar("StateT", bound="AggregateState")


class AggregateState(Frozen):
    """What ``Ledger.get`` returns: an aggregate's state at one version."""

    id: UUID
    version: int = 0


class DomainEvent(Frozen, CanMutateAggregate[UUID]):
    """An immutable, past-tense fact about one aggregate.

    ``meta`` is attached by the ledger just before saving (actor, command and
    correlation ids, business date); domain code never needs it.
    """

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    meta: EventMeta | None = None

    TOPIC: ClassVar[str]
    """What the class is stored as (``quality_ledger.names`` gives the stable ones)."""

    class_version: ClassVar[int] = 1
    """The schema version of the payload (eventsourcing's convention). A class
    at version N > 1 has static ``upcast_v1_v2`` ... ``upcast_v{N-1}_vN``,
    each turning a stored dict of one version into the next, so that every
    event ever stored reads back as today's class (docs/evolution.md)."""

    def __init_subclass__(cls) -> None:
        _own_topic(cls)
        super().__init_subclass__()

    def apply(self, aggregate: Any) -> None:
        """Default: the event changes nothing but the version."""

    def payload(self, *exclude: str, mode: str = "python") -> dict[str, Any]:
        """What the event says, without the envelope every event carries
        (originator id and version, timestamp, meta, creation topic)."""
        return self.model_dump(mode=mode, exclude={*ENVELOPE, *exclude})


def _own_topic(cls: type) -> None:
    """Give ``cls`` eventsourcing's default topic as its own, so a subclass
    never inherits the stable name of the class it extends (two classes
    stored under one name would read back as the same class)."""
    if "TOPIC" not in cls.__dict__:
        cls.TOPIC = f"{cls.__module__}:{cls.__qualname__}"  # type: ignore[attr-defined]


class CreationEvent(DomainEvent, CanInitAggregate[UUID]):
    originator_topic: str


ENVELOPE = frozenset(CreationEvent.model_fields)
"""The fields of an event that are bookkeeping, not business payload."""


def state_fingerprint(aggregate_class: type[LedgerAggregate[Any]]) -> str:
    """SHA-256 of the shape of ``aggregate_class``'s state: what a snapshot must
    have been taken with to be loaded (see :class:`Snapshot`)."""
    return _fingerprint(aggregate_class.state_model, aggregate_class.state_revision)


@functools.cache
def _fingerprint(model: type[AggregateState], revision: int) -> str:
    document = {"schema": _shape(_inline(model.model_json_schema())), "revision": revision}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_ANNOTATIONS = frozenset({"title", "description", "examples"})
"""JSON Schema keywords that document but do not constrain: a new docstring or
field description must not throw every snapshot away."""
_NAMED_SCHEMAS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas"})
"""Keywords whose value maps names (which may be ``title``) to schemas."""
_DATA = frozenset({"default", "const"})
"""Keywords whose value is data, taken as it is."""
_SETS = frozenset({"required", "enum"})
"""Keywords whose value is a set written as a list: reordering fields or members changes nothing."""


def _inline(schema: dict[str, Any]) -> Any:
    """``schema`` with every ``$ref`` to its ``$defs`` replaced by the schema it
    names: the names of nested models and enums are how the code spells them,
    not what a snapshot holds, so renaming a class keeps its snapshots."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            name = reference.removeprefix("#/$defs/")
            if name in seen:  # a recursive model: its depth, not its name
                return {"$recursive": len(seen) - seen.index(name)}
            return resolve(definitions[name], (*seen, name))
        return {key: resolve(value, seen) for key, value in node.items() if key != "$defs"}

    return resolve(schema, ())


def _shape(node: Any) -> Any:
    """A JSON Schema without its annotations, its sets sorted: only what decides
    which documents validate, and the defaults a missing field takes."""
    if isinstance(node, list):
        return [_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    shape: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS:
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            shape[key] = {name: _shape(schema) for name, schema in value.items()}
        elif key in _DATA:
            shape[key] = value
        elif key in _SETS and isinstance(value, list):
            shape[key] = sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
        else:
            shape[key] = _shape(value)
    return shape


class Snapshot(Frozen, CanSnapshotAggregate[UUID]):
    """An aggregate's state at one version, so loading it replays only the tail.

    A cache, never evidence: it is stored apart from the hash-chained log and
    can always be rebuilt from the events. So a snapshot the code cannot
    trust is never an error: ``fingerprint`` records the shape of the state
    model it was taken with (:func:`state_fingerprint`), and one taken with
    another shape (or before fingerprints, v1: ``None``), or that fails to
    load for any reason, is ignored and replaced (``quality_ledger.snapshots``).
    """

    class_version: ClassVar[int] = 2
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    topic: str
    state: dict[str, Any]
    fingerprint: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["fingerprint"] = None  # written by 0.1.0: shape unknown, so never trusted

    @classmethod
    def take(cls, aggregate: Any) -> Snapshot:
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            fingerprint=state_fingerprint(type(aggregate)),
            state={
                "created_on": aggregate.created_on.isoformat(),
                "modified_on": aggregate.modified_on.isoformat(),
                "state": aggregate.state.model_dump(mode="json"),
            },
        )

    def is_current(self) -> bool:
        """Taken with the state model the code has now: safe to load."""
        cls = resolve_topic(self.topic)
        return self.fingerprint is not None and self.fingerprint == state_fingerprint(cls)

    def mutate(self, _: None) -> Any:
        cls = resolve_topic(self.topic)
        aggregate = object.__new__(cls)
        aggregate.__dict__.update(
            _id=self.originator_id,
            _version=self.originator_version,
            _created_on=datetime.fromisoformat(self.state["created_on"]),
            _modified_on=datetime.fromisoformat(self.state["modified_on"]),
            _pending_events=[],
            state=cls.state_model.model_validate(self.state["state"]),
        )
        return aggregate


class LedgerAggregate(BaseAggregate[UUID], Generic[StateT]):
    """An aggregate whose whole state is one frozen pydantic model."""

    kind: ClassVar[str] = "aggregate"
    state_revision: ClassVar[int] = 1
    """Part of the snapshots' fingerprint, beside the state model's schema: bump
    it when ``apply`` code changes what it derives while the state's shape
    stays the same, so snapshots holding the old derivation are replayed."""
    lifecycle: ClassVar[Lifecycle[Any]]
    """The aggregate's transition table (``quality_ledger.domain.transitions``)."""
    TOPIC: ClassVar[str]
    """What the class is stored as, inside creation events and snapshots (see ``quality_ledger.names``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        _own_topic(cls)
        super().__init_subclass__(**kwargs)

    if TYPE_CHECKING:
        state: StateT
        state_model: ClassVar[type[AggregateState]]

    def evolve(self, **changes: Any) -> None:
        """Replace the state by a copy with ``changes``; used only by ``apply``."""
        self.state = self.state.replaced(**changes)

    def view(self) -> StateT:
        """The read-only state at the current version."""
        return self.state.replaced(version=self.version)

    # Guards shared by every aggregate: they raise before any event exists.

    def check_transition(self, command: str, holds: Collection[str] = ()) -> None:
        """Refuse ``command`` unless the transition table has a row for it from
        the current status; ``holds`` names the row conditions that are true."""
        status = getattr(self.state, "status")  # noqa: B009 - every state has one
        if not self.lifecycle.allows(command, status, holds):
            raise IllegalTransition(self.kind, str(status), self.lifecycle.action(command))

    @staticmethod
    def check(condition: bool, rule: str, detail: str) -> None:
        if not condition:
            raise InvariantViolated(rule, detail)

    @staticmethod
    def check_text(value: str, rule: str, what: str) -> None:
        if not value.strip():
            raise InvariantViolated(rule, f"{what} must not be blank")

    @staticmethod
    def check_order(earlier: date, later: date, rule: str, detail: str) -> None:
        if later < earlier:
            raise InvariantViolated(rule, detail)
