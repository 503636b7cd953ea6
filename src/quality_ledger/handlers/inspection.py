"""The inspections' commands: plan, sample, results, verdict, objection, retest, rectification, penalty, transfer, close."""

from __future__ import annotations

from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.inspection import Inspection, InspectionState, Subject
from quality_ledger.domain.values import LodgedBy
from quality_ledger.errors import InvariantViolated
from quality_ledger.handlers.context import Changes, CommandContext, handle
from quality_ledger.policy import SubjectPolicy


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
