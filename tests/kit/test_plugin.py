"""The pytest plugin (entry point pytest11): fixtures for a suite that has no conftest,
and an import that needs neither hypothesis nor a database driver."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM_SUITE = """
from datetime import date

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c

PLAN = c.PlanCampaign(title="質量月", theme="品質", organiser="XA-QPC", starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30))


def plan(ledger: Ledger) -> None:
    receipt = ledger.execute(PLAN, Actor(user="zhang.min", department="XA-QPC"))
    assert ledger.get(receipt.aggregate_id).version == 1
    assert ledger.position() == 1  # empty before the test


def test_in_memory(ledger):
    assert ledger.url == "memory://"
    plan(ledger)


def test_on_sqlite(sqlite_ledger, tmp_path):
    assert sqlite_ledger.url.startswith(f"sqlite:///{tmp_path}")
    plan(sqlite_ledger)


def test_on_postgres(postgres_ledger):
    plan(postgres_ledger)


def test_again_on_postgres(postgres_ledger):
    plan(postgres_ledger)
"""


def test_a_suite_without_a_conftest_gets_the_ledger_fixtures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a service's test module that asks for the fixtures, no conftest, no PostgreSQL
    monkeypatch.delenv("QUALITY_LEDGER_TEST_POSTGRES_URL", raising=False)
    pytester.makepyfile(test_service=DOWNSTREAM_SUITE)
    # when pytest runs it (loading plugins from entry points, as in any project)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    # then memory and SQLite run, and PostgreSQL is skipped saying why
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*QUALITY_LEDGER_TEST_POSTGRES_URL is not set*"])


@pytest.mark.postgres
def test_postgres_ledgers_are_empty_and_apart(pytester: pytest.Pytester) -> None:
    # given a PostgreSQL server (skipped without one)
    if not os.environ.get("QUALITY_LEDGER_TEST_POSTGRES_URL", "").strip():
        pytest.skip("QUALITY_LEDGER_TEST_POSTGRES_URL is not set")
    pytester.makepyfile(test_service=DOWNSTREAM_SUITE)
    # when two tests each record on a postgres_ledger / then each starts empty
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


SERVICE_MACHINE = """
from quality_ledger import Ledger
from quality_ledger import commands as c
from quality_ledger.errors import IllegalTransition
from quality_ledger.testing import LedgerMachine, find_failure, profiles


class RecordsThenRefuses(Ledger):
    def execute(self, command, actor, **options):
        receipt = super().execute(command, actor, **options)
        if isinstance(command, c.TakeSample):
            raise IllegalTransition("inspection", "sampling", "take a sample")
        return receipt


class BrokenMachine(LedgerMachine):
    def make_ledger(self) -> Ledger:
        return RecordsThenRefuses.open("memory://")


class ServiceMachine(LedgerMachine):
    pass


TestServiceMachine = ServiceMachine.TestCase
TestServiceMachine.settings = profiles.for_machines()


def test_the_planted_bug_is_found():
    failure = find_failure(BrokenMachine, max_examples=1000, stateful_step_count=50)
    assert failure.error.promise == "refusal-records-nothing"
    names = [e.step.command.name for e in failure.program]
    assert names[:3] == ["PlanCampaign", "EnlistDepartment", "PlanInspection"]
    assert names[-1] == "TakeSample" and len(names) <= 4
"""


def test_a_service_suite_with_nothing_but_the_kit_finds_a_planted_bug(pytester: pytest.Pytester) -> None:
    # given a service's test module, alone in its project (no conftest), that subclasses the machine
    pytester.makepyfile(test_service_machine=SERVICE_MACHINE)
    # when pytest runs it with the kit's CI profile (registered by the plugin)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile=quality-ledger-ci")
    # then the machine passes on the library's own rules, and finds the bug planted in the subclass
    result.assert_outcomes(passed=2)


PROFILE_PROBE = """
from hypothesis import settings


def test_the_kit_profile_is_loaded(ledger):
    assert ledger.url == "memory://"  # the kit's fixtures are there too
    assert settings.get_current_profile_name() == {profile!r}
    assert settings.default.max_examples == settings.get_profile({profile!r}).max_examples
"""

KIT_PLUGIN = "quality_ledger.testing.plugin"
HYPOTHESIS_PLUGIN = "_hypothesis_pytestplugin"  # hypothesis's pytest11 entry point loads this module


@pytest.mark.parametrize("profile", ["quality-ledger-ci", "quality-ledger-thorough"])
@pytest.mark.parametrize(
    "plugins",
    [
        pytest.param((KIT_PLUGIN, HYPOTHESIS_PLUGIN), id="kit-registered-first"),
        pytest.param((HYPOTHESIS_PLUGIN, KIT_PLUGIN), id="hypothesis-registered-first"),
    ],
)
def test_a_kit_profile_loads_whichever_plugin_registers_first(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, plugins: tuple[str, str], profile: str
) -> None:
    # given a service's test module, no conftest, and the two plugins registered in a forced order
    # (pytest calls pytest_configure in reverse registration order: kit-registered-first is the
    # order where hypothesis loads --hypothesis-profile first)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    pytester.makepyfile(test_service=PROFILE_PROBE.format(profile=profile))
    first, second = plugins
    # when pytest runs it with one of the kit's profiles
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", first, "-p", second, f"--hypothesis-profile={profile}"
    )
    # then the profile is registered in time and loaded, and the test passes
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)


def test_the_plugin_imports_without_hypothesis_and_without_psycopg() -> None:
    # given a Python where hypothesis and psycopg cannot be imported
    script = (
        "import sys; sys.modules['hypothesis'] = None; sys.modules['psycopg'] = None\n"
        "import quality_ledger.testing.plugin as plugin\n"
        "plugin.pytest_configure(None)\n"  # registers no profile, raises nothing
        "import quality_ledger.testing\n"
        "assert 'quality_ledger.testing.strategies' not in sys.modules\n"
    )
    # when the plugin is imported and configured / then nothing fails
    subprocess.run([sys.executable, "-c", script], check=True)


def test_the_library_imports_no_test_tool() -> None:
    # given a fresh interpreter / when quality_ledger is imported / then neither hypothesis nor pytest is
    script = "import sys, quality_ledger; assert not {'hypothesis', 'pytest'} & set(sys.modules), sys.modules.keys()"
    subprocess.run([sys.executable, "-c", script], check=True)
