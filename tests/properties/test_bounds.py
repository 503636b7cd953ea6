"""Input at and beyond the bounds (docs/guide.md, "Limits"), on every engine.

* a campaign run end to end with every text at its longest (every Unicode
  plane, CJK with conversion debris, emoji, combining marks), every count
  and penalty at its largest and every user name at its bound is accepted,
  and its views catch up, equal a rebuild and hold the values as given;
* fuzzed input through ``commands.parse`` and ``Ledger.execute`` is either
  recorded and projected, or refused with a LedgerError that records
  nothing; nothing else ever escapes.

Both run on memory, SQLite and PostgreSQL (the ``ledger`` fixture), their
examples sharing one ledger per engine: ``HYPOTHESIS_PROFILE=thorough``
runs them longer.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from quality_ledger import Actor, Ledger, LedgerError
from quality_ledger import commands as c
from quality_ledger.domain import values as v
from quality_ledger.errors import InvalidCommand
from quality_ledger.projections import inspection_register
from quality_ledger.testing import strategies as qs
from tests.conftest import FDA, ORGANISER, QTS, event_count, plan_campaign


def sharing_the_ledger(share: int = 1) -> settings:
    """The loaded profile for a test whose examples share the ``ledger`` fixture's
    ledger on purpose (one per engine, not one per example), with a ``share``
    of its examples."""
    profile = settings()
    return settings(
        max_examples=max(3, profile.max_examples // share),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


PLANES = 17
DEBRIS = (
    "監(jiān)",
    "發(fā)",
    "質(zhì)",
    "測(cè)",
    "😀",
    "👨\u200d👩\u200d👧",
    "e\u0301",
    "ǖ",
    "𠀀",
    "\U00030000",
    "עברית",
    "عربي",
    "\ue000",
)
"""CJK glossed by conversion, emoji (with zero-width joiners), combining marks, astral CJK, right-to-left scripts, private use."""
HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")

Strategy = st.SearchStrategy


def _plane(plane: int, excluded: tuple[str, ...]) -> Strategy[str]:
    low = 0x10000 * plane
    return st.characters(min_codepoint=max(low, 0x21), max_codepoint=low + 0xFFFF, exclude_categories=excluded)


# What one-line text and free text may hold: anything but control characters,
# separators (no blank seed) and lone surrogates, from any of the 17 planes.
TEXT_CHARS = st.one_of(
    st.integers(0, PLANES - 1).flatmap(lambda p: _plane(p, ("Cc", "Cs", "Zs", "Zl", "Zp"))), st.sampled_from(DEBRIS)
)
# What identifiers may hold: letters, marks-free symbols, digits and punctuation from the assigned planes.
ID_CHARS = st.one_of(
    st.integers(0, 3).flatmap(
        lambda p: st.characters(
            min_codepoint=max(0x10000 * p, 0x21), max_codepoint=0x10000 * p + 0xFFFF, categories=("L", "N", "P", "S")
        )
    ),
    st.sampled_from(["e\u0301", "ǖ", "監(jiān)", "😀", "𠀀"]),
).filter(lambda s: not HANGUL_FILLERS.intersection(s))


def fill(seed: str, length: int) -> str:
    """``seed`` repeated to ``length`` characters: long values from short draws."""
    return (seed * (length // len(seed) + 1))[:length]


@st.composite
def long_text(draw: st.DrawFn, bound: int, *, lines: bool = False, chars: Strategy[str] = TEXT_CHARS) -> str:
    """Text at its bound, now and then shorter; ``lines``: with newlines and tabs inside."""
    inner = st.one_of(chars, st.sampled_from("\n\t")) if lines else chars
    seed = draw(chars) + "".join(draw(st.lists(inner, max_size=6)))
    return fill(seed, draw(st.one_of(st.just(bound), st.integers(1, bound))))


def names(length: int = v.MAX_NAME) -> Strategy[str]:
    return long_text(length)


def texts() -> Strategy[str]:
    return long_text(v.MAX_TEXT, lines=True)


def identifiers(bound: int) -> Strategy[str]:
    return long_text(bound, chars=ID_CHARS)


# (a) A whole campaign at the bounds ----------------------------------------------------

EXAMPLES = itertools.count()
SEPT = date(2017, 9, 1)


def on(day: int) -> date:
    return SEPT + timedelta(days=day - 1)


class AtBounds:
    """Runs a campaign's every kind of step with values drawn at the bounds, asserting each is accepted."""

    def __init__(self, ledger: Ledger, data: st.DataObject) -> None:
        self.ledger = ledger
        self.data = data
        self.n = next(EXAMPLES)
        self.keys = itertools.count()
        self.organiser = Actor(user=self.draw(identifiers(v.MAX_USER)), department="XA-QPC")
        self.qts = Actor(user=self.draw(identifiers(v.MAX_USER)), department="XA-QTS")

    def draw(self, strategy: Strategy[Any]) -> Any:
        return self.data.draw(strategy)

    def name(self, prefix: str = "") -> str:
        return prefix + self.draw(names(v.MAX_NAME - len(prefix)))

    def names(self) -> tuple[str, ...]:
        return tuple(self.draw(st.lists(names(), min_size=v.MAX_ITEMS, max_size=v.MAX_ITEMS)))

    def text(self) -> str:
        return str(self.draw(texts()))

    def run(self, command_type: type[c.Command], actor: Actor, **fields: Any) -> UUID:
        if self.draw(st.booleans()):
            prefix = f"{self.n}-{next(self.keys)}-"
            fields["idempotency_key"] = prefix + self.draw(identifiers(v.MAX_KEY - len(prefix)))
        command = command_type(**fields)
        assert len(command.model_dump_json().encode()) <= v.MAX_COMMAND_BYTES
        return self.ledger.execute(command, actor).aggregate_id

    def campaign(self) -> tuple[UUID, str, UUID]:
        """Every kind of step; the campaign's id and title and the main activity's id."""
        org, qts = self.organiser, self.qts
        title = self.name(f"{self.n:06} ")
        campaign = self.run(
            c.PlanCampaign,
            org,
            title=title,
            theme=self.name(),
            purpose=self.text(),
            organiser="XA-QPC",
            partners=self.names(),
            starts_on=on(1),
            ends_on=on(30),
        )
        self.run(c.EnlistDepartment, org, campaign_id=campaign, code="XA-QTS", name_zh=self.name(), name_en=self.name())
        self.run(c.LaunchCampaign, org, campaign_id=campaign, launched_on=on(1))
        metrics = [f"m{i:02}" + "x" * 61 for i in range(v.MAX_TARGETS)]
        activity = self.run(
            c.PlanActivity,
            qts,
            campaign_id=campaign,
            title=self.name("A "),
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            partners=self.names(),
            targets=dict.fromkeys(metrics, v.MAX_COUNT),
        )
        self.run(c.ScheduleActivity, qts, activity_id=activity, starts_on=on(2), ends_on=on(3), place=self.name())
        self.run(c.StartActivity, qts, activity_id=activity, started_on=on(2))
        for day in (3, 4, 5):
            self.run(
                c.ReportProgress, qts, activity_id=activity, metric=metrics[0], amount=v.MAX_COUNT, reported_on=on(day)
            )
        self.run(c.CompleteActivity, qts, activity_id=activity, completed_on=on(5), outcome=self.text())
        ceremony = self.run(
            c.PlanActivity,
            qts,
            campaign_id=campaign,
            title=self.name("B "),
            lead_department="XA-QTS",
            focus_area="craftsman-spirit",
            activity_kind="award-ceremony",
        )
        dropped = self.run(
            c.PlanActivity,
            qts,
            campaign_id=campaign,
            title=self.name("C "),
            lead_department="XA-QTS",
            focus_area="livelihood-and-quality-safety",
        )
        self.run(c.PostponeActivity, qts, activity_id=dropped, reason=self.text())
        self.run(c.CancelActivity, qts, activity_id=dropped, reason=self.text())
        inspection = self.run(
            c.PlanInspection,
            qts,
            campaign_id=campaign,
            reference=self.name(),
            inspecting_department="XA-QTS",
            inspection_kind=self.name(),
            subject_name=self.name(),
            product_category=self.name(),
            planned_on=on(4),
        )
        sample = self.draw(identifiers(v.MAX_NAME))
        self.run(
            c.TakeSample,
            qts,
            inspection_id=inspection,
            sample_id=sample,
            product=self.name(),
            batch=self.name(),
            taken_on=on(5),
        )
        self.run(
            c.RecordSampleResult,
            qts,
            inspection_id=inspection,
            sample_id=sample,
            passed=False,
            nonconforming_items=self.names(),
            tested_on=on(8),
        )
        self.run(c.IssueVerdict, qts, inspection_id=inspection, notified_on=on(11))
        self.run(
            c.OrderRectification,
            qts,
            inspection_id=inspection,
            ordered_on=on(12),
            due_on=on(19),
            requirements=self.text(),
        )
        self.run(
            c.VerifyRectification, qts, inspection_id=inspection, verified_on=on(19), passed=False, notes=self.text()
        )
        self.run(
            c.ImposePenalty, qts, inspection_id=inspection, amount=v.MAX_MONEY, reason=self.text(), decided_on=on(20)
        )
        self.run(c.CloseInspection, qts, inspection_id=inspection, closed_on=on(21))
        self.run(
            c.PublishBulletin,
            org,
            campaign_id=campaign,
            title=self.name(),
            published_on=on(22),
            inspection_ids=(inspection,),
        )
        nominee = self.run(
            c.NominateCraftsman,
            qts,
            campaign_id=campaign,
            person=self.name("P "),
            employer=self.name(),
            deeds=self.text(),
            nominating_department="XA-QTS",
        )
        self.run(c.ReviewNomination, org, commendation_id=nominee, approved=True, reviewed_on=on(23))
        self.run(c.ConferCommendation, org, commendation_id=nominee, ceremony_id=ceremony, conferred_on=on(24))
        self.run(
            c.PubliciseCommendation,
            org,
            commendation_id=nominee,
            outlet=self.name(),
            title=self.name(),
            published_on=on(25),
        )
        rejected = self.run(
            c.NominateCraftsman,
            qts,
            campaign_id=campaign,
            person=self.name("Q "),
            employer=self.name(),
            deeds=self.text(),
            nominating_department="XA-QTS",
        )
        self.run(
            c.ReviewNomination, org, commendation_id=rejected, approved=False, reason=self.text(), reviewed_on=on(26)
        )
        # the ceremony is neither completed nor cancelled: concluding needs the override reason
        self.run(
            c.ConcludeCampaign,
            org,
            campaign_id=campaign,
            concluded_on=on(30),
            summary=self.text(),
            override_reason=self.text(),
        )
        return campaign, title, activity


@sharing_the_ledger(10)  # a whole campaign per example
@given(data=st.data())
def test_a_campaign_at_every_bound_is_recorded_and_its_views_hold_it(ledger: Ledger, data: st.DataObject) -> None:
    # given a ledger on each engine; when a whole campaign is run with every value at its bound
    run = AtBounds(ledger, data)
    campaign_id, title, _ = run.campaign()
    # then the views catch up, equal a rebuild from zero, and hold the values as given
    ledger.views.catch_up()
    assert ledger.views.position() == ledger.position()
    status = ledger.campaign_status(campaign_id)
    assert status.title == title.strip()
    assert status.targets[0].achieved == 3 * v.MAX_COUNT
    for actor in (run.organiser, run.qts):
        entries = ledger.audit_trail(actor=actor.user, aggregate_id=campaign_id).entries
        assert entries
        assert {entry.actor for entry in entries} == {actor.user}
    inspections = inspection_register.inspections
    with ledger.views.reading(catch_up=False) as connection:
        query = select(inspections.c.penalty_amount).where(inspections.c.campaign_id == campaign_id)
        assert connection.execute(query).scalar_one() == v.MAX_MONEY
    report = ledger.verify_views()
    assert report.ok, report.differences[:3]


# (b) Fuzzed input ----------------------------------------------------------------------

EDGE_INTEGERS = (
    -(2**63),
    -1,
    0,
    1,
    v.MAX_COUNT,
    v.MAX_COUNT + 1,
    2**31 - 1,
    2**31,
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    10**40,
)
FORBIDDEN = (
    "\x00",
    "\x1b",
    "\r",
    "\x85",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\ud800",
    "\U000e0001",
    "\ufe0f",
)
LENGTHS = (32, 33, 64, 65, v.MAX_USER, v.MAX_USER + 1, v.MAX_NAME, v.MAX_NAME + 1, v.MAX_TEXT, v.MAX_TEXT + 1)


@st.composite
def edge_strings(draw: st.DrawFn) -> str:
    """Text at, or one past, some bound; now and then with a character some field refuses."""
    text = fill("".join(draw(st.lists(TEXT_CHARS, min_size=1, max_size=6))), draw(st.sampled_from(LENGTHS)))
    if draw(one_in(3)):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(FORBIDDEN)) + text[at:]
    return text


def edge_values() -> Strategy[Any]:
    return st.one_of(
        st.sampled_from(EDGE_INTEGERS),
        edge_strings(),
        st.sampled_from([str(v.MAX_MONEY), "999999999999.995", "1e20", "NaN", "-0.00", 1e308]),
        st.integers(v.MAX_ITEMS, v.MAX_ITEMS + 1).map(lambda n: [f"item {i}" for i in range(n)]),
        st.integers(v.MAX_TARGETS, v.MAX_TARGETS + 1).map(lambda n: {f"m{i}": v.MAX_COUNT for i in range(n)}),
    )


def templates(campaign: UUID, activity: UUID, inspection: UUID) -> list[dict[str, Any]]:
    """Commands the busy campaign (below) accepts, but for a name already taken: fuzzing their fields
    at and past the bounds gives inputs that are accepted as often as refused."""
    return [
        {
            "command": "ReportProgress",
            "activity_id": activity,
            "metric": "enterprises",
            "amount": 5,
            "reported_on": "2017-09-03",
        },
        {
            "command": "PlanActivity",
            "campaign_id": campaign,
            "title": "a visit",
            "lead_department": "XA-QTS",
            "focus_area": "craftsman-spirit",
            "partners": ["XA-FDA"],
            "targets": {"experts": 1},
        },
        {
            "command": "PlanInspection",
            "campaign_id": campaign,
            "reference": "QTS-2017-002",
            "inspecting_department": "XA-QTS",
            "inspection_kind": "spot check",
            "subject_name": "西安某公司",
            "product_category": "seeds",
            "planned_on": "2017-09-04",
        },
        {
            "command": "TakeSample",
            "inspection_id": inspection,
            "sample_id": "S2",
            "product": "cable",
            "batch": "B",
            "taken_on": "2017-09-05",
        },
        {
            "command": "NominateCraftsman",
            "campaign_id": campaign,
            "person": "Wang Jianguo",
            "employer": "Xi'an Aero-Engine",
            "deeds": "30 years of turbine blades",
            "nominating_department": "XA-QTS",
        },
        {
            "command": "PlanCampaign",
            "title": "Quality Month 2018",
            "theme": "品質西安",
            "purpose": "",
            "organiser": "XA-QTS",
            "partners": [],
            "starts_on": "2018-09-01",
            "ends_on": "2018-09-30",
        },
    ]


@st.composite
def fuzzed_json(draw: st.DrawFn, ids: tuple[UUID, ...], samples: tuple[str, ...]) -> str | bytes:
    """What ``parse`` may be handed: commands with fields at and past their bounds, nested, cut short, not JSON."""
    shape = draw(st.sampled_from(SHAPES))
    if shape == "text":
        return draw(st.text(max_size=40))
    if shape == "bytes":
        return draw(st.binary(max_size=40))
    templated = shape != "kit" and bool(ids)
    raw = dict(draw(st.sampled_from(templates(*ids)))) if templated else draw(qs.raw_commands(ids, samples))
    for field in [f for f in raw if f != "command"]:
        if draw(one_in(6)):
            raw[field] = draw(edge_values_like(raw[field]))
    text = json.dumps(raw, default=str, ensure_ascii=draw(st.booleans()))
    if shape == "nested":
        depth = draw(st.sampled_from([1, c.MAX_JSON_DEPTH - 1, c.MAX_JSON_DEPTH, 10_000]))
        text = "[" * depth + text + "]" * depth
    if shape == "cut":
        text = text[: draw(st.integers(1, len(text)))]
    if draw(st.booleans()):
        return text.encode("utf-8", "surrogatepass")
    return text


SHAPES = ("command",) * 6 + ("kit",) * 2 + ("nested", "cut", "text", "bytes")
"""How the input is shaped: mostly a command the campaign may accept, with edge values in some fields."""


def one_in(n: int) -> Strategy[bool]:
    return st.integers(1, n).map(lambda k: k == n)


def edge_values_like(value: object) -> Strategy[Any]:
    """Mostly an edge value of ``value``'s own type (so the command may still be accepted), else any."""
    if isinstance(value, str):
        own: Strategy[Any] = edge_strings()
    elif isinstance(value, int) and not isinstance(value, bool):
        own = st.sampled_from(EDGE_INTEGERS)
    elif isinstance(value, list):
        own = st.integers(0, v.MAX_ITEMS + 1).flatmap(lambda n: st.lists(edge_strings(), min_size=n, max_size=n))
    else:
        own = edge_values()
    return st.one_of(own, own, own, edge_values())


@pytest.fixture
def busy(ledger: Ledger) -> tuple[Ledger, tuple[UUID, ...], tuple[str, ...]]:
    """A launched campaign with a started activity and an inspection with a sample, for fuzzed commands to meet."""
    campaign_id = plan_campaign(ledger)
    activity = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="experts into enterprises",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            targets={"experts": 58, "enterprises": 88},
        ),
        QTS,
    ).aggregate_id
    ledger.execute(c.StartActivity(activity_id=activity, started_on=date(2017, 9, 2)), QTS)
    inspection = ledger.execute(
        c.PlanInspection(
            campaign_id=campaign_id,
            reference="QTS-2017-001",
            inspecting_department="XA-QTS",
            inspection_kind="spot check 監(jiān)督抽查",
            subject_name="西安某電線電纜有限公司",
            product_category="wires and cables",
            planned_on=date(2017, 9, 4),
        ),
        QTS,
    ).aggregate_id
    ledger.execute(
        c.TakeSample(inspection_id=inspection, sample_id="S1", product="cable", batch="A", taken_on=date(2017, 9, 5)),
        QTS,
    )
    return ledger, (campaign_id, activity, inspection), ("S1",)


ACTORS = st.one_of(
    st.sampled_from([QTS, QTS, ORGANISER, FDA]),
    st.builds(Actor, user=identifiers(v.MAX_USER), department=st.sampled_from(["XA-QPC", "XA-QTS"])),
)


@sharing_the_ledger()
@given(data=st.data())
def test_fuzzed_input_is_projected_when_accepted_and_a_ledger_error_recording_nothing_when_not(
    busy: tuple[Ledger, tuple[UUID, ...], tuple[str, ...]], data: st.DataObject
) -> None:
    ledger, ids, samples = busy
    # given input of any shape, from an actor of the campaign
    text = data.draw(fuzzed_json(ids, samples), label="input")
    actor = data.draw(ACTORS, label="actor")
    before = event_count(ledger)
    # when it is parsed and executed
    try:
        ledger.execute(c.parse(text), actor)
    except LedgerError as error:  # anything else fails the test
        refusal: LedgerError | None = error
    else:
        refusal = None
    event(type(refusal).__name__ if refusal else "accepted")
    if refusal is not None:
        # then a refusal records nothing
        assert event_count(ledger) == before, f"refused, yet recorded: {refusal}"
    else:
        # then what is accepted projects: the views catch up to the log
        ledger.views.catch_up()
        assert ledger.views.position() == ledger.position()


@settings(max_examples=settings().max_examples * 5)
@given(text=st.one_of(fuzzed_json((), ()), st.text(), st.binary()))
def test_parse_refuses_any_input_only_with_invalid_command(text: str | bytes) -> None:
    try:
        command = c.parse(text)
    except InvalidCommand:
        return
    assert len(command.model_dump_json().encode()) <= v.MAX_COMMAND_BYTES


def test_money_and_counts_at_the_bounds_survive_a_json_round_trip() -> None:
    command = c.ImposePenalty(inspection_id=UUID(int=1), amount=v.MAX_MONEY, reason="r", decided_on=date(2017, 9, 20))
    assert c.parse(command.model_dump_json()) == command
    assert Decimal(json.loads(command.model_dump_json())["amount"]) == v.MAX_MONEY
