"""Shared machinery of the aggregates: pydantic events on eventsourcing's base.

An aggregate keeps everything it knows in one frozen pydantic model,
``self.state``; events replace it with an updated copy. So the state handed
to readers is immutable by construction, and applying an event never
validates or reads a clock (those happen in the command methods).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate, CanSnapshotAggregate
from eventsourcing.utils import get_topic, resolve_topic

from quality_ledger.domain.values import EventMeta, Frozen
from quality_ledger.errors import IllegalTransition, InvariantViolated

S = TypeVar("S", bound="AggregateState")


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


class Snapshot(Frozen, CanSnapshotAggregate[UUID]):
    """An aggregate's state at one version, so loading it replays only the tail.

    A cache, never evidence: it is stored apart from the hash-chained log and
    can always be rebuilt from the events.
    """

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    topic: str
    state: dict[str, Any]

    @classmethod
    def take(cls, aggregate: Any) -> Snapshot:
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state={
                "created_on": aggregate.created_on.isoformat(),
                "modified_on": aggregate.modified_on.isoformat(),
                "state": aggregate.state.model_dump(mode="json"),
            },
        )

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


class LedgerAggregate(BaseAggregate[UUID], Generic[S]):
    """An aggregate whose whole state is one frozen pydantic model."""

    kind: ClassVar[str] = "aggregate"
    TOPIC: ClassVar[str]
    """What the class is stored as, inside creation events and snapshots (see ``quality_ledger.names``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        _own_topic(cls)
        super().__init_subclass__(**kwargs)

    if TYPE_CHECKING:
        state: S
        state_model: ClassVar[type[AggregateState]]

    def evolve(self, **changes: Any) -> None:
        """Replace the state by a copy with ``changes``; used only by ``apply``."""
        self.state = self.state.model_copy(update=changes)

    def view(self) -> S:
        """The read-only state at the current version."""
        return self.state.model_copy(update={"version": self.version})

    # Guards shared by every aggregate: they raise before any event exists.

    def check_status(self, action: str, *allowed: object) -> None:
        status = getattr(self.state, "status")  # noqa: B009 - every state has one
        if status not in allowed:
            raise IllegalTransition(self.kind, str(status), action)

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
