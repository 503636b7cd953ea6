"""The campaign's commands: plan, enlist, launch, conclude, publish a bulletin."""

from __future__ import annotations

from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.campaign import BulletinRecord, Campaign, Department
from quality_ledger.domain.inspection import Inspection
from quality_ledger.handlers.context import Changes, CommandContext, handle


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
