"""The promises a ledger makes, and how a state machine checks those of its store.

Per command (checked by :meth:`LedgerMachine.execute
<quality_ledger.testing.machine.LedgerMachine.execute>`): a refusal records
nothing, a receipt names exactly what the log gained, a repeated key returns
the first receipt, and an :class:`Executed` step keeps what it promised (a
valid step accepted, a step outside a rule refused). Of the store
(:class:`StorePromises`, mixed into the machine): reloading equals the live
state, a snapshot plus its tail equals a full replay, the hash chain verifies,
the views equal their models and a rebuild, a replay is deterministic.
Broken, each raises :class:`PromiseBroken` naming the promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.application import Repository

from quality_ledger.domain.base import AggregateState
from quality_ledger.eventlog import EventLog
from quality_ledger.ledger import Ledger
from quality_ledger.testing.lifecycles import Step
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import shift
from quality_ledger.testing.view_checks import check_views

__all__ = ["Executed", "PromiseBroken", "StorePromises"]


class PromiseBroken(AssertionError):
    """The ledger broke a promise (``promise``): a refusal that recorded, a replay that differs, ...
    ``rule`` names the business rule concerned, where one is (a step outside it was accepted)."""

    def __init__(self, promise: str, detail: str, rule: str | None = None) -> None:
        super().__init__(f"[{promise}] {detail}")
        self.promise = promise
        self.detail = detail
        self.rule = rule


@dataclass(frozen=True)
class Executed:
    """A step the machine executed, whether it had to be accepted (a valid step),
    and the rule that had to refuse it, if one did (a step just outside a rule)."""

    step: Step
    must_succeed: bool = False
    must_refuse: str | None = None


class _Machine(Protocol):
    """What the store's checks use of the machine they are mixed into (a
    :class:`~quality_ledger.testing.machine.LedgerMachine`)."""

    ledger: Ledger
    state: LedgerState
    campaign_ids: list[UUID]

    def reopen_ledger(self) -> Ledger | None: ...

    def promise(self, condition: object, promise: str, detail: str) -> None: ...


class StorePromises:
    """The store's promises, each a check of the machine's ledger against its
    state: mixed into :class:`~quality_ledger.testing.machine.LedgerMachine`,
    which runs them every ``check_every`` steps and at teardown."""

    def check_reload(self: _Machine) -> None:
        """Reloading equals live state: every aggregate replayed from its first
        event (no snapshot, no cache), and on a reopened store if there is one."""
        replayed = LedgerState.replayed(self.ledger, self.campaign_ids)
        self.promise(replayed == self.state, "reload-equals-live", "\n".join(replayed.differences(self.state)))
        reopened = self.reopen_ledger()
        if reopened is not None:
            with reopened:
                again = LedgerState.read(reopened, self.campaign_ids)
            self.promise(again == self.state, "reload-equals-live", "\n".join(again.differences(self.state)))

    def check_snapshots(self: _Machine) -> None:
        """A snapshot plus its tail equals a full replay: at the latest version
        and at the latest snapshot's; and snapshots are there to be tested."""
        store = EventLog.of(self.ledger)
        every = store.snapshot_every
        replay: Repository[UUID] = Repository(event_store=store.aggregate_events)
        for views in self.state.as_dict().values():
            for aggregate_id, view in views.items():
                taken = [s.originator_version for s in store.snapshots.get(aggregate_id)]
                expected = list(range(every, view.version + 1, every))
                self.promise(taken == expected, "snapshot-every-n-versions", f"{aggregate_id}: {taken} != {expected}")
                for version in {view.version, *expected[-1:]}:
                    from_snapshot = self.ledger.get(aggregate_id, version=version)
                    full: AggregateState = replay.get(aggregate_id, version=version).view()
                    self.promise(
                        from_snapshot == full,
                        "snapshot-plus-tail-equals-replay",
                        f"{aggregate_id} v{version}: {from_snapshot!r} != {full!r}",
                    )

    def check_chain(self: _Machine) -> None:
        """The hash chain verifies over the whole log."""
        report = self.ledger.verify()
        position = self.ledger.position()
        self.promise(
            report.ok and report.checked == position,
            "chain-verifies",
            f"checked {report.checked} of {position}: {report.first_break}",
        )

    def check_model(self: _Machine) -> None:
        """The views (caught up) list every campaign and equal the pure model computed from the aggregates."""
        listed = {line.campaign_id for line in self.ledger.campaigns()}
        self.promise(listed == set(self.campaign_ids), "views-list-every-campaign", f"{listed} != {self.campaign_ids}")
        for campaign_id in self.campaign_ids:
            live, model = self.ledger.campaign_status(campaign_id), self.ledger.campaign_status_from_events(campaign_id)
            self.promise(live == model, "views-equal-model", f"campaign {campaign_id}: {live!r} != {model!r}")
        # Every other view against a model of its own (testing.view_models), on the days
        # "overdue" turns: a bug in one view's code is invisible to a rebuild that runs it.
        due = sorted({i.rectification.due_on for i in self.state.inspections.values() if i.rectification})
        for day in [None, *due[-1:], *(shift(d, 1) for d in due[-1:])]:
            differences = check_views(self.ledger, self.state, self.campaign_ids, as_of=day)
            self.promise(not differences, "views-equal-models", "\n".join(differences[:10]))

    def check_replay(self: _Machine) -> None:
        """A replay is deterministic: the log copied into a fresh store gives the same states."""
        with self.ledger.as_of(position=self.ledger.position()) as replayed:
            again = LedgerState.read(replayed, self.campaign_ids)
        self.promise(again == self.state, "replay-deterministic", "\n".join(again.differences(self.state)))

    def check_rebuild(self: _Machine) -> None:
        """The views equal a rebuild from zero, table by table."""
        report = self.ledger.verify_views()
        self.promise(report.ok, "views-equal-rebuild", "\n".join(report.differences))

    def check_certificate(self: _Machine) -> None:
        """The views digest after a replay from zero is the same here and on a copy of the log."""
        with self.ledger.as_of(position=self.ledger.position()) as replayed:
            theirs = replayed.replay_certificate()
        ours = self.ledger.replay_certificate()
        self.promise(ours == theirs, "replay-deterministic", f"certificates differ: {ours} != {theirs}")
