"""Renamed classes keep their old names for a while, with a warning naming the new one."""

from __future__ import annotations

import importlib

import pytest

OLD_NAMES = [
    ("quality_ledger.domain.values", "CampaignState", "CampaignStatus"),
    ("quality_ledger.domain.values", "ActivityState", "ActivityStatus"),
    ("quality_ledger.domain.values", "InspectionState", "InspectionStatus"),
    ("quality_ledger.domain.values", "CommendationState", "CommendationStatus"),
    ("quality_ledger.domain", "CampaignView", "CampaignState"),
    ("quality_ledger.domain.activity", "ActivityView", "ActivityState"),
    ("quality_ledger.domain.campaign", "CampaignView", "CampaignState"),
    ("quality_ledger.domain.commendation", "CommendationView", "CommendationState"),
    ("quality_ledger.domain.inspection", "InspectionView", "InspectionState"),
    ("quality_ledger.command_records", "CommandRecordView", "CommandRecordState"),
    ("quality_ledger.figures", "CampaignStatus", "CampaignFigures"),
    ("quality_ledger.handlers", "Work", "Changes"),
    ("quality_ledger.handlers", "Context", "CommandContext"),
]


@pytest.mark.parametrize(("module", "old", "new"), OLD_NAMES, ids=lambda v: str(v))
def test_an_old_name_resolves_to_the_renamed_class_with_a_warning(module: str, old: str, new: str) -> None:
    namespace = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is now {new}$"):
        value = getattr(namespace, old)
    assert value is getattr(namespace, new)


def test_a_name_that_never_existed_is_still_an_attribute_error() -> None:
    namespace = importlib.import_module("quality_ledger.domain.values")
    with pytest.raises(AttributeError, match="has no attribute 'Nonesuch'"):
        namespace.Nonesuch  # noqa: B018 - the lookup is the test
