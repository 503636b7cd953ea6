"""An inspection's events as the Xi'an case has them: the givens of the rule tests
(tests/unit/test_inspection_rules.py) and of the given/when/then helper's own
tests (tests/kit/test_gwt.py)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from quality_ledger.domain.inspection import Inspection, LabResult, Subject
from quality_ledger.domain.values import SubjectKind, Verdict
from quality_ledger.testing import gwt

CAMPAIGN = UUID("78ff37a2-4de8-55d7-ae55-0020b8778fbd")
NOTIFIED = date(2017, 9, 10)

PLANNED = gwt.event(
    Inspection.Planned,
    campaign_id=CAMPAIGN,
    activity_id=None,
    inspecting_department="XA-QTS",
    inspection_kind="spot check",
    reference="2017-Q3-電線",
    subject=Subject(name="西安某電纜廠", subject_kind=SubjectKind.ENTERPRISE),
    product_category="電線電纜",
    planned_on=date(2017, 9, 4),
)
TAKEN = gwt.event(
    Inspection.SampleTaken, sample_id="S-1", product="BV 2.5", batch="170901-A", taken_on=date(2017, 9, 5)
)
FAILED = gwt.event(
    Inspection.SampleResultRecorded,
    sample_id="S-1",
    result=LabResult(passed=False, nonconforming_items=("導體電阻",), tested_on=date(2017, 9, 8)),
)
PASSED = gwt.event(
    Inspection.SampleResultRecorded,
    sample_id="S-1",
    result=LabResult(passed=True, nonconforming_items=(), tested_on=date(2017, 9, 8)),
)
NONCONFORMING = gwt.event(Inspection.VerdictIssued, verdict=Verdict.NONCONFORMING, notified_on=NOTIFIED)
CONFORMING = gwt.event(Inspection.VerdictIssued, verdict=Verdict.CONFORMING, notified_on=NOTIFIED)
OBJECTED = gwt.event(Inspection.ResultObjected, sample_id="S-1", lodged_on=date(2017, 9, 12), lodged_by=None)
