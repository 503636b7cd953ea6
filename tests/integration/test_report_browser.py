"""The campaign report in a real browser: headless Chromium opens the demo's
page and an empty campaign's page from file://, and the tests read what it
rendered (the DOM), what it drew (a screenshot), what it printed (a PDF on
A4, rendered back to pixels by poppler's pdftoppm) and what it tried to
fetch (every connection goes to a recording proxy on the loopback; none may
arrive).

``QUALITY_LEDGER_TEST_CHROMIUM`` names the browser (scripts/test sets it from
scripts/chromium); without it, or without pdfinfo and pdftoppm, these tests
skip, naming why, except under CI, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger.reports import write_report
from quality_ledger.scenarios import xian2017
from tests.conftest import in_ci, plan_campaign

pytestmark = pytest.mark.slow

CHROMIUM_VARIABLE = "QUALITY_LEDGER_TEST_CHROMIUM"
"""Not ``QUALITY_LEDGER_*``: the ledger refuses variables of its own prefix that it does not read (guarantees.py)."""
TIMEOUT = 60
A4_POINTS = (595, 842)
"""A4 in PostScript points (210 x 297 mm), as pdfinfo rounds it."""


# The tools ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    path = os.environ.get(CHROMIUM_VARIABLE, "").strip()
    missing = [] if path and Path(path).is_file() else [f"{CHROMIUM_VARIABLE} (scripts/chromium prints it)"]
    missing += [tool for tool in ("pdfinfo", "pdftoppm") if shutil.which(tool) is None]
    if missing:
        reason = f"the browser tests need {', '.join(missing)}"
        if in_ci():
            pytest.fail(f"{reason}; CI must not skip them", pytrace=False)
        pytest.skip(reason)
    return path


class Proxy:
    """An HTTP proxy that serves nothing and records the first line of every
    connection made to it: the browser is pointed at it for everything,
    loopback included, so any fetch the page attempts arrives here."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    first = b"(nothing read)"
                self.requests.append(first.decode("latin-1"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


BROWSER_OWN = (".google.com", ".googleapis.com", ".gstatic.com", ".gvt1.com", ".gvt2.com")
"""The domains headless Chromium connects to on its own, whatever the page, even with
background networking off: it pre-connects to its search engine and account service
(www.google.com, accounts.google.com, measured on a blank page by
test_a_blank_page_makes_only_the_browser_s_own_connections), and now and then to its
update and hint services. Nothing else is forgiven; the page itself names no address at
all (test_report.py's test_the_page_is_self_contained_and_printable_on_a4 checks its source)."""


def browser_own(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return any(name.endswith(domain) or name == domain[1:] for domain in BROWSER_OWN)


def host_of(request: str) -> str:
    """``CONNECT host:port ...`` or ``GET http://host/... ...`` -> the host (with the port for CONNECT)."""
    method, _, rest = request.partition(" ")
    target = rest.split(" ", 1)[0]
    if method == "CONNECT":
        return target
    return re.sub(r"^[a-z]+://", "", target).split("/", 1)[0]


def page_requests(requests: list[str]) -> list[str]:
    return [r for r in requests if not browser_own(host_of(r))]


@dataclass
class Browser:
    path: str
    profile: Path
    proxy: Proxy

    def run(self, page: Path, *options: str) -> subprocess.CompletedProcess[str]:
        command = [
            self.path,
            "--headless",
            "--no-sandbox",  # Chromium refuses to run as root with its sandbox (CI containers run as root)
            "--disable-gpu",
            f"--user-data-dir={self.profile}",
            f"--proxy-server=http://127.0.0.1:{self.proxy.port}",
            "--proxy-bypass-list=<-loopback>",  # the loopback through the proxy too
            "--disable-background-networking",  # the browser's own fetches (updates, metrics) would be noise
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
            "--hide-scrollbars",
            *options,
            page.as_uri(),
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=True)


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    proxy = Proxy()
    try:
        yield Browser(chromium, tmp_path_factory.mktemp("profile"), proxy)
    finally:
        proxy.close()


# What the browser made of a page ------------------------------------------------------


@dataclass
class Seen:
    page: Path
    dom: str
    screenshot: Path
    pdf: Path
    requests: list[str]


def open_in(browser: Browser, page: Path) -> Seen:
    """The DOM, a screenshot and a PDF of ``page``, and the fetches they attempted."""
    before = len(browser.proxy.requests)
    dom = browser.run(page, "--dump-dom").stdout
    shot = page.with_suffix(".png")
    browser.run(page, f"--screenshot={shot}", "--window-size=1000,1400")
    pdf = page.with_suffix(".pdf")
    browser.run(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    return Seen(page, dom, shot, pdf, page_requests(browser.proxy.requests[before:]))


@pytest.fixture(scope="module")
def demo(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Seen:
    where = tmp_path_factory.mktemp("demo")
    with Ledger.open(f"sqlite:///{where / 'demo.db'}") as ledger:
        xian2017.load(ledger)
        write_report(ledger, where / "demo.html")
    return open_in(browser, where / "demo.html")


@pytest.fixture(scope="module")
def empty(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Seen:
    where = tmp_path_factory.mktemp("empty")
    with Ledger.open(f"sqlite:///{where / 'empty.db'}") as ledger:
        plan_campaign(ledger, launch=False)
        write_report(ledger, where / "empty.html")
    return open_in(browser, where / "empty.html")


def text_of(dom: str, ident: str) -> str:
    found = re.search(rf'id="{ident}"[^>]*>(.*?)</', dom, flags=re.S)
    assert found is not None, f"no element #{ident} in the rendered DOM"
    return found.group(1)


# Pixels, decoded here (PNG: zlib and the five row filters; PPM: a header and bytes) ----------


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of pixels (bytes per pixel as stored) of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat, header = 8, b"", b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), "only 8-bit, non-interlaced PNGs are decoded here"
    size = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - size] if x >= size else 0
            up = previous[x]
            corner = previous[x - size] if x >= size else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r) for r in rows]


def distinct_colours(path: Path) -> int:
    width, _, rows = png_pixels(path)
    size = len(rows[0]) // width
    return len({row[x : x + size] for row in rows[::4] for x in range(0, len(row), size * 4)})


def pdf_pages(pdf: Path, tmp: Path, dpi: int = 36) -> list[tuple[int, int, bytes]]:
    """Each page as (width, height, greyscale bytes), rendered by pdftoppm."""
    prefix = tmp / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(pdf), str(prefix)], check=True, timeout=TIMEOUT)
    pages = []
    for path in sorted(tmp.glob(f"{pdf.stem}-*.pgm")):
        data = path.read_bytes()
        magic, width, height, _, pixels = data.split(maxsplit=4)
        assert magic == b"P5"
        pages.append((int(width), int(height), pixels[: int(width) * int(height)]))
    return pages


def pdf_page_sizes(pdf: Path) -> set[tuple[int, int]]:
    done = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True)
    sizes = re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", done.stdout)
    return {(round(float(w)), round(float(h))) for w, h in sizes}


def touches_right_margin(page: tuple[int, int, bytes], dpi: int = 36, margin_mm: float = 13.5) -> bool:
    """Whether anything is drawn in the rightmost ``margin_mm`` of the sheet.

    The page's margin is 12 mm and the report keeps 3 mm more clear in print;
    Chromium clips what overflows at the margin, so a clipped table leaves
    ink right up to 12 mm from the edge: inside this band."""
    width, height, pixels = page
    columns = max(1, round(margin_mm / 25.4 * dpi))
    return any(pixels[y * width + x] < 250 for y in range(height) for x in range(width - columns, width))


# The tests ----------------------------------------------------------------------------


def test_the_demo_page_shows_the_issue_s_figures(demo: Seen) -> None:
    assert text_of(demo.dom, "departments") == "12"
    assert text_of(demo.dom, "pass-rate") == "84.9%"
    assert "58/58 experts" in demo.dom
    assert "88/88 enterprises" in demo.dom
    assert demo.dom.count('<tr class="activity">') == 38
    assert "…" not in demo.dom
    assert "<script" not in demo.dom


def test_the_empty_campaign_page_renders_its_empty_sections(empty: Seen) -> None:
    assert text_of(empty.dom, "departments") == "2"
    assert text_of(empty.dom, "activities") == "0"
    assert "尚无活动 / No activities yet." in empty.dom
    assert "已验证 / verified ok" in empty.dom


def test_neither_page_makes_a_request(demo: Seen, empty: Seen) -> None:
    assert demo.requests == []
    assert empty.requests == []


def test_the_proxy_sees_a_page_that_does_fetch(browser: Browser, tmp_path: Path) -> None:
    # the test above would pass vacuously if the browser's fetches bypassed the proxy
    page = tmp_path / "fetching.html"
    page.write_text('<img src="http://example.invalid/x.png">')
    before = len(browser.proxy.requests)
    browser.run(page, "--dump-dom")
    seen = page_requests(browser.proxy.requests[before:])
    assert any("example.invalid" in r for r in seen), seen


def test_a_blank_page_makes_only_the_browser_s_own_connections(browser: Browser, tmp_path: Path) -> None:
    # what BROWSER_OWN forgives is what the browser does on a page that fetches nothing, and no more
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body>blank</body></html>")
    before = len(browser.proxy.requests)
    browser.run(page, "--dump-dom")
    assert all(browser_own(host_of(r)) for r in browser.proxy.requests[before:]), browser.proxy.requests[before:]


@pytest.mark.parametrize("which", ["demo", "empty"])
def test_the_screenshot_is_not_blank(which: str, request: pytest.FixtureRequest) -> None:
    seen: Seen = request.getfixturevalue(which)
    width, height, _ = png_pixels(seen.screenshot)
    assert (width, height) == (1000, 1400)
    assert distinct_colours(seen.screenshot) > 8


def test_a_blank_screenshot_is_told_apart(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>")
    browser.run(page, f"--screenshot={tmp_path / 'blank.png'}", "--window-size=200,200")
    assert distinct_colours(tmp_path / "blank.png") <= 2


@pytest.mark.parametrize("which", ["demo", "empty"])
def test_it_prints_on_a4_without_clipping(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    seen: Seen = request.getfixturevalue(which)
    assert pdf_page_sizes(seen.pdf) == {A4_POINTS}
    pages = pdf_pages(seen.pdf, tmp_path)
    assert pages
    assert [n for n, page in enumerate(pages, 1) if touches_right_margin(page)] == []
    if which == "demo":
        assert len(pages) > 2  # the demo's tables flow over several sheets


MEASURE = (
    "<script>addEventListener('load', () => { document.title = 'overflow ' + "
    "(document.documentElement.scrollWidth - document.documentElement.clientWidth); });</script>"
)
"""Added to a copy of a page (the report itself has no script): how far its content overflows the viewport."""

A4_CONTENT_PX = 703
"""A4's width less the report's 12 mm margins (186 mm), in CSS pixels: the width printing lays a page out in."""


def overflow(browser: Browser, page: Path, tmp: Path) -> int:
    """CSS pixels by which ``page`` is wider than A4's printable width (0 if it fits)."""
    measured = tmp / f"measured-{page.name}"
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browser.run(measured, "--dump-dom", f"--window-size={A4_CONTENT_PX},1000").stdout
    found = re.search(r"<title>overflow (-?\d+)</title>", dom)
    assert found is not None, dom[:300]
    return int(found.group(1))


@pytest.mark.parametrize("which", ["demo", "empty"])
def test_no_table_is_wider_than_the_printed_page(
    which: str, request: pytest.FixtureRequest, browser: Browser, tmp_path: Path
) -> None:
    # a table wider than the page is clipped at the page's edge, which the margin check cannot see
    seen: Seen = request.getfixturevalue(which)
    assert overflow(browser, seen.page, tmp_path) == 0


def test_a_wide_table_is_told_apart(browser: Browser, tmp_path: Path) -> None:
    # the checks above would pass vacuously if nothing could overflow or reach the sheet's edge
    page = tmp_path / "wide.html"
    page.write_text(
        "<!DOCTYPE html><html><head><style>@page { size: A4; margin: 14mm 12mm; } body { margin: 0 }</style></head>"
        f'<body><table><tr><td style="white-space: nowrap">{"X" * 150}</td><td>last</td></tr></table>'
        "</body></html>"
    )
    assert overflow(browser, page, tmp_path) > 500
    browser.run(page, f"--print-to-pdf={tmp_path / 'wide.pdf'}", "--no-pdf-header-footer")
    (first,) = pdf_pages(tmp_path / "wide.pdf", tmp_path)
    assert touches_right_margin(first)
