"""The Ledger facade: rejections record nothing, idempotency, parsing, metadata,
versions, and the authorization policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from quality_ledger import Actor, AllowAll, Ledger, writing
from quality_ledger import commands as c
from quality_ledger.domain.values import ActivityKind, CampaignStatus, FocusArea
from quality_ledger.errors import (
    IdempotencyConflict,
    IllegalTransition,
    InvalidCommand,
    InvariantViolated,
    NotFound,
    PermissionDenied,
)
from tests.conftest import FDA, ORGANISER, OUTSIDER, QTS, event_count, plan_campaign


def plan(
    title: str = "Xi'an 2017 Quality Month",
    starts_on: date = date(2017, 9, 1),
    ends_on: date = date(2017, 9, 30),
    **extra: object,
) -> c.PlanCampaign:
    return c.PlanCampaign(
        title=title, theme="建设品质西安", organiser="XA-QPC", starts_on=starts_on, ends_on=ends_on, **extra
    )


def launch(campaign_id: UUID, **extra: object) -> c.LaunchCampaign:
    return c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1), **extra)


def plan_activity(campaign_id: UUID) -> c.PlanActivity:
    return c.PlanActivity(
        campaign_id=campaign_id,
        title="Metrology for the people",
        lead_department="XA-QTS",
        focus_area=FocusArea.LIVELIHOOD,
        activity_kind=ActivityKind.FREE_TESTING,
    )


def plan_inspection(campaign_id: UUID) -> c.PlanInspection:
    return c.PlanInspection(
        campaign_id=campaign_id,
        reference="XA-2017-GAS-007",
        inspecting_department="XA-QTS",
        inspection_kind="gas-station metrology check",
        subject_name="Weiyang Road gas station",
        product_category="fuel dispensers",
        planned_on=date(2017, 9, 6),
    )


class RecordingPolicy:
    """Allows or denies everything, and remembers what it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[Actor, str, frozenset[str]]] = []

    def allows(self, actor: Actor, command: c.Command, responsible: frozenset[str]) -> bool:
        self.asked.append((actor, command.name, responsible))
        return self.answer


@pytest.fixture
def open_ledger() -> Iterator[list[Ledger]]:
    """Ledgers a test opens with its own policy; closed afterwards."""
    opened: list[Ledger] = []
    yield opened
    for each in opened:
        each.close()


# A rejected command records nothing ---------------------------------------------


def test_an_invalid_command_records_nothing(ledger: Ledger) -> None:
    # given a ledger holding a campaign, and a command built without validation (model_construct),
    # so that the ledger, not the command's constructor, is what must refuse it
    plan_campaign(ledger)
    before = event_count(ledger)
    invalid = c.PlanCampaign.model_construct(
        title="t", theme="t", organiser="bad", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30)
    )
    assert invalid.organiser == "bad"
    # when the ledger is asked to execute it
    with pytest.raises(InvalidCommand) as refusal:
        ledger.execute(invalid, ORGANISER)
    # then it is refused for its organiser, and nothing is recorded
    assert [error["loc"] for error in refusal.value.errors] == [("organiser",)]
    assert event_count(ledger) == before


def test_an_invalid_command_parsed_from_json_is_refused_by_parse() -> None:
    # given the same invalid command as JSON / when it is parsed / then parse refuses it, naming the field
    text = json.dumps(
        {
            "command": "PlanCampaign",
            "title": "t",
            "theme": "t",
            "organiser": "bad",
            "starts_on": "2017-09-01",
            "ends_on": "2017-09-30",
        }
    )
    with pytest.raises(InvalidCommand) as refusal:
        c.parse(text)
    assert [error["loc"] for error in refusal.value.errors] == [("organiser",)]


def test_an_illegal_transition_records_nothing(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(IllegalTransition):
        ledger.execute(launch(campaign_id), ORGANISER)
    # then
    assert event_count(ledger) == before


def test_a_violated_invariant_records_nothing(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(InvariantViolated):
        ledger.execute(c.EnlistDepartment(campaign_id=campaign_id, code="XA-FDA", name_zh="x", name_en="x"), ORGANISER)
    # then
    assert event_count(ledger) == before


def test_a_command_about_an_unknown_id_is_not_found_and_records_nothing(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(NotFound):
        ledger.execute(launch(uuid4()), ORGANISER)
    # then
    assert event_count(ledger) == before


def test_a_denied_command_records_nothing(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    before = event_count(ledger)
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(launch(campaign_id), OUTSIDER)
    # then
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).status is CampaignStatus.PLANNED


def test_a_refused_command_touching_two_aggregates_records_on_neither(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    before = event_count(ledger)
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(plan_activity(campaign_id), FDA)
    # then
    assert event_count(ledger) == before
    assert ledger.get(campaign_id).activities == 0


# Idempotency --------------------------------------------------------------------


def test_the_same_idempotency_key_twice_returns_an_equal_receipt_and_records_nothing_new(ledger: Ledger) -> None:
    # given
    first = ledger.execute(plan(idempotency_key="plan-2017"), ORGANISER)
    before = event_count(ledger)
    # when
    again = ledger.execute(plan(idempotency_key="plan-2017"), ORGANISER)
    # then
    assert again == first
    assert again.idempotency_key == "plan-2017"
    assert event_count(ledger) == before


def test_a_repeated_launch_with_its_key_is_not_an_illegal_transition(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    first = ledger.execute(launch(campaign_id, idempotency_key="launch-1"), ORGANISER)
    # when
    again = ledger.execute(launch(campaign_id, idempotency_key="launch-1"), ORGANISER)
    # then
    assert again == first
    assert [e.name for e in ledger.history(campaign_id)].count("Campaign.Launched") == 1


def test_the_same_key_with_a_different_command_is_a_conflict_and_records_nothing(ledger: Ledger) -> None:
    # given
    ledger.execute(plan(idempotency_key="k-1"), ORGANISER)
    before = event_count(ledger)
    # when
    with pytest.raises(IdempotencyConflict):
        ledger.execute(plan(title="Xi'an 2018 Quality Month", idempotency_key="k-1"), ORGANISER)
    # then
    assert event_count(ledger) == before


def test_the_same_key_on_a_command_its_rules_refuse_is_still_a_conflict(ledger: Ledger) -> None:
    # given a key used to plan a campaign, and another campaign launched
    ledger.execute(plan(title="Xi'an 2018 Quality Month", idempotency_key="k-2"), ORGANISER)
    campaign_id = plan_campaign(ledger)
    before = event_count(ledger)
    # when the first key comes with a launch, which the rules refuse now (launched already)
    with pytest.raises(IdempotencyConflict):
        ledger.execute(launch(campaign_id, idempotency_key="k-2"), ORGANISER)
    # then the key's conflict is what is reported, and nothing is recorded
    assert event_count(ledger) == before


def test_the_first_use_of_a_key_reads_no_earlier_record(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a count of the lookups of earlier command records
    looked_up: list[str] = []
    earlier = writing.earlier_receipt

    def counted(aggregates: Any, command: c.Command, key: str) -> Any:
        looked_up.append(key)
        return earlier(aggregates, command, key)

    monkeypatch.setattr(writing, "earlier_receipt", counted)
    # when a key is used for the first time
    first = ledger.execute(plan(idempotency_key="k-first"), ORGANISER)
    # then no earlier record was looked up: the store refuses a second record by itself
    assert looked_up == []
    # and a repeat, which the store refuses, finds the first receipt
    assert ledger.execute(plan(idempotency_key="k-first"), ORGANISER) == first
    assert looked_up == ["k-first"]


# Parsing ------------------------------------------------------------------------


def test_parse_builds_the_command_class_the_json_names() -> None:
    # given
    text = json.dumps(
        {
            "command": "ReportProgress",
            "activity_id": "6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8",
            "metric": "experts",
            "amount": 58,
            "reported_on": "2017-09-15",
        }
    )
    # when
    command = c.parse(text)
    # then
    assert type(command) is c.ReportProgress
    assert command == c.ReportProgress(
        activity_id=UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8"),
        metric="experts",
        amount=58,
        reported_on=date(2017, 9, 15),
    )


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"command": "PaintTheTown", "campaign_id": "x"}', "[]"],
    ids=["malformed", "unknown-command", "not-an-object"],
)
def test_parse_refuses_what_is_no_command(text: str) -> None:
    # given / when
    with pytest.raises(InvalidCommand) as refused:
        c.parse(text)
    # then
    assert refused.value.errors
    assert all("loc" in e and "msg" in e for e in refused.value.errors)


def test_a_bad_field_in_a_built_command_keeps_pydantics_detail() -> None:
    # given
    fields = {
        "title": "t",
        "theme": "t",
        "organiser": "bad",
        "starts_on": date(2017, 9, 1),
        "ends_on": date(2017, 9, 2),
    }
    # when
    with pytest.raises(InvalidCommand) as refused:
        c.PlanCampaign(**fields)
    # then
    (error,) = refused.value.errors
    assert error["loc"] == ("organiser",)
    assert error["input"] == "bad"


def test_parse_keeps_pydantics_detail_about_a_bad_field() -> None:
    # given
    text = plan().model_dump_json().replace('"XA-QPC"', '"bad"')
    # when
    with pytest.raises(InvalidCommand) as refused:
        c.parse(text)
    # then
    (error,) = refused.value.errors
    assert error["loc"] == ("organiser",)
    assert error["input"] == "bad"


# Metadata -----------------------------------------------------------------------


def test_every_event_carries_the_actor_and_the_command(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger)
    # when
    history = ledger.history(campaign_id)
    # then
    assert [(e.meta.user, e.meta.department, e.meta.command) for e in history if e.meta] == [
        ("zhang.min", "XA-QPC", "PlanCampaign"),
        ("zhang.min", "XA-QPC", "EnlistDepartment"),
        ("zhang.min", "XA-QPC", "EnlistDepartment"),
        ("zhang.min", "XA-QPC", "LaunchCampaign"),
    ]


def test_events_of_one_command_on_two_aggregates_share_the_receipts_command_id(
    ledger: Ledger, campaign_id: UUID
) -> None:
    # given
    command = plan_activity(campaign_id)
    # when
    receipt = ledger.execute(command, QTS)
    # then
    activity_event = ledger.history(receipt.aggregate_id)[0]
    campaign_event = ledger.history(campaign_id)[-1]
    assert campaign_event.name == "Campaign.ActivityAdded"
    assert activity_event.meta is not None
    assert campaign_event.meta is not None
    assert activity_event.meta.command_id == campaign_event.meta.command_id == receipt.command_id
    assert activity_event.meta.department == "XA-QTS"


def test_the_correlation_id_defaults_to_the_command_id(ledger: Ledger) -> None:
    # given
    command = plan()
    # when
    receipt = ledger.execute(command, ORGANISER)
    # then
    (event,) = ledger.history(receipt.aggregate_id)
    assert event.meta is not None
    assert receipt.correlation_id == receipt.command_id
    assert event.meta.correlation_id == receipt.command_id


def test_an_explicit_correlation_id_is_kept(ledger: Ledger) -> None:
    # given
    correlation_id = uuid4()
    campaign_id = ledger.execute(plan(), ORGANISER, correlation_id=correlation_id).aggregate_id
    # when
    receipt = ledger.execute(
        c.EnlistDepartment(campaign_id=campaign_id, code="XA-QTS", name_zh="市质监局", name_en="QTS"),
        ORGANISER,
        correlation_id=correlation_id,
    )
    # then
    assert receipt.correlation_id == correlation_id
    assert receipt.command_id != correlation_id
    assert [e.meta.correlation_id for e in ledger.history(campaign_id) if e.meta] == [correlation_id, correlation_id]


def test_occurred_on_is_the_business_date_when_it_differs_from_the_recording_date(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    ledger.execute(launch(campaign_id), ORGANISER)
    # then
    launched = ledger.history(campaign_id)[-1]
    assert launched.meta is not None
    assert launched.recorded_at.date() != date(2017, 9, 1)
    assert launched.meta.occurred_on == date(2017, 9, 1)


def test_occurred_on_is_left_out_when_the_business_date_is_the_recording_date(ledger: Ledger) -> None:
    # given
    today = datetime.now(UTC).date()
    # when
    receipt = ledger.execute(plan(title="Today's campaign", starts_on=today, ends_on=today), ORGANISER)
    # then
    (planned,) = ledger.history(receipt.aggregate_id)
    assert planned.meta is not None
    assert planned.recorded_at.date() == today
    assert planned.meta.occurred_on is None


# Versions -----------------------------------------------------------------------


def test_get_at_a_version_returns_the_state_at_that_version(ledger: Ledger, campaign_id: UUID) -> None:
    # given: planned (v1), two departments enlisted (v2, v3), launched (v4)
    # when
    at_planning = ledger.get(campaign_id, version=1)
    after_enlisting = ledger.get(campaign_id, version=3)
    # then
    assert (at_planning.version, at_planning.departments, at_planning.status) == (1, (), CampaignStatus.PLANNED)
    assert after_enlisting.department_codes() == {"XA-QTS", "XA-FDA"}
    assert after_enlisting.status is CampaignStatus.PLANNED
    assert ledger.get(campaign_id).version == 4
    assert ledger.get(campaign_id).status is CampaignStatus.LAUNCHED


@pytest.mark.parametrize("version", [5, 0])
def test_get_at_a_version_the_aggregate_never_had_is_not_found(ledger: Ledger, campaign_id: UUID, version: int) -> None:
    # given: the campaign's latest version is 4
    # when / then
    with pytest.raises(NotFound):
        ledger.get(campaign_id, version=version)


def test_get_of_an_unknown_id_is_not_found(ledger: Ledger) -> None:
    # given
    unknown = uuid4()
    # when / then
    with pytest.raises(NotFound):
        ledger.get(unknown)


def test_the_state_returned_is_immutable(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    campaign = ledger.get(campaign_id)
    # when
    with pytest.raises((ValidationError, TypeError)):
        campaign.status = CampaignStatus.CONCLUDED  # type: ignore[misc]
    # then
    assert ledger.get(campaign_id).status is CampaignStatus.LAUNCHED


def test_a_state_already_read_does_not_change_when_more_is_recorded(ledger: Ledger) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    read_before = ledger.get(campaign_id)
    # when
    ledger.execute(launch(campaign_id), ORGANISER)
    # then
    assert read_before.status is CampaignStatus.PLANNED
    assert read_before.version == 3


# Authorization policy -------------------------------------------------------------


def test_allow_all_lets_an_outsider_act(open_ledger: list[Ledger]) -> None:
    # given
    ledger = Ledger.open("memory://", policy=AllowAll())
    open_ledger.append(ledger)
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    ledger.execute(launch(campaign_id), OUTSIDER)
    # then
    assert ledger.get(campaign_id).status is CampaignStatus.LAUNCHED
    assert ledger.history(campaign_id)[-1].meta.department == "XA-TOU"  # type: ignore[union-attr]


def test_a_custom_policy_is_asked_with_the_actor_command_and_responsible_departments(
    open_ledger: list[Ledger],
) -> None:
    # given
    policy = RecordingPolicy(answer=True)
    ledger = Ledger.open("memory://", policy=policy)
    open_ledger.append(ledger)
    campaign_id = plan_campaign(ledger, launch=False)
    policy.asked.clear()
    # when
    ledger.execute(launch(campaign_id), OUTSIDER)
    # then
    assert policy.asked == [(OUTSIDER, "LaunchCampaign", frozenset({"XA-QPC"}))]
    assert ledger.get(campaign_id).status is CampaignStatus.LAUNCHED


def test_a_custom_policy_can_deny_even_the_organiser(open_ledger: list[Ledger]) -> None:
    # given
    policy = RecordingPolicy(answer=False)
    ledger = Ledger.open("memory://", policy=policy)
    open_ledger.append(ledger)
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(plan(), ORGANISER)
    # then
    assert policy.asked == [(ORGANISER, "PlanCampaign", frozenset({"XA-QPC"}))]
    assert event_count(ledger) == 0


@pytest.mark.parametrize("actor", [QTS, OUTSIDER], ids=["enlisted", "outsider"])
def test_by_default_only_the_organiser_runs_campaign_steps(ledger: Ledger, actor: Actor) -> None:
    # given
    campaign_id = plan_campaign(ledger, launch=False)
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(launch(campaign_id), actor)
    # then
    ledger.execute(launch(campaign_id), ORGANISER)
    assert ledger.get(campaign_id).status is CampaignStatus.LAUNCHED


@pytest.mark.parametrize("actor", [FDA, ORGANISER], ids=["other-department", "organiser"])
def test_by_default_only_the_lead_department_runs_activity_steps(
    ledger: Ledger, campaign_id: UUID, actor: Actor
) -> None:
    # given
    activity_id = ledger.execute(plan_activity(campaign_id), ORGANISER).aggregate_id
    start = c.StartActivity(activity_id=activity_id, started_on=date(2017, 9, 6))
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(start, actor)
    # then
    ledger.execute(start, QTS)
    assert ledger.history(activity_id)[-1].name == "Activity.Started"


def test_by_default_only_the_inspecting_department_records_samples(ledger: Ledger, campaign_id: UUID) -> None:
    # given
    inspection_id = ledger.execute(plan_inspection(campaign_id), QTS).aggregate_id
    take = c.TakeSample(
        inspection_id=inspection_id, sample_id="S1", product="dispenser 3", batch="n/a", taken_on=date(2017, 9, 7)
    )
    # when
    with pytest.raises(PermissionDenied):
        ledger.execute(take, FDA)
    # then
    ledger.execute(take, QTS)
    assert [s.sample_id for s in ledger.get(inspection_id).samples] == ["S1"]


def test_a_bad_actor_is_an_invalid_command_with_pydantics_detail() -> None:
    # given / when an actor with a blank name and a malformed department code
    with pytest.raises(InvalidCommand) as refused:
        Actor(user="  ", department="qts")
    # then both fields are named
    assert {e["loc"] for e in refused.value.errors} == {("user",), ("department",)}
