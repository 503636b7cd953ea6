"""What every handler shares: the aggregates a command changed, the context a
handler decides in (repository, policy, actor, aggregates read once), and
``handle``, the function each aggregate's module registers its handlers on."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import singledispatch
from typing import Any, NoReturn, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import EventStore

from quality_ledger import commands as c
from quality_ledger.children import children
from quality_ledger.domain.activity import Activity, ActivityState
from quality_ledger.domain.base import LedgerAggregate
from quality_ledger.domain.campaign import Campaign, CampaignState
from quality_ledger.domain.commendation import Commendation, CommendationState
from quality_ledger.domain.inspection import Inspection, InspectionState
from quality_ledger.domain.values import Actor
from quality_ledger.errors import InvalidCommand, InvariantViolated, NotFound, PermissionDenied
from quality_ledger.policy import Policy, may_issue, responsible_departments, subject_of

A = TypeVar("A", bound=LedgerAggregate)  # type: ignore[type-arg]


@dataclass(frozen=True)
class Changes:
    """The aggregate a command is about, and any others it changed."""

    primary: LedgerAggregate  # type: ignore[type-arg]
    others: tuple[LedgerAggregate, ...] = ()  # type: ignore[type-arg]


class Aggregates(Protocol):
    """Where handlers load aggregates: the store's repository, or a batch's
    cache in front of it (``execute_many``: later commands of a chunk see
    what earlier ones decided before the chunk is saved)."""

    def get(self, aggregate_id: UUID) -> Any: ...  # raises AggregateNotFoundError

    def __contains__(self, aggregate_id: UUID) -> bool: ...

    @property
    def event_store(self) -> EventStore[UUID]:
        """The stored events, per aggregate (a campaign's children are read from its stream)."""
        ...


class CommandContext:
    """What a handler may use: the repository, the policy and the actor.

    It also answers the authorization rules' questions about the aggregates
    a command names (:class:`~quality_ledger.policy.Parties`), from what the
    handler loaded: each aggregate is read once per command.
    """

    def __init__(self, repository: Aggregates, policy: Policy, actor: Actor) -> None:
        self.repository = repository
        self.policy = policy
        self.actor = actor
        self._loaded: dict[UUID, LedgerAggregate] = {}  # type: ignore[type-arg]
        self._absent: set[UUID] = set()

    def load(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate: object = self._loaded.get(aggregate_id)
        if aggregate is None:
            with contextlib.suppress(AggregateNotFoundError):
                aggregate = self.repository.get(aggregate_id)
        if not isinstance(aggregate, cls):
            msg = f"no {cls.kind} with id {aggregate_id}"
            raise NotFound(msg)
        self._loaded[aggregate_id] = aggregate
        return aggregate

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None if there is none of ``cls`` with that id (then
        the authorization rules are told so too, rather than refused)."""
        try:
            return self.load(cls, aggregate_id)
        except NotFound:
            self._absent.add(aggregate_id)
            return None

    def children(self, campaign: Campaign, added: type[Campaign.ChildAdded], cls: type[A]) -> list[A]:
        """The children ``added`` events of ``campaign`` name, each loaded: read
        from the campaign's own stream (the state counts them, the views may
        lag), once per command that needs them."""
        return [self.load(cls, i) for i in children(self.repository.event_store, campaign, added)]

    def check_absent(self, cls: type[A], aggregate_id: UUID) -> None:
        if aggregate_id in self.repository:
            raise InvariantViolated(f"{cls.kind}-unique", f"{cls.kind} {aggregate_id} already exists")

    def campaign(self, campaign_id: UUID) -> CampaignState:
        return self.load(Campaign, campaign_id).state

    def activity(self, activity_id: UUID) -> ActivityState:
        return self.load(Activity, activity_id).state

    def inspection(self, inspection_id: UUID) -> InspectionState | None:
        if inspection_id in self._absent:  # a bulletin may list what does not exist
            return None
        return self.load(Inspection, inspection_id).state

    def commendation(self, commendation_id: UUID) -> CommendationState:
        return self.load(Commendation, commendation_id).state

    def permit(self, command: c.Command) -> None:
        """Refuse ``command`` unless the policy lets the actor issue it, by the
        rules of :func:`~quality_ledger.policy.responsible_departments`."""
        if not may_issue(self.policy, self.actor, command, self):
            subject = subject_of(command, self)
            also = f", or whoever acts for the subject {subject.name!r}" if subject is not None else ""
            self.refuse(command, responsible_departments(command, self), also)

    def authorize(self, command: c.Command, *departments: str) -> None:
        """Refuse ``command`` unless the policy accepts the actor for one of
        ``departments``: for handlers written outside this module (the
        library's own handlers ask :meth:`permit`)."""
        responsible = frozenset(departments)
        if not self.policy.allows(self.actor, command, responsible):
            self.refuse(command, responsible)

    def refuse(self, command: c.Command, responsible: frozenset[str], also: str = "") -> NoReturn:
        who = f"{self.actor.user} ({self.actor.department})"
        msg = f"{who} may not {command.name}: responsible are {', '.join(sorted(responsible)) or 'nobody'}{also}"
        raise PermissionDenied(msg)


@singledispatch
def handle(command: c.Command, ctx: CommandContext) -> Changes:
    msg = f"no handler for {type(command).__name__}"
    raise InvalidCommand(msg)
