"""Plain-text tables for people at a terminal, and JSON for scripts (the CLI's output)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quality_ledger.audit.verify import VerifyReport
    from quality_ledger.ledger import RecordedEvent
    from quality_ledger.projections.audit_trail import AuditPage
    from quality_ledger.projections.campaigns import CampaignLine
    from quality_ledger.status import CampaignFigures


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


def campaign_status(status: CampaignFigures) -> str:
    rate = "n/a" if status.pass_rate is None else f"{status.pass_rate:.1%}"
    parts = [
        f"{status.title}  (campaign {status.campaign_id})",
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


def document(value: Any) -> str:
    """One JSON document: UTF-8 text as is (Chinese stays readable), keys in model order."""
    return json.dumps(value, ensure_ascii=False, indent=2)


def status_document(status: CampaignFigures) -> dict[str, Any]:
    """The status as JSON, with the derived pass rate and target percentages a reader expects."""
    out = status.model_dump(mode="json")
    out["pass_rate"] = status.pass_rate
    for target, model in zip(out["targets"], status.targets, strict=True):
        target["percent"] = model.percent
    return out


def campaigns(lines: Sequence[CampaignLine]) -> str:
    if not lines:
        return "no campaigns yet"
    return table(
        ["campaign", "status", "from", "to", "title"],
        [(x.campaign_id, x.status, x.starts_on, x.ends_on, x.title) for x in lines],
    )


def history(events: Sequence[RecordedEvent]) -> str:
    """One line per event; the payload as JSON, as stored."""
    lines = []
    for e in events:
        who = f"{e.meta.user}@{e.meta.department}" if e.meta else "-"
        payload = json.dumps(e.payload, ensure_ascii=False, separators=(", ", ": "))
        lines.append(f"v{e.version}  {e.recorded_at:%Y-%m-%d %H:%M:%S}  {who}  {e.name}  {payload}")
    return "\n".join(lines)


def trail(page: AuditPage) -> str:
    rows = [
        (
            e.position,
            f"{e.recorded_at:%Y-%m-%d %H:%M:%S}",
            e.occurred_on or "",
            e.actor or "",
            e.department or "",
            e.event,
            e.summary,
        )
        for e in page.entries
    ]
    return table(["pos", "recorded at (UTC)", "occurred", "user", "dept", "event", "summary"], rows)


def verify(report: VerifyReport) -> str:
    lines = [
        f"{'intact' if report.first_break is None else 'BROKEN'}: {report.checked} events checked, head {report.head}"
    ]
    if report.first_break is not None:
        lines.append(f"first break: {report.first_break}")
    if report.checkpoint is not None:
        signed = f", signed by {report.checkpoint.public_key}" if report.checkpoint.signature else ""
        lines.append(f"checkpoint: size {report.checkpoint.size}, head {report.checkpoint.head}{signed}")
    if report.since is not None:
        lines.append(f"checked only after the checkpoint: size {report.since.size}, head {report.since.head}")
    if report.certificate_ok is not None:
        lines.append(f"replay certificate: {'matches' if report.certificate_ok else 'DIFFERS'}")
    return "\n".join(lines)
