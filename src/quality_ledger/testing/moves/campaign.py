"""A campaign's moves: launching, concluding, publishing a bulletin; and what
adds to it while it is open (departments, activities, inspections,
nominations), or a new campaign."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.transitions import CAMPAIGN, FINISHED_ACTIVITY
from quality_ledger.domain.values import ActivityKind, FocusArea, SubjectKind
from quality_ledger.testing.lifecycles import Step, plan_campaigns
from quality_ledger.testing.pools import (
    Move,
    Strategy,
    Tagged,
    _day_within,
    _issuer,
    _on_or_after,
    _pick,
    _unique,
    _words,
)
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import (
    DEPARTMENTS,
    INSPECTION_KINDS,
    PRODUCT_CATEGORIES,
    _one_in,
    department_codes,
    metrics,
)

_ENOUGH_DEPARTMENTS = 4
"""Enlisting is offered until a campaign has this many departments: more only dilutes the steps."""


def _new_campaign(state: LedgerState, periods: Strategy[tuple[date, date]] | None, organiser: str) -> Move:
    def move(draw: st.DrawFn) -> Step:
        plan = _unique(draw(plan_campaigns(periods, organiser)), "title", state.campaigns)
        return _issuer(draw, state, plan)

    return move


def _campaign_moves(state: LedgerState, campaign: CampaignState) -> list[Tagged]:
    moves: list[Tagged] = []
    since = campaign.launched_on or campaign.starts_on

    def launch(draw: st.DrawFn) -> Step:
        launched_on = _day_within(draw, campaign)
        return _issuer(draw, state, c.LaunchCampaign(campaign_id=campaign.id, launched_on=launched_on))

    def conclude(draw: st.DrawFn) -> Step:
        unfinished = any(state.activities[a].status not in FINISHED_ACTIVITY for a in state.activity_ids(campaign.id))
        command = c.ConcludeCampaign(
            campaign_id=campaign.id,
            concluded_on=_on_or_after(draw, since, 40),
            summary=draw(_words()),
            override_reason=draw(_words() if unfinished else st.one_of(st.none(), _words())),
        )
        return _issuer(draw, state, command)

    final = [i for i in state.inspection_ids(campaign.id) if state.inspections[i].has_final_verdict]

    def publish(draw: st.DrawFn) -> Step:
        command = c.PublishBulletin(
            campaign_id=campaign.id,
            title=draw(_words()),
            published_on=_on_or_after(draw, since, 40),
            inspection_ids=tuple(dict.fromkeys(draw(st.lists(_pick(final), min_size=1, max_size=4)))),
        )
        published = {b.bulletin_id for b in campaign.bulletins}
        return _issuer(draw, state, _unique(command, "title", published))

    offers: list[tuple[str, Tagged, bool]] = [
        ("launch", (c.LaunchCampaign, launch), bool(campaign.departments)),
        ("conclude", (c.ConcludeCampaign, conclude), True),
        ("publish_bulletin", (c.PublishBulletin, publish), bool(final)),
    ]
    moves += [move for method, move, ok in offers if ok and CAMPAIGN.allows(method, campaign.status)]
    return moves


def _creation_moves(state: LedgerState, campaign: CampaignState) -> list[Tagged]:
    """New activities, inspections, nominations and departments: while the campaign is open."""
    enlisted = sorted(campaign.department_codes())

    def enlist(draw: st.DrawFn) -> Step:
        unlisted = [d for d in DEPARTMENTS if d[0] not in enlisted]
        if unlisted and not draw(_one_in(4)):
            code, name_zh, name_en = draw(_pick(unlisted))
        else:
            code = draw(department_codes().filter(lambda code: code not in enlisted))
            name_zh, name_en = draw(_words()), draw(_words())
        command = c.EnlistDepartment(campaign_id=campaign.id, code=code, name_zh=name_zh, name_en=name_en)
        return _issuer(draw, state, command)

    def plan_activity(draw: st.DrawFn) -> Step:
        lead = draw(_pick(enlisted))
        command = c.PlanActivity(
            campaign_id=campaign.id,
            title=draw(_words()),
            lead_department=lead,
            focus_area=draw(st.sampled_from(FocusArea)),
            activity_kind=draw(st.sampled_from(ActivityKind)),
            partners=tuple(draw(st.lists(_words(), max_size=1))),
            # Mostly with a target: progress, and the rules about it, need one.
            targets=draw(
                st.dictionaries(metrics(), st.integers(1, 200), min_size=int(not draw(_one_in(4))), max_size=2)
            ),
        )
        return _issuer(draw, state, _unique(command, "title", state.activity_ids(campaign.id)))

    def plan_inspection(draw: st.DrawFn) -> Step:
        inspector = draw(_pick(enlisted))
        activity_ids = (None, *state.activity_ids(campaign.id))
        command = c.PlanInspection(
            campaign_id=campaign.id,
            activity_id=draw(_pick(activity_ids)),
            reference=draw(_words()),
            inspecting_department=inspector,
            inspection_kind=draw(st.sampled_from(INSPECTION_KINDS)),
            subject_name=draw(_words()),
            subject_kind=draw(st.sampled_from(SubjectKind)),
            product_category=draw(st.one_of(st.sampled_from(PRODUCT_CATEGORIES), _words())),
            planned_on=_day_within(draw, campaign),
        )
        # Under another department's activity, only the organiser may plan it: the rules decide.
        return _issuer(draw, state, _unique(command, "reference", state.inspection_ids(campaign.id)))

    def nominate(draw: st.DrawFn) -> Step:
        department = draw(_pick(enlisted))
        command = c.NominateCraftsman(
            campaign_id=campaign.id,
            person=draw(_words()),
            employer=draw(_words()),
            deeds=draw(_words()),
            nominating_department=department,
        )
        return _issuer(draw, state, _unique(command, "person", state.commendation_ids(campaign.id)))

    offers: list[tuple[str, Tagged, bool]] = [
        ("add_inspection", (c.PlanInspection, plan_inspection), bool(enlisted)),
        ("add_activity", (c.PlanActivity, plan_activity), bool(enlisted)),
        ("add_commendation", (c.NominateCraftsman, nominate), bool(enlisted)),
        ("enlist", (c.EnlistDepartment, enlist), len(enlisted) < _ENOUGH_DEPARTMENTS),
    ]
    return [move for method, move, ok in offers if ok and CAMPAIGN.allows(method, campaign.status)]
