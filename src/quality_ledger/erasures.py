"""What a ``forget`` leaves in the log: a record that a data subject's key was
destroyed, by whom, when and on what legal basis.

Stored beside the domain (its events are in the log, the views see them),
like the command records. It names the destroyed key's id and the kind of
subject, never the subject: the subject's id is personal data itself (a
clerk's user name, a nominee's name). Its id derives from the key id, so a
``forget`` retried after a crash records it once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from quality_ledger.commands import NAMESPACE
from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate


class ErasureState(AggregateState):
    key_id: UUID
    linked_key_ids: tuple[UUID, ...] = ()
    kind: str
    reason: str
    officer: str
    sealed_events: int
    legacy_events: int


class Erasure(LedgerAggregate[ErasureState]):
    kind = "erasure"
    state_model = ErasureState

    class Event(DomainEvent):
        pass

    class SubjectForgotten(CreationEvent, Event):
        key_id: UUID
        """The destroyed key's id: what the forgotten subject's sealed fields name."""
        linked_key_ids: tuple[UUID, ...] = ()
        """Keys of the aggregates created for the subject, destroyed with it
        (a nominee's commendation, whose press titles name her)."""
        kind: str
        """The kind of subject (``user``, ``nominee``)."""
        reason: str
        """The legal basis, as the person who forgot gave it."""
        officer: str
        """Who erased, ``user (department)``, kept in the clear on purpose: the
        metadata's user is sealed like every clerk's, and forgetting the
        officer later must not erase who carried out an erasure (the record
        of an erasure is kept to show the duty was met: docs/privacy.md)."""
        sealed_events: int
        """Events whose sealed fields became unreadable."""
        legacy_events: int
        """Events written before sealing that hold the subject's data in plain text: not erased."""

        def apply(self, aggregate: Any) -> None:
            aggregate.state = ErasureState(id=self.originator_id, **self.payload())

    @classmethod
    def record(
        cls,
        key_id: UUID,
        *,
        linked_key_ids: tuple[UUID, ...],
        kind: str,
        reason: str,
        officer: str,
        sealed_events: int,
        legacy_events: int,
    ) -> Erasure:
        return cls._create(
            cls.SubjectForgotten,
            id=erasure_id(key_id),
            key_id=key_id,
            linked_key_ids=linked_key_ids,
            kind=kind,
            reason=reason,
            officer=officer,
            sealed_events=sealed_events,
            legacy_events=legacy_events,
        )


def erasure_id(key_id: UUID) -> UUID:
    """The id of the record of destroying ``key_id``."""
    return uuid5(NAMESPACE, f"erasure:{key_id}")
