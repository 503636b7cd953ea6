"""Hypothesis strategies for values: names, dates, department codes, actors.

Real input to this library is messy: Traditional Chinese with conversion
debris (``監(jiān)`` is 监 followed by its pinyin), mixed scripts, full-width
letters. These strategies lean towards that on purpose, so a service's tests
meet such text before its users do.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from quality_ledger.domain.values import Actor, SampleId, UserName

__all__ = [
    "DEPARTMENTS",
    "GLOSSES",
    "ORGANISER",
    "REFERENCE_PERIOD",
    "actors",
    "calendar_dates",
    "campaign_periods",
    "cjk_text",
    "dates_within",
    "department_codes",
    "end_of_calendar_periods",
    "glossed",
    "metrics",
    "mixed_script_text",
    "names",
    "pinyin",
    "sample_ids",
    "shift",
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


def _spaced(text: str) -> str:
    """``text`` with every space character (U+3000, ...) written as U+0020, as identifiers require."""
    return "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)


def _accepted_as(kind: Any) -> Callable[[str], bool]:
    """Whether the ledger's own type ``kind`` accepts a text: the kit asks the
    domain's bounds rather than copying them."""
    adapter: TypeAdapter[str] = TypeAdapter(kind)

    def accepted(text: str) -> bool:
        try:
            adapter.validate_python(text)
        except ValidationError:
            return False
        return True

    return accepted


@functools.cache
def sample_ids() -> Strategy[str]:
    """Sample ids: lab-style (``S-017``) or names as printed on a seal (an identifier: no invisible characters)."""
    return st.one_of(
        st.from_regex(r"S-?[0-9]{1,3}", fullmatch=True), names().map(_spaced).filter(_accepted_as(SampleId))
    )


@functools.cache
def user_names() -> Strategy[str]:
    """User names: ``zhang.min`` style, or names in any script (an identifier: no invisible characters)."""
    return st.one_of(
        st.from_regex(r"[a-z]{2,6}\.[a-z]{2,6}", fullmatch=True), names().map(_spaced).filter(_accepted_as(UserName))
    )


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
