"""Hypothesis strategies for values, commands and whole campaign scenarios.

Real input to this library is messy: Traditional Chinese with conversion
debris (``監(jiān)`` is 监 followed by its pinyin), mixed scripts, full-width
letters. The value strategies lean towards that on purpose, so a service's
tests meet such text before its users do.

Command strategies come in two kinds:

* *plausible* ones (:func:`scenarios`, :func:`inspection_lifecycles`,
  :func:`activity_lifecycles`) follow the business lifecycle in order, with
  consistent dates, so most steps succeed and the deep states (re-tests,
  rectifications, closing) are reached; with ``noise`` some steps get the
  wrong actor or are repeated, and are refused;
* *arbitrary* ones (:func:`raw_commands`) are JSON-like dicts with any field
  values, valid or not, for "whatever comes in, the ledger refuses it
  cleanly" properties (feed them to :func:`quality_ledger.commands.parse_obj`).

Aggregate ids derive from natural keys, so a scenario knows every id before
anything runs and can be replayed on as many ledgers as a test likes.
"""

from __future__ import annotations

import enum
import functools
import string
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Union
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.values import ActivityKind, Actor, FocusArea, SubjectKind

__all__ = [
    "DEPARTMENTS",
    "GLOSSES",
    "ORGANISER",
    "REFERENCE_PERIOD",
    "Scenario",
    "Step",
    "activity_lifecycles",
    "actors",
    "calendar_dates",
    "campaign_periods",
    "cjk_text",
    "dates_within",
    "department_codes",
    "end_of_calendar_periods",
    "glossed",
    "inspection_lifecycles",
    "metrics",
    "mixed_script_text",
    "names",
    "pinyin",
    "plan_campaigns",
    "raw_commands",
    "sample_ids",
    "scenarios",
    "shift",
    "texts",
    "user_names",
]

Strategy = st.SearchStrategy

ORGANISER = "XA-QPC"
"""The reference case's organiser: the Quality-Strong City Work Promotion Committee Office."""

DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("XA-QTS", "市质监局", "Quality and Technical Supervision Bureau"),
    ("XA-DRC", "市发改委", "Development and Reform Commission"),
    ("XA-CON", "市建委", "Urban-Rural Construction Commission"),
    ("XA-COM", "市商务局", "Commerce Bureau"),
    ("XA-IIT", "市工信委", "Industry and Information Technology Commission"),
    ("XA-EDU", "市教育局", "Education Bureau"),
    ("XA-AGF", "市农林委", "Agriculture and Forestry Commission"),
    ("XA-FDA", "市食品药监局", "Food and Drug Administration"),
    ("XA-AIC", "市工商局", "Administration for Industry and Commerce"),
    ("XA-HFP", "市卫计委", "Health and Family Planning Commission"),
    ("XA-TRA", "市交通局", "Transport Bureau"),
    ("XA-TOU", "市旅游局", "Tourism Bureau"),
)
"""The twelve municipal departments of the reference case: code, Chinese and English names."""

REFERENCE_PERIOD = (date(2017, 9, 1), date(2017, 9, 30))
"""Xi'an's 2017 Quality Month."""

GLOSSES: tuple[tuple[str, str], ...] = (
    ("監", "jiān"),
    ("發", "fā"),
    ("質", "zhì"),
    ("檢", "jiǎn"),
    ("測", "cè"),
    ("產", "chǎn"),
    ("標", "biāo"),
    ("準", "zhǔn"),
    ("護", "hù"),
    ("維", "wéi"),
    ("導", "dǎo"),
    ("電", "diàn"),
    ("線", "xiàn"),
    ("纜", "lǎn"),
    ("業", "yè"),
    ("務", "wù"),
)
"""Characters the reference text glosses with pinyin, as its conversion left them."""

WORDS = (
    "質量月",
    "品質西安",
    "監督抽查",
    "電線電纜",
    "纖維製品",
    "裝飾裝修材料",
    "種子質量",
    "加油站計量",
    "電梯",
    "西安市",
    "陝西省質監局",
    "工匠精神",
    "質量強市",
    "Quality Month",
    "Xi'an",
    "QC小組",
    "2017年",
    "\uff38\uff29\u2019\uff21\uff2e",  # full-width XI'AN, as NFKC-unaware input has it
)

INSPECTION_KINDS = (
    "special rectification",
    "spot check 監(jiān)督抽查",
    "market-circulation sampling",
    "metrology check",
    "construction quality sampling",
)
PRODUCT_CATEGORIES = ("wires and cables", "電線電纜", "fibre textiles", "decoration materials", "seeds", "elevators")

_PINYIN_LETTERS = "abcdefghjklmnopqrstwxyzāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
_BLANKS = ("", " ", "\t", "\u3000", " \n ")
_CODE = r"[A-Z][A-Z0-9]{0,5}(-[A-Z0-9]{1,5}){0,2}"


# Values -----------------------------------------------------------------------


@functools.cache
def department_codes() -> Strategy[str]:
    """Valid department codes: the reference case's, and made-up ones like ``Q7-X``."""
    known = st.sampled_from([ORGANISER, *(code for code, _, _ in DEPARTMENTS)])
    return st.one_of(known, st.from_regex(_CODE, fullmatch=True))


@functools.cache
def metrics() -> Strategy[str]:
    """Progress metric names, e.g. ``experts`` (58) and ``enterprises`` (88)."""
    return st.one_of(
        st.sampled_from(["experts", "enterprises", "participants", "samples"]),
        st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True),
    )


def shift(day: date, days: int) -> date:
    """``day`` moved by ``days``, held inside the calendar rather than overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


@functools.cache
def dates_within(starts_on: date, ends_on: date) -> Strategy[date]:
    """Dates in a campaign's period, both ends included."""
    return st.dates(min_value=starts_on, max_value=ends_on)


@functools.cache
def campaign_periods(
    min_value: date = date(2000, 1, 1), max_value: date = date(2099, 12, 31), *, max_days: int = 92
) -> Strategy[tuple[date, date]]:
    """``(starts_on, ends_on)`` inside ``[min_value, max_value]``, at most ``max_days`` long."""

    @st.composite
    def period(draw: st.DrawFn) -> tuple[date, date]:
        starts_on = draw(st.dates(min_value=min_value, max_value=max_value))
        ends_on = min(shift(starts_on, draw(st.integers(0, max_days))), max_value)
        return starts_on, ends_on

    return period()


@functools.cache
def end_of_calendar_periods() -> Strategy[tuple[date, date]]:
    """Periods in the calendar's last three weeks, where date arithmetic overflows."""
    return campaign_periods(date.max - timedelta(days=20), date.max, max_days=20)


@functools.cache
def calendar_dates() -> Strategy[date]:
    """Any date at all, with the calendar's edges far likelier than uniform drawing makes them."""
    edges = st.one_of(
        st.dates(max_value=date.min + timedelta(days=31)),
        st.dates(min_value=date.max - timedelta(days=31)),
    )
    return st.one_of(st.dates(), edges)


@functools.cache
def cjk_text(min_size: int = 1, max_size: int = 8) -> Strategy[str]:
    """Chinese characters, including the astral-plane extension B (4 bytes in UTF-8)."""
    han = st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF, categories=["Lo"]),
        st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF, categories=["Lo"]),
        st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF, categories=["Lo"]),
    )
    return st.text(alphabet=han, min_size=min_size, max_size=max_size)


@functools.cache
def pinyin() -> Strategy[str]:
    """Pinyin syllables with tone marks, as in the glosses."""
    return st.one_of(
        st.sampled_from([p for _, p in GLOSSES]),
        st.text(alphabet=_PINYIN_LETTERS, min_size=1, max_size=6),
    )


def _gloss(parts: tuple[str, str]) -> str:
    return f"{parts[0]}({parts[1]})"


@functools.cache
def glossed() -> Strategy[str]:
    """Conversion debris: one CJK character followed by its pinyin in brackets, e.g. ``監(jiān)``."""
    known = st.sampled_from([_gloss(g) for g in GLOSSES])
    made = st.tuples(cjk_text(1, 1), pinyin()).map(_gloss)
    return st.one_of(known, made)


def _join(pieces: list[tuple[str, str]]) -> str:
    text = "".join(piece + separator for piece, separator in pieces)
    return text[: len(text) - len(pieces[-1][1])]


@functools.cache
def mixed_script_text(max_pieces: int = 5) -> Strategy[str]:
    """Words of several scripts run together: CJK, glosses, Latin, full-width, others, combining marks."""
    piece = st.one_of(
        st.sampled_from(WORDS),
        cjk_text(1, 4),
        glossed(),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8),
        st.text(alphabet=st.characters(min_codepoint=0xFF21, max_codepoint=0xFF5A, categories=["L"]), min_size=1),
        st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=6),
        st.sampled_from(["e\u0301", "ü", "Ǖ", "Å", "ﬁ", "Ⅻ"]),
    )
    separator = st.sampled_from(["", " ", "·", "-", "\u3000", "\uff0c", "、", "/", "\uff08", "\uff09", "'"])
    return st.lists(st.tuples(piece, separator), min_size=1, max_size=max_pieces).map(_join)


@functools.cache
def names() -> Strategy[str]:
    """Names and titles as services receive them: non-blank, rich in Unicode."""
    return st.one_of(st.sampled_from(WORDS), cjk_text(), glossed(), mixed_script_text())


@functools.cache
def sample_ids() -> Strategy[str]:
    """Sample ids: lab-style (``S-017``) or names as printed on a seal."""
    return st.one_of(st.from_regex(r"S-?[0-9]{1,3}", fullmatch=True), names())


@functools.cache
def user_names() -> Strategy[str]:
    return st.one_of(st.from_regex(r"[a-z]{2,6}\.[a-z]{2,6}", fullmatch=True), names())


def actors(departments: Sequence[str] | None = None) -> Strategy[Actor]:
    """Actors of the given departments, or of any valid department code."""
    return _actors(tuple(departments or ()))


@functools.cache
def _actors(departments: tuple[str, ...]) -> Strategy[Actor]:
    codes = st.sampled_from(departments) if departments else department_codes()
    return st.builds(Actor, user=user_names(), department=codes)


@functools.cache
def _one_in(n: int) -> Strategy[bool]:
    """True about once in ``n`` draws. Shrinks to False: the ordinary case, so
    a minimal failing example keeps only the unusual turns it needs."""
    return st.integers(1, n).map(lambda k: k == n)


# Plausible commands -------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command and who issues it."""

    command: c.Command
    actor: Actor


@dataclass(frozen=True)
class Scenario:
    """A campaign's commands in the order a service would issue them, and the ids they name."""

    campaign_id: UUID
    departments: tuple[str, ...]
    activity_ids: tuple[UUID, ...]
    inspection_ids: tuple[UUID, ...]
    sample_ids: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def aggregate_ids(self) -> tuple[UUID, ...]:
        return (self.campaign_id, *self.activity_ids, *self.inspection_ids)


class _Clock:
    """Business dates that only move forward, as a lifecycle's do."""

    def __init__(self, draw: st.DrawFn, today: date) -> None:
        self.draw = draw
        self.today = today

    def later(self, max_days: int = 3) -> date:
        self.today = shift(self.today, self.draw(st.integers(0, max_days)))
        return self.today


def plan_campaigns(
    periods: Strategy[tuple[date, date]] | None = None, organiser: str = ORGANISER
) -> Strategy[c.PlanCampaign]:
    """``PlanCampaign`` commands with Unicode-rich titles and themes."""

    @st.composite
    def plan(draw: st.DrawFn) -> c.PlanCampaign:
        starts_on, ends_on = draw(campaign_periods() if periods is None else periods)
        return c.PlanCampaign(
            title=draw(names()),
            theme=draw(names()),
            purpose=draw(st.one_of(st.just(""), names())),
            organiser=organiser,
            partners=tuple(draw(st.lists(names(), max_size=2))),
            starts_on=starts_on,
            ends_on=ends_on,
        )

    return plan()


def activity_lifecycles(campaign_id: UUID, lead: Actor, period: tuple[date, date]) -> Strategy[tuple[UUID, list[Step]]]:
    """An activity's id and its steps: planned, maybe scheduled or postponed,
    started, progress reported, then completed, cancelled or left running."""

    @st.composite
    def lifecycle(draw: st.DrawFn) -> tuple[UUID, list[Step]]:
        targets = draw(st.dictionaries(metrics(), st.integers(1, 200), max_size=2))
        plan = c.PlanActivity(
            campaign_id=campaign_id,
            title=draw(names()),
            lead_department=lead.department,
            focus_area=draw(st.sampled_from(FocusArea)),
            activity_kind=draw(st.sampled_from(ActivityKind)),
            targets=targets,
        )
        activity_id = plan.new_id()
        clock = _Clock(draw, draw(dates_within(*period)))
        commands: list[c.Command] = [plan]
        if draw(st.booleans()):
            starts_on = clock.later()
            ends_on = clock.later(10)
            place = draw(names())
            commands.append(
                c.ScheduleActivity(activity_id=activity_id, starts_on=starts_on, ends_on=ends_on, place=place)
            )
        if draw(_one_in(4)):
            commands.append(c.PostponeActivity(activity_id=activity_id, reason=draw(names())))
            starts_on = clock.later(10)
            ends_on = clock.later(10)
            place = draw(names())
            commands.append(
                c.ScheduleActivity(activity_id=activity_id, starts_on=starts_on, ends_on=ends_on, place=place)
            )
        commands.append(c.StartActivity(activity_id=activity_id, started_on=clock.later()))
        for metric in draw(st.lists(st.sampled_from(tuple(sorted(targets))), max_size=3)) if targets else []:
            amount = draw(st.integers(0, 60))
            commands.append(
                c.ReportProgress(activity_id=activity_id, metric=metric, amount=amount, reported_on=clock.later())
            )
        ending = draw(st.sampled_from(("complete", "complete", "cancel", "running")))
        if ending == "complete":
            commands.append(
                c.CompleteActivity(activity_id=activity_id, completed_on=clock.later(), outcome=draw(names()))
            )
        elif ending == "cancel":
            commands.append(c.CancelActivity(activity_id=activity_id, reason=draw(names())))
        return activity_id, [Step(command, lead) for command in commands]

    return lifecycle()


def inspection_lifecycles(
    campaign_id: UUID, inspector: Actor, period: tuple[date, date], activity_ids: Sequence[UUID] = ()
) -> Strategy[tuple[UUID, list[Step]]]:
    """An inspection's id and its steps, following the spot-check path:
    planned, samples taken and tested, verdict, objections and re-tests, then
    rectification (verified), penalty or transfer, and closing. Dates move
    forward; an objection now and then comes after the 15-day window."""

    @st.composite
    def lifecycle(draw: st.DrawFn) -> tuple[UUID, list[Step]]:
        plan = c.PlanInspection(
            campaign_id=campaign_id,
            activity_id=draw(st.one_of(st.none(), st.sampled_from(tuple(activity_ids)))) if activity_ids else None,
            reference=draw(names()),
            inspecting_department=inspector.department,
            inspection_kind=draw(st.sampled_from(INSPECTION_KINDS)),
            subject_name=draw(names()),
            subject_kind=draw(st.sampled_from(SubjectKind)),
            product_category=draw(st.one_of(st.sampled_from(PRODUCT_CATEGORIES), names())),
            planned_on=draw(dates_within(*period)),
        )
        inspection_id = plan.new_id()
        clock = _Clock(draw, plan.planned_on)
        commands: list[c.Command] = [plan]
        samples = draw(st.lists(sample_ids(), min_size=1, max_size=3, unique_by=str.strip))
        for sample_id in samples:
            commands.append(
                c.TakeSample(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    product=draw(names()),
                    batch=draw(st.from_regex(r"[0-9]{6}-[A-Z]", fullmatch=True)),
                    taken_on=clock.later(),
                )
            )
        failed: set[str] = set()
        for sample_id in samples:
            passed = draw(st.booleans())
            items = () if passed else tuple(draw(st.lists(names(), min_size=1, max_size=2)))
            if not passed:
                failed.add(sample_id)
            commands.append(
                c.RecordSampleResult(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    passed=passed,
                    nonconforming_items=items,
                    tested_on=clock.later(),
                )
            )
        notified_on = clock.later()
        commands.append(c.IssueVerdict(inspection_id=inspection_id, notified_on=notified_on))
        objected = draw(st.lists(st.sampled_from(tuple(sorted(failed))), unique=True)) if failed else []
        for sample_id in objected:
            lodged_on = shift(notified_on, draw(st.integers(0, 17)))
            clock.today = max(clock.today, lodged_on)
            commands.append(c.ObjectToResult(inspection_id=inspection_id, sample_id=sample_id, lodged_on=lodged_on))
        for sample_id in objected:
            passed = draw(st.booleans())
            items = () if passed else tuple(draw(st.lists(names(), min_size=1, max_size=2)))
            if passed:
                failed.discard(sample_id)
            commands.append(
                c.RecordRetestResult(
                    inspection_id=inspection_id,
                    sample_id=sample_id,
                    passed=passed,
                    nonconforming_items=items,
                    tested_on=clock.later(),
                )
            )
        if failed:
            commands.extend(draw(_follow_ups(inspection_id, clock)))
        if not draw(_one_in(5)):
            commands.append(c.CloseInspection(inspection_id=inspection_id, closed_on=clock.later()))
        return inspection_id, [Step(command, inspector) for command in commands]

    return lifecycle()


def _follow_ups(inspection_id: UUID, clock: _Clock) -> Strategy[list[c.Command]]:
    """What follows a nonconforming verdict: rectification, penalty, transfer, or nothing yet."""

    @st.composite
    def follow_ups(draw: st.DrawFn) -> list[c.Command]:
        path = draw(st.sampled_from(("rectify", "rectify", "penalty", "transfer", "nothing")))
        commands: list[c.Command] = []
        if path == "rectify":
            ordered_on = clock.later()
            commands.append(
                c.OrderRectification(
                    inspection_id=inspection_id,
                    ordered_on=ordered_on,
                    due_on=shift(ordered_on, 30 - draw(st.integers(0, 30))),
                    requirements=draw(names()),
                )
            )
            if draw(_one_in(5)):
                return commands  # not followed up yet
            passed = draw(st.booleans())
            notes = draw(st.one_of(st.just(""), names()))
            commands.append(
                c.VerifyRectification(
                    inspection_id=inspection_id, verified_on=clock.later(10), passed=passed, notes=notes
                )
            )
            if passed:
                return commands
            path = draw(st.sampled_from(("penalty", "transfer", "nothing")))
        if path == "penalty":
            amount = draw(st.decimals(min_value=0, max_value=1_000_000, places=2))
            commands.append(
                c.ImposePenalty(
                    inspection_id=inspection_id, amount=amount, reason=draw(names()), decided_on=clock.later()
                )
            )
        elif path == "transfer":
            commands.append(
                c.TransferCase(inspection_id=inspection_id, authority=draw(names()), transferred_on=clock.later())
            )
        return commands

    return follow_ups()


def _interleave(draw: st.DrawFn, streams: list[list[Step]]) -> list[Step]:
    """Merge the streams, each kept in its own order, as concurrent work would."""
    merged: list[Step] = []
    pending = [list(s) for s in streams if s]
    while pending:
        stream = pending[draw(st.integers(0, len(pending) - 1))]
        merged.append(stream.pop(0))
        pending = [s for s in pending if s]
    return merged


def scenarios(
    periods: Strategy[tuple[date, date]] | None = None,
    *,
    max_activities: int = 2,
    max_inspections: int = 3,
    noise: bool = False,
) -> Strategy[Scenario]:
    """A whole campaign: planned, departments enlisted, launched; activities
    and inspections run side by side; concluded (with or without an override).

    With ``noise``, about one step in eight is issued by a random actor or
    repeated, so some commands are refused along the way. Ids derive from
    natural keys, so the same scenario replays identically on any ledger.
    """

    @st.composite
    def scenario(draw: st.DrawFn) -> Scenario:
        organiser = draw(actors([ORGANISER]))
        plan = draw(plan_campaigns(periods))
        campaign_id = plan.new_id()
        period = (plan.starts_on, plan.ends_on)
        enlisted = draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, max_size=3, unique_by=lambda d: d[0]))
        clerks = {code: draw(actors([code])) for code, _, _ in enlisted}
        head = [Step(plan, organiser)]
        for code, name_zh, name_en in enlisted:
            enlist = c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh=name_zh, name_en=name_en)
            head.append(Step(enlist, organiser))
        launched_on = draw(dates_within(*period))
        if not draw(_one_in(6)):
            head.append(Step(c.LaunchCampaign(campaign_id=campaign_id, launched_on=launched_on), organiser))

        streams: list[list[Step]] = []
        activity_ids: list[UUID] = []
        for _ in range(draw(st.integers(0, max_activities))):
            lead = clerks[draw(st.sampled_from(tuple(sorted(clerks))))]
            activity_id, steps = draw(activity_lifecycles(campaign_id, lead, period))
            activity_ids.append(activity_id)
            streams.append(steps)
        inspection_ids: list[UUID] = []
        samples: set[str] = set()
        for _ in range(draw(st.integers(0, max_inspections))):
            inspector = clerks[draw(st.sampled_from(tuple(sorted(clerks))))]
            inspection_id, steps = draw(inspection_lifecycles(campaign_id, inspector, period, activity_ids))
            inspection_ids.append(inspection_id)
            samples.update(s.command.sample_id for s in steps if isinstance(s.command, c.TakeSample))
            streams.append(steps)
        body = _interleave(draw, streams)

        conclude = c.ConcludeCampaign(
            campaign_id=campaign_id,
            concluded_on=shift(launched_on, draw(st.integers(0, 40))),
            summary=draw(names()),
            override_reason=draw(st.one_of(st.none(), names())),
        )
        body.insert(len(body) - draw(st.integers(0, len(body) // 2)), Step(conclude, organiser))
        steps = head + body
        if noise:
            steps = _with_noise(draw, steps)
        return Scenario(
            campaign_id=campaign_id,
            departments=tuple(code for code, _, _ in enlisted),
            activity_ids=tuple(dict.fromkeys(activity_ids)),
            inspection_ids=tuple(dict.fromkeys(inspection_ids)),
            sample_ids=tuple(sorted(samples)),
            steps=tuple(steps),
        )

    return scenario()


def _with_noise(draw: st.DrawFn, steps: list[Step]) -> list[Step]:
    noisy: list[Step] = []
    for step in steps:
        match draw(st.integers(0, 15)):
            case 15:
                noisy.append(Step(step.command, draw(actors())))
            case 14:
                noisy.extend([step, step])
            case _:
                noisy.append(step)
    return noisy


# Arbitrary input -----------------------------------------------------------------


@functools.cache
def texts() -> Strategy[str]:
    """Any text a caller might send: names, blanks, arbitrary code points."""
    return st.one_of(names(), st.sampled_from(_BLANKS), st.text(max_size=12))


_DEPARTMENT_FIELDS = frozenset(
    {"organiser", "code", "lead_department", "inspecting_department", "nominating_department"}
)


@functools.cache
def _junk() -> Strategy[Any]:
    return st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2))


def _field_values(name: str, annotation: Any, ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[Any]:
    """Values for one command field: mostly of its type (valid or not), now and then junk."""
    proper = _typed_values(name, annotation, ids, samples)
    return _one_in(10).flatmap(lambda rare: _junk() if rare else proper)


def _typed_values(name: str, annotation: Any, ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _typed_values(name, args[0], ids, samples)
    if origin in (Union, types.UnionType):
        options = [_typed_values(name, a, ids, samples) for a in args if a is not type(None)]
        return st.one_of(st.none(), *options)
    if origin is tuple:
        return st.lists(_typed_values(name, args[0], ids, samples), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(st.one_of(metrics(), texts()), st.integers(-3, 300), max_size=3)
    if annotation is UUID:
        return st.one_of(st.sampled_from(ids), st.uuids()) if ids else st.uuids()
    scalar = _SCALARS.get(annotation)
    if scalar is not None:
        return scalar
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.one_of(st.sampled_from(tuple(member.value for member in annotation)), texts())
    if name == "sample_id":
        return st.one_of(st.sampled_from(samples), texts()) if samples else texts()
    if name in _DEPARTMENT_FIELDS:
        return st.one_of(department_codes(), texts())
    return texts()


_SCALARS: dict[Any, Strategy[Any]] = {
    date: calendar_dates(),
    bool: st.booleans(),
    int: st.integers(-10, 10**6),
    Decimal: st.decimals(),
}


def raw_commands(ids: Sequence[UUID] = (), samples: Sequence[str] = ()) -> Strategy[dict[str, Any]]:
    """JSON-like command objects of every kind with arbitrary field values.

    Ids and sample ids come from ``ids`` and ``samples`` where given (so some
    commands reach real aggregates), or are made up; dates range over the
    whole calendar; a field may be missing, of the wrong type, or extra.
    """
    return _raw_commands(tuple(ids), tuple(samples))


@functools.cache
def _raw_commands(ids: tuple[UUID, ...], samples: tuple[str, ...]) -> Strategy[dict[str, Any]]:
    fields = {
        command: {
            name: _field_values(name, field.annotation, ids, samples)
            for name, field in command.model_fields.items()
            if name != "command"
        }
        for command in c.ALL
    }

    @st.composite
    def raw(draw: st.DrawFn) -> dict[str, Any]:
        command = draw(st.sampled_from(c.ALL))
        data: dict[str, Any] = {"command": command.__name__}
        for name, values in fields[command].items():
            if name == "idempotency_key" and not draw(_one_in(6)):
                continue
            if draw(_one_in(16)):
                continue  # missing, required or not
            data[name] = draw(values)
        if draw(_one_in(20)):
            data["colour"] = draw(texts())
        return data

    return raw()
