"""The Quality Craftsman commendations' commands: nominate, review, confer, publicise."""

from __future__ import annotations

from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.activity import Activity
from quality_ledger.domain.campaign import Campaign
from quality_ledger.domain.commendation import Commendation, MediaItem
from quality_ledger.handlers.context import Changes, CommandContext, handle


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
