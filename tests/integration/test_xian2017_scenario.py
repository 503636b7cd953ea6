"""The reference scenario, recorded end to end, says what its data says.

The figures read back from the ledger are compared with figures worked out
from the scenario's data alone, on both embedded stores, so a command that is
lost, refused or recorded twice shows up as a difference; varying the data
must move the figures, or the comparison would prove nothing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import pytest
from pydantic import BaseModel

from quality_ledger import Ledger
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.base import AggregateState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.domain.values import ActivityStatus, CampaignStatus, CommendationStatus
from quality_ledger.scenarios.xian2017 import (
    DEPARTMENTS,
    XIAN_2017,
    Expected,
    Progress,
    SampleSpec,
    Scenario,
    conclude,
    expected,
    load,
)
from tests.conftest import event_count

V = TypeVar("V", bound=AggregateState)
M = TypeVar("M", bound=BaseModel)


def open_ledger(backend: str, directory: Path) -> Ledger:
    return Ledger.open("memory://" if backend == "memory" else f"sqlite:///{directory}/xian.db")


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """A fresh ledger of each embedded kind, for tests that load or change something."""
    with open_ledger(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, UUID]]:
    """The reference scenario loaded once per kind of store, for tests that only read."""
    with open_ledger(request.param, tmp_path_factory.mktemp("xian")) as opened:
        yield opened, load(opened)


@dataclasses.dataclass(frozen=True)
class Recorded:
    """Everything the campaign refers to, as the ledger returns it."""

    campaign: CampaignState
    activities: list[ActivityState]
    inspections: list[InspectionState]
    commendations: list[CommendationState]


def views(ledger: Ledger, ids: Iterable[UUID], kind: type[V]) -> list[V]:
    found: list[V] = []
    for aggregate_id in ids:
        view = ledger.get(aggregate_id)
        assert isinstance(view, kind)
        found.append(view)
    return found


def added(ledger: Ledger, campaign_id: UUID, field: str) -> list[UUID]:
    """The children the campaign's stream lists (its state only counts them), in the order they joined."""
    return [UUID(e.payload[field]) for e in ledger.history(campaign_id) if field in e.payload]


def read(ledger: Ledger, campaign_id: UUID) -> Recorded:
    [campaign] = views(ledger, [campaign_id], CampaignState)
    recorded = Recorded(
        campaign,
        views(ledger, added(ledger, campaign_id, "activity_id"), ActivityState),
        views(ledger, added(ledger, campaign_id, "inspection_id"), InspectionState),
        views(ledger, added(ledger, campaign_id, "commendation_id"), CommendationState),
    )
    counted = (campaign.activities, campaign.inspections, campaign.commendations)
    assert counted == (len(recorded.activities), len(recorded.inspections), len(recorded.commendations))
    return recorded


def count(values: list[str]) -> dict[str, int]:
    return dict(Counter(values))


def figures(r: Recorded) -> Expected:
    """The scenario's figures, computed from recorded state only."""
    samples = [s for i in r.inspections for s in i.samples]
    original = [s.original_result or s.result for s in samples]
    rectifications = [i.rectification for i in r.inspections if i.rectification is not None]
    return Expected(
        departments=len(r.campaign.departments),
        activities=len(r.activities),
        activities_by_state=count([str(a.status) for a in r.activities]),
        activities_by_focus_area=count([str(a.focus_area) for a in r.activities]),
        activities_by_department=count([a.lead_department for a in r.activities]),
        inspections=len(r.inspections),
        inspections_by_verdict=count([str(i.verdict or "pending") for i in r.inspections]),
        inspections_by_state=count([str(i.status) for i in r.inspections]),
        samples=len(samples),
        samples_tested=sum(s.result is not None for s in samples),
        samples_failed=sum(s.result is not None and not s.result.passed for s in samples),
        samples_failed_originally=sum(o is not None and not o.passed for o in original),
        objections=sum(s.objected_on is not None for s in samples),
        overturned_on_retest=sum(
            s.original_result is not None and not s.original_result.passed and s.result is not None and s.result.passed
            for s in samples
        ),
        rectifications=len(rectifications),
        failed_follow_ups=sum(r.passed is False for r in rectifications),
        penalties=sum(i.penalty is not None for i in r.inspections),
        transfers=sum(i.transferred_to is not None for i in r.inspections),
        targets={a.title: {p.metric: p.target for p in a.progress} for a in r.activities if a.progress},
        achieved={a.title: {p.metric: p.achieved for p in a.progress} for a in r.activities if a.progress},
        commendations_by_state=count([str(m.status) for m in r.commendations]),
        media_items=sum(len(m.publicity) for m in r.commendations),
        bulletins={b.title: len(b.inspection_ids) for b in r.campaign.bulletins},
    )


# What was recorded ------------------------------------------------------------------


def test_the_ledger_records_what_the_data_says(loaded: tuple[Ledger, UUID]) -> None:
    # given the reference scenario loaded into a fresh ledger
    ledger, campaign_id = loaded
    # then every figure read back equals the one worked out from the data
    assert figures(read(ledger, campaign_id)) == expected()


def test_the_campaign_is_left_running_with_its_twelve_departments(loaded: tuple[Ledger, UUID]) -> None:
    ledger, campaign_id = loaded
    campaign = read(ledger, campaign_id).campaign
    assert campaign.status is CampaignStatus.LAUNCHED
    assert campaign.launched_on == date(2017, 9, 1)
    assert (campaign.starts_on, campaign.ends_on) == (date(2017, 9, 1), date(2017, 9, 30))
    assert campaign.organiser == "XA-QPC"
    assert campaign.title == XIAN_2017.campaign.title
    assert [(d.code, d.name_zh, d.name_en) for d in campaign.departments] == [
        (d.code, d.name_zh, d.name_en) for d in DEPARTMENTS
    ]
    assert len(campaign.departments) == 12


def test_the_reference_figures(loaded: tuple[Ledger, UUID]) -> None:
    """The headline numbers of the reference case, pinned so a change to the data is a visible decision."""
    recorded = read(*loaded)
    experts = next(a for a in recorded.activities if "experts into enterprises" in a.title)
    assert (experts.achieved("experts"), experts.achieved("enterprises")) == (58, 88)
    assert experts.status is ActivityStatus.COMPLETED
    e = expected()
    assert (e.activities, e.inspections, e.samples, e.samples_tested, e.samples_failed) == (38, 22, 77, 73, 11)
    assert 0.10 <= e.samples_failed / e.samples_tested <= 0.20
    assert e.overturned_on_retest == 1
    assert e.failed_follow_ups == 1
    assert e.commendations_by_state == {"conferred": 4, "rejected": 1}


def test_bulletins_list_only_final_verdicts_of_the_publishing_department(loaded: tuple[Ledger, UUID]) -> None:
    recorded = read(*loaded)
    by_id = {i.id: i for i in recorded.inspections}
    publishers = {b.title: b.published_by for b in XIAN_2017.bulletins}
    assert recorded.campaign.bulletins
    for bulletin in recorded.campaign.bulletins:
        listed = [by_id[i] for i in bulletin.inspection_ids]
        assert all(i.has_final_verdict for i in listed)
        assert {i.inspecting_department for i in listed} == {publishers[bulletin.title]}


def test_craftsmen_are_conferred_at_the_ceremony_and_the_rejection_has_a_reason(loaded: tuple[Ledger, UUID]) -> None:
    recorded = read(*loaded)
    ceremony = next(a for a in recorded.activities if a.activity_kind == "award-ceremony")
    conferred = [m for m in recorded.commendations if m.status is CommendationStatus.CONFERRED]
    rejected = [m for m in recorded.commendations if m.status is CommendationStatus.REJECTED]
    assert conferred
    assert all(m.ceremony_id == ceremony.id and m.publicity for m in conferred)
    assert [bool(m.review_reason) for m in rejected] == [True]


def test_each_step_is_recorded_by_the_department_that_acts_on_its_business_date(loaded: tuple[Ledger, UUID]) -> None:
    ledger, campaign_id = loaded
    recorded = read(ledger, campaign_id)
    for inspection in recorded.inspections:
        departments = {e.meta.department for e in ledger.history(inspection.id) if e.meta}
        assert departments == {inspection.inspecting_department}
    for activity in recorded.activities:
        after_planning = {e.meta.department for e in ledger.history(activity.id)[1:] if e.meta}
        assert after_planning == {activity.lead_department}
    dated = [e.meta.occurred_on for _, e in ledger.events() if e.meta and e.meta.occurred_on]
    assert dated
    assert all(date(2017, 9, 1) <= day <= date(2017, 10, 31) for day in dated)


# Repeating the load -------------------------------------------------------------------


def test_loading_twice_records_nothing_new(ledger: Ledger) -> None:
    # given the scenario loaded once
    first = load(ledger)
    before = event_count(ledger)
    state = read(ledger, first)
    # when it is loaded again
    second = load(ledger)
    # then the same campaign is returned and not one event was added
    assert second == first
    assert event_count(ledger) == before
    assert read(ledger, second) == state


def test_loading_again_after_reopening_the_file_records_nothing_new(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/xian.db"
    with Ledger.open(url) as ledger:
        campaign_id = load(ledger)
        before = event_count(ledger)
    with Ledger.open(url) as reopened:
        assert load(reopened) == campaign_id
        assert event_count(reopened) == before


def test_concluding_is_a_separate_step(ledger: Ledger) -> None:
    campaign_id = load(ledger)
    conclude(ledger, campaign_id)
    after = event_count(ledger)
    conclude(ledger, campaign_id)
    campaign = read(ledger, campaign_id).campaign
    assert campaign.status is CampaignStatus.CONCLUDED
    assert campaign.override_reason  # activities are still running, so the office said why
    assert event_count(ledger) == after


# The figures follow the data ----------------------------------------------------------


def replace(spec: M, **changes: object) -> M:
    """A copy of ``spec`` with ``changes``, validated like the case file."""
    return type(spec).model_validate({**dict(spec), **changes})


def with_extra_failed_sample(scenario: Scenario) -> Scenario:
    """Another nonconforming sample in an inspection already ordered to rectify."""
    target = scenario.inspection("QTS-2017-ZX-01")
    extra = SampleSpec(
        sample_id="ZX01-5",
        product="实木复合地板",
        batch="SM-170702",
        taken_on=date(2017, 9, 13),
        tested_on=date(2017, 9, 22),
        failed_items=("甲醛释放量",),
    )
    changed = replace(target, samples=(*target.samples, extra))
    inspections = tuple(changed if i is target else i for i in scenario.inspections)
    return replace(scenario, inspections=inspections)


def with_extra_school_report(scenario: Scenario) -> Scenario:
    """Five more schools reported by the Education Bureau."""
    target = next(a for a in scenario.activities if a.lead == "XA-EDU")
    report = Progress(reported_on=date(2017, 10, 13), amounts={"schools": 5})
    changed = replace(target, progress=(*target.progress, report))
    activities = tuple(changed if a is target else a for a in scenario.activities)
    return replace(scenario, activities=activities)


def school_total(e: Expected) -> int:
    return next(m["schools"] for m in e.achieved.values() if "schools" in m)


@pytest.mark.parametrize(
    ("vary", "moved"),
    [
        pytest.param(
            with_extra_failed_sample,
            lambda base, new: (new.samples_failed, new.samples) == (base.samples_failed + 1, base.samples + 1),
            id="one-more-failed-sample",
        ),
        pytest.param(
            with_extra_school_report,
            lambda base, new: school_total(new) == school_total(base) + 5,
            id="five-more-schools",
        ),
    ],
)
def test_the_figures_move_when_the_data_changes(
    ledger: Ledger, vary: Callable[[Scenario], Scenario], moved: Callable[[Expected, Expected], bool]
) -> None:
    # given a copy of the data with one thing changed
    varied = vary(XIAN_2017)
    assert moved(expected(), expected(varied))
    # when the copy is loaded
    campaign_id = load(ledger, varied)
    # then the ledger shows the moved figures, not the original ones
    recorded = figures(read(ledger, campaign_id))
    assert recorded == expected(varied)
    assert recorded != expected()
