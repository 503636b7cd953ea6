"""Rendering a gathered report as one self-contained HTML page.

Jinja2 with autoescaping on for every template, whatever its name: titles,
names and places come from whoever records commands, and a nominee called
``<script>`` must print as text. Undefined names in a template fail the
render (``StrictUndefined``) instead of leaving a blank where a figure was.
The templates ship inside the package and load through ``PackageLoader``,
so an installed wheel renders the same page as a checkout.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from quality_ledger.reports import svg
from quality_ledger.reports.model import CampaignReport

__all__ = ["FOCUS_AREAS", "STATES", "render"]

STATES = {
    "planned": "计划 / planned",
    "scheduled": "已排期 / scheduled",
    "started": "进行中 / started",
    "postponed": "已延期 / postponed",
    "completed": "已完成 / completed",
    "cancelled": "已取消 / cancelled",
    "launched": "已启动 / launched",
    "concluded": "已结束 / concluded",
    "nominated": "已提名 / nominated",
    "approved": "已批准 / approved",
    "rejected": "未通过 / rejected",
    "conferred": "已授予 / conferred",
}
"""Bilingual names of the states the page shows; an unknown one shows as stored."""

FOCUS_AREAS = {
    "everyone-takes-part": "全民参与 / Everyone takes part",
    "livelihood-and-quality-safety": "民生与质量安全 / Livelihood and quality safety",
    "craftsman-spirit": "工匠精神 / Craftsman spirit",
}

ACTIVITY_STATES = ("planned", "scheduled", "started", "postponed", "completed", "cancelled")
"""The order of the stacked bars' segments: a lifecycle read left to right."""


def _state(value: str) -> str:
    return STATES.get(value, value)


def _focus(value: str) -> str:
    return FOCUS_AREAS.get(value, value)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _day(value: date | None) -> str:
    return "—" if value is None else value.isoformat()


def _instant(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _in_order(states: dict[str, int]) -> list[tuple[str, int]]:
    """A focus area's counts in lifecycle order, then any other state by name."""
    order = [*ACTIVITY_STATES, *sorted(set(states) - set(ACTIVITY_STATES))]
    return [(s, states[s]) for s in order if s in states]


def _focus_bar(states: dict[str, int], label: str) -> object:
    order = [*ACTIVITY_STATES, *sorted(set(states) - set(ACTIVITY_STATES))]
    parts = [svg.Part(_state(s), states.get(s, 0), svg.COLOURS.get(s, svg.COLOURS["planned"])) for s in order]
    return svg.stacked(parts, label=label)


def _timeline(report: CampaignReport) -> object:
    """One column per day, labelled with its day of the month; per span of
    days on a long period, labelled month/day of the span's first day."""
    t = report.body.timeline
    days = [
        svg.Day(str(d.on.day) if t.span == 1 else f"{d.on.month}/{d.on.day}", d.activities, d.inspections)
        for d in t.days
    ]
    per = "by date" if t.span == 1 else f"per {t.span} days"
    return svg.columns(days, label=f"时间线 / Timeline: activities and inspections {per}")


@cache
def environment() -> Environment:
    """Built on first use, not at import: loading templates is work."""
    env = Environment(
        loader=PackageLoader("quality_ledger.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(state=_state, focus=_focus, percent=_percent, day=_day, instant=_instant)
    env.globals.update(
        bar=svg.bar,
        focus_bar=_focus_bar,
        in_order=_in_order,
        timeline=_timeline,
        colours=svg.COLOURS,
        activity_states=ACTIVITY_STATES,
        state_names=STATES,
    )
    return env


def render(report: CampaignReport) -> str:
    """The page: UTF-8 HTML with its CSS and SVG inline, nothing to fetch."""
    return environment().get_template("report.html.j2").render(report=report, body=report.body, i=report.integrity)
