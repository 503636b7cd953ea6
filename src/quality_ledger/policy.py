"""Who may execute what: the authorization rules, and a pluggable policy.

The rules live here and only here: :func:`responsible_departments` says which
departments may issue a command (the organiser for campaign steps, the lead
department for an activity's steps, the inspecting department for an
inspection's, ...), from the current state of the aggregates it names; the
table in ``docs/guide.md`` is this function in words. The ledger asks
:func:`may_issue`, which asks the policy; the testing kit asks
:func:`responsible_departments` to pick actors, so its model of who may do
what cannot drift from the ledger's. A refusal makes the ledger raise
:class:`~quality_ledger.errors.PermissionDenied` before anything is recorded.

The inspected subject (an enterprise, site or market) is not a department:
the ledger cannot tell who speaks for it. A policy that can (a service that
authenticates its subjects) says so through :class:`SubjectPolicy`;
:class:`DepartmentPolicy` does through its ``subjects`` table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable
from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.commands import Command, natural_key
from quality_ledger.domain.activity import ActivityState
from quality_ledger.domain.campaign import CampaignState
from quality_ledger.domain.commendation import CommendationState
from quality_ledger.domain.inspection import InspectionState, Subject
from quality_ledger.domain.values import Actor


class Policy(Protocol):
    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        """True if ``actor`` may execute ``command``; ``responsible`` are the
        departments the default rules would accept."""
        ...


@runtime_checkable
class SubjectPolicy(Protocol):
    """A policy that knows who speaks for an inspected subject.

    Asked only for what a subject may do itself (object to a result), and
    only when :meth:`Policy.allows` said no: a policy without this method
    lets no subject act, so the inspecting department records its objections.
    """

    def acts_for_subject(self, actor: Actor, subject: Subject) -> bool:
        """True if ``actor`` acts for ``subject``, the inspected enterprise, site or market."""
        ...


@runtime_checkable
class ErasurePolicy(Protocol):
    """A policy that says who may erase a data subject (``Ledger.forget``).

    A policy without this method lets nobody forget: erasure destroys data
    for good, so it is allowed only where a policy says so.
    """

    def may_forget(self, actor: Actor, kind: str) -> bool:
        """True if ``actor`` may destroy the key of a data subject of ``kind`` (``user``, ``nominee``)."""
        ...


class DepartmentPolicy:
    """The default: an actor acts only for a responsible department, or for a
    subject the service registered.

    ``subjects`` maps the department codes a service gives the subjects it
    has authenticated (for example ``ENT-`` and the enterprise's unified
    social credit code) to the subject's name as inspections record it
    (width, case and spacing variants match). An ``Actor`` whose department
    is such a code acts for that subject, and is recorded under that code.
    Any :class:`~collections.abc.Mapping` will do, such as one backed by the
    service's own registry. Without it, no subject acts itself.

    ``privacy_officers`` are the departments whose actors may erase a data
    subject (``Ledger.forget``); by default none.
    """

    def __init__(self, subjects: Mapping[str, str] | None = None, *, privacy_officers: Iterable[str] = ()) -> None:
        self.subjects: Mapping[str, str] = subjects if subjects is not None else {}
        self.privacy_officers = frozenset(privacy_officers)

    def may_forget(self, actor: Actor, kind: str) -> bool:
        return actor.department in self.privacy_officers

    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        return actor.department in responsible

    def acts_for_subject(self, actor: Actor, subject: Subject) -> bool:
        name = self.subjects.get(actor.department)
        return name is not None and natural_key(name) == natural_key(subject.name)


class AllowAll:
    """Authorises everything: for migrations, replays and single-user tools."""

    def allows(self, actor: Actor, command: Command, responsible: frozenset[str]) -> bool:
        return True

    def may_forget(self, actor: Actor, kind: str) -> bool:
        return True


class Parties(Protocol):
    """The current state of the aggregates a command names: what the rules read.

    The ledger answers from its store (raising ``NotFound`` for what does not
    exist, or ``None`` where the handler already found it absent: an
    inspection a bulletin lists); the testing kit from the state it tracks
    (``None`` where it knows nothing).
    """

    def campaign(self, campaign_id: UUID) -> CampaignState | None: ...

    def activity(self, activity_id: UUID) -> ActivityState | None: ...

    def inspection(self, inspection_id: UUID) -> InspectionState | None: ...

    def commendation(self, commendation_id: UUID) -> CommendationState | None: ...


def responsible_departments(command: Command, parties: Parties) -> frozenset[str]:
    """The departments that may issue ``command`` now: the authorization table.

    Each case says why in one line; ``docs/guide.md`` publishes the table.
    What ``parties`` cannot find contributes nobody.
    """

    def organiser(campaign_id: UUID) -> set[str]:
        campaign = parties.campaign(campaign_id)
        return {campaign.organiser} if campaign is not None else set()

    def lead(activity_id: UUID) -> set[str]:
        activity = parties.activity(activity_id)
        return {activity.lead_department} if activity is not None else set()

    def inspecting(inspection_id: UUID) -> set[str]:
        inspection = parties.inspection(inspection_id)
        return {inspection.inspecting_department} if inspection is not None else set()

    who: set[str]
    match command:
        case c.PlanCampaign():
            # Whoever plans a campaign organises it: the organiser is the actor's own department.
            who = {command.organiser}
        case c.EnlistDepartment() | c.LaunchCampaign() | c.ConcludeCampaign():
            # The programme is the organiser's: who takes part, when it starts, when it ends.
            who = organiser(command.campaign_id)
        case c.PublishBulletin():
            # A bulletin speaks for the campaign; a department alone may publish only its own results.
            who = organiser(command.campaign_id) | _sole_inspector(command, parties)
        case c.PlanActivity():
            # Every enlisted department leads its own activities ("everyone takes part");
            # only the organiser plans one for another department.
            who = organiser(command.campaign_id) | {command.lead_department}
        case c.ScheduleActivity() | c.StartActivity() | c.ReportProgress() | c.CompleteActivity():
            who = lead(command.activity_id)
        case c.PostponeActivity() | c.CancelActivity():
            # The activity is its lead department's work, and so is its record.
            who = lead(command.activity_id)
        case c.PlanInspection():
            # A department plans its own inspections, alone or under an activity it leads; attaching
            # an inspection to another department's activity changes that activity's record, so
            # only the organiser, who coordinates the departments, may.
            who = organiser(command.campaign_id)
            activity = parties.activity(command.activity_id) if command.activity_id is not None else None
            if activity is None or activity.lead_department == command.inspecting_department:
                who.add(command.inspecting_department)
        case c.ObjectToResult():
            # The subject objects; the inspecting department records the objection it received.
            # Whoever acts for the subject itself is for the policy to say (SubjectPolicy).
            who = inspecting(command.inspection_id)
        case (
            c.TakeSample()
            | c.RecordSampleResult()
            | c.IssueVerdict()
            | c.RecordRetestResult()
            | c.OrderRectification()
            | c.VerifyRectification()
            | c.ImposePenalty()
            | c.TransferCase()
            | c.CloseInspection()
        ):
            # Sampling, testing and enforcement are the inspecting department's legal acts.
            who = inspecting(command.inspection_id)
        case c.NominateCraftsman():
            # A department nominates for itself; being enlisted is the campaign's rule.
            who = {command.nominating_department}
        case c.ReviewNomination():
            # The organiser judges every department's nominations.
            who = _commendation_organiser(command.commendation_id, parties)
        case c.ConferCommendation():
            # The organiser, or the department running the ceremony.
            who = _commendation_organiser(command.commendation_id, parties) | lead(command.ceremony_id)
        case c.PubliciseCommendation():
            # The organiser, or the department that nominated the craftsman.
            commendation = parties.commendation(command.commendation_id)
            nominated_by = {commendation.nominated_by} if commendation is not None else set()
            who = _commendation_organiser(command.commendation_id, parties) | nominated_by
        case _:
            who = set()  # a command the table does not name: nobody
    return frozenset(who)


def _sole_inspector(command: c.PublishBulletin, parties: Parties) -> set[str]:
    """The department that inspected everything ``command`` lists from its campaign, if one did."""
    campaign = parties.campaign(command.campaign_id)
    if campaign is None:
        return set()
    listed = [parties.inspection(i) for i in command.inspection_ids]
    departments = {i.inspecting_department for i in listed if i is not None and i.campaign_id == command.campaign_id}
    return departments if len(departments) == 1 else set()


def _commendation_organiser(commendation_id: UUID, parties: Parties) -> set[str]:
    commendation = parties.commendation(commendation_id)
    campaign = parties.campaign(commendation.campaign_id) if commendation is not None else None
    return {campaign.organiser} if campaign is not None else set()


def subject_of(command: Command, parties: Parties) -> Subject | None:
    """The inspected subject, where ``command`` is one a subject may issue itself."""
    if isinstance(command, c.ObjectToResult):
        inspection = parties.inspection(command.inspection_id)
        return inspection.subject if inspection is not None else None
    return None


def may_issue(policy: Policy, actor: Actor, command: Command, parties: Parties) -> bool:
    """The one decision: the policy, told the responsible departments, says
    yes; or, for what a subject may do, the policy says ``actor`` acts for it."""
    if policy.allows(actor, command, responsible_departments(command, parties)):
        return True
    subject = subject_of(command, parties)
    return subject is not None and isinstance(policy, SubjectPolicy) and policy.acts_for_subject(actor, subject)
