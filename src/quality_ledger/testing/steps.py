"""Commands for a state machine: the valid next steps of a ledger state, and
any command, possibly invalid, aimed at what it holds or as raw input.

:func:`commands_for` draws what the ledger accepts now; :func:`any_commands_for`
draws commands of every kind aimed at what exists, many out of turn, which the
rules must refuse; :func:`raw_commands` draws JSON-like dicts with any field
values, for :func:`quality_ledger.commands.parse_obj`.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Union
from uuid import UUID

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.activity import ActivityView
from quality_ledger.domain.campaign import CampaignView
from quality_ledger.domain.commendation import CommendationView
from quality_ledger.domain.inspection import InspectionView
from quality_ledger.domain.rules import OBJECTION_WINDOW, WindowRule
from quality_ledger.domain.transitions import (
    ACTIVITY,
    CAMPAIGN,
    COMMENDATION,
    FINAL_CONFORMING,
    FINISHED_ACTIVITY,
    INSPECTION,
    Lifecycle,
)
from quality_ledger.domain.values import ActivityKind, Actor, FocusArea, SubjectKind, Verdict
from quality_ledger.policy import responsible_departments
from quality_ledger.testing.lifecycles import Step, plan_campaigns
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import (
    _BLANKS,
    DEPARTMENTS,
    INSPECTION_KINDS,
    ORGANISER,
    PRODUCT_CATEGORIES,
    REFERENCE_PERIOD,
    WORDS,
    _one_in,
    calendar_dates,
    dates_within,
    department_codes,
    metrics,
    names,
    sample_ids,
    shift,
    user_names,
)

__all__ = ["WINDOW_EDGES", "EdgeStep", "any_commands_for", "commands_for", "edge_steps", "raw_commands", "texts"]

Strategy = st.SearchStrategy

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


# Commands for a ledger state -------------------------------------------------------
#
# For state machines: from what a ledger holds now (a LedgerState), the next
# step of some aggregate's lifecycle, valid by every rule; or any command
# aimed at what it holds, valid or not. Both are drawn procedurally inside one
# composite per call: building a tree of strategies for every aggregate at
# every step would cost more than executing the command.

Move = Callable[[st.DrawFn], Step]
"""Draws one step of one aggregate's lifecycle."""
Tagged = tuple[type[c.Command], Move]
"""A move and the kind of command it makes."""
Maker = Callable[[st.DrawFn], c.Command]
"""Draws one command (its actor is drawn apart)."""
Offer = tuple[str, type[c.Command], Maker, bool]
"""A move an aggregate could make: its command method in the transition table, the
kind of command, its maker, and whether what the status does not say allows it."""


def _allowed(
    lifecycle: Lifecycle[Any], status: Any, offers: Sequence[Offer], holds: Sequence[str] = ()
) -> list[tuple[type[c.Command], Maker]]:
    """The offers the transition table allows from ``status``, in the order given."""
    return [(kind, maker) for method, kind, maker, ok in offers if ok and lifecycle.allows(method, status, holds)]


_CREATING = frozenset({c.PlanCampaign, c.EnlistDepartment, c.PlanActivity, c.PlanInspection, c.NominateCraftsman})
"""Kinds of command that add to a campaign rather than take something further."""

_ENOUGH_DEPARTMENTS = 4
"""Enlisting is offered until a campaign has this many departments: more only dilutes the steps."""


def commands_for(
    state: LedgerState,
    *,
    periods: Strategy[tuple[date, date]] | None = None,
    organiser: str = ORGANISER,
    max_campaigns: int = 1,
    focus: UUID | None = None,
) -> Strategy[Step]:
    """A step the ledger accepts in ``state``: a command and the actor responsible for it.

    Each aggregate offers the steps its lifecycle allows now, with dates
    that keep its rules (tested on or after sampling, objected within the
    window, due after the order, ...). Deep states need long lifecycles, so
    two draws in three take the ``focus`` aggregate further if it can go
    further (a state machine passes the one its last step touched), two in
    three of the others take something further rather than add to a
    campaign, and concluding a campaign is rare. A new campaign (by
    ``organiser``, in one of ``periods``) is offered while ``state`` holds
    fewer than ``max_campaigns``, and whenever nothing else can happen, so
    the strategy is never empty.
    """
    return _next_step(state, periods, organiser, max_campaigns, focus)


@st.composite
def _next_step(
    draw: st.DrawFn,
    state: LedgerState,
    periods: Strategy[tuple[date, date]] | None,
    organiser: str,
    max_campaigns: int,
    focus: UUID | None,
) -> Step:
    focused = _moves(state, focus) if focus is not None else {}
    if focused and not draw(_one_in(3)):
        return draw(_pick(focused[_pick_kind(draw, focused)]))(draw)
    moves = _moves(state)
    if len(state.campaigns) < max_campaigns or not moves:
        moves.setdefault(c.PlanCampaign, []).append(_new_campaign(state, periods, organiser))
    # Concluding ends every lifecycle of a campaign: rarely, unless nothing else is left.
    if c.ConcludeCampaign in moves and len(moves) > 1 and not draw(_one_in(10)):
        del moves[c.ConcludeCampaign]
    # Two times in three, a step of what exists rather than something new: deep states need long lifecycles.
    advancing = [kind for kind in moves if kind not in _CREATING]
    kind = _pick_kind(draw, advancing if advancing and not draw(_one_in(3)) else moves)
    move = draw(_pick(moves[kind]))
    return move(draw)


def _pick_kind(draw: st.DrawFn, available: typing.Collection[type[c.Command]]) -> type[c.Command]:
    """One of the ``available`` kinds of command, uniformly; in :data:`_KINDS`'s
    order, so the draws hypothesis favours (and shrinks to) go deepest."""
    return draw(_pick([kind for kind in _KINDS if kind in available]))


_KINDS: tuple[type[c.Command], ...] = (
    c.TakeSample,
    c.RecordSampleResult,
    c.IssueVerdict,
    c.ObjectToResult,
    c.RecordRetestResult,
    c.OrderRectification,
    c.VerifyRectification,
    c.ImposePenalty,
    c.TransferCase,
    c.CloseInspection,
    c.StartActivity,
    c.ScheduleActivity,
    c.ReportProgress,
    c.CompleteActivity,
    c.PostponeActivity,
    c.CancelActivity,
    c.ReviewNomination,
    c.ConferCommendation,
    c.PubliciseCommendation,
    c.LaunchCampaign,
    c.PublishBulletin,
    c.ConcludeCampaign,
    c.PlanInspection,
    c.PlanActivity,
    c.NominateCraftsman,
    c.EnlistDepartment,
    c.PlanCampaign,
)
"""Every kind of command: lifecycle steps first, the deepest lifecycle (inspections) leading; creations last."""


def _moves(state: LedgerState, aggregate_id: UUID | None = None) -> dict[type[c.Command], list[Move]]:
    """Every lifecycle step ``state`` allows now (not a new campaign), by kind of
    command; of one aggregate only, if ``aggregate_id`` is given."""

    def of(views: Mapping[UUID, T]) -> list[T]:
        if aggregate_id is None:
            return list(views.values())
        return [views[aggregate_id]] if aggregate_id in views else []

    campaigns = of(state.campaigns)
    tagged = [
        *(m for campaign in campaigns for m in _campaign_moves(state, campaign)),
        *(m for campaign in campaigns for m in _creation_moves(state, campaign)),
        *(m for a in of(state.activities) for m in _activity_moves(state, state.campaigns[a.campaign_id], a)),
        *(m for inspection in of(state.inspections) for m in _inspection_moves(state, inspection)),
        *(m for commendation in of(state.commendations) for m in _commendation_moves(state, commendation)),
    ]
    moves: dict[type[c.Command], list[Move]] = {}
    for kind, move in tagged:
        moves.setdefault(kind, []).append(move)
    return moves


T = typing.TypeVar("T")


def _pick(options: Sequence[T]) -> Strategy[T]:
    """One of ``options``, uniformly."""
    return st.sampled_from(options)


def _actor_of(departments: Sequence[str]) -> Strategy[Actor]:
    return st.builds(Actor, user=_users(), department=_pick(departments))


class _Known:
    """What ``state`` holds, as the authorization rules ask for it
    (:class:`~quality_ledger.policy.Parties`): ``None`` for what it does not hold."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state

    def campaign(self, campaign_id: UUID) -> CampaignView | None:
        return self.state.campaigns.get(campaign_id)

    def activity(self, activity_id: UUID) -> ActivityView | None:
        return self.state.activities.get(activity_id)

    def inspection(self, inspection_id: UUID) -> InspectionView | None:
        return self.state.inspections.get(inspection_id)

    def commendation(self, commendation_id: UUID) -> CommendationView | None:
        return self.state.commendations.get(commendation_id)


def _responsible(state: LedgerState, command: c.Command) -> list[str]:
    """The departments that may issue ``command`` in ``state``, as the ledger's own
    rules say (:func:`~quality_ledger.policy.responsible_departments`): asked, not copied."""
    return sorted(responsible_departments(command, _Known(state)))


def _issuer(draw: st.DrawFn, state: LedgerState, command: c.Command) -> Step:
    """``command`` with an actor of a department responsible for it (a step the default policy accepts)."""
    return Step(command, draw(_actor_of(_responsible(state, command))))


NAME_POOL: tuple[str, ...] = (
    *WORDS,
    "監(jiān)督抽查",
    "質(zhì)量強市",
    "西安市質(zhì)監(jiān)局",
    "電(diàn)線電(diàn)纜",
    "產(chǎn)品標(biāo)準(zhǔn)",
    "陕西省质监局",
    "建设品质西安",
    "王師傅（焊工）",
    "QC小組·Xi'an",
    "Quality Month 質量月",
    "e\u0301lectrique 電線",
    "ﬁbre 纖維製品",
    "Ⅻ月 2017",
    "𠀀𠀁 工匠",
    "𪚥精神",
    "Åsa Öberg",
    "Nguyễn Thị Hoa",
    "Пётр Иванов",
    "محمد 質檢",
    "Ｑｕａｌｉｔｙ\u3000月",
    "西安\u3000品質",
)
"""Names as services receive them, fixed: one choice each, where :func:`names` takes dozens."""

USER_POOL: tuple[str, ...] = (
    "zhang.min",
    "li.wei",
    "chen.jing",
    "wu.gang",
    "王芳",
    "監(jiān)察員",
    "ｗａｎｇ．ｆａｎｇ",
)


@functools.cache
def _words() -> Strategy[str]:
    """Names for the steps of a state machine: from :data:`NAME_POOL` seven
    times in eight, else :func:`names`. A program draws hundreds of them, and
    hypothesis cuts short the programs whose draws run long."""
    return _one_in(8).flatmap(lambda rich: names() if rich else _pick(NAME_POOL))


@functools.cache
def _users() -> Strategy[str]:
    return _one_in(8).flatmap(lambda rich: user_names() if rich else _pick(USER_POOL))


def _day_within(draw: st.DrawFn, campaign: CampaignView) -> date:
    """A day of the campaign's period."""
    return draw(dates_within(campaign.starts_on, campaign.ends_on))


def _on_or_after(draw: st.DrawFn, day: date, max_days: int = 10) -> date:
    """A date from ``day`` to ``max_days`` later (held at the calendar's end)."""
    return shift(day, draw(st.integers(0, max_days)))


Keyed = typing.TypeVar(
    "Keyed", c.PlanCampaign, c.PlanActivity, c.PlanInspection, c.NominateCraftsman, c.PublishBulletin
)


def _unique(command: Keyed, name: str, taken: Container[UUID]) -> Keyed:
    """``command``, with the text field ``name`` numbered if the id it derives is ``taken``."""
    base, n = getattr(command, name), 1
    while command.new_id() in taken:
        n += 1
        command = command.model_copy(update={name: f"{base} {n}"})
    return command


def _items(draw: st.DrawFn, passed: bool) -> tuple[str, ...]:
    return () if passed else tuple(draw(st.lists(_words(), min_size=1, max_size=2)))


@functools.cache
def _batches() -> Strategy[str]:
    return st.from_regex(r"[0-9]{6}-[A-Z]", fullmatch=True)


def _new_campaign(state: LedgerState, periods: Strategy[tuple[date, date]] | None, organiser: str) -> Move:
    def move(draw: st.DrawFn) -> Step:
        plan = _unique(draw(plan_campaigns(periods, organiser)), "title", state.campaigns)
        return _issuer(draw, state, plan)

    return move


def _campaign_moves(state: LedgerState, campaign: CampaignView) -> list[Tagged]:
    moves: list[Tagged] = []
    since = campaign.launched_on or campaign.starts_on

    def launch(draw: st.DrawFn) -> Step:
        launched_on = _day_within(draw, campaign)
        return _issuer(draw, state, c.LaunchCampaign(campaign_id=campaign.id, launched_on=launched_on))

    def conclude(draw: st.DrawFn) -> Step:
        unfinished = any(state.activities[a].status not in FINISHED_ACTIVITY for a in campaign.activity_ids)
        command = c.ConcludeCampaign(
            campaign_id=campaign.id,
            concluded_on=_on_or_after(draw, since, 40),
            summary=draw(_words()),
            override_reason=draw(_words() if unfinished else st.one_of(st.none(), _words())),
        )
        return _issuer(draw, state, command)

    final = [i for i in campaign.inspection_ids if state.inspections[i].has_final_verdict]

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


def _creation_moves(state: LedgerState, campaign: CampaignView) -> list[Tagged]:
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
        return _issuer(draw, state, _unique(command, "title", campaign.activity_ids))

    def plan_inspection(draw: st.DrawFn) -> Step:
        inspector = draw(_pick(enlisted))
        activity_ids = (None, *campaign.activity_ids)
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
        return _issuer(draw, state, _unique(command, "reference", campaign.inspection_ids))

    def nominate(draw: st.DrawFn) -> Step:
        department = draw(_pick(enlisted))
        command = c.NominateCraftsman(
            campaign_id=campaign.id,
            person=draw(_words()),
            employer=draw(_words()),
            deeds=draw(_words()),
            nominating_department=department,
        )
        return _issuer(draw, state, _unique(command, "person", campaign.commendation_ids))

    offers: list[tuple[str, Tagged, bool]] = [
        ("add_inspection", (c.PlanInspection, plan_inspection), bool(enlisted)),
        ("add_activity", (c.PlanActivity, plan_activity), bool(enlisted)),
        ("add_commendation", (c.NominateCraftsman, nominate), bool(enlisted)),
        ("enlist", (c.EnlistDepartment, enlist), len(enlisted) < _ENOUGH_DEPARTMENTS),
    ]
    return [move for method, move, ok in offers if ok and CAMPAIGN.allows(method, campaign.status)]


def _activity_moves(state: LedgerState, campaign: CampaignView, activity: ActivityView) -> list[Tagged]:
    return _issued_by(state, _allowed(ACTIVITY, activity.status, _activity_offers(campaign, activity)))


def _activity_offers(campaign: CampaignView, activity: ActivityView) -> list[Offer]:
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


def _issued_by(state: LedgerState, makers: Sequence[tuple[type[c.Command], Maker]]) -> list[Tagged]:
    """Each maker's kind, and a move that draws its command and an actor responsible for it."""

    def move(command: Maker) -> Move:
        return lambda draw: _issuer(draw, state, command(draw))

    return [(kind, move(command)) for kind, command in makers]


def _inspection_moves(state: LedgerState, inspection: InspectionView) -> list[Tagged]:
    offers = _inspection_offers(inspection)
    return _issued_by(state, _allowed(INSPECTION, inspection.status, offers, _holds(inspection)))


def _holds(inspection: InspectionView) -> list[str]:
    """Which ``when`` conditions of :data:`INSPECTION` hold for ``inspection``."""
    conforming = inspection.has_final_verdict and inspection.verdict is Verdict.CONFORMING
    return [FINAL_CONFORMING] if conforming else []


def _inspection_offers(inspection: InspectionView) -> list[Offer]:
    """Every step an inspection could take, whatever its status (an offer is
    drawable when its flag is set): the transition table decides which it may take now."""
    iid = inspection.id
    samples = inspection.samples
    notified_on = inspection.notified_on or inspection.planned_on
    final = inspection.has_final_verdict
    nonconforming = final and inspection.verdict is Verdict.NONCONFORMING

    def take_sample(draw: st.DrawFn) -> c.Command:
        taken = {s.sample_id for s in samples}
        sample_id = draw(sample_ids())
        candidate, n = sample_id, 1
        while candidate.strip() in taken:
            n += 1
            candidate = f"{sample_id}-{n}"
        return c.TakeSample(
            inspection_id=iid,
            sample_id=candidate,
            product=draw(_words()),
            batch=draw(_batches()),
            taken_on=_on_or_after(draw, inspection.planned_on),
        )

    def record_result(draw: st.DrawFn) -> c.Command:
        sample = draw(_pick([s for s in samples if s.result is None]))
        # Mostly like the samples tested before: a lot passes or fails together, so
        # conforming verdicts (all passed) are as frequent as nonconforming ones.
        before = [s.result.passed for s in samples if s.result is not None]
        passed = before[0] if before and not draw(_one_in(4)) else draw(st.booleans())
        return c.RecordSampleResult(
            inspection_id=iid,
            sample_id=sample.sample_id,
            passed=passed,
            nonconforming_items=_items(draw, passed),
            tested_on=_on_or_after(draw, sample.taken_on),
        )

    def issue_verdict(draw: st.DrawFn) -> c.Command:
        last_test = max(s.result.tested_on for s in samples if s.result is not None)
        return c.IssueVerdict(inspection_id=iid, notified_on=_on_or_after(draw, last_test))

    def retest(draw: st.DrawFn) -> c.Command:
        sample = draw(_pick([s for s in samples if s.awaiting_retest]))
        passed = draw(st.booleans())
        return c.RecordRetestResult(
            inspection_id=iid,
            sample_id=sample.sample_id,
            passed=passed,
            nonconforming_items=_items(draw, passed),
            tested_on=_on_or_after(draw, sample.objected_on or sample.taken_on),
        )

    def order(draw: st.DrawFn) -> c.Command:
        ordered_on = min(_on_or_after(draw, notified_on), date.max - timedelta(days=1))
        return c.OrderRectification(
            inspection_id=iid,
            ordered_on=ordered_on,
            due_on=shift(ordered_on, draw(st.integers(1, 30))),
            requirements=draw(_words()),
        )

    def verify(draw: st.DrawFn) -> c.Command:
        assert inspection.rectification is not None
        return c.VerifyRectification(
            inspection_id=iid,
            verified_on=_on_or_after(draw, inspection.rectification.ordered_on, 40),
            passed=draw(st.booleans()),
            notes=draw(st.one_of(st.just(""), _words())),
        )

    def penalise(draw: st.DrawFn) -> c.Command:
        return c.ImposePenalty(
            inspection_id=iid,
            amount=draw(st.decimals(min_value=0, max_value=1_000_000, places=2)),
            reason=draw(_words()),
            decided_on=_on_or_after(draw, notified_on),
        )

    def transfer(draw: st.DrawFn) -> c.Command:
        return c.TransferCase(
            inspection_id=iid, authority=draw(_words()), transferred_on=_on_or_after(draw, notified_on)
        )

    def close(draw: st.DrawFn) -> c.Command:
        return c.CloseInspection(inspection_id=iid, closed_on=_on_or_after(draw, notified_on))

    def object_to(draw: st.DrawFn) -> c.Command:
        objectable = [s for s in samples if s.result is not None and not s.result.passed and s.objected_on is None]
        return c.ObjectToResult(
            inspection_id=iid,
            sample_id=draw(_pick(objectable)).sample_id,
            lodged_on=_on_or_after(draw, notified_on, OBJECTION_WINDOW.days),
        )

    untested = any(s.result is None for s in samples)
    objectable = any(s.result is not None and not s.result.passed and s.objected_on is None for s in samples)
    offers: list[Offer] = [
        ("record_result", c.RecordSampleResult, record_result, untested),
        ("issue_verdict", c.IssueVerdict, issue_verdict, bool(samples) and not untested),
        ("take_sample", c.TakeSample, take_sample, True),
        ("record_retest", c.RecordRetestResult, retest, any(s.awaiting_retest for s in samples)),
        ("order_rectification", c.OrderRectification, order, nonconforming),
        ("verify_rectification", c.VerifyRectification, verify, inspection.rectification is not None),
        ("impose_penalty", c.ImposePenalty, penalise, nonconforming),
        ("transfer_case", c.TransferCase, transfer, nonconforming),
        ("close", c.CloseInspection, close, True),
        # Recorded for the subject by the inspecting department: under the default policy no
        # subject acts itself, and no other department may object (the rules say who).
        ("object_to_result", c.ObjectToResult, object_to, objectable),
    ]
    return offers


def _commendation_moves(state: LedgerState, commendation: CommendationView) -> list[Tagged]:
    return _issued_by(state, _allowed(COMMENDATION, commendation.status, _commendation_offers(state, commendation)))


def _commendation_offers(state: LedgerState, commendation: CommendationView) -> list[Offer]:
    """Every step a commendation could take, whatever its status."""
    campaign = state.campaigns[commendation.campaign_id]
    cid = commendation.id
    ceremonies = [a for a in campaign.activity_ids if state.activities[a].activity_kind is ActivityKind.AWARD_CEREMONY]

    def review(draw: st.DrawFn) -> c.Command:
        approved = draw(st.booleans())
        return c.ReviewNomination(
            commendation_id=cid,
            approved=approved,
            reason=draw(st.one_of(st.none(), _words()) if approved else _words()),
            reviewed_on=_on_or_after(draw, campaign.starts_on, 30),
        )

    def confer(draw: st.DrawFn) -> c.Command:
        return c.ConferCommendation(
            commendation_id=cid,
            ceremony_id=draw(_pick(ceremonies)),
            conferred_on=_on_or_after(draw, campaign.starts_on, 30),
        )

    def publicise(draw: st.DrawFn) -> c.Command:
        return c.PubliciseCommendation(
            commendation_id=cid,
            outlet=draw(_words()),
            title=draw(_words()),
            published_on=_on_or_after(draw, commendation.conferred_on or campaign.starts_on),
        )

    offers: list[Offer] = [
        ("review", c.ReviewNomination, review, True),
        ("confer", c.ConferCommendation, confer, bool(ceremonies)),
        ("publicise", c.PubliciseCommendation, publicise, True),
    ]
    return offers


# Steps at the edges of the rules ---------------------------------------------------------


@dataclass(frozen=True)
class EdgeStep(Step):
    """A step at the edge of a rule: just ``inside`` it (the ledger must accept it),
    or just outside (``rule`` must refuse it: nothing is recorded)."""

    rule: str = ""
    inside: bool = False


Edge = Callable[[st.DrawFn], EdgeStep]
WindowStarts = Callable[[LedgerState, UUID | None], list[tuple[date, Callable[[date], Maker]]]]
"""For a window rule: the windows open in a state (of one aggregate, if given), each
as its first day and a maker of the command that the rule judges, lodged on a given day."""


def _objection_windows(state: LedgerState, aggregate_id: UUID | None) -> list[tuple[date, Callable[[date], Maker]]]:
    windows: list[tuple[date, Callable[[date], Maker]]] = []
    for inspection in state.inspections.values():
        if aggregate_id not in (None, inspection.id) or inspection.notified_on is None:
            continue
        if not INSPECTION.allows("object_to_result", inspection.status, _holds(inspection)):
            continue
        objectable = [s.sample_id for s in inspection.samples if s.result and not s.result.passed and not s.objected_on]
        if objectable:
            windows.append((inspection.notified_on, _objection_on(inspection.id, objectable)))
    return windows


def _objection_on(inspection_id: UUID, objectable: Sequence[str]) -> Callable[[date], Maker]:
    def on(day: date) -> Maker:
        def make(draw: st.DrawFn) -> c.Command:
            return c.ObjectToResult(inspection_id=inspection_id, sample_id=draw(_pick(objectable)), lodged_on=day)

        return make

    return on


WINDOW_EDGES: dict[WindowRule, WindowStarts] = {OBJECTION_WINDOW: _objection_windows}
"""Every window rule of :mod:`quality_ledger.domain.rules`, and where its windows open:
the kit draws steps on its first and last days and on the days just outside."""

_GUARDED = {
    "order_rectification": "rectification-after-nonconforming",
    "impose_penalty": "penalty-after-nonconforming",
    "transfer_case": "transfer-after-nonconforming",
}
"""Inspection steps that the table allows after any verdict, but that the domain
refuses unless the verdict is final and nonconforming: by these rules."""


def _edges(state: LedgerState, aggregate_id: UUID | None = None, *, out_of_turn: bool = True) -> list[Edge]:
    """Steps at the edge of every rule ``state`` (or one aggregate of it) is near:
    each window rule's first and last days and the days just outside them; what
    the transition tables refuse from the status each aggregate is in (progress
    after completion, a sample after the verdict); and the follow-ups that need
    a nonconforming verdict, on an inspection without one. Without ``out_of_turn``,
    only the edges of named rules (windows and follow-ups)."""
    edges: list[Edge] = []
    for rule, windows in WINDOW_EDGES.items():
        for start, on in windows(state, aggregate_id):
            for days in (-1, 0, rule.days, rule.days + 1):
                try:
                    day = start + timedelta(days=days)
                except OverflowError:
                    continue
                edges.append(_edge(state, on(day), rule.id, inside=rule.holds(start, day)))

    def chosen(views: Mapping[UUID, T]) -> list[T]:
        return [v for i, v in views.items() if aggregate_id in (None, i)]

    for activity in chosen(state.activities):
        campaign = state.campaigns[activity.campaign_id]
        if out_of_turn:
            edges += _out_of_turn(state, ACTIVITY, activity.status, _activity_offers(campaign, activity))
    for inspection in chosen(state.inspections):
        offers = _inspection_offers(inspection)
        if out_of_turn:
            # The guarded follow-ups can be drawn in any status (only a valid step needs the verdict).
            anyhow = [(m, kind, maker, ok or m in _GUARDED) for m, kind, maker, ok in offers]
            edges += _out_of_turn(state, INSPECTION, inspection.status, anyhow)
        if not (inspection.has_final_verdict and inspection.verdict is Verdict.NONCONFORMING):
            edges += [
                _edge(state, maker, _GUARDED[method], inside=False)
                for method, _, maker, _ in offers
                if method in _GUARDED and INSPECTION.allows(method, inspection.status)
            ]
    for commendation in chosen(state.commendations):
        if out_of_turn:
            edges += _out_of_turn(state, COMMENDATION, commendation.status, _commendation_offers(state, commendation))
    return edges


def _out_of_turn(
    state: LedgerState, lifecycle: Lifecycle[Any], status: Any, offers: Sequence[Offer], *, only_closed: bool = False
) -> list[Edge]:
    """The drawable offers that ``lifecycle`` refuses from ``status`` whatever conditions hold
    (with ``only_closed``, only those a status leading here allowed: progress after completion)."""
    every = {t.when for t in lifecycle.transitions if t.when is not None}
    closed = _just_closed(lifecycle, status) if only_closed else None
    return [
        _edge(state, maker, f"transition table: cannot {lifecycle.action(method)} when {status}", inside=False)
        for method, _, maker, ok in offers
        if ok and not lifecycle.allows(method, status, every) and (closed is None or method in closed)
    ]


def _closed_edges(state: LedgerState, aggregate_id: UUID) -> list[Edge]:
    """The steps the last transition of ``aggregate_id`` just closed (see :func:`_out_of_turn`)."""
    if (activity := state.activities.get(aggregate_id)) is not None:
        offers = _activity_offers(state.campaigns[activity.campaign_id], activity)
        return _out_of_turn(state, ACTIVITY, activity.status, offers, only_closed=True)
    if (inspection := state.inspections.get(aggregate_id)) is not None:
        offers = _inspection_offers(inspection)
        return _out_of_turn(state, INSPECTION, inspection.status, offers, only_closed=True)
    if (commendation := state.commendations.get(aggregate_id)) is not None:
        offers = _commendation_offers(state, commendation)
        return _out_of_turn(state, COMMENDATION, commendation.status, offers, only_closed=True)
    return []


def _just_closed(lifecycle: Lifecycle[Any], status: Any) -> set[str]:
    """The commands a status with a transition into ``status`` allowed, and ``status`` refuses."""
    before = {s for t in lifecycle.transitions if any(o.status == status for o in t.outcomes) for s in t.sources}
    every = {t.when for t in lifecycle.transitions if t.when is not None}
    return {
        t.command
        for t in lifecycle.transitions
        if any(s in before for s in t.sources) and not lifecycle.allows(t.command, status, every)
    }


def _edge(state: LedgerState, maker: Maker, rule: str, *, inside: bool) -> Edge:
    def edge(draw: st.DrawFn) -> EdgeStep:
        command = maker(draw)
        who = _responsible(state, command) or [ORGANISER]
        return EdgeStep(command, draw(_actor_of(who)), rule=rule, inside=inside)

    return edge


def edge_steps(state: LedgerState, *, focus: UUID | None = None, only_focus: bool = False) -> Strategy[EdgeStep]:
    """A step at the edge of a rule, for what ``state`` holds (the ``focus`` aggregate's,
    two times in three if it has any, always with ``only_focus``); empty if no rule is near.
    Edges of named rules (windows, follow-ups that need a nonconforming verdict) are
    preferred two times in three over the lifecycle's out-of-turn steps."""
    return _edge_step(state, focus, only_focus)


@st.composite
def _edge_step(draw: st.DrawFn, state: LedgerState, focus: UUID | None, only_focus: bool) -> EdgeStep:
    focused = _edges(state, focus) if focus is not None else []
    use_focus = bool(focused) and (only_focus or not draw(_one_in(3)))
    edges = focused if use_focus else [] if only_focus else _edges(state)
    if not edges:
        return draw(st.nothing())
    # Right after a transition, half the time a step it just closed (progress after completion).
    closed = _closed_edges(state, focus) if only_focus and focus is not None else []
    if bool(closed) and draw(st.booleans()):
        return draw(_pick(closed))(draw)
    # The edges of named rules are few and brief (a verdict is soon followed up): prefer them.
    named = _edges(state, focus if use_focus else None, out_of_turn=False)
    return draw(_pick(named if named and not draw(_one_in(3)) else edges))(draw)


def any_commands_for(state: LedgerState, *, focus: UUID | None = None) -> Strategy[Step]:
    """A command of any kind aimed at what ``state`` holds, whether the rules allow it now or not.

    Every command validates as input (so it reaches the rules rather than
    stopping at :class:`~quality_ledger.errors.InvalidCommand`); ids, sample
    ids and department codes mostly name what exists; dates lie near the
    state's own. Many are out of turn: kinds that the lifecycle of the
    aggregate they name does not allow now, where a missing guard would let
    them through; two in three of those name the ``focus`` aggregate, if
    given (a state machine passes the one its last step touched). Half
    of them, when some rule is near, are an :class:`EdgeStep`: just inside or
    just outside a rule (:func:`edge_steps`), which a state machine expects
    the ledger to accept or refuse. Three
    times in four the actor is one the policy accepts, so the domain's
    rules, not authorisation, decide. For checking that whatever the ledger
    refuses it refuses cleanly, and that whatever it accepts keeps every
    invariant.
    """
    return _any_step(_Pools(state), focus)


@st.composite
def _any_step(draw: st.DrawFn, pools: _Pools, focus: UUID | None) -> Step:
    # Half the time, a step at a rule's edge: random dates and kinds rarely land there.
    if draw(st.booleans()) and _edges(pools.state):
        return draw(edge_steps(pools.state, focus=focus))
    aim: dict[str, Any] = {}
    out_of_turn = pools.out_of_turn_for(focus)
    # Mostly commands whose target exists, so the rules decide rather than NotFound.
    if draw(_one_in(10)):
        cls = draw(st.sampled_from(c.ALL))
    elif out_of_turn and not draw(_one_in(3)):
        cls = _pick_kind(draw, out_of_turn)
        aim = {_TARGET_FIELDS[_target(cls) or ""]: focus}
    else:
        any_out_of_turn: bool = draw(st.booleans())
        cls = _pick_kind(draw, pools.out_of_turn if pools.out_of_turn and any_out_of_turn else pools.aimed)
    fields = {
        name: aim[name] if name in aim else draw(pools.values(name, field.annotation, constrained=bool(field.metadata)))
        for name, field in cls.model_fields.items()
        if name not in ("command", "idempotency_key")
    }
    command = cls(**fields)
    who = _responsible(pools.state, command)
    if who and not draw(_one_in(4)):
        return Step(command, draw(_actor_of(who)))
    return Step(command, draw(_actor_of(pools.departments)))


def _target(cls: type[c.Command]) -> str | None:
    """Which of the state's aggregates a command acts on (None: it creates a campaign)."""
    fields = cls.model_fields
    for name in ("inspection_id", "commendation_id", "activity_id", "campaign_id"):
        if name in fields and not (name == "activity_id" and "campaign_id" in fields):
            return _ID_POOLS[name]
    return None


_TARGET_FIELDS = {
    "inspections": "inspection_id",
    "commendations": "commendation_id",
    "activities": "activity_id",
    "campaigns": "campaign_id",
}
"""The field that names a command's target, by the pool it is drawn from."""

_ID_POOLS = {
    "campaign_id": "campaigns",
    "activity_id": "activities",
    "ceremony_id": "activities",
    "inspection_id": "inspections",
    "inspection_ids": "inspections",
    "commendation_id": "commendations",
}
"""Which of the state's aggregates an id field names."""


class _Pools:
    """What ``any_commands_for`` draws from: the state's ids, samples, departments, dates."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state
        self.ids: dict[str, tuple[UUID, ...]] = {
            pool: tuple(getattr(state, pool)) for pool in ("campaigns", "activities", "inspections", "commendations")
        }
        self.aimed = tuple(cls for cls in c.ALL if (t := _target(cls)) is None or self.ids[t])
        """Command kinds whose target exists (always PlanCampaign)."""
        allowed = _moves(state)
        self.out_of_turn = tuple(cls for cls in self.aimed if cls not in allowed and cls is not c.PlanCampaign)
        """Kinds whose target exists, but that no lifecycle allows now."""
        self.samples = state.sample_ids
        codes = {code for campaign in state.campaigns.values() for code in campaign.department_codes()}
        codes.update(campaign.organiser for campaign in state.campaigns.values())
        self.departments = tuple(sorted(codes)) or (ORGANISER,)
        self.metrics = tuple(sorted({p.metric for a in state.activities.values() for p in a.progress}))
        anchors = state.dates() or REFERENCE_PERIOD
        self.dates = st.tuples(_pick(anchors), st.integers(-3, 20)).map(lambda t: shift(*t))

    def out_of_turn_for(self, aggregate_id: UUID | None) -> tuple[type[c.Command], ...]:
        """Kinds of command that act on ``aggregate_id``'s kind of aggregate but that its lifecycle does not allow now."""
        pool = next((p for p, ids in self.ids.items() if aggregate_id in ids), None)
        if aggregate_id is None or pool is None:
            return ()
        allowed = _moves(self.state, aggregate_id)
        return tuple(cls for cls in _KINDS if _target(cls) == pool and cls not in allowed)

    def values(self, name: str, annotation: Any, *, constrained: bool = False) -> Strategy[Any]:
        """Valid input for field ``name``; ``constrained``: pydantic keeps constraints
        (Text, DepartmentCode, Metric) apart from the annotation of a top-level field."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            return self.values(name, args[0], constrained=True)
        if annotation is str:
            # Free text may be empty (a purpose, notes); constrained text may not.
            return self._text(name) if constrained else st.one_of(st.just(""), _words())
        if origin in (Union, types.UnionType):
            return st.one_of(
                st.none(), *(self.values(name, a, constrained=constrained) for a in args if a is not type(None))
            )
        if origin is tuple:
            min_size = 1 if name == "inspection_ids" else 0
            return st.lists(self.values(name, args[0]), min_size=min_size, max_size=3).map(tuple)
        if origin is dict:
            return st.dictionaries(metrics(), st.integers(1, 200), max_size=2)
        if annotation is UUID:
            known = self.ids[_ID_POOLS[name]] if name in _ID_POOLS else ()
            if not known:
                return st.uuids()
            return _one_in(10).flatmap(lambda made_up: st.uuids() if made_up else _pick(known))
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return st.sampled_from(annotation)
        scalars: dict[Any, Strategy[Any]] = {
            date: self.dates,
            bool: st.booleans(),
            int: st.integers(0, 100),
            Decimal: st.decimals(min_value=0, max_value=1_000_000, places=2),
        }
        return scalars[annotation]

    def _text(self, name: str) -> Strategy[str]:
        if name == "sample_id":
            return st.one_of(_pick(self.samples), sample_ids()) if self.samples else sample_ids()
        if name == "metric":
            return st.one_of(_pick(self.metrics), metrics()) if self.metrics else metrics()
        if name in _DEPARTMENT_FIELDS:
            return st.one_of(_pick(self.departments), department_codes())
        return _words()
