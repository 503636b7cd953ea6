"""A case as commands: what recording it executes, in order, and who executes each.

Planning is pure. The ids of new aggregates come from their natural keys, as
the ledger derives them (``new_id``), so the whole plan (every command built
and validated, each under an idempotency key derived from the data, each with
the actor of the department that would really act) exists before the first
command is executed: a case whose data a command refuses records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.values import Actor
from quality_ledger.scenarios.specs import ActivitySpec, Case, InspectionSpec, NominationSpec

__all__ = ["Step", "clerk", "conclusion", "plan"]


def clerk(department: str) -> Actor:
    """The person who keys in a department's records, e.g. ``clerk.qts`` for XA-QTS."""
    return Actor(user=f"clerk.{department.removeprefix('XA-').lower()}", department=department)


@dataclass(frozen=True)
class Step:
    """One command of a case and who executes it."""

    actor: Actor
    command: c.Command


C = TypeVar("C", bound=c.Command)


def plan(case: Case) -> list[Step]:
    """Every command that records ``case``, in order (executed by :func:`~.loader.load`)."""
    return list(_Planner(case).steps())


class _Planner:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.organiser = clerk(case.campaign.organiser)

    def command(self, key: str, command: type[C], **fields: Any) -> C:
        """``command`` under the idempotency key ``<case key>/<key>``."""
        return command(**fields, idempotency_key=f"{self.case.key}/{key}")

    def step(self, key: str, actor: Actor, command: type[c.Command], **fields: Any) -> Step:
        return Step(actor, self.command(key, command, **fields))

    def steps(self) -> Iterator[Step]:
        spec, organiser = self.case.campaign, self.organiser
        unused = {"organiser_name_zh", "organiser_name_en", "launched_on"}
        campaign = self.command("campaign/plan", c.PlanCampaign, **spec.model_dump(exclude=unused))
        yield Step(organiser, campaign)
        cid = campaign.new_id()
        for d in self.case.departments:
            key = f"department/{d.code}/enlist"
            yield self.step(key, organiser, c.EnlistDepartment, campaign_id=cid, **d.model_dump())
        activity_ids: dict[str, UUID] = {}
        for a in self.case.activities:
            activity = self.plan_activity(cid, a)
            activity_ids[a.key] = activity.new_id()
            yield Step(organiser if a.planned_by_organiser else clerk(a.lead), activity)
            key = f"activity/{a.key}/schedule"
            yield self.step(key, clerk(a.lead), c.ScheduleActivity, activity_id=activity.new_id(), **dict(a.schedule))
        yield self.step("campaign/launch", organiser, c.LaunchCampaign, campaign_id=cid, launched_on=spec.launched_on)
        for a in self.case.activities:
            yield from self.run_activity(activity_ids[a.key], a)
        inspection_ids: dict[str, UUID] = {}
        for i in self.case.inspections:
            inspection = self.plan_inspection(cid, activity_ids, i)
            inspection_ids[i.reference] = inspection.new_id()
            yield Step(clerk(i.department), inspection)
            yield from self.run_inspection(inspection.new_id(), i)
        for n in self.case.nominations:
            yield from self.nomination(cid, activity_ids, n)
        for b in self.case.bulletins:
            yield self.step(
                f"bulletin/{b.key}/publish",
                clerk(b.published_by),
                c.PublishBulletin,
                campaign_id=cid,
                title=b.title,
                published_on=b.published_on,
                inspection_ids=tuple(inspection_ids[reference] for reference in b.inspections),
            )

    def plan_activity(self, campaign_id: UUID, a: ActivitySpec) -> c.PlanActivity:
        return self.command(
            f"activity/{a.key}/plan",
            c.PlanActivity,
            campaign_id=campaign_id,
            title=a.title,
            lead_department=a.lead,
            focus_area=a.focus_area,
            activity_kind=a.kind,
            partners=a.partners,
            targets=dict(a.targets),
        )

    def run_activity(self, aid: UUID, a: ActivitySpec) -> Iterator[Step]:
        lead, key = clerk(a.lead), f"activity/{a.key}"
        if a.started_on is not None:
            yield self.step(f"{key}/start", lead, c.StartActivity, activity_id=aid, started_on=a.started_on)
        for n, report in enumerate(a.progress, 1):
            for metric, amount in report.amounts.items():
                yield self.step(
                    f"{key}/progress/{n}/{metric}",
                    lead,
                    c.ReportProgress,
                    activity_id=aid,
                    metric=metric,
                    amount=amount,
                    reported_on=report.reported_on,
                )
        if (done := a.completed) is not None:
            yield self.step(
                f"{key}/complete", lead, c.CompleteActivity, activity_id=aid, completed_on=done.on, outcome=done.outcome
            )
        elif a.postponed is not None:
            yield self.step(f"{key}/postpone", lead, c.PostponeActivity, activity_id=aid, reason=a.postponed.reason)
        elif a.cancelled is not None:
            yield self.step(f"{key}/cancel", lead, c.CancelActivity, activity_id=aid, reason=a.cancelled.reason)

    def plan_inspection(
        self, campaign_id: UUID, activity_ids: Mapping[str, UUID], i: InspectionSpec
    ) -> c.PlanInspection:
        return self.command(
            f"inspection/{i.reference}/plan",
            c.PlanInspection,
            campaign_id=campaign_id,
            activity_id=activity_ids[i.activity] if i.activity is not None else None,
            reference=i.reference,
            inspecting_department=i.department,
            inspection_kind=i.kind,
            subject_name=i.subject,
            subject_kind=i.subject_kind,
            product_category=i.product_category,
            planned_on=i.planned_on,
        )

    def run_inspection(self, iid: UUID, i: InspectionSpec) -> Iterator[Step]:
        """Samples taken, then tested, the verdict, objections and re-tests, then the follow-up."""
        actor, key = clerk(i.department), f"inspection/{i.reference}"
        for s in i.samples:
            sample = s.model_dump(include={"sample_id", "product", "batch", "taken_on"})
            yield self.step(f"{key}/sample/{s.sample_id}/take", actor, c.TakeSample, inspection_id=iid, **sample)
        for s in i.samples:
            if s.tested_on is not None:
                yield self.result(
                    f"{key}/sample/{s.sample_id}/result",
                    c.RecordSampleResult,
                    actor,
                    iid,
                    s.sample_id,
                    s.failed_items,
                    s.tested_on,
                )
        if i.notified_on is not None:
            yield self.step(f"{key}/verdict", actor, c.IssueVerdict, inspection_id=iid, notified_on=i.notified_on)
        for s in i.samples:
            if (o := s.objection) is None:
                continue
            yield self.step(
                f"{key}/sample/{s.sample_id}/object",
                actor,
                c.ObjectToResult,
                inspection_id=iid,
                sample_id=s.sample_id,
                lodged_on=o.lodged_on,
            )
            if o.tested_on is not None:
                yield self.result(
                    f"{key}/sample/{s.sample_id}/retest",
                    c.RecordRetestResult,
                    actor,
                    iid,
                    s.sample_id,
                    o.failed_items,
                    o.tested_on,
                )
        if (r := i.rectification) is not None:
            order = r.model_dump(exclude={"follow_up"})
            yield self.step(f"{key}/rectification/order", actor, c.OrderRectification, inspection_id=iid, **order)
            if (f := r.follow_up) is not None:
                yield self.step(
                    f"{key}/rectification/verify", actor, c.VerifyRectification, inspection_id=iid, **dict(f)
                )
        if (p := i.penalty) is not None:
            yield self.step(f"{key}/penalty", actor, c.ImposePenalty, inspection_id=iid, **dict(p))
        if (t := i.transfer) is not None:
            yield self.step(f"{key}/transfer", actor, c.TransferCase, inspection_id=iid, **dict(t))
        if i.closed_on is not None:
            yield self.step(f"{key}/close", actor, c.CloseInspection, inspection_id=iid, closed_on=i.closed_on)

    def result(
        self,
        key: str,
        command: type[c.RecordSampleResult | c.RecordRetestResult],
        actor: Actor,
        iid: UUID,
        sample_id: str,
        failed_items: tuple[str, ...],
        tested_on: date,
    ) -> Step:
        """A test's result: it passed when no item failed."""
        return self.step(
            key,
            actor,
            command,
            inspection_id=iid,
            sample_id=sample_id,
            passed=not failed_items,
            nonconforming_items=failed_items,
            tested_on=tested_on,
        )

    def nomination(self, campaign_id: UUID, activity_ids: Mapping[str, UUID], n: NominationSpec) -> Iterator[Step]:
        key, nominator = f"commendation/{n.key}", clerk(n.nominated_by)
        nominated = self.command(
            f"{key}/nominate",
            c.NominateCraftsman,
            campaign_id=campaign_id,
            person=n.person,
            employer=n.employer,
            deeds=n.deeds,
            nominating_department=n.nominated_by,
        )
        yield Step(nominator, nominated)
        mid = nominated.new_id()
        yield self.step(
            f"{key}/review",
            self.organiser,
            c.ReviewNomination,
            commendation_id=mid,
            approved=n.rejection is None,
            reason=n.rejection,
            reviewed_on=n.reviewed_on,
        )
        if n.ceremony is not None and n.conferred_on is not None:
            ceremony = activity_ids[n.ceremony]
            yield self.step(
                f"{key}/confer",
                self.organiser,
                c.ConferCommendation,
                commendation_id=mid,
                ceremony_id=ceremony,
                conferred_on=n.conferred_on,
            )
        for m, item in enumerate(n.publicity, 1):
            yield self.step(
                f"{key}/publicity/{m}", nominator, c.PubliciseCommendation, commendation_id=mid, **dict(item)
            )


def conclusion(case: Case, campaign_id: UUID) -> Step | None:
    """The command that concludes the loaded campaign, if the case has a conclusion."""
    if case.conclusion is None:
        return None
    planner = _Planner(case)
    fields = case.conclusion.model_dump()
    command = planner.command("campaign/conclude", c.ConcludeCampaign, campaign_id=campaign_id, **fields)
    return Step(planner.organiser, command)
