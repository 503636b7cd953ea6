"""The activities' commands: plan, schedule, start, report progress, complete, postpone, cancel."""

from __future__ import annotations

from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.campaign import Campaign
from quality_ledger.handlers.context import Changes, CommandContext, handle


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
