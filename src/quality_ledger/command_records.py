"""What a recorded command leaves behind: its receipt, and the command record
that makes an idempotency key count once.

A command with an idempotency key is saved together with a ``CommandRecord``
whose id derives from the key. Both go in one atomic write, so the store's
own uniqueness constraint on (id, version) makes a key count once even when
two processes race with it. The record is stored (its events are in the
log), so the projections see it too: it lives here, beside the domain,
rather than in the application layer that writes it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from quality_ledger.commands import NAMESPACE
from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.domain.values import Frozen
from quality_ledger.renamed import old_names


class Receipt(Frozen):
    """Proof that a command was recorded."""

    aggregate_id: UUID
    version: int
    events: tuple[str, ...]
    command_id: UUID
    correlation_id: UUID
    idempotency_key: str | None = None


class CommandRecordState(AggregateState):
    key: str
    fingerprint: str
    receipt: Receipt


class CommandRecord(LedgerAggregate[CommandRecordState]):
    kind = "command-record"
    state_model = CommandRecordState

    class Event(DomainEvent):
        pass

    class Accepted(CreationEvent, Event):
        key: str
        fingerprint: str
        receipt: Receipt

        def apply(self, aggregate: Any) -> None:
            aggregate.state = CommandRecordState(
                id=self.originator_id, key=self.key, fingerprint=self.fingerprint, receipt=self.receipt
            )

    @classmethod
    def accept(cls, key: str, fingerprint: str, receipt: Receipt) -> CommandRecord:
        return cls._create(cls.Accepted, id=record_id(key), key=key, fingerprint=fingerprint, receipt=receipt)


def record_id(key: str) -> UUID:
    return uuid5(NAMESPACE, f"idempotency:{key}")


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"CommandRecordView": "CommandRecordState"})
