"""The campaign's rules, on the bare aggregate through given/when/then: no
ledger, no store. What the application counts (unfinished activities, final
verdicts) is passed in, as the application passes it."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from quality_ledger.domain.campaign import BulletinRecord, Campaign, Department
from quality_ledger.domain.values import FocusArea
from quality_ledger.errors import IllegalTransition, InvariantViolated
from quality_ledger.testing import gwt

INSPECTION = UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8")
QTS = Department(code="XA-QTS", name_zh="市质监局", name_en="Quality and Technical Supervision Bureau")

PLANNED = gwt.event(
    Campaign.Planned,
    title="Xi'an 2017 Quality Month",
    theme="建设品质西安",
    purpose="",
    organiser="XA-QPC",
    partners=(),
    starts_on=date(2017, 9, 1),
    ends_on=date(2017, 9, 30),
    focus_areas=(FocusArea.LIVELIHOOD,),
)
ENLISTED = gwt.event(Campaign.DepartmentEnlisted, department=QTS)
LAUNCHED = gwt.event(Campaign.Launched, launched_on=date(2017, 9, 1))
INSPECTION_ADDED = gwt.event(Campaign.InspectionAdded, inspection_id=INSPECTION)


def test_a_campaign_ends_on_or_after_it_starts() -> None:
    gwt.given().when(
        Campaign.plan,
        UUID(int=1),
        title="t",
        theme="t",
        purpose="",
        organiser="XA-QPC",
        partners=(),
        starts_on=date(2017, 9, 30),
        ends_on=date(2017, 9, 1),
        focus_areas=(),
    ).then_raises(InvariantViolated, rule="campaign-period")


def test_a_department_is_enlisted_once() -> None:
    gwt.given(PLANNED, ENLISTED).when(Campaign.enlist, QTS).then_raises(
        InvariantViolated, rule="department-enlisted-once"
    )


def test_a_launch_needs_a_department_and_falls_in_the_period() -> None:
    gwt.given(PLANNED).when(Campaign.launch, date(2017, 9, 1)).then_raises(
        InvariantViolated, rule="launch-needs-departments"
    )
    gwt.given(PLANNED, ENLISTED).when(Campaign.launch, date(2017, 8, 31)).then_raises(
        InvariantViolated, rule="launch-in-period"
    )
    gwt.given(PLANNED, ENLISTED).when(Campaign.launch, date(2017, 9, 1)).then(
        gwt.event(Campaign.Launched, launched_on=date(2017, 9, 1))
    )


def test_an_inspection_is_added_for_an_enlisted_department_only() -> None:
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.add_inspection, INSPECTION, "XA-FDA").then_raises(
        InvariantViolated, rule="inspecting-department-enlisted"
    )


def test_a_bulletin_lists_only_final_verdicts_of_the_campaign() -> None:
    bulletin = BulletinRecord(
        bulletin_id=UUID(int=7), title="通报", published_on=date(2017, 9, 20), inspection_ids=(INSPECTION,)
    )
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(
        Campaign.publish_bulletin, bulletin, frozenset(), frozenset({INSPECTION})
    ).then_raises(InvariantViolated, rule="bulletin-own-inspections")
    gwt.given(PLANNED, ENLISTED, LAUNCHED, INSPECTION_ADDED).when(
        Campaign.publish_bulletin, bulletin, frozenset({INSPECTION}), frozenset()
    ).then_raises(InvariantViolated, rule="bulletin-final-verdicts")


def test_a_campaign_with_unfinished_activities_concludes_only_with_an_override_reason() -> None:
    # given a launched campaign / when it concludes with 2 activities unfinished and no reason / then it is refused
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.conclude, date(2017, 9, 30), "summary", 2, None).then_raises(
        InvariantViolated, rule="conclude-when-activities-done"
    )
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.conclude, date(2017, 9, 30), "summary", 2, "  ").then_raises(
        InvariantViolated, rule="conclude-when-activities-done"
    )
    # and with a reason it concludes, keeping the reason
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.conclude, date(2017, 9, 30), "summary", 2, "weather").then(
        gwt.event(Campaign.Concluded, concluded_on=date(2017, 9, 30), override_reason="weather")
    )


def test_a_campaign_with_every_activity_finished_concludes_without_keeping_an_override() -> None:
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.conclude, date(2017, 9, 30), "summary", 0, "unneeded").then(
        gwt.event(Campaign.Concluded, override_reason=None)
    )


def test_a_campaign_concludes_on_or_after_its_launch() -> None:
    gwt.given(PLANNED, ENLISTED, LAUNCHED).when(Campaign.conclude, date(2017, 8, 31), "summary", 0, None).then_raises(
        InvariantViolated, rule="conclude-after-launch"
    )


def test_a_campaign_not_launched_does_not_conclude() -> None:
    gwt.given(PLANNED, ENLISTED).when(Campaign.conclude, date(2017, 9, 30), "summary", 0, None).then_raises(
        IllegalTransition
    )
