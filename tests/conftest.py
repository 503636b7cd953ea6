"""Fixtures shared by the suite: ledgers on each engine and a launched campaign.

``ledger`` runs each test that takes it on every engine: in memory, on a
SQLite file and on PostgreSQL (``QUALITY_LEDGER_TEST_POSTGRES_URL``, which
``scripts/test`` sets after starting a private cluster). Each PostgreSQL test
gets a schema of its own, created empty before and dropped after, so tests
never see each other's events, views or notification ids. Without the URL the
PostgreSQL runs are skipped, naming the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from uuid import UUID

import pytest
from hypothesis import settings

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.testing import profiles
from quality_ledger.testing.plugin import POSTGRES_URL_VARIABLE, postgres_schema

if TYPE_CHECKING:
    import psycopg

# The kit's profiles, under short names: HYPOTHESIS_PROFILE=thorough ./scripts/test for a nightly run.
profiles.register()
settings.register_profile("ci", settings.get_profile(profiles.CI))
settings.register_profile("thorough", settings.get_profile(profiles.THOROUGH))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ORGANISER = Actor(user="zhang.min", department="XA-QPC")
QTS = Actor(user="li.wei", department="XA-QTS")
FDA = Actor(user="chen.jing", department="XA-FDA")
OUTSIDER = Actor(user="wu.gang", department="XA-TOU")


def event_count(ledger: Ledger) -> int:
    """How many events the whole log holds: the measure of 'recorded nothing'."""
    return sum(1 for _ in ledger.events())


ENGINES = ("memory", "sqlite", "postgres")
"""Where a ledger can keep its events: ``Ledger.open`` takes a URL for each."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def with_query(url: str, **parameters: str) -> str:
    """``url`` with query parameters added or replaced."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(parameters)
    return parts._replace(query=urlencode(query)).geturl()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test server's URL; skips (fails under CI) when there is none."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (scripts/test starts a private server and sets it)"
        if in_ci():
            pytest.fail(f"{reason}; CI must not skip them", pytrace=False)
        pytest.skip(reason)
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as e:
        pytest.fail(f"{POSTGRES_URL_VARIABLE} is set but the server cannot be reached: {e}", pytrace=False)
    return url


def postgres_connect(url: str) -> psycopg.Connection[Any]:
    """A plain autocommit connection to the store at a ledger URL, in its schema."""
    import psycopg

    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query)).get("schema", "public")
    return psycopg.connect(parts._replace(query="").geturl(), autocommit=True, options=f"-c search_path={schema}")


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A ledger URL on the test server, in a fresh schema dropped after the test."""
    with postgres_schema(postgres_server) as url:
        yield url


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine in turn: memory, sqlite, postgres."""
    name: str = request.param
    return name


@pytest.fixture(params=[e for e in ENGINES if e != "memory"])
def durable_engine(request: pytest.FixtureRequest) -> str:
    """Each engine that keeps events across processes: sqlite, postgres."""
    name: str = request.param
    return name


def engine_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store on ``engine``."""
    if engine == "memory":
        return "memory://"
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def ledger_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL on each engine in turn."""
    return engine_url(engine, request, tmp_path)


@pytest.fixture
def durable_url(durable_engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL on SQLite, then on PostgreSQL: for tests across processes."""
    return engine_url(durable_engine, request, tmp_path)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """An empty ledger, on each engine in turn (memory, a SQLite file, PostgreSQL)."""
    with Ledger.open(ledger_url) as opened:
        yield opened


def plan_campaign(ledger: Ledger, *, launch: bool = True, title: str = "Xi'an 2017 Quality Month") -> UUID:
    """A campaign organised by XA-QPC with XA-QTS and XA-FDA enlisted."""
    campaign_id = ledger.execute(
        c.PlanCampaign(
            title=title,
            theme="建设品质西安",
            organiser="XA-QPC",
            starts_on=date(2017, 9, 1),
            ends_on=date(2017, 9, 30),
        ),
        ORGANISER,
    ).aggregate_id
    for code, zh, en in [
        ("XA-QTS", "市质监局", "Quality and Technical Supervision Bureau"),
        ("XA-FDA", "市食品药监局", "Food and Drug Administration"),
    ]:
        ledger.execute(c.EnlistDepartment(campaign_id=campaign_id, code=code, name_zh=zh, name_en=en), ORGANISER)
    if launch:
        ledger.execute(c.LaunchCampaign(campaign_id=campaign_id, launched_on=date(2017, 9, 1)), ORGANISER)
    return campaign_id


def started_activity(ledger: Ledger, campaign_id: UUID, title: str = "visit") -> UUID:
    """An activity led by XA-QTS with a target of 88 enterprises, planned and started."""
    plan = c.PlanActivity(
        campaign_id=campaign_id,
        title=title,
        lead_department="XA-QTS",
        focus_area="everyone-takes-part",
        targets={"enterprises": 88},
    )
    activity_id = ledger.execute(plan, QTS).aggregate_id
    ledger.execute(c.StartActivity(activity_id=activity_id, started_on=date(2017, 9, 2)), QTS)
    return activity_id


@pytest.fixture
def campaign_id(ledger: Ledger) -> UUID:
    return plan_campaign(ledger)
