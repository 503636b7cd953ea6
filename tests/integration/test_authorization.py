"""Who may issue what: one test per rule of the authorization table.

The table is ``responsible_departments`` in ``quality_ledger.policy`` and,
in words, the "Authorization" section of ``docs/guide.md``. Every refusal
is ``PermissionDenied`` and records nothing. Each test runs on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from quality_ledger import Actor, DepartmentPolicy, Ledger
from quality_ledger import commands as c
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.domain.values import ActivityKind, FocusArea, InspectionStatus, SubjectKind
from quality_ledger.errors import InvariantViolated, PermissionDenied
from tests.conftest import FDA, ORGANISER, OUTSIDER, QTS, event_count, plan_campaign

SUBJECT = "西安某電線電纜有限公司"
SUBJECT_CODE = "ENT-91610131MA6TX"
"""The code a service gives the subject's representatives (``ENT-`` and a credit code)."""
REPRESENTATIVE = Actor(user="wang.fang", department=SUBJECT_CODE)
OTHER_SUBJECT = Actor(user="zhao.lei", department="ENT-91610000X")
NOTIFIED_ON = date(2017, 9, 11)


def plan_activity(
    ledger: Ledger, campaign_id: UUID, *, lead: str, actor: Actor, title: str = "質量月 expert visits"
) -> UUID:
    command = c.PlanActivity(
        campaign_id=campaign_id,
        title=title,
        lead_department=lead,
        focus_area=FocusArea.LIVELIHOOD,
        activity_kind=ActivityKind.ENFORCEMENT,
    )
    return ledger.execute(command, actor).aggregate_id


def plan_inspection(
    campaign_id: UUID, *, department: str = "XA-QTS", activity_id: UUID | None = None
) -> c.PlanInspection:
    return c.PlanInspection(
        campaign_id=campaign_id,
        activity_id=activity_id,
        reference="QTS-2017-電線-001",
        inspecting_department=department,
        inspection_kind="special rectification 監(jiān)督抽查",
        subject_name=SUBJECT,
        subject_kind=SubjectKind.ENTERPRISE,
        product_category="wires and cables",
        planned_on=date(2017, 9, 4),
    )


def nonconforming_inspection(ledger: Ledger, campaign_id: UUID) -> UUID:
    """Planned by XA-QTS; sample S1 failed; the verdict notified on NOTIFIED_ON."""
    inspection_id = ledger.execute(plan_inspection(campaign_id), QTS).aggregate_id
    for command in (
        c.TakeSample(
            inspection_id=inspection_id, sample_id="S1", product="BV 2.5mm²", batch="B1", taken_on=date(2017, 9, 5)
        ),
        c.RecordSampleResult(
            inspection_id=inspection_id,
            sample_id="S1",
            passed=False,
            nonconforming_items=("conductor resistance",),
            tested_on=date(2017, 9, 8),
        ),
        c.IssueVerdict(inspection_id=inspection_id, notified_on=NOTIFIED_ON),
    ):
        ledger.execute(command, QTS)
    return inspection_id


def objection(inspection_id: UUID) -> c.ObjectToResult:
    return c.ObjectToResult(inspection_id=inspection_id, sample_id="S1", lodged_on=date(2017, 9, 13))


def inspection(ledger: Ledger, inspection_id: UUID) -> InspectionState:
    state = ledger.get(inspection_id)
    assert isinstance(state, InspectionState)
    return state


@pytest.fixture
def nonconforming(ledger: Ledger, campaign_id: UUID) -> UUID:
    return nonconforming_inspection(ledger, campaign_id)


@pytest.fixture
def with_subjects(ledger_url: str) -> Iterator[Ledger]:
    """A ledger whose policy knows who acts for the subject, on every engine."""
    policy = DepartmentPolicy(subjects={SUBJECT_CODE: SUBJECT, "ENT-91610000X": "西安某裝飾材料市場"})
    with Ledger.open(ledger_url, policy=policy) as opened:
        yield opened


# Objections -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [FDA, ORGANISER], ids=["enlisted-department", "organiser"])
def test_a_department_that_did_not_inspect_cannot_object_to_a_result(
    ledger: Ledger, nonconforming: UUID, actor: Actor
) -> None:
    # given: XA-QTS inspected; the actor's department did not
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied) as refused:
        ledger.execute(objection(nonconforming), actor)

    # then
    assert "ObjectToResult" in str(refused.value)
    assert "XA-QTS" in str(refused.value)
    assert event_count(ledger) == before
    assert inspection(ledger, nonconforming).samples[0].objected_on is None


def test_a_department_never_enlisted_cannot_object_to_a_result(ledger: Ledger, nonconforming: UUID) -> None:
    # given: XA-TOU is not enlisted in the campaign
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(objection(nonconforming), OUTSIDER)

    # then
    assert event_count(ledger) == before


def test_a_refused_objection_does_not_block_the_rectification_order(ledger: Ledger, nonconforming: UUID) -> None:
    # given: another department tried to object to XA-QTS's result
    with pytest.raises(PermissionDenied):
        ledger.execute(objection(nonconforming), FDA)

    # when: the inspecting department orders the rectification
    order = c.OrderRectification(
        inspection_id=nonconforming, ordered_on=date(2017, 9, 20), due_on=date(2017, 10, 20), requirements="整改"
    )
    ledger.execute(order, QTS)

    # then
    assert inspection(ledger, nonconforming).status is InspectionStatus.RECTIFICATION_ORDERED


def test_the_inspecting_department_records_the_subjects_objection(ledger: Ledger, nonconforming: UUID) -> None:
    # given: the subject objected to XA-QTS in writing

    # when
    ledger.execute(objection(nonconforming), QTS)

    # then
    assert inspection(ledger, nonconforming).samples[0].objected_on == date(2017, 9, 13)
    assert ledger.history(nonconforming)[-1].meta.department == "XA-QTS"  # type: ignore[union-attr]


def test_an_actor_the_policy_registers_for_the_subject_lodges_its_own_objection(with_subjects: Ledger) -> None:
    # given
    ledger = with_subjects
    inspection_id = nonconforming_inspection(ledger, plan_campaign(ledger))

    # when
    ledger.execute(objection(inspection_id), REPRESENTATIVE)

    # then: recorded under the subject's code, as who lodged it
    recorded = ledger.history(inspection_id)[-1]
    assert recorded.name == "Inspection.ResultObjected"
    assert recorded.meta is not None
    assert (recorded.meta.user, recorded.meta.department) == ("wang.fang", SUBJECT_CODE)


def test_the_subjects_name_matches_whatever_its_width_case_and_spacing(ledger_url: str) -> None:
    # given: the service registered the name in full-width letters and with extra spaces
    policy = DepartmentPolicy(subjects={"ENT-QM2017": "Ｘｉ'ａｎ  Quality   Cable Co."})
    with Ledger.open(ledger_url, policy=policy) as ledger:
        campaign_id = plan_campaign(ledger)
        inspection_id = ledger.execute(
            plan_inspection(campaign_id).model_copy(update={"subject_name": "xi'an quality cable co."}), QTS
        ).aggregate_id
        ledger.execute(
            c.TakeSample(
                inspection_id=inspection_id, sample_id="S1", product="BV", batch="B1", taken_on=date(2017, 9, 5)
            ),
            QTS,
        )
        ledger.execute(
            c.RecordSampleResult(
                inspection_id=inspection_id,
                sample_id="S1",
                passed=False,
                nonconforming_items=("絕緣厚度",),
                tested_on=date(2017, 9, 8),
            ),
            QTS,
        )
        ledger.execute(c.IssueVerdict(inspection_id=inspection_id, notified_on=NOTIFIED_ON), QTS)

        # when
        ledger.execute(objection(inspection_id), Actor(user="li.na", department="ENT-QM2017"))

        # then
        assert inspection(ledger, inspection_id).samples[0].objected_on == date(2017, 9, 13)


def test_an_actor_registered_for_another_subject_cannot_object(with_subjects: Ledger) -> None:
    # given: OTHER_SUBJECT acts for a decoration-materials market, not for the inspected cable maker
    ledger = with_subjects
    inspection_id = nonconforming_inspection(ledger, plan_campaign(ledger))
    before = event_count(ledger)

    # when
    with pytest.raises(PermissionDenied) as refused:
        ledger.execute(objection(inspection_id), OTHER_SUBJECT)

    # then
    assert SUBJECT in str(refused.value)
    assert event_count(ledger) == before


@pytest.mark.parametrize(
    "command",
    [
        c.RecordRetestResult(inspection_id=UUID(int=0), sample_id="S1", passed=True, tested_on=date(2017, 9, 15)),
        c.CloseInspection(inspection_id=UUID(int=0), closed_on=date(2017, 9, 15)),
    ],
    ids=["retest", "close"],
)
def test_the_subjects_representative_may_only_object(with_subjects: Ledger, command: c.Command) -> None:
    # given: an objection the subject lodged itself
    ledger = with_subjects
    inspection_id = nonconforming_inspection(ledger, plan_campaign(ledger))
    ledger.execute(objection(inspection_id), REPRESENTATIVE)
    before = event_count(ledger)

    # when: it tries to take the inspection further itself
    with pytest.raises(PermissionDenied):
        ledger.execute(command.model_copy(update={"inspection_id": inspection_id}), REPRESENTATIVE)

    # then
    assert event_count(ledger) == before


# Inspections under activities -------------------------------------------------------


def test_a_department_cannot_attach_its_inspection_to_another_departments_activity(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given: an activity XA-QTS leads
    activity_id = plan_activity(ledger, campaign_id, lead="XA-QTS", actor=QTS)
    before = event_count(ledger)

    # when: XA-FDA plans its own inspection under it
    with pytest.raises(PermissionDenied):
        ledger.execute(plan_inspection(campaign_id, department="XA-FDA", activity_id=activity_id), FDA)

    # then
    assert event_count(ledger) == before


def test_a_department_may_attach_its_inspection_to_an_activity_it_leads(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    activity_id = plan_activity(ledger, campaign_id, lead="XA-QTS", actor=QTS)

    # when
    inspection_id = ledger.execute(plan_inspection(campaign_id, activity_id=activity_id), QTS).aggregate_id

    # then
    assert inspection(ledger, inspection_id).activity_id == activity_id


def test_the_organiser_may_attach_an_inspection_to_any_departments_activity(ledger: Ledger, campaign_id: UUID) -> None:
    # given: an activity XA-QTS leads
    activity_id = plan_activity(ledger, campaign_id, lead="XA-QTS", actor=QTS)

    # when: the organiser plans XA-FDA's inspection under it (joint enforcement)
    command = plan_inspection(campaign_id, department="XA-FDA", activity_id=activity_id)
    inspection_id = ledger.execute(command, ORGANISER).aggregate_id

    # then
    state = inspection(ledger, inspection_id)
    assert (state.inspecting_department, state.activity_id) == ("XA-FDA", activity_id)


# Activities in the organiser's programme --------------------------------------------


def test_an_enlisted_department_may_add_an_activity_it_leads_to_the_programme(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given: XA-FDA is enlisted

    # when
    activity_id = plan_activity(ledger, campaign_id, lead="XA-FDA", actor=FDA, title="食品安全宣傳週")

    # then
    assert ledger.history(campaign_id)[-1].payload == {"activity_id": str(activity_id)}
    assert ledger.history(activity_id)[0].meta.department == "XA-FDA"  # type: ignore[union-attr]


def test_an_enlisted_department_cannot_add_an_activity_another_department_leads(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given
    before = event_count(ledger)

    # when: XA-FDA plans an activity for XA-QTS to lead
    with pytest.raises(PermissionDenied):
        plan_activity(ledger, campaign_id, lead="XA-QTS", actor=FDA)

    # then
    assert event_count(ledger) == before


def test_a_department_never_enlisted_cannot_add_an_activity_it_would_lead(ledger: Ledger, campaign_id: UUID) -> None:
    # given: XA-TOU is not enlisted
    before = event_count(ledger)

    # when
    with pytest.raises(InvariantViolated) as refused:
        plan_activity(ledger, campaign_id, lead="XA-TOU", actor=OUTSIDER)

    # then
    assert refused.value.rule == "activity-lead-enlisted"
    assert event_count(ledger) == before


# Concluding with an override --------------------------------------------------------


def conclude(campaign_id: UUID, override_reason: str) -> c.ConcludeCampaign:
    return c.ConcludeCampaign(
        campaign_id=campaign_id,
        concluded_on=date(2017, 9, 30),
        summary="質量月圓滿結束",
        override_reason=override_reason,
    )


def test_only_the_organiser_concludes_over_unfinished_activities(ledger: Ledger, campaign_id: UUID) -> None:
    # given: an activity XA-QTS leads, not finished
    plan_activity(ledger, campaign_id, lead="XA-QTS", actor=QTS)
    before = event_count(ledger)

    # when: its lead department tries to conclude the campaign with an override
    with pytest.raises(PermissionDenied):
        ledger.execute(conclude(campaign_id, "暴雨停辦"), QTS)

    # then
    assert event_count(ledger) == before


def test_a_one_character_override_reason_is_accepted_and_recorded_with_who_gave_it(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given: an unfinished activity (decided: no minimum length; a non-blank reason and its author are recorded)
    plan_activity(ledger, campaign_id, lead="XA-QTS", actor=QTS)

    # when
    ledger.execute(conclude(campaign_id, "雨"), ORGANISER)

    # then
    concluded = ledger.history(campaign_id)[-1]
    assert concluded.name == "Campaign.Concluded"
    assert concluded.payload["override_reason"] == "雨"
    assert concluded.meta is not None
    assert (concluded.meta.user, concluded.meta.department) == ("zhang.min", "XA-QPC")


# The published table ----------------------------------------------------------------


def test_the_guide_lists_every_command_in_its_authorization_table() -> None:
    # given
    guide = (Path(__file__).parents[2] / "docs" / "guide.md").read_text(encoding="utf-8")
    section = guide.split("## Authorization", 1)[1].split("\n## ", 1)[0]

    # when
    listed = set(re.findall(r"^\| `(\w+)`", section, flags=re.MULTILINE))

    # then
    assert listed == set(c.COMMANDS)
