"""The campaign report (issue 16) without a browser: what the page holds on
the demo and on an empty campaign, escaping, the footer, the cuts, and how
``quality-ledger report`` refuses. The browser's view of the same pages is
tests/integration/test_report_browser.py.
"""

from __future__ import annotations

import io
import itertools
import re
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.cli import main
from quality_ledger.errors import ConfigurationError, InvalidCommand, NotFound
from quality_ledger.reports import campaign_report, render, write_report
from quality_ledger.reports.model import Body, CampaignReport, Integrity
from quality_ledger.testing.synthetic import fill
from tests.conftest import FDA, ORGANISER, plan_campaign

SCRIPT = "<script>alert('x')</script>"


class Page(HTMLParser):
    """The page's text by element id, its tags, and every address it names."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text_by_id: dict[str, str] = {}
        self.tags: list[str] = []
        self.addresses: list[str] = []
        self._open: list[tuple[str, str | None, list[str]]] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        for name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
            if found.get(name) is not None:
                self.addresses.append(str(found[name]))
        self.addresses += re.findall(r"url\(([^)]*)\)", str(found.get("style") or ""))
        if tag not in ("br", "meta", "link", "img", "input", "rect", "line"):
            self._open.append((tag, found.get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, ident, parts = self._open.pop()
            text = "".join(parts)
            if self._open:
                self._open[-1][2].append(text)
            if ident:
                self.text_by_id[ident] = text
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._open:
            self._open[-1][2].append(data)


def external_references(html: str) -> list[str]:
    """Every address in the page that is neither ``data:`` nor a fragment: in
    attributes, in inline styles and in the style sheet (``url(...)``, ``@import``)."""
    page = Page(html)
    found = page.addresses + re.findall(r"url\(([^)]*)\)", html) + re.findall(r"@import\s+([^;]+)", html)
    return [a for a in found if not a.strip(" '\"").startswith(("data:", "#"))]


@pytest.fixture(scope="module")
def demo_page(demo_file: Path) -> str:
    with Ledger.open(f"sqlite:///{demo_file}") as ledger:
        return render(campaign_report(ledger))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# What the demo's page shows ----------------------------------------------------


def test_the_demo_report_shows_the_figures_the_issue_names(demo_page: str) -> None:
    page = Page(demo_page)
    assert page.text_by_id["departments"] == "12"
    assert page.text_by_id["pass-rate"] == "84.9%"
    assert "58/58 experts" in demo_page
    assert "88/88 enterprises" in demo_page
    assert len(re.findall(r'<tr class="department">', demo_page)) == 12


def test_every_activity_title_appears_in_full(demo_file: Path, demo_page: str) -> None:
    with Ledger.open(f"sqlite:///{demo_file}") as ledger:
        titles = [a.title for a in ledger.activity_board(ledger.campaigns()[0].campaign_id)]
    cells = re.findall(r'<td class="title">(.*?)</td>', demo_page, flags=re.S)
    page_titles = [Page(cell).texts[0] if Page(cell).texts else "" for cell in cells]
    assert page_titles == titles
    assert len(titles) == 38
    assert "…" not in "".join(Page(demo_page).texts)


def test_the_page_is_self_contained_and_printable_on_a4(demo_page: str) -> None:
    page = Page(demo_page)
    assert external_references(demo_page) == []
    assert "script" not in page.tags
    assert "@page { size: A4;" in demo_page
    assert "break-inside: avoid" in demo_page
    assert page.tags.count("svg") >= 4 + 3 + 1  # a bar per target, one per focus area, the timeline


def test_the_static_check_finds_an_external_reference() -> None:
    # the check above would pass vacuously if it never saw an address
    assert external_references('<img src="https://cdn.example/x.png"><p style="background: url(//e.x/a)">') == [
        "https://cdn.example/x.png",
        "//e.x/a",
        "//e.x/a",
    ]
    assert external_references('<a href="#top"></a><img src="data:image/png;base64,AA">') == []


def test_the_footer_ties_the_page_to_the_log(demo_file: Path, demo_page: str) -> None:
    with Ledger.open(f"sqlite:///{demo_file}") as ledger:
        head = ledger.checkpoint().head
        certificate = ledger.replay_certificate()
        position = ledger.position()
    page = Page(demo_page)
    assert page.text_by_id["position"] == str(position)
    assert page.text_by_id["head"] == head
    assert page.text_by_id["certificate"] == certificate.digest
    assert page.text_by_id["chain"].startswith("已验证 / verified ok")


# Escaping, an empty campaign, every engine ---------------------------------------


def test_a_nominee_named_like_a_script_is_shown_as_text(ledger: Ledger) -> None:
    # given a campaign (on each engine) whose only nominee is named like a script tag
    campaign_id = plan_campaign(ledger)
    ledger.execute(
        c.NominateCraftsman(
            campaign_id=campaign_id,
            person=SCRIPT,
            employer="<b>Works</b> & Co",
            deeds="d",
            nominating_department="XA-FDA",
        ),
        FDA,
    )
    # when its report is rendered
    html = render(campaign_report(ledger))
    # then the name is text: escaped in the markup, no script element, and read back verbatim
    page = Page(html)
    assert "script" not in page.tags
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert SCRIPT in page.texts
    assert "<b>Works</b> & Co" in page.texts
    assert page.text_by_id["commendations"] == "1"


def test_a_just_planned_campaign_reports_empty_sections(ledger: Ledger) -> None:
    # given a campaign planned with two departments and nothing else
    plan_campaign(ledger, launch=False)
    # when reported
    report = campaign_report(ledger)
    page = Page(render(report))
    # then every section is there, saying it is empty, and the figures are zero
    assert page.text_by_id["departments"] == "2"
    assert page.text_by_id["activities"] == "0"
    assert page.text_by_id["pass-rate"] == "—"
    assert "尚无活动 / No activities yet." in page.texts
    assert "尚无提名 / No nominations yet." in page.texts
    assert report.body.timeline.days[0].on == date(2017, 9, 1)
    assert len(report.body.timeline.days) == 30
    assert report.integrity.position == ledger.position()
    assert report.integrity.chain_ok


# Cuts and the footer's options ----------------------------------------------------


def test_a_report_as_of_a_business_date_shows_the_state_then(demo: str) -> None:
    with Ledger.open(demo) as ledger:
        now = campaign_report(ledger)
        then = campaign_report(ledger, occurred_by=date(2017, 9, 10))
    completed_now = sum(a.status == "completed" for a in now.body.activities.rows)
    completed_then = sum(a.status == "completed" for a in then.body.activities.rows)
    assert completed_then < completed_now
    assert then.body.on == date(2017, 9, 10)
    assert then.integrity.cut == "occurred by 2017-09-10"
    assert "(occurred by 2017-09-10)" in Page(render(then)).text_by_id["as-of"]


def test_a_report_cut_before_anything_was_recorded_names_the_cut(demo: str) -> None:
    with Ledger.open(demo) as ledger, pytest.raises(NotFound, match=r"no campaign yet.*recorded by 2017-09-10"):
        campaign_report(ledger, as_of=datetime(2017, 9, 10, tzinfo=UTC))


def test_a_supplied_certificate_and_checkpoint_are_shown_not_recomputed(demo: str) -> None:
    with Ledger.open(demo) as ledger:
        point = ledger.checkpoint()
        certificate = ledger.replay_certificate(100)
        report = campaign_report(ledger, since=point, certificate=certificate)
    assert (report.integrity.since_size, report.integrity.checked) == (point.size, 0)
    assert (report.integrity.certificate_position, report.integrity.certificate_supplied) == (100, True)
    assert "supplied, not recomputed" in render(report)


def test_a_broken_chain_is_written_in_the_footer_and_exits_1(demo: str, tmp_path: Path) -> None:
    # given a stored event whose content was changed behind the ledger's back, after the views were built
    with Ledger.open(demo) as ledger:
        ledger.campaigns()
    path = demo.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE stored_events SET state = state || X'20' WHERE rowid = 300")
    out = tmp_path / "r.html"
    # when reported
    code, _, err = run("--url", demo, "report", "--out", str(out))
    # then the page is written and says where the chain breaks, and the exit code is a finding's
    assert code == 1
    assert "IntegrityError: BROKEN at position 300" in err
    page = Page(out.read_text(encoding="utf-8"))
    assert "已损坏 / BROKEN at position 300" in page.text_by_id["chain"]
    assert page.text_by_id["certificate"] == "未计算 / not computed: the chain is broken"


# The command and its refusals -----------------------------------------------------


def test_the_command_writes_the_page(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, err = run("--url", demo, "report", "--out", str(out))
    assert (code, stdout) == (0, "")
    assert "written to" in err
    assert Page(out.read_text(encoding="utf-8")).text_by_id["departments"] == "12"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db", "report.html"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "00000000-0000-0000-0000-000000000000"], "NotFound: no campaign with id 00000000-"),
        (["report", "--out", "missing/r.html"], "ConfigurationError: cannot write missing/r.html: the directory"),
        (["report", "--out", "."], "ConfigurationError: cannot write .: it is a directory"),
        (["report", "--out", "exists.html"], "ConfigurationError: exists.html already exists: pass --force"),
        (["report", "--as-of", "2017-09-10"], "NotFound: the ledger holds no campaign yet"),
        (["report", "--certificate", "nothing.json"], "ConfigurationError: cannot read the replay certificate"),
    ],
)
def test_a_refused_report_is_one_line_exit_2_and_leaves_nothing(
    argv: list[str], message: str, demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exists.html").write_text("kept", encoding="utf-8")
    if "--out" not in argv:
        argv = [*argv, "--out", "r.html"]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = run("--url", demo, *argv)
    assert (code, stdout) == (2, "")
    assert re.fullmatch(r"quality-ledger: [^\n]+\n", err), err
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "exists.html").read_text(encoding="utf-8") == "kept"


def test_several_campaigns_need_one_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    with Ledger.open(url) as ledger:
        first = plan_campaign(ledger)
        plan_campaign(ledger, title="Another month")
        with pytest.raises(ConfigurationError, match=r"holds 2 campaigns: name one of"):
            campaign_report(ledger)
        assert campaign_report(ledger, first).body.header.campaign_id == first
    code, _, err = run("--url", url, "report", "--out", str(tmp_path / "r.html"))
    assert code == 2
    assert "holds 2 campaigns" in err
    assert not (tmp_path / "r.html").exists()


def test_an_empty_ledger_or_a_missing_one_is_refused(tmp_path: Path) -> None:
    with Ledger.open("memory://") as empty, pytest.raises(NotFound, match="holds no campaign yet"):
        campaign_report(empty)
    code, _, err = run("--url", f"sqlite:///{tmp_path / 'none.db'}", "report", "--out", str(tmp_path / "r.html"))
    assert code == 2
    assert "NoLedger" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"campaign_id": "not-a-uuid"}, "campaign_id"),
        ({"as_of": date(2017, 9, 1)}, "as_of must be a datetime"),
        ({"since": "checkpoint.json"}, "since must be a Checkpoint"),
        ({"max_rows": 0}, "max_rows must be a whole number of at least 1, got 0"),
        ({"max_rows": True}, "max_rows must be a whole number"),
        ({"max_rows": 2.5}, "max_rows must be a whole number"),
    ],
)
def test_the_library_checks_its_arguments(kwargs: dict[str, object], message: str) -> None:
    with Ledger.open("memory://") as ledger, pytest.raises(InvalidCommand, match=message):
        campaign_report(ledger, **kwargs)  # type: ignore[arg-type]


def test_write_report_refuses_before_any_work(tmp_path: Path) -> None:
    with Ledger.open("memory://") as ledger:
        plan_campaign(ledger)
        with pytest.raises(ConfigurationError, match="does not exist"):
            write_report(ledger, tmp_path / "no" / "r.html")
        written = write_report(ledger, tmp_path / "r.html")
    assert isinstance(written.body.header.campaign_id, UUID)
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_the_report_records_nothing(demo: str) -> None:
    with Ledger.open(demo) as ledger:
        before = ledger.position()
        campaign_report(ledger)
        assert ledger.position() == before


# Long lists: capped on the page, counted in full -------------------------------------

LISTS = ("metrics", "targets", "activities", "bulletin", "rectifications", "scorecard", "commendations")
"""The body's capped lists, each shown with a note named ``<list>-more`` when capped."""


def test_the_report_s_figures_agree_with_the_views_own_queries(demo_file: Path) -> None:
    # given the demo; when reported (every list under the cap)
    with Ledger.open(f"sqlite:///{demo_file}") as ledger:
        body = campaign_report(ledger).body
        chosen, on = body.header.campaign_id, body.on
        status = ledger.campaign_status(chosen)
        board = ledger.activity_board(chosen)
        categories = ledger.bulletin(chosen)
        register = ledger.inspection_register(chosen, on)
        scorecard = ledger.department_scorecard(chosen, on)
    # then the SQL totals and each list equal what the views' own queries say
    t = body.totals
    assert t.departments == len(status.departments)
    assert t.activities == sum(status.activities_by_state.values()) == len(board)
    assert t.inspections == sum(status.inspections_by_verdict.values()) == len(register)
    assert (t.samples_tested, t.samples_failed, t.bulletins) == (
        status.samples_tested,
        status.samples_failed,
        status.bulletins,
    )
    assert t.commendations == sum(status.commendations_by_state.values())
    assert t.open_rectifications == sum(r.rectification_open for r in register)
    assert (
        t.overdue_rectifications == sum(r.overdue for r in register) == sum(d.overdue_rectifications for d in scorecard)
    )
    assert body.by_focus_area == status.activities_by_focus_area
    assert [(x.activity, x.metric, x.achieved, x.target) for x in body.targets.rows] == [
        (x.activity, x.metric, x.achieved, x.target) for x in status.targets
    ]
    for m in body.metrics.rows:
        mine = [x for x in status.targets if x.metric == m.metric]
        assert (m.activities, m.achieved, m.target) == (
            len(mine),
            sum(x.achieved for x in mine),
            sum(x.target for x in mine),
        )
    assert [a.title for a in body.activities.rows] == [a.title for a in board]
    assert [
        (b.product_category, b.inspections, b.samples_tested, b.samples_failed, b.subjects) for b in body.bulletin.rows
    ] == [
        (b.product_category, b.inspections, b.samples_tested, b.samples_failed, b.nonconforming_subjects)
        for b in categories
    ]
    assert list(body.scorecard.rows) == scorecard
    assert [(r.reference, r.overdue) for r in body.rectifications.rows] == [
        (r.reference, r.overdue) for r in register if r.rectification_open
    ]
    for name in LISTS:
        listing = getattr(body, name)
        assert (listing.more, listing.total) == (0, len(listing.rows)), name


@pytest.mark.parametrize("cap", [1, 3])
def test_each_long_list_shows_the_cap_and_says_how_many_more(demo_file: Path, cap: int) -> None:
    # given the demo, reported in full and with a small cap
    with Ledger.open(f"sqlite:///{demo_file}") as ledger:
        full = campaign_report(ledger).body
        capped = campaign_report(ledger, max_rows=cap).body
    page = Page(render_body(capped))
    # then the totals are the same, every list shows its first ``cap`` rows, and a capped one says how many it left out
    assert capped.totals == full.totals
    assert capped.by_focus_area == full.by_focus_area
    assert page.text_by_id["activities"] == "38"
    capped_lists = 0
    for name in LISTS:
        whole, shown = getattr(full, name), getattr(capped, name)
        assert shown.total == whole.total == len(whole.rows), name
        assert shown.rows == whole.rows[:cap], name
        note = page.text_by_id.get(f"{name}-more")
        if whole.total > cap:
            capped_lists += 1
            left = whole.total - cap
            assert note is not None, name
            assert note.startswith(f"另有 {left} 项未列出 / {left} more not shown ({cap} of {whole.total} listed)")
            assert shown.source in note
        else:
            assert note is None, name
    assert capped_lists >= 5
    html = render_body(capped)
    for row_class, total in (("activity", 38), ("target", 4), ("department", 12), ("nominee", 5)):
        assert html.count(f'<tr class="{row_class}">') == min(cap, total), row_class


def render_body(body: Body) -> str:
    """The page of a body, with a footer that is not under test here."""
    footer = Integrity(
        position=1,
        log_size=1,
        head="0" * 64,
        chain_ok=True,
        checked=1,
        first_break=None,
        since_size=None,
        certificate_position=1,
        certificate_digest="0" * 64,
        certificate_supplied=True,
        generated_at=datetime(2017, 10, 1, tzinfo=UTC),
        cut=None,
    )
    return render(CampaignReport(body, footer))


def test_a_long_campaign_lists_the_cap_and_counts_everything(ledger: Ledger) -> None:
    # given (on each engine) a campaign of 40-odd activities with targets and as many inspections, some nonconforming
    fill(ledger, 1000, seed="report-cap")
    chosen = ledger.campaigns()[0].campaign_id
    status = ledger.campaign_status(chosen)
    activities = sum(status.activities_by_state.values())
    nonconforming = status.inspections_by_verdict["nonconforming"]
    assert activities > 30
    assert nonconforming > 2
    # when reported with a cap of 2 rows per list
    report = campaign_report(ledger, max_rows=2)
    body, page = report.body, Page(render(report))
    # then the header counts every activity and sample, the lists show 2 rows, and the notes say how many more
    assert page.text_by_id["activities"] == str(activities)
    assert page.text_by_id["inspections"] == str(sum(status.inspections_by_verdict.values()))
    assert (body.totals.samples_tested, body.totals.samples_failed) == (status.samples_tested, status.samples_failed)
    assert page.text_by_id["pass-rate"] == f"{status.pass_rate:.1%}"
    assert len(body.activities.rows) == 2
    assert page.text_by_id["activities-more"].startswith(f"另有 {activities - 2} 项未列出 / {activities - 2} more")
    assert (len(body.targets.rows), body.targets.total) == (2, len(status.targets))
    assert page.text_by_id["targets-more"].startswith(f"另有 {len(status.targets) - 2} 项未列出")
    assert [(m.metric, m.achieved, m.target) for m in body.metrics.rows] == [
        (
            metric,
            sum(x.achieved for x in status.targets if x.metric == metric),
            58 * activities if metric == "experts" else 88 * activities,
        )
        for metric in ("experts", "enterprises")
    ]
    (category,) = body.bulletin.rows
    assert (category.subjects_total, len(category.subjects)) == (nonconforming, 2)
    assert category.inspections == sum(status.inspections_by_verdict.values())
    assert f"; 另有 {nonconforming - 2} 个 / {nonconforming - 2} more" in page.texts  # in the category's cell
    assert page.text_by_id["subjects-more"].startswith(f"另有 {nonconforming - 2} 个不合格单位未列出")


@pytest.mark.parametrize(("days", "span", "columns"), [(30, 1, 30), (62, 1, 62), (63, 2, 32), (365, 6, 61)])
def test_a_long_period_is_drawn_per_span_of_days(days: int, span: int, columns: int) -> None:
    # given a campaign of ``days`` days
    starts_on = date(2017, 1, 1)
    with Ledger.open("memory://") as ledger:
        ledger.execute(
            c.PlanCampaign(
                title="A long campaign",
                theme="t",
                organiser="XA-QPC",
                starts_on=starts_on,
                ends_on=starts_on + timedelta(days=days - 1),
            ),
            ORGANISER,
        )
        # when reported
        report = campaign_report(ledger)
    # then the timeline has at most 62 columns, each of ``span`` days, covering the period exactly
    t = report.body.timeline
    assert (t.span, len(t.days)) == (span, columns)
    assert t.days[0].on == starts_on
    assert t.days[-1].last == starts_on + timedelta(days=days - 1)
    assert all(b.on == a.last + timedelta(days=1) for a, b in itertools.pairwise(t.days))
    heading = f"one column per {span} days"
    assert (heading in render(report)) == (span > 1)
