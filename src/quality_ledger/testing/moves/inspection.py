"""An inspection's moves: samples and their results, the verdict, objections
and retests, and the follow-ups of a nonconforming verdict."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from hypothesis import strategies as st

from quality_ledger import commands as c
from quality_ledger.domain.inspection import InspectionState
from quality_ledger.domain.rules import OBJECTION_WINDOW
from quality_ledger.domain.transitions import FINAL_CONFORMING, INSPECTION
from quality_ledger.domain.values import Verdict
from quality_ledger.testing.pools import Offer, Strategy, Tagged, _allowed, _issued_by, _on_or_after, _pick, _words
from quality_ledger.testing.state import LedgerState
from quality_ledger.testing.values import _one_in, sample_ids, shift


def _items(draw: st.DrawFn, passed: bool) -> tuple[str, ...]:
    return () if passed else tuple(draw(st.lists(_words(), min_size=1, max_size=2)))


@functools.cache
def _batches() -> Strategy[str]:
    return st.from_regex(r"[0-9]{6}-[A-Z]", fullmatch=True)


def _inspection_moves(state: LedgerState, inspection: InspectionState) -> list[Tagged]:
    offers = _inspection_offers(inspection)
    return _issued_by(state, _allowed(INSPECTION, inspection.status, offers, _holds(inspection)))


def _holds(inspection: InspectionState) -> list[str]:
    """Which ``when`` conditions of :data:`INSPECTION` hold for ``inspection``."""
    conforming = inspection.has_final_verdict and inspection.verdict is Verdict.CONFORMING
    return [FINAL_CONFORMING] if conforming else []


def _inspection_offers(inspection: InspectionState) -> list[Offer]:
    """Every step an inspection could take, whatever its status (an offer is
    drawable when its flag is set): the transition table decides which it may take now."""
    iid = inspection.id
    samples = inspection.samples
    notified_on = inspection.notified_on or inspection.planned_on
    final = inspection.has_final_verdict
    nonconforming = final and inspection.verdict is Verdict.NONCONFORMING

    def take_sample(draw: st.DrawFn) -> c.Command:
        taken = {s.sample_id for s in samples}
        sample_id = draw(sample_ids())
        candidate, n = sample_id, 1
        while candidate.strip() in taken:
            n += 1
            candidate = f"{sample_id}-{n}"
        return c.TakeSample(
            inspection_id=iid,
            sample_id=candidate,
            product=draw(_words()),
            batch=draw(_batches()),
            taken_on=_on_or_after(draw, inspection.planned_on),
        )

    def record_result(draw: st.DrawFn) -> c.Command:
        sample = draw(_pick([s for s in samples if s.result is None]))
        # Mostly like the samples tested before: a lot passes or fails together, so
        # conforming verdicts (all passed) are as frequent as nonconforming ones.
        before = [s.result.passed for s in samples if s.result is not None]
        passed = before[0] if before and not draw(_one_in(4)) else draw(st.booleans())
        return c.RecordSampleResult(
            inspection_id=iid,
            sample_id=sample.sample_id,
            passed=passed,
            nonconforming_items=_items(draw, passed),
            tested_on=_on_or_after(draw, sample.taken_on),
        )

    def issue_verdict(draw: st.DrawFn) -> c.Command:
        last_test = max(s.result.tested_on for s in samples if s.result is not None)
        return c.IssueVerdict(inspection_id=iid, notified_on=_on_or_after(draw, last_test))

    def retest(draw: st.DrawFn) -> c.Command:
        sample = draw(_pick([s for s in samples if s.awaiting_retest]))
        passed = draw(st.booleans())
        return c.RecordRetestResult(
            inspection_id=iid,
            sample_id=sample.sample_id,
            passed=passed,
            nonconforming_items=_items(draw, passed),
            tested_on=_on_or_after(draw, sample.objected_on or sample.taken_on),
        )

    def order(draw: st.DrawFn) -> c.Command:
        ordered_on = min(_on_or_after(draw, notified_on), date.max - timedelta(days=1))
        return c.OrderRectification(
            inspection_id=iid,
            ordered_on=ordered_on,
            due_on=shift(ordered_on, draw(st.integers(1, 30))),
            requirements=draw(_words()),
        )

    def verify(draw: st.DrawFn) -> c.Command:
        assert inspection.rectification is not None
        return c.VerifyRectification(
            inspection_id=iid,
            verified_on=_on_or_after(draw, inspection.rectification.ordered_on, 40),
            passed=draw(st.booleans()),
            notes=draw(st.one_of(st.just(""), _words())),
        )

    def penalise(draw: st.DrawFn) -> c.Command:
        return c.ImposePenalty(
            inspection_id=iid,
            amount=draw(st.decimals(min_value=0, max_value=1_000_000, places=2)),
            reason=draw(_words()),
            decided_on=_on_or_after(draw, notified_on),
        )

    def transfer(draw: st.DrawFn) -> c.Command:
        return c.TransferCase(
            inspection_id=iid, authority=draw(_words()), transferred_on=_on_or_after(draw, notified_on)
        )

    def close(draw: st.DrawFn) -> c.Command:
        return c.CloseInspection(inspection_id=iid, closed_on=_on_or_after(draw, notified_on))

    def object_to(draw: st.DrawFn) -> c.Command:
        objectable = [s for s in samples if s.result is not None and not s.result.passed and s.objected_on is None]
        return c.ObjectToResult(
            inspection_id=iid,
            sample_id=draw(_pick(objectable)).sample_id,
            lodged_on=_on_or_after(draw, notified_on, OBJECTION_WINDOW.days),
        )

    untested = any(s.result is None for s in samples)
    objectable = any(s.result is not None and not s.result.passed and s.objected_on is None for s in samples)
    offers: list[Offer] = [
        ("record_result", c.RecordSampleResult, record_result, untested),
        ("issue_verdict", c.IssueVerdict, issue_verdict, bool(samples) and not untested),
        ("take_sample", c.TakeSample, take_sample, True),
        ("record_retest", c.RecordRetestResult, retest, any(s.awaiting_retest for s in samples)),
        ("order_rectification", c.OrderRectification, order, nonconforming),
        ("verify_rectification", c.VerifyRectification, verify, inspection.rectification is not None),
        ("impose_penalty", c.ImposePenalty, penalise, nonconforming),
        ("transfer_case", c.TransferCase, transfer, nonconforming),
        ("close", c.CloseInspection, close, True),
        # Recorded for the subject by the inspecting department: under the default policy no
        # subject acts itself, and no other department may object (the rules say who).
        ("object_to_result", c.ObjectToResult, object_to, objectable),
    ]
    return offers
