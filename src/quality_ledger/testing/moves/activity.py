"""An activity's moves: scheduling, starting, progress, completion, postponing, cancelling."""

from __future__ import annotations

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.transitions import ACTIVITY
from quality_ledger.testing.pools import Offer, Tagged, _allowed, _issued_by, _on_or_after, _pick, _words
from quality_ledger.testing.state import LedgerState


def _activity_moves(state: LedgerState, campaign: CampaignState, activity: ActivityState) -> list[Tagged]:
    return _issued_by(state, _allowed(ACTIVITY, activity.status, _activity_offers(campaign, activity)))


def _activity_offers(campaign: CampaignState, activity: ActivityState) -> list[Offer]:
    """Every step an activity could take, whatever its status: the transition table decides which it may take now."""
    aid = activity.id
    started_on = activity.started_on or campaign.starts_on

    def schedule(draw: st.DrawFn) -> c.Command:
        starts_on = _on_or_after(draw, campaign.starts_on, 30)
        return c.ScheduleActivity(
            activity_id=aid, starts_on=starts_on, ends_on=_on_or_after(draw, starts_on), place=draw(_words())
        )

    def start(draw: st.DrawFn) -> c.Command:
        return c.StartActivity(activity_id=aid, started_on=_on_or_after(draw, activity.starts_on or campaign.starts_on))

    def report(draw: st.DrawFn) -> c.Command:
        return c.ReportProgress(
            activity_id=aid,
            metric=draw(_pick([p.metric for p in activity.progress])),
            amount=draw(st.integers(0, 60)),
            reported_on=_on_or_after(draw, started_on),
        )

    def complete(draw: st.DrawFn) -> c.Command:
        return c.CompleteActivity(activity_id=aid, completed_on=_on_or_after(draw, started_on), outcome=draw(_words()))

    def postpone(draw: st.DrawFn) -> c.Command:
        return c.PostponeActivity(activity_id=aid, reason=draw(_words()))

    def cancel(draw: st.DrawFn) -> c.Command:
        return c.CancelActivity(activity_id=aid, reason=draw(_words()))

    offers: list[Offer] = [
        ("start", c.StartActivity, start, True),
        ("schedule", c.ScheduleActivity, schedule, True),
        ("postpone", c.PostponeActivity, postpone, True),
        ("report_progress", c.ReportProgress, report, bool(activity.progress)),
        ("complete", c.CompleteActivity, complete, True),
        ("cancel", c.CancelActivity, cancel, True),
    ]
    return offers
