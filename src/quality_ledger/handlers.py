"""Command handlers: load what a command touches, authorise, decide.

Each handler loads the aggregates a command concerns, asks the policy, checks
rules that span aggregates against their current state, and calls the
aggregate's command method. It returns the aggregates that changed; the
ledger saves them together, in one atomic write, or not at all.
"""

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
from quality_ledger.domain.campaign import BulletinRecord, Campaign, CampaignState, Department
from quality_ledger.domain.commendation import Commendation, CommendationState, MediaItem
from quality_ledger.domain.inspection import Inspection, InspectionState, Subject
from quality_ledger.domain.values import Actor, LodgedBy
from quality_ledger.errors import InvalidCommand, InvariantViolated, NotFound, PermissionDenied
from quality_ledger.policy import Policy, SubjectPolicy, may_issue, responsible_departments, subject_of
from quality_ledger.renamed import old_names

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


# Campaign ---------------------------------------------------------------------


@handle.register
def _(cmd: c.PlanCampaign, ctx: CommandContext) -> Changes:
    ctx.permit(cmd)
    campaign_id = cmd.new_id()
    ctx.check_absent(Campaign, campaign_id)
    fields = cmd.model_dump(exclude={"command", "idempotency_key"})
    return Changes(Campaign.plan(campaign_id, **fields))


def organised(cmd: c.Command, ctx: CommandContext, campaign_id: UUID) -> Campaign:
    campaign = ctx.load(Campaign, campaign_id)
    ctx.permit(cmd)
    return campaign


@handle.register
def _(cmd: c.EnlistDepartment, ctx: CommandContext) -> Changes:
    campaign = organised(cmd, ctx, cmd.campaign_id)
    campaign.enlist(Department(code=cmd.code, name_zh=cmd.name_zh, name_en=cmd.name_en))
    return Changes(campaign)


@handle.register
def _(cmd: c.LaunchCampaign, ctx: CommandContext) -> Changes:
    campaign = organised(cmd, ctx, cmd.campaign_id)
    campaign.launch(cmd.launched_on)
    return Changes(campaign)


@handle.register
def _(cmd: c.ConcludeCampaign, ctx: CommandContext) -> Changes:
    campaign = organised(cmd, ctx, cmd.campaign_id)
    activities = ctx.children(campaign, Campaign.ActivityAdded, Activity)
    unfinished = sum(not a.is_finished for a in activities)
    campaign.conclude(cmd.concluded_on, cmd.summary, unfinished, cmd.override_reason)
    return Changes(campaign)


@handle.register
def _(cmd: c.PublishBulletin, ctx: CommandContext) -> Changes:
    campaign = ctx.load(Campaign, cmd.campaign_id)
    listed = [ctx.find(Inspection, i) for i in cmd.inspection_ids]
    inspections = [i for i in listed if i is not None and i.state.campaign_id == campaign.id]
    ctx.permit(cmd)
    own = frozenset(i.id for i in inspections)
    final = frozenset(i.id for i in inspections if i.state.has_final_verdict)
    bulletin = BulletinRecord(
        bulletin_id=cmd.new_id(), title=cmd.title, published_on=cmd.published_on, inspection_ids=cmd.inspection_ids
    )
    campaign.publish_bulletin(bulletin, own, final)
    return Changes(campaign)


# Activity ---------------------------------------------------------------------


@handle.register
def _(cmd: c.PlanActivity, ctx: CommandContext) -> Changes:
    campaign = ctx.load(Campaign, cmd.campaign_id)
    ctx.permit(cmd)
    activity_id = cmd.new_id()
    ctx.check_absent(Activity, activity_id)
    campaign.add_activity(activity_id, cmd.lead_department)
    fields = cmd.model_dump(exclude={"command", "idempotency_key"})
    return Changes(Activity.plan(activity_id, **fields), (campaign,))


def led(cmd: c.Command, ctx: CommandContext, activity_id: UUID) -> Activity:
    activity = ctx.load(Activity, activity_id)
    ctx.permit(cmd)
    return activity


@handle.register
def _(cmd: c.ScheduleActivity, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.schedule(cmd.starts_on, cmd.ends_on, cmd.place)
    return Changes(activity)


@handle.register
def _(cmd: c.StartActivity, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.start(cmd.started_on)
    return Changes(activity)


@handle.register
def _(cmd: c.ReportProgress, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.report_progress(cmd.metric, cmd.amount, cmd.reported_on)
    return Changes(activity)


@handle.register
def _(cmd: c.CompleteActivity, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.complete(cmd.completed_on, cmd.outcome)
    return Changes(activity)


@handle.register
def _(cmd: c.PostponeActivity, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.postpone(cmd.reason)
    return Changes(activity)


@handle.register
def _(cmd: c.CancelActivity, ctx: CommandContext) -> Changes:
    activity = led(cmd, ctx, cmd.activity_id)
    activity.cancel(cmd.reason)
    return Changes(activity)


# Inspection -------------------------------------------------------------------


@handle.register
def _(cmd: c.PlanInspection, ctx: CommandContext) -> Changes:
    campaign = ctx.load(Campaign, cmd.campaign_id)
    activity = ctx.load(Activity, cmd.activity_id) if cmd.activity_id is not None else None
    ctx.permit(cmd)
    if activity is not None and activity.state.campaign_id != campaign.id:
        raise InvariantViolated("inspection-activity-in-campaign", "the activity belongs to another campaign")
    inspection_id = cmd.new_id()
    ctx.check_absent(Inspection, inspection_id)
    campaign.add_inspection(inspection_id, cmd.inspecting_department)
    inspection = Inspection.plan(
        inspection_id,
        campaign_id=cmd.campaign_id,
        activity_id=cmd.activity_id,
        inspecting_department=cmd.inspecting_department,
        inspection_kind=cmd.inspection_kind,
        reference=cmd.reference,
        subject=Subject(name=cmd.subject_name, subject_kind=cmd.subject_kind),
        product_category=cmd.product_category,
        planned_on=cmd.planned_on,
    )
    return Changes(inspection, (campaign,))


def inspected(cmd: c.Command, ctx: CommandContext, inspection_id: UUID) -> Inspection:
    inspection = ctx.load(Inspection, inspection_id)
    ctx.permit(cmd)
    return inspection


@handle.register
def _(cmd: c.TakeSample, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.take_sample(cmd.sample_id, cmd.product, cmd.batch, cmd.taken_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.RecordSampleResult, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.record_result(cmd.sample_id, cmd.passed, cmd.nonconforming_items, cmd.tested_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.IssueVerdict, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.issue_verdict(cmd.notified_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.ObjectToResult, ctx: CommandContext) -> Changes:
    # The subject lodges the objection, or the inspecting department records it for the
    # subject; never another department (see responsible_departments).
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.object_to_result(cmd.sample_id, cmd.lodged_on, lodged_by=lodged_by(ctx, inspection.state))
    return Changes(inspection)


def lodged_by(ctx: CommandContext, inspection: InspectionState) -> LodgedBy | None:
    """Which of the two ways in the objection took, once ``permit`` let it in:
    recorded by the inspecting department, or lodged by the subject's own
    representative. A custom policy may let in an actor who is neither (a
    supervisor, ``AllowAll`` for an import): then the ledger cannot say on
    whose behalf, and records None rather than guess (who it was is in the
    event's metadata)."""
    if ctx.actor.department == inspection.inspecting_department:
        return LodgedBy.INSPECTING_DEPARTMENT
    if isinstance(ctx.policy, SubjectPolicy) and ctx.policy.acts_for_subject(ctx.actor, inspection.subject):
        return LodgedBy.SUBJECT
    return None


@handle.register
def _(cmd: c.RecordRetestResult, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.record_retest(cmd.sample_id, cmd.passed, cmd.nonconforming_items, cmd.tested_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.OrderRectification, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.order_rectification(cmd.ordered_on, cmd.due_on, cmd.requirements)
    return Changes(inspection)


@handle.register
def _(cmd: c.VerifyRectification, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.verify_rectification(cmd.verified_on, cmd.passed, cmd.notes)
    return Changes(inspection)


@handle.register
def _(cmd: c.ImposePenalty, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.impose_penalty(cmd.amount, cmd.reason, cmd.decided_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.TransferCase, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.transfer_case(cmd.authority, cmd.transferred_on)
    return Changes(inspection)


@handle.register
def _(cmd: c.CloseInspection, ctx: CommandContext) -> Changes:
    inspection = inspected(cmd, ctx, cmd.inspection_id)
    inspection.close(cmd.closed_on)
    return Changes(inspection)


# Commendation -----------------------------------------------------------------


@handle.register
def _(cmd: c.NominateCraftsman, ctx: CommandContext) -> Changes:
    campaign = ctx.load(Campaign, cmd.campaign_id)
    ctx.permit(cmd)
    commendation_id = cmd.new_id()
    campaign.add_commendation(commendation_id, cmd.nominating_department, nominated=commendation_id in ctx.repository)
    commendation = Commendation.nominate(
        commendation_id,
        campaign_id=cmd.campaign_id,
        person=cmd.person,
        employer=cmd.employer,
        deeds=cmd.deeds,
        nominated_by=cmd.nominating_department,
    )
    return Changes(commendation, (campaign,))


def awarded(cmd: c.Command, ctx: CommandContext, commendation_id: UUID) -> Commendation:
    commendation = ctx.load(Commendation, commendation_id)
    ctx.load(Campaign, commendation.state.campaign_id)
    ctx.permit(cmd)
    return commendation


@handle.register
def _(cmd: c.ReviewNomination, ctx: CommandContext) -> Changes:
    commendation = awarded(cmd, ctx, cmd.commendation_id)
    commendation.review(cmd.approved, cmd.reason, cmd.reviewed_on)
    return Changes(commendation)


@handle.register
def _(cmd: c.ConferCommendation, ctx: CommandContext) -> Changes:
    commendation = awarded(cmd, ctx, cmd.commendation_id)  # the ceremony's lead department may, too
    ceremony = ctx.load(Activity, cmd.ceremony_id)
    commendation.confer(ceremony.id, ceremony.state.campaign_id, ceremony.state.activity_kind, cmd.conferred_on)
    return Changes(commendation)


@handle.register
def _(cmd: c.PubliciseCommendation, ctx: CommandContext) -> Changes:
    commendation = awarded(cmd, ctx, cmd.commendation_id)
    commendation.publicise(MediaItem(outlet=cmd.outlet, title=cmd.title, published_on=cmd.published_on))
    return Changes(commendation)


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"Work": "Changes", "Context": "CommandContext"})
