"""Hypothesis strategies for values, commands and whole campaign scenarios:
every strategy of the kit under one name (``from quality_ledger.testing import
strategies as qs``).

* :mod:`~quality_ledger.testing.values`: names rich in Unicode (CJK, mixed
  scripts, conversion debris such as ``監(jiān)``), dates inside a campaign's
  period, department codes, actors;
* :mod:`~quality_ledger.testing.lifecycles`: *plausible* commands, each
  lifecycle in order with consistent dates (:func:`scenarios`), so that deep
  states are reached; with ``noise``, some refused;
* :mod:`~quality_ledger.testing.steps`: for a ledger's current state, the
  valid next steps (:func:`commands_for`) and any command aimed at what it
  holds (:func:`any_commands_for`), and arbitrary JSON-like input
  (:func:`raw_commands`).
"""

from quality_ledger.testing.lifecycles import (
    Scenario,
    Step,
    activity_lifecycles,
    inspection_lifecycles,
    plan_campaigns,
    scenarios,
)
from quality_ledger.testing.steps import any_commands_for, commands_for, raw_commands, texts
from quality_ledger.testing.values import (
    DEPARTMENTS,
    GLOSSES,
    ORGANISER,
    REFERENCE_PERIOD,
    actors,
    calendar_dates,
    campaign_periods,
    cjk_text,
    dates_within,
    department_codes,
    end_of_calendar_periods,
    glossed,
    metrics,
    mixed_script_text,
    names,
    pinyin,
    sample_ids,
    shift,
    user_names,
)

__all__ = [
    "DEPARTMENTS",
    "GLOSSES",
    "ORGANISER",
    "REFERENCE_PERIOD",
    "Scenario",
    "Step",
    "activity_lifecycles",
    "actors",
    "any_commands_for",
    "calendar_dates",
    "campaign_periods",
    "cjk_text",
    "commands_for",
    "dates_within",
    "department_codes",
    "end_of_calendar_periods",
    "glossed",
    "inspection_lifecycles",
    "metrics",
    "mixed_script_text",
    "names",
    "pinyin",
    "plan_campaigns",
    "raw_commands",
    "sample_ids",
    "scenarios",
    "shift",
    "texts",
    "user_names",
]
