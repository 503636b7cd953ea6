"""The "Xi'an Quality Craftsman" commendation: nominate, review, confer, publicise."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.values import ActivityKind, CommendationStatus, FocusArea
from quality_ledger.errors import IllegalTransition, InvariantViolated
from tests.conftest import FDA, ORGANISER, OUTSIDER, QTS, event_count, plan_campaign

PERSON = "Wang Jianguo"
EMPLOYER = "Xi'an Aero-Engine Co."
CEREMONY_DAY = date(2017, 9, 26)


def nominate(
    ledger: Ledger,
    campaign_id: UUID,
    *,
    person: str = PERSON,
    employer: str = EMPLOYER,
    actor: Actor = QTS,
) -> UUID:
    command = c.NominateCraftsman(
        campaign_id=campaign_id,
        person=person,
        employer=employer,
        deeds="30 years of precision turbine-blade machining",
        nominating_department=actor.department,
    )
    return ledger.execute(command, actor).aggregate_id


def review(ledger: Ledger, commendation_id: UUID, *, approved: bool = True, reason: str | None = None) -> None:
    command = c.ReviewNomination(
        commendation_id=commendation_id, approved=approved, reason=reason, reviewed_on=date(2017, 9, 18)
    )
    ledger.execute(command, ORGANISER)


def plan_ceremony(
    ledger: Ledger, campaign_id: UUID, kind: ActivityKind = ActivityKind.AWARD_CEREMONY, title: str = "Craftsman awards"
) -> UUID:
    command = c.PlanActivity(
        campaign_id=campaign_id,
        title=title,
        lead_department="XA-QTS",
        focus_area=FocusArea.CRAFTSMAN_SPIRIT,
        activity_kind=kind,
    )
    return ledger.execute(command, ORGANISER).aggregate_id


def confer(ledger: Ledger, commendation_id: UUID, ceremony_id: UUID) -> None:
    command = c.ConferCommendation(commendation_id=commendation_id, ceremony_id=ceremony_id, conferred_on=CEREMONY_DAY)
    ledger.execute(command, ORGANISER)


def publicise(ledger: Ledger, commendation_id: UUID, outlet: str, on: date = date(2017, 9, 27)) -> None:
    command = c.PubliciseCommendation(
        commendation_id=commendation_id, outlet=outlet, title="西安质量工匠 王建国", published_on=on
    )
    ledger.execute(command, ORGANISER)


def approved_nominee(ledger: Ledger, campaign_id: UUID) -> UUID:
    commendation_id = nominate(ledger, campaign_id)
    review(ledger, commendation_id)
    return commendation_id


# Nomination -------------------------------------------------------------------


def test_an_enlisted_department_nominates_a_craftsman(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    commendation_id = nominate(ledger, campaign_id)
    # then
    assert event_count(ledger) == before + 2
    commendation = ledger.get(commendation_id)
    assert commendation.status is CommendationStatus.NOMINATED
    assert (commendation.person, commendation.employer, commendation.nominated_by) == (PERSON, EMPLOYER, "XA-QTS")
    assert ledger.get(campaign_id).commendations == 1
    assert ledger.history(campaign_id)[-1].name == "Campaign.CommendationAdded"


def test_a_department_not_enlisted_cannot_nominate(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        nominate(ledger, campaign_id, actor=OUTSIDER)
    # then
    assert refused.value.rule == "nominating-department-enlisted"
    assert event_count(ledger) == before


def test_a_person_is_nominated_at_most_once_per_campaign(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    nominate(ledger, campaign_id, actor=QTS)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        nominate(ledger, campaign_id, actor=FDA)
    # then
    assert refused.value.rule == "commended-once-per-campaign"
    assert event_count(ledger) == before


@pytest.mark.parametrize(
    ("person", "employer"),
    [
        ("ＷＡＮＧ　Ｊｉａｎｇｕｏ", EMPLOYER),
        ("wang jianguo", "XI'AN AERO-ENGINE CO."),  # case
        ("  Wang   Jianguo ", "Xi'an  Aero-Engine\tCo."),  # spacing
        (PERSON, "Xi＇an Aero－Engine Co．"),
    ],
)
def test_width_case_and_spacing_variants_name_the_same_person(
    ledger: Ledger, campaign_id: UUID, person: str, employer: str
) -> None:
    # given
    nominate(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        nominate(ledger, campaign_id, person=person, employer=employer, actor=FDA)
    # then
    assert refused.value.rule == "commended-once-per-campaign"
    assert event_count(ledger) == before


def test_the_same_name_at_another_employer_is_another_person(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    first = nominate(ledger, campaign_id)
    # when
    second = nominate(ledger, campaign_id, employer="Xi'an Metro Line 4")
    # then
    assert second != first
    assert ledger.get(campaign_id).commendations == 2
    added = [
        e.payload["commendation_id"] for e in ledger.history(campaign_id) if e.name == "Campaign.CommendationAdded"
    ]
    assert added == [str(first), str(second)]


def test_a_person_commended_in_one_campaign_may_be_nominated_in_another(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    nominate(ledger, campaign_id)
    next_year = plan_campaign(ledger, title="Xi'an 2018 Quality Month")
    # when
    commendation_id = nominate(ledger, next_year)
    # then
    assert ledger.get(commendation_id).campaign_id == next_year


# Review -----------------------------------------------------------------------


def test_approving_a_nomination(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = nominate(ledger, campaign_id)
    # when
    review(ledger, commendation_id, approved=True)
    # then
    assert ledger.get(commendation_id).status is CommendationStatus.APPROVED
    assert ledger.history(commendation_id)[-1].name == "Commendation.Approved"


def test_rejecting_a_nomination_records_the_reason(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = nominate(ledger, campaign_id)
    # when
    review(ledger, commendation_id, approved=False, reason="deeds not verified by the employer")
    # then
    commendation = ledger.get(commendation_id)
    assert commendation.status is CommendationStatus.REJECTED
    assert commendation.review_reason == "deeds not verified by the employer"
    assert ledger.history(commendation_id)[-1].payload == {
        "reason": "deeds not verified by the employer",
        "reviewed_on": "2017-09-18",
    }


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_needs_a_reason(ledger: Ledger, campaign_id: UUID, reason: str | None) -> None:
    # given
    commendation_id = nominate(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        review(ledger, commendation_id, approved=False, reason=reason)
    # then
    assert refused.value.rule == "rejection-reason"
    assert event_count(ledger) == before
    assert ledger.get(commendation_id).status is CommendationStatus.NOMINATED


def test_a_nomination_is_reviewed_only_once(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    # when
    with pytest.raises(IllegalTransition):
        review(ledger, commendation_id, approved=False, reason="second thoughts")
    # then
    assert ledger.get(commendation_id).status is CommendationStatus.APPROVED


# Conferral --------------------------------------------------------------------


def test_an_approved_commendation_is_conferred_at_an_award_ceremony(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    ceremony_id = plan_ceremony(ledger, campaign_id)
    # when
    confer(ledger, commendation_id, ceremony_id)
    # then
    commendation = ledger.get(commendation_id)
    assert commendation.status is CommendationStatus.CONFERRED
    assert (commendation.ceremony_id, commendation.conferred_on) == (ceremony_id, CEREMONY_DAY)
    assert ledger.history(commendation_id)[-1].name == "Commendation.Conferred"


@pytest.mark.parametrize("approved", [None, False], ids=["still-nominated", "rejected"])
def test_only_an_approved_commendation_is_conferred(ledger: Ledger, campaign_id: UUID, approved: bool | None) -> None:
    # given
    commendation_id = nominate(ledger, campaign_id)
    if approved is not None:
        review(ledger, commendation_id, approved=approved, reason="not eligible")
    ceremony_id = plan_ceremony(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        confer(ledger, commendation_id, ceremony_id)
    # then
    assert event_count(ledger) == before


def test_a_commendation_is_not_conferred_at_an_activity_that_is_no_award_ceremony(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    lecture = plan_ceremony(ledger, campaign_id, kind=ActivityKind.EDUCATION, title="Quality lecture hall")
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        confer(ledger, commendation_id, lecture)
    # then
    assert refused.value.rule == "conferred-at-own-ceremony"
    assert event_count(ledger) == before


def test_a_commendation_is_not_conferred_at_another_campaigns_ceremony(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    other_campaign = plan_campaign(ledger, title="Shaanxi 2017 Quality Month")
    foreign_ceremony = plan_ceremony(ledger, other_campaign)
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated) as refused:
        confer(ledger, commendation_id, foreign_ceremony)
    # then
    assert refused.value.rule == "conferred-at-own-ceremony"
    assert event_count(ledger) == before


# Publicity --------------------------------------------------------------------


def test_a_commendation_is_publicised_only_after_conferral(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        publicise(ledger, commendation_id, "西安日报")
    # then
    assert event_count(ledger) == before
    assert ledger.get(commendation_id).publicity == ()


def test_each_media_item_is_recorded(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    confer(ledger, commendation_id, plan_ceremony(ledger, campaign_id))
    # when
    publicise(ledger, commendation_id, "西安日报", date(2017, 9, 27))
    publicise(ledger, commendation_id, "China Quality News Network", date(2017, 9, 28))
    # then
    publicity = ledger.get(commendation_id).publicity
    assert [(m.outlet, m.published_on) for m in publicity] == [
        ("西安日报", date(2017, 9, 27)),
        ("China Quality News Network", date(2017, 9, 28)),
    ]
    names = [e.name for e in ledger.history(commendation_id)]
    assert names.count("Commendation.Publicised") == 2


def test_publicity_cannot_predate_the_conferral(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    commendation_id = approved_nominee(ledger, campaign_id)
    confer(ledger, commendation_id, plan_ceremony(ledger, campaign_id))
    # when
    with pytest.raises(InvariantViolated) as refused:
        publicise(ledger, commendation_id, "西安日报", date(2017, 9, 20))
    # then
    assert refused.value.rule == "publicity-after-conferral"
    assert ledger.get(commendation_id).publicity == ()
