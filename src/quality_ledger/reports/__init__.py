"""The campaign report: one self-contained HTML page (inline CSS and SVG, no
script, nothing fetched), bilingual, printable on A4, ending with a footer
that ties a printed copy to the log (docs/report.md).

    from quality_ledger.reports import campaign_report, render, write_report

    report = campaign_report(ledger)            # the figures and the footer
    html = render(report)                       # the page, as text
    write_report(ledger, Path("report.html"))   # both, written atomically

It reads the ledger's views (one snapshot) and its audit part only; it
records nothing. Totals count every row; each list shows at most
:data:`MAX_ROWS` rows and says how many more there are. Not to be confused with :mod:`quality_ledger.audit.reports`,
the verifier's reports.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from quality_ledger import files
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint
from quality_ledger.errors import InvalidCommand
from quality_ledger.ledger import Ledger
from quality_ledger.reports.gather import gather as campaign_report
from quality_ledger.reports.html import render
from quality_ledger.reports.model import MAX_ROWS, CampaignReport

__all__ = ["MAX_ROWS", "CampaignReport", "campaign_report", "render", "write_report"]


def write_report(
    ledger: Ledger,
    out: Path,
    campaign_id: UUID | None = None,
    *,
    force: bool = False,
    as_of: datetime | None = None,
    occurred_by: date | None = None,
    since: Checkpoint | None = None,
    certificate: ReplayCertificate | None = None,
    max_rows: int = MAX_ROWS,
) -> CampaignReport:
    """Write the report of ``campaign_id`` to ``out`` and return its figures.

    ``out`` is checked before any work (its directory must exist; an existing
    file is replaced only with ``force``) and written beside itself, then
    renamed: a refusal or a failure leaves nothing behind. The other
    arguments are :func:`campaign_report`'s.
    """
    if not isinstance(out, str | Path):
        msg = f"out must be a path, got {type(out).__name__}"
        raise InvalidCommand(msg)
    out = Path(out)
    files.check_out(out, force=force)
    report = campaign_report(
        ledger,
        campaign_id,
        as_of=as_of,
        occurred_by=occurred_by,
        since=since,
        certificate=certificate,
        max_rows=max_rows,
    )
    page = render(report)
    with files.writing(out) as stream:
        stream.write(page)
    return report
