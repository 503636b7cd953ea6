"""Plain-text tables for people at a terminal (the CLI's output)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from quality_ledger.status import CampaignStatus


def width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def clip(text: str, columns: int = 60) -> str:
    """Shorten to ``columns`` display columns, marking the cut."""
    if width(text) <= columns:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > columns - 1:
            break
        out += ch
    return out + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(v) for v in row] for row in rows]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def counts(mapping: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(mapping.items())) or "-"


def campaign_status(status: CampaignStatus) -> str:
    rate = "n/a" if status.pass_rate is None else f"{status.pass_rate:.1%}"
    parts = [
        f"{status.title}",
        f"{status.status}, {status.starts_on} .. {status.ends_on}; "
        f"{len(status.departments)} departments, {sum(status.activities_by_state.values())} activities, "
        f"{sum(status.inspections_by_verdict.values())} inspections, {status.bulletins} bulletin(s)",
        "",
        "Activities by focus area",
        table(
            ["focus area", "activities by state"], [(f, counts(s)) for f, s in status.activities_by_focus_area.items()]
        ),
        "",
        "By department",
        table(
            ["department", "name", "activities by state", "inspections", "nonconforming", "open rectifications"],
            [
                (d.code, d.name_zh, counts(d.activities), d.inspections, d.nonconforming, d.open_rectifications)
                for d in status.departments
            ],
        ),
        "",
        f"Activities by state: {counts(status.activities_by_state)}",
        f"Inspections by verdict: {counts(status.inspections_by_verdict)}",
        f"Samples: {status.samples_tested} tested, {status.samples_failed} failed, pass rate {rate}",
        f"Commendations: {counts(status.commendations_by_state)}",
        "",
        "Progress against targets",
        table(
            ["activity", "metric", "achieved", "target", "%"],
            [(clip(t.activity), t.metric, t.achieved, t.target, f"{t.percent:.0f}") for t in status.targets],
        ),
    ]
    return "\n".join(parts)
