"""The inspection: a supervision spot check that ends in a verdict.

Planned, samples taken and tested, verdict notified; the subject may object
within 15 days and have a sample re-tested (the re-test replaces the original
result); nonconforming subjects are ordered to rectify, are followed up,
penalised or transferred; then the inspection is closed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from quality_ledger.domain.base import AggregateState, CreationEvent, DomainEvent, LedgerAggregate
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.transitions import FINAL_CONFORMING, INSPECTION
from quality_ledger.domain.values import Frozen, InspectionStatus, LodgedBy, SubjectKind, Verdict
from quality_ledger.renamed import old_names


class Subject(Frozen):
    name: str
    subject_kind: SubjectKind


class LabResult(Frozen):
    passed: bool
    nonconforming_items: tuple[str, ...] = ()
    tested_on: date
    retest: bool = False


class Sample(Frozen):
    sample_id: str
    product: str
    batch: str
    taken_on: date
    result: LabResult | None = None
    original_result: LabResult | None = None
    objected_on: date | None = None
    objection_lodged_by: LodgedBy | None = None
    """Who put the objection on the record; None if not recorded (see :class:`LodgedBy`)."""

    @property
    def awaiting_retest(self) -> bool:
        return self.objected_on is not None and (self.result is None or not self.result.retest)


class Rectification(Frozen):
    ordered_on: date
    due_on: date
    requirements: str
    verified_on: date | None = None
    passed: bool | None = None
    notes: str | None = None


class Penalty(Frozen):
    amount: Decimal
    reason: str
    decided_on: date


class InspectionState(AggregateState):
    campaign_id: UUID
    activity_id: UUID | None
    inspecting_department: str
    inspection_kind: str
    reference: str
    subject: Subject
    product_category: str
    planned_on: date
    status: InspectionStatus = INSPECTION.initial
    samples: tuple[Sample, ...] = ()
    verdict: Verdict | None = None
    notified_on: date | None = None
    rectification: Rectification | None = None
    penalty: Penalty | None = None
    transferred_to: str | None = None
    closed_on: date | None = None

    def sample(self, sample_id: str) -> Sample | None:
        return next((s for s in self.samples if s.sample_id == sample_id), None)

    @property
    def awaiting_retest(self) -> bool:
        return any(s.awaiting_retest for s in self.samples)

    @property
    def has_final_verdict(self) -> bool:
        """A verdict no pending objection can still change."""
        return self.verdict is not None and not self.awaiting_retest

    def rectification_overdue(self, on: date) -> bool:
        r = self.rectification
        return r is not None and r.passed is not True and r.verified_on is None and r.due_on < on


def verdict_of(samples: tuple[Sample, ...]) -> Verdict:
    """Nonconforming if and only if a sample's current result failed."""
    failed = any(s.result is not None and not s.result.passed for s in samples)
    return Verdict.NONCONFORMING if failed else Verdict.CONFORMING


class Inspection(LedgerAggregate[InspectionState]):
    kind = "inspection"
    state_model = InspectionState
    lifecycle = INSPECTION

    class Event(DomainEvent):
        pass

    class Planned(CreationEvent, Event):
        campaign_id: UUID
        activity_id: UUID | None
        inspecting_department: str
        inspection_kind: str
        reference: str
        subject: Subject
        product_category: str
        planned_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.state = InspectionState(
                id=self.originator_id,
                subject=self.subject,
                **self.payload("subject"),
            )

    class SampleTaken(Event):
        sample_id: str
        product: str
        batch: str
        taken_on: date

        def apply(self, aggregate: Any) -> None:
            sample = Sample(**self.model_dump(include={"sample_id", "product", "batch", "taken_on"}))
            aggregate.evolve(status=INSPECTION.after("SampleTaken"), samples=(*aggregate.state.samples, sample))

    class SampleResultRecorded(Event):
        sample_id: str
        result: LabResult

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(samples=_replace(aggregate.state.samples, self.sample_id, result=self.result))

    class VerdictIssued(Event):
        verdict: Verdict
        notified_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(
                status=INSPECTION.after("VerdictIssued"), verdict=self.verdict, notified_on=self.notified_on
            )

    class ResultObjected(Event):
        """The subject contests a failed result (within 15 days of notification).

        v2 records who put it on the record (``lodged_by``), which the
        authorization rules need to tell the subject's own objection from one
        the inspecting department recorded for it. v1 events, written before,
        never said: they read back as ``None`` ("not recorded"), never a guess.
        """

        class_version = 2
        sample_id: str
        lodged_on: date
        lodged_by: LodgedBy | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["lodged_by"] = None

        def apply(self, aggregate: Any) -> None:
            samples = _replace(
                aggregate.state.samples, self.sample_id, objected_on=self.lodged_on, objection_lodged_by=self.lodged_by
            )
            aggregate.evolve(samples=samples)

    class RetestResultRecorded(Event):
        """The re-test replaces the original result; ``verdict`` is the verdict
        that follows, decided by the command so views need not recompute it."""

        sample_id: str
        result: LabResult
        verdict: Verdict

        def apply(self, aggregate: Any) -> None:
            original = aggregate.state.sample(self.sample_id).result
            samples = _replace(aggregate.state.samples, self.sample_id, result=self.result, original_result=original)
            aggregate.evolve(samples=samples, verdict=self.verdict)

    class RectificationOrdered(Event):
        rectification: Rectification

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=INSPECTION.after("RectificationOrdered"), rectification=self.rectification)

    class RectificationVerified(Event):
        verified_on: date
        passed: bool
        notes: str

        def apply(self, aggregate: Any) -> None:
            rectification = aggregate.state.rectification.model_copy(
                update={"verified_on": self.verified_on, "passed": self.passed, "notes": self.notes}
            )
            status = INSPECTION.after("RectificationVerified", self.passed)
            aggregate.evolve(status=status, rectification=rectification)

    class PenaltyImposed(Event):
        penalty: Penalty

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=INSPECTION.after("PenaltyImposed"), penalty=self.penalty)

    class CaseTransferred(Event):
        authority: str
        transferred_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=INSPECTION.after("CaseTransferred"), transferred_to=self.authority)

    class Closed(Event):
        closed_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.evolve(status=INSPECTION.after("Closed"), closed_on=self.closed_on)

    # Commands -------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        inspection_id: UUID,
        *,
        campaign_id: UUID,
        activity_id: UUID | None,
        inspecting_department: str,
        inspection_kind: str,
        reference: str,
        subject: Subject,
        product_category: str,
        planned_on: date,
    ) -> Inspection:
        cls.check_text(subject.name, "inspection-subject", "a subject's name")
        cls.check_text(product_category, "inspection-product-category", "a product category")
        return cls._create(
            cls.Planned,
            id=inspection_id,
            campaign_id=campaign_id,
            activity_id=activity_id,
            inspecting_department=inspecting_department,
            inspection_kind=inspection_kind,
            reference=reference,
            subject=subject,
            product_category=product_category,
            planned_on=planned_on,
        )

    def take_sample(self, sample_id: str, product: str, batch: str, taken_on: date) -> None:
        self.check_transition("take_sample")
        self.check(self.state.sample(sample_id) is None, "sample-id-unique", f"sample {sample_id} already taken")
        self.check_order(self.state.planned_on, taken_on, "sample-after-planning", "sample taken before planning")
        self.trigger_event(self.SampleTaken, sample_id=sample_id, product=product, batch=batch, taken_on=taken_on)

    def record_result(
        self, sample_id: str, passed: bool, nonconforming_items: tuple[str, ...], tested_on: date
    ) -> None:
        self.check_transition("record_result")
        sample = self.check_sample(sample_id)
        self.check(sample.result is None, "result-once", f"sample {sample_id} already has a result; object and re-test")
        result = self.check_result(sample, passed, nonconforming_items, tested_on, retest=False)
        self.trigger_event(self.SampleResultRecorded, sample_id=sample_id, result=result)

    def issue_verdict(self, notified_on: date) -> Verdict:
        self.check_transition("issue_verdict")
        untested = [s.sample_id for s in self.state.samples if s.result is None]
        self.check(not untested, "verdict-after-all-results", f"samples without a result: {', '.join(untested)}")
        last_test = max((s.result.tested_on for s in self.state.samples if s.result is not None), default=None)
        if last_test is not None:
            self.check_order(last_test, notified_on, "verdict-after-tests", "notified before the last test")
        verdict = verdict_of(self.state.samples)
        self.trigger_event(self.VerdictIssued, verdict=verdict, notified_on=notified_on)
        return verdict

    def object_to_result(self, sample_id: str, lodged_on: date, *, lodged_by: LodgedBy | None = None) -> None:
        """``lodged_by`` is decided by the application layer, which knows the
        actor and the policy; the domain records it as given (None: not known)."""
        self.check_transition("object_to_result")
        sample = self.check_sample(sample_id)
        assert self.state.notified_on is not None  # set with the verdict
        self.check(
            sample.result is not None and not sample.result.passed,
            "objection-to-failure",
            "only a failed result can be objected to",
        )
        self.check(
            sample.objected_on is None, "objection-once-per-sample", f"sample {sample_id} was already objected to"
        )
        self.check(
            OBJECTION_WINDOW.holds(self.state.notified_on, lodged_on),
            OBJECTION_WINDOW.id,
            OBJECTION_WINDOW.detail(self.state.notified_on, lodged_on),
        )
        self.trigger_event(self.ResultObjected, sample_id=sample_id, lodged_on=lodged_on, lodged_by=lodged_by)

    def record_retest(
        self, sample_id: str, passed: bool, nonconforming_items: tuple[str, ...], tested_on: date
    ) -> None:
        self.check_transition("record_retest")
        sample = self.check_sample(sample_id)
        self.check(sample.awaiting_retest, "retest-after-objection", f"sample {sample_id} has no pending objection")
        result = self.check_result(sample, passed, nonconforming_items, tested_on, retest=True)
        verdict = verdict_of(_replace(self.state.samples, sample_id, result=result))
        self.trigger_event(self.RetestResultRecorded, sample_id=sample_id, result=result, verdict=verdict)

    def order_rectification(self, ordered_on: date, due_on: date, requirements: str) -> None:
        self.check_transition("order_rectification")
        self.check_final_nonconforming("rectification-after-nonconforming")
        self.check(due_on > ordered_on, "rectification-due-after-order", "the due date must be after the order")
        self.check_text(requirements, "rectification-requirements", "rectification requirements")
        rectification = Rectification(ordered_on=ordered_on, due_on=due_on, requirements=requirements)
        self.trigger_event(self.RectificationOrdered, rectification=rectification)

    def verify_rectification(self, verified_on: date, passed: bool, notes: str) -> None:
        self.check_transition("verify_rectification")
        assert self.state.rectification is not None
        self.check_order(
            self.state.rectification.ordered_on, verified_on, "follow-up-after-order", "follow-up before the order"
        )
        self.trigger_event(self.RectificationVerified, verified_on=verified_on, passed=passed, notes=notes)

    def impose_penalty(self, amount: Decimal, reason: str, decided_on: date) -> None:
        self.check_transition("impose_penalty")
        self.check_final_nonconforming("penalty-after-nonconforming")
        self.check(amount >= 0, "penalty-not-negative", f"penalty {amount} is negative")
        self.check_text(reason, "penalty-reason", "a penalty's reason")
        self.check_after_notification(decided_on, "penalty-after-verdict")
        self.trigger_event(self.PenaltyImposed, penalty=Penalty(amount=amount, reason=reason, decided_on=decided_on))

    def transfer_case(self, authority: str, transferred_on: date) -> None:
        self.check_transition("transfer_case")
        self.check_final_nonconforming("transfer-after-nonconforming")
        self.check_text(authority, "transfer-authority", "the receiving authority")
        self.check_after_notification(transferred_on, "transfer-after-verdict")
        self.trigger_event(self.CaseTransferred, authority=authority, transferred_on=transferred_on)

    def close(self, closed_on: date) -> None:
        conforming = self.state.verdict is Verdict.CONFORMING and self.state.has_final_verdict
        self.check_transition("close", {FINAL_CONFORMING} if conforming else ())
        self.check_after_notification(closed_on, "close-after-verdict")
        self.trigger_event(self.Closed, closed_on=closed_on)

    # Guards -----------------------------------------------------------------

    def check_after_notification(self, on: date, rule: str) -> None:
        if self.state.notified_on is not None:
            self.check_order(self.state.notified_on, on, rule, f"{on} is before the verdict was notified")

    def check_sample(self, sample_id: str) -> Sample:
        sample = self.state.sample(sample_id)
        self.check(sample is not None, "results-for-taken-samples", f"no sample {sample_id} was taken")
        assert sample is not None
        return sample

    def check_result(
        self, sample: Sample, passed: bool, items: tuple[str, ...], tested_on: date, *, retest: bool
    ) -> LabResult:
        self.check(
            passed != bool(items),
            "failure-names-items",
            "a failed result names its nonconforming items; a pass names none",
        )
        self.check_order(sample.taken_on, tested_on, "tested-after-sampling", "tested before the sample was taken")
        return LabResult(passed=passed, nonconforming_items=items, tested_on=tested_on, retest=retest)

    def check_final_nonconforming(self, rule: str) -> None:
        self.check(
            self.state.verdict is Verdict.NONCONFORMING and self.state.has_final_verdict,
            rule,
            "needs a final nonconforming verdict (no re-test pending)",
        )


def _replace(samples: tuple[Sample, ...], sample_id: str, **changes: Any) -> tuple[Sample, ...]:
    return tuple(s.replaced(**changes) if s.sample_id == sample_id else s for s in samples)


# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"InspectionView": "InspectionState"})
