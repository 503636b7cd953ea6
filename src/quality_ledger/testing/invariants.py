"""Business invariants: what holds for every aggregate after any sequence of commands.

The aggregates check their rules one command at a time; these checks look at
the result, across aggregates, after the fact. A handler that skips a guard,
a projection of the wrong field, an event applied twice: each leaves a state
that breaks one of these, whatever commands led there. They read a
:class:`~quality_ledger.testing.state.LedgerState` only, so they run on the
live ledger, on a replay or on a state a test built by hand.

A broken invariant raises :class:`InvariantBroken` (an ``AssertionError``, so
pytest and hypothesis treat it as a failed check) naming the rule, in the
domain's own words where an aggregate guard has one, and the aggregate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from quality_ledger.commands import natural_key
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState, verdict_of
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.transitions import FINISHED_ACTIVITY, INSPECTION
from quality_ledger.domain.values import (
    ActivityKind,
    ActivityStatus,
    CampaignStatus,
    CommendationStatus,
    InspectionStatus,
    Verdict,
)
from quality_ledger.testing.state import LedgerState

__all__ = [
    "InvariantBroken",
    "check_activity",
    "check_campaign",
    "check_commendation",
    "check_domain",
    "check_inspection",
]


class InvariantBroken(AssertionError):
    """A business invariant does not hold (``rule``, ``aggregate_id``, ``detail``)."""

    def __init__(self, rule: str, aggregate_id: UUID, detail: str) -> None:
        super().__init__(f"[{rule}] {aggregate_id}: {detail}")
        self.rule = rule
        self.aggregate_id = aggregate_id
        self.detail = detail


def expect(condition: object, rule: str, aggregate_id: UUID, detail: str) -> None:
    """Raise :class:`InvariantBroken` unless ``condition``; unlike ``assert``, also under ``-O``."""
    if not condition:
        raise InvariantBroken(rule, aggregate_id, detail)


def check_domain(state: LedgerState) -> None:
    """Every invariant, over every aggregate ``state`` holds."""
    for campaign in state.campaigns.values():
        check_campaign(state, campaign)
    for activity in state.activities.values():
        check_activity(state, activity)
    for inspection in state.inspections.values():
        check_inspection(state, inspection)
    for commendation in state.commendations.values():
        check_commendation(state, commendation)


def _unique(values: Iterable[object]) -> list[object]:
    """The values that repeat."""
    return [v for v, n in Counter(values).items() if n > 1]


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


# Campaign -----------------------------------------------------------------------------


def check_campaign(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    expect(campaign.starts_on <= campaign.ends_on, "campaign-period", i, "ends before it starts")
    codes = [d.code for d in campaign.departments]
    expect(not _unique(codes), "department-enlisted-once", i, f"enlisted twice: {_unique(codes)}")
    for kind, ids in (
        ("activities", campaign.activity_ids),
        ("inspections", campaign.inspection_ids),
        ("commendations", campaign.commendation_ids),
    ):
        expect(not _unique(ids), "listed-once", i, f"{kind} listed twice: {_unique(ids)}")
        for listed in ids:
            owner = state.campaign_of(listed)
            expect(owner is not None and owner.id == i, "listed-by-own-campaign", listed, f"listed by campaign {i}")
    if campaign.status is CampaignStatus.PLANNED:
        expect(campaign.launched_on is None, "launch-once", i, "planned, yet has a launch date")
    else:
        expect(campaign.launched_on is not None, "launch-once", i, f"{campaign.status} without a launch date")
        expect(campaign.departments, "launch-needs-departments", i, "launched with no department enlisted")
    if campaign.launched_on is not None:
        expect(campaign.launched_on >= campaign.starts_on, "launch-in-period", i, "launched before it starts")
    _check_conclusion(state, campaign)
    _check_bulletins(state, campaign)


def _check_conclusion(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    if campaign.status is not CampaignStatus.CONCLUDED:
        expect(campaign.concluded_on is None, "conclude-once", i, f"{campaign.status}, yet has a conclusion date")
        return
    expect(campaign.concluded_on is not None, "conclude-once", i, "concluded without a date")
    expect(not _blank(campaign.summary), "conclusion-summary", i, "concluded without a summary")
    if campaign.concluded_on is not None and campaign.launched_on is not None:
        expect(campaign.concluded_on >= campaign.launched_on, "conclude-after-launch", i, "concluded before its launch")
    # Completed and cancelled are final, so an activity unfinished now was unfinished at the conclusion.
    unfinished = [a for a in campaign.activity_ids if state.activities[a].status not in FINISHED_ACTIVITY]
    expect(
        not unfinished or not _blank(campaign.override_reason),
        "conclude-when-activities-done",
        i,
        f"concluded without an override while {len(unfinished)} activities are unfinished",
    )


def _check_bulletins(state: LedgerState, campaign: CampaignState) -> None:
    i = campaign.id
    ids = [b.bulletin_id for b in campaign.bulletins]
    expect(not _unique(ids), "bulletin-published-once", i, f"published twice: {_unique(ids)}")
    if campaign.bulletins:
        expect(campaign.status is not CampaignStatus.PLANNED, "bulletin-after-launch", i, "published before the launch")
    for bulletin in campaign.bulletins:
        expect(bulletin.inspection_ids, "bulletin-not-empty", i, f"bulletin {bulletin.title!r} lists nothing")
        for inspection_id in bulletin.inspection_ids:
            expect(
                inspection_id in campaign.inspection_ids,
                "bulletin-own-inspections",
                i,
                f"bulletin {bulletin.title!r} lists inspection {inspection_id} of another campaign",
            )
            inspection = state.inspections.get(inspection_id)
            expect(
                inspection is not None and inspection.verdict is not None,
                "bulletin-final-verdicts",
                i,
                f"bulletin {bulletin.title!r} lists inspection {inspection_id}, which has no verdict",
            )


# Activity ------------------------------------------------------------------------------


def check_activity(state: LedgerState, activity: ActivityState) -> None:
    i = activity.id
    campaign = state.campaigns[activity.campaign_id]
    expect(
        activity.lead_department in campaign.department_codes(),
        "activity-lead-enlisted",
        i,
        f"led by {activity.lead_department}, which is not enlisted",
    )
    metrics = [p.metric for p in activity.progress]
    expect(not _unique(metrics), "targets-distinct", i, f"metric declared twice: {_unique(metrics)}")
    for p in activity.progress:
        expect(p.target > 0, "target-positive", i, f"target {p.metric} is {p.target}")
        expect(p.achieved >= 0, "progress-not-negative", i, f"{p.metric} achieved {p.achieved}")
    if activity.starts_on is not None and activity.ends_on is not None:
        expect(activity.starts_on <= activity.ends_on, "activity-period", i, "scheduled to end before it starts")
    status = activity.status
    if status in (ActivityStatus.STARTED, ActivityStatus.COMPLETED):
        expect(activity.started_on is not None, "start-recorded", i, f"{status} without a start date")
    if status is ActivityStatus.COMPLETED:
        expect(not _blank(activity.outcome), "completion-outcome", i, "completed without an outcome")
        if activity.started_on is not None and activity.completed_on is not None:
            expect(
                activity.completed_on >= activity.started_on, "complete-after-start", i, "completed before it started"
            )
    reason_rules = {ActivityStatus.POSTPONED: "postpone-reason", ActivityStatus.CANCELLED: "cancel-reason"}
    if status in reason_rules:
        expect(not _blank(activity.reason), reason_rules[status], i, f"{status} without a reason")
    if status is not ActivityStatus.COMPLETED:
        expect(activity.completed_on is None, "complete-once", i, f"{status}, yet has a completion date")


# Inspection ----------------------------------------------------------------------------

_DECIDED = INSPECTION.reachable_from(INSPECTION.after("VerdictIssued"))
"""States that follow a verdict."""


def check_inspection(state: LedgerState, inspection: InspectionState) -> None:
    i = inspection.id
    campaign = state.campaigns[inspection.campaign_id]
    expect(
        inspection.inspecting_department in campaign.department_codes(),
        "inspecting-department-enlisted",
        i,
        f"inspected by {inspection.inspecting_department}, which is not enlisted",
    )
    if inspection.activity_id is not None:
        expect(
            inspection.activity_id in campaign.activity_ids,
            "inspection-activity-in-campaign",
            i,
            f"activity {inspection.activity_id} belongs to another campaign",
        )
    _check_samples(inspection)
    _check_follow_up(inspection)
    _check_verdict(inspection)
    _check_dates(inspection)


def _check_samples(inspection: InspectionState) -> None:
    i = inspection.id
    ids = [s.sample_id for s in inspection.samples]
    expect(not _unique(ids), "sample-id-unique", i, f"sample taken twice: {_unique(ids)}")
    for sample in inspection.samples:
        for result in (sample.result, sample.original_result):
            if result is not None:
                expect(
                    result.passed == (not result.nonconforming_items),
                    "failure-names-items",
                    i,
                    f"sample {sample.sample_id}: passed={result.passed} with items {result.nonconforming_items}",
                )
        if sample.original_result is not None:
            expect(
                sample.result is not None and sample.result.retest,
                "retest-replaces-result",
                i,
                f"sample {sample.sample_id} keeps an original result without a re-test",
            )
        if sample.result is not None and sample.result.retest:
            expect(
                sample.objected_on is not None,
                "retest-after-objection",
                i,
                f"sample {sample.sample_id} re-tested unasked",
            )
        expect(
            sample.objected_on is not None or sample.objection_lodged_by is None,
            "objection-lodged-by-with-objection",
            i,
            f"sample {sample.sample_id}: lodged by {sample.objection_lodged_by} without an objection",
        )
        if sample.objected_on is not None:
            objected = sample.original_result or sample.result
            expect(
                objected is not None and not objected.passed,
                "objection-to-failure",
                i,
                f"sample {sample.sample_id}: an objection to a result that passed",
            )
            notified = inspection.notified_on
            expect(
                notified is not None and OBJECTION_WINDOW.holds(notified, sample.objected_on),
                OBJECTION_WINDOW.id,
                i,
                f"sample {sample.sample_id}: objected {sample.objected_on}, notified {notified}",
            )


def _check_verdict(inspection: InspectionState) -> None:
    i = inspection.id
    status = inspection.status
    if status is InspectionStatus.PLANNED:
        expect(not inspection.samples, "sampling-state", i, "planned, yet samples were taken")
    if status is InspectionStatus.SAMPLING:
        expect(inspection.samples, "sampling-state", i, "sampling without a sample")
    if status not in _DECIDED:
        expect(inspection.verdict is None, "verdict-once", i, f"{status}, yet has a verdict")
        return
    expect(
        inspection.verdict is not None and inspection.notified_on is not None,
        "verdict-notified",
        i,
        f"{status} without a notified verdict",
    )
    untested = [s.sample_id for s in inspection.samples if s.result is None]
    expect(not untested, "verdict-after-all-results", i, f"{status} with untested samples {untested}")
    expect(
        inspection.verdict is verdict_of(inspection.samples),
        "verdict-nonconforming-iff-a-sample-failed",
        i,
        f"verdict {inspection.verdict}, results {[s.result.passed for s in inspection.samples if s.result]}",
    )


def _check_follow_up(inspection: InspectionState) -> None:
    i = inspection.id
    status = inspection.status
    final_nonconforming = inspection.verdict is Verdict.NONCONFORMING and inspection.has_final_verdict
    rectification = inspection.rectification
    for rule, present in (
        ("rectification-after-nonconforming", rectification is not None),
        ("penalty-after-nonconforming", inspection.penalty is not None),
        ("transfer-after-nonconforming", inspection.transferred_to is not None),
    ):
        if present:
            expect(
                final_nonconforming,
                rule,
                i,
                f"{status} with verdict {inspection.verdict} "
                f"({'a re-test pending' if inspection.awaiting_retest else 'no re-test pending'})",
            )
    if rectification is not None:
        expect(
            rectification.due_on > rectification.ordered_on, "rectification-due-after-order", i, "due before the order"
        )
        if rectification.verified_on is not None:
            expect(
                rectification.verified_on >= rectification.ordered_on,
                "follow-up-after-order",
                i,
                "verified before the order",
            )
    expected = {
        InspectionStatus.RECTIFICATION_ORDERED: rectification is not None and rectification.verified_on is None,
        InspectionStatus.RECTIFIED: rectification is not None and rectification.passed is True,
        InspectionStatus.RECTIFICATION_FAILED: rectification is not None and rectification.passed is False,
        InspectionStatus.PENALISED: inspection.penalty is not None,
        InspectionStatus.TRANSFERRED: inspection.transferred_to is not None,
        InspectionStatus.CLOSED: inspection.closed_on is not None and _closing_condition_held(inspection),
    }
    expect(expected.get(status, True), "state-matches-record", i, f"{status}, but the record says otherwise")
    if inspection.penalty is not None:
        expect(inspection.penalty.amount >= 0, "penalty-not-negative", i, f"penalty {inspection.penalty.amount}")


def _closing_condition_held(inspection: InspectionState) -> bool:
    conforming = inspection.verdict is Verdict.CONFORMING and inspection.has_final_verdict
    rectified = inspection.rectification is not None and inspection.rectification.passed is True
    return conforming or rectified or inspection.penalty is not None or inspection.transferred_to is not None


def _check_dates(inspection: InspectionState) -> None:
    """Business dates follow the lifecycle: planned, taken, tested, notified, decided."""
    i = inspection.id
    for sample in inspection.samples:
        expect(sample.taken_on >= inspection.planned_on, "sample-after-planning", i, f"sample {sample.sample_id}")
        first = sample.original_result or sample.result
        if first is None:
            continue
        expect(first.tested_on >= sample.taken_on, "tested-after-sampling", i, f"sample {sample.sample_id}")
        if inspection.notified_on is not None:
            expect(inspection.notified_on >= first.tested_on, "verdict-after-tests", i, f"sample {sample.sample_id}")
    notified = inspection.notified_on
    if notified is None:
        return
    if inspection.penalty is not None:
        expect(inspection.penalty.decided_on >= notified, "penalty-after-verdict", i, "decided before the notification")
    if inspection.closed_on is not None:
        expect(inspection.closed_on >= notified, "close-after-verdict", i, "closed before the notification")


# Commendation ---------------------------------------------------------------------------


def check_commendation(state: LedgerState, commendation: CommendationState) -> None:
    i = commendation.id
    campaign = state.campaigns[commendation.campaign_id]
    expect(
        commendation.nominated_by in campaign.department_codes(),
        "nominating-department-enlisted",
        i,
        f"nominated by {commendation.nominated_by}, which is not enlisted",
    )
    same_person = [
        other.id
        for other in (state.commendations[c] for c in campaign.commendation_ids)
        if other.id != i
        and (natural_key(other.person), natural_key(other.employer))
        == (natural_key(commendation.person), natural_key(commendation.employer))
    ]
    expect(not same_person, "commended-once-per-campaign", i, f"the same person as {same_person}")
    status = commendation.status
    if status is CommendationStatus.REJECTED:
        expect(not _blank(commendation.review_reason), "rejection-reason", i, "rejected without a reason")
    if status is CommendationStatus.CONFERRED:
        ceremony = state.activities.get(commendation.ceremony_id) if commendation.ceremony_id else None
        expect(
            ceremony is not None
            and ceremony.activity_kind is ActivityKind.AWARD_CEREMONY
            and ceremony.campaign_id == campaign.id,
            "conferred-at-own-ceremony",
            i,
            f"conferred at {commendation.ceremony_id}",
        )
        expect(commendation.conferred_on is not None, "conferral-dated", i, "conferred without a date")
    else:
        expect(commendation.ceremony_id is None, "confer-once", i, f"{status}, yet has a ceremony")
        expect(not commendation.publicity, "publicity-after-conferral", i, f"{status}, yet publicised")
    for item in commendation.publicity:
        if commendation.conferred_on is not None:
            expect(
                item.published_on >= commendation.conferred_on,
                "publicity-after-conferral",
                i,
                f"{item.title!r} published {item.published_on}, conferred {commendation.conferred_on}",
            )
