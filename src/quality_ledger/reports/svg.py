"""The report's charts: small functions turning numbers into inline SVG.

Drawn here rather than by a charting library so that the report stays one
file that needs no network and no script: every chart is markup in the page.
Each returns :class:`markupsafe.Markup` (Jinja inserts it as is), so every
label that reaches it is escaped here, once. Charts scale to their box
(``viewBox`` with ``width="100%"``): none is wider than the printed page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

__all__ = ["COLOURS", "Day", "Part", "bar", "columns", "stacked"]

COLOURS = {
    "achieved": "#2f7d4f",
    "exceeded": "#1b5e37",
    "short": "#c9822b",
    "track": "#e6e9ee",
    "activities": "#3a6ea5",
    "inspections": "#c0504d",
    "axis": "#6b7280",
    "planned": "#9aa5b1",
    "scheduled": "#7b93b8",
    "started": "#3a6ea5",
    "postponed": "#c9822b",
    "completed": "#2f7d4f",
    "cancelled": "#a23b3b",
}
"""One colour per meaning, shared by the charts and the legends beside them."""


def _number(value: float) -> str:
    """SVG coordinates to two decimals, without trailing zeros: stable output for tests and diffs."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg(width: float, height: float, label: str, body: Markup, *, css_class: str) -> Markup:
    """The chart's frame; a bar (``css_class="bar"``, no text in it) stretches to fill its cell."""
    aspect = "none" if css_class == "bar" else "xMidYMid meet"
    return Markup(
        '<svg class="{}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="{}" role="img" aria-label="{}"><title>{}</title>{}</svg>'
    ).format(css_class, _number(width), _number(height), aspect, label, label, body)


def _rect(x: float, y: float, width: float, height: float, colour: str, title: str | None = None) -> Markup:
    """A filled rectangle, with a tooltip (``title``, escaped) if given."""
    shape = Markup('<rect x="{}" y="{}" width="{}" height="{}" fill="{}"').format(
        _number(x), _number(y), _number(width), _number(height), colour
    )
    if title is None:
        return shape + Markup("/>")
    return shape + Markup("><title>{}</title></rect>").format(title)


def _text(x: float, y: float, text: str, *, anchor: str) -> Markup:
    return Markup('<text x="{}" y="{}" font-size="8" text-anchor="{}" fill="{}">{}</text>').format(
        _number(x), _number(y), anchor, COLOURS["axis"], text
    )


def bar(value: float, whole: float, *, label: str) -> Markup:
    """A progress bar: ``value`` of ``whole``, filled up to 100 % and marked
    (darker, with a notch at the target) when the value goes beyond it."""
    if whole <= 0 or value < 0:
        msg = f"a bar needs a positive whole and a value of at least 0, got {value} of {whole}"
        raise ValueError(msg)
    width, height = 200.0, 12.0
    share = value / whole
    colour = COLOURS["exceeded"] if share > 1 else COLOURS["achieved"] if share == 1 else COLOURS["short"]
    body = _rect(0, 0, width, height, COLOURS["track"]) + _rect(0, 0, width * min(share, 1.0), height, colour)
    if share > 1:
        body += _rect(width - 2, 0, 2, height, "#ffffff")
    return _svg(width, height, label, body, css_class="bar")


@dataclass(frozen=True)
class Part:
    """One segment of a stacked bar: its name (for the legend), count and colour."""

    name: str
    count: int
    colour: str


def stacked(parts: Sequence[Part], *, label: str) -> Markup:
    """One bar split into ``parts`` by count (an empty track when all are zero)."""
    if any(p.count < 0 for p in parts):
        msg = "a stacked bar's counts must be at least 0"
        raise ValueError(msg)
    width, height = 200.0, 12.0
    total = sum(p.count for p in parts)
    body = _rect(0, 0, width, height, COLOURS["track"])
    x = 0.0
    for p in parts:
        if total and p.count:
            w = width * p.count / total
            body += _rect(x, 0, w, height, p.colour, f"{p.name}: {p.count}")
            x += w
    return _svg(width, height, label, body, css_class="bar")


@dataclass(frozen=True)
class Day:
    """One day of the timeline: its label (the day of the month) and its counts."""

    label: str
    activities: int
    inspections: int


def columns(days: Sequence[Day], *, label: str) -> Markup:
    """The timeline: for each day, a column of activities beside one of inspections, on one scale."""
    if any(d.activities < 0 or d.inspections < 0 for d in days):
        msg = "a timeline's counts must be at least 0"
        raise ValueError(msg)
    slot, top, bottom, left, plot = 20.0, 14.0, 16.0, 22.0, 100.0
    width = left + slot * max(len(days), 1) + 4
    height = top + plot + bottom
    highest = max([1, *(max(d.activities, d.inspections) for d in days)])
    base = top + plot
    body = Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="0.6"/>').format(
        _number(left), _number(base), _number(width - 2), _number(base), COLOURS["axis"]
    )
    body += _text(left - 3, top + 3, str(highest), anchor="end") + _text(left - 3, base, "0", anchor="end")
    for n, d in enumerate(days):
        x = left + n * slot
        for offset, count, series in ((2.0, d.activities, "activities"), (10.0, d.inspections, "inspections")):
            if count:
                h = plot * count / highest
                body += _rect(x + offset, base - h, 7, h, COLOURS[series], f"{d.label}: {count} {series}")
        body += _text(x + slot / 2, base + 11, d.label, anchor="middle")
    return _svg(width, height, label, body, css_class="timeline")
