"""The report's charts (quality_ledger.reports.svg): pure functions from numbers to SVG markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from quality_ledger.reports import svg

NS = "{http://www.w3.org/2000/svg}"


def rects(markup: str) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in ET.fromstring(markup).iter(f"{NS}rect")]


def test_a_bar_fills_its_share_of_the_track() -> None:
    track, filled = rects(svg.bar(21, 30, label="schools"))
    assert (track["width"], filled["width"]) == ("200", "140")
    assert filled["fill"] == svg.COLOURS["short"]


def test_a_bar_beyond_its_target_stops_at_full_and_is_marked() -> None:
    track, filled, notch = rects(svg.bar(1300, 1000, label="tests"))
    assert filled["width"] == track["width"]
    assert filled["fill"] == svg.COLOURS["exceeded"]
    assert notch["x"] == "198"
    assert len(rects(svg.bar(58, 58, label="experts"))) == 2  # exactly met: no notch


@pytest.mark.parametrize(("value", "whole"), [(1, 0), (-1, 5)])
def test_a_bar_refuses_what_it_cannot_draw(value: int, whole: int) -> None:
    with pytest.raises(ValueError, match="positive whole"):
        svg.bar(value, whole, label="x")


def test_labels_are_escaped_in_every_chart() -> None:
    label = '<script>alert("x")</script> & "quotes"'
    charts = [
        svg.bar(1, 2, label=label),
        svg.stacked([svg.Part(label, 1, "#000000")], label=label),
        svg.columns([svg.Day(label, 1, 1)], label=label),
    ]
    for chart in charts:
        assert "<script>" not in chart
        root = ET.fromstring(chart)  # well-formed: the label could not break out of its attribute
        assert root.attrib["aria-label"] == label
        assert label in "".join(root.itertext())


def test_a_stacked_bar_splits_by_count_in_order() -> None:
    parts = [svg.Part("done", 3, "#00aa00"), svg.Part("none", 0, "#ffffff"), svg.Part("late", 1, "#aa0000")]
    _, done, late = rects(svg.stacked(parts, label="area"))
    assert (done["x"], done["width"], late["x"], late["width"]) == ("0", "150", "150", "50")


def test_a_stacked_bar_of_nothing_is_an_empty_track() -> None:
    assert len(rects(svg.stacked([svg.Part("done", 0, "#00aa00")], label="area"))) == 1


def test_the_timeline_draws_both_series_on_one_scale() -> None:
    days = [svg.Day("1", 4, 2), svg.Day("2", 0, 0), svg.Day("3", 1, 0)]
    chart = svg.columns(days, label="timeline")
    heights = [float(r["height"]) for r in rects(chart)]
    assert heights == [100.0, 50.0, 25.0]  # the tallest day fills the plot; the others in proportion
    labels = [t.text for t in ET.fromstring(chart).iter(f"{NS}text")]
    assert labels == ["4", "0", "1", "2", "3"]  # the scale's top and zero, then each day


def test_charts_scale_to_their_box() -> None:
    for chart in (svg.bar(1, 2, label="b"), svg.columns([svg.Day("1", 1, 1)], label="t")):
        root = ET.fromstring(chart)
        assert root.attrib["width"] == "100%"
        assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.attrib["viewBox"])
