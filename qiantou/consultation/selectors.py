"""Reads for consultation: rounds, comments and the disposition statement, scoped to the user.

A round is visible to the lead unit, to every consulted unit and to the supervision office and
auditors (``rules.round_visible_``); a missing round and an invisible one are the same 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qiantou.accounts.models import Role, User
from qiantou.accounts.rules import is_business_user_, is_overseer_
from qiantou.consultation.models import Comment, ConsultationRound, ConsultedUnit, Disposition, Response
from qiantou.plans.models import Plan, PlanVersion, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit, UnitKind


def round_list_for(user: Any) -> QuerySet[ConsultationRound]:
    """Rounds ``user`` may see, newest first."""
    qs = ConsultationRound.objects.select_related("plan", "plan__lead_unit", "version").order_by(
        "-opened_at", "-id"
    )
    if not is_business_user_(user):
        return qs.none()
    if is_overseer_(user):
        return qs
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return qs.none()
    consulted = ConsultedUnit.objects.filter(unit_id=unit_id).values("round_id")
    return qs.filter(Q(plan__lead_unit_id=unit_id) | Q(pk__in=consulted))


def round_get_for(user: Any, pk: Any) -> ConsultationRound:
    """The round ``pk`` if ``user`` may see it, else ``Http404``."""
    try:
        return round_list_for(user).get(pk=pk)
    except (ConsultationRound.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该征求意见轮次，或您无权查看。")) from None


def plan_rounds_for(user: Any, plan: Plan | int) -> QuerySet[ConsultationRound]:
    """The plan's rounds ``user`` may see, oldest first."""
    plan_id: int = plan if isinstance(plan, int) else plan.pk
    return round_list_for(user).filter(plan_id=plan_id).order_by("number")


def plan_for_consultation(user: Any, plan_id: Any) -> Plan:
    """The plan if ``user`` sees it through the plans selectors or through one of its rounds; else 404."""
    from qiantou.plans.selectors import plan_list_for

    try:
        return plan_list_for(user).get(pk=plan_id)
    except (Plan.DoesNotExist, ValueError, TypeError):
        pass
    rnd = round_list_for(user).filter(plan_id=plan_id).first() if str(plan_id).isdigit() else None
    if rnd is None:
        raise Http404(_("未找到该方案，或您无权查看。"))
    return Plan.objects.select_related("lead_unit", "issuing_unit").get(pk=rnd.plan_id)


def version_get_for(user: Any, plan: Plan, number: Any) -> PlanVersion:
    """Version ``number`` of a plan the caller already may see; ``Http404`` when missing."""
    try:
        return PlanVersion.objects.get(plan=plan, number=int(number))
    except (PlanVersion.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该版本。")) from None


def open_rounds_for_unit(user: Any) -> QuerySet[ConsultationRound]:
    """Open rounds that consult the user's unit (what a liaison has to answer)."""
    unit_id = getattr(user, "unit_id", None)
    if not is_business_user_(user) or unit_id is None:
        return ConsultationRound.objects.none()
    return (
        ConsultationRound.objects.filter(status="open", consulted__unit_id=unit_id)
        .select_related("plan", "plan__lead_unit")
        .order_by("closes_on", "id")
    )


def default_consulted_units(plan: Plan) -> list[Unit]:
    """Every unit named on the plan's tasks (lead and cooperating, resolved, not a collective party),
    in order of first appearance, without the plan's own lead unit (issue 4: the default)."""
    seen: dict[int, Unit] = {}
    rows = (
        TaskUnit.objects.filter(
            task__plan=plan, unit__isnull=False, role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING]
        )
        .exclude(unit__kind=UnitKind.GROUP)
        .select_related("unit")
        .order_by("task__position", "task_id", "role", "position")
    )
    for tu in rows:
        if (
            tu.unit_id != plan.lead_unit_id
            and tu.unit_id not in seen
            and tu.unit is not None
            and tu.unit.active
        ):
            seen[tu.unit.pk] = tu.unit
    return list(seen.values())


def unit_contacts(unit_ids: list[int]) -> list[User]:
    """The people who answer for each unit: its liaisons, else its unit heads, else its handlers."""
    out: list[User] = []
    for unit_id in unit_ids:
        for role in (Role.LIAISON, Role.UNIT_HEAD, Role.HANDLER):
            found = list(User.objects.filter(unit_id=unit_id, role=role, is_active=True).order_by("id"))
            if found:
                out.extend(found)
                break
    return out


def lead_handlers(plan: Plan) -> list[User]:
    """Handlers (else unit heads) of the plan's lead unit."""
    return unit_contacts_roles(plan.lead_unit_id, (Role.HANDLER, Role.UNIT_HEAD))


def unit_contacts_roles(unit_id: int, roles: tuple[str, ...]) -> list[User]:
    """Active users of ``unit_id`` in the first of ``roles`` that has any."""
    for role in roles:
        found = list(User.objects.filter(unit_id=unit_id, role=role, is_active=True).order_by("id"))
        if found:
            return found
    return []


def undisposed_comments(plan: Plan | int) -> QuerySet[Comment]:
    """Comments on any round of the plan still waiting for a disposition."""
    return Comment.objects.filter(round__plan_id=getattr(plan, "pk", plan), disposition=Disposition.PENDING)


@dataclass
class Statement:
    """The disposition statement (征求意见采纳情况说明) of one round."""

    round: ConsultationRound
    plan: Plan
    consulted: list[ConsultedUnit]
    comments: list[Comment]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def silent_units(self) -> list[ConsultedUnit]:
        """Units that had not answered when the round closed (silence counts as no objection); they
        were late only when the round closed after its closing date (``round.closed_early``)."""
        return [c for c in self.consulted if c.response == Response.SILENT]

    @property
    def no_objection_units(self) -> list[ConsultedUnit]:
        """Units that answered "no objection"."""
        return [c for c in self.consulted if c.response == Response.NO_OBJECTION]


def statement_for(round_: ConsultationRound, user: Any = None) -> Statement:
    """Every comment with its unit, task, disposition and reason, plus how each unit answered.

    The caller has checked that the user may see the round (``round_get_for``). With ``user``, comments
    on tasks of the circulated version that the user may not see (restricted tasks) are left out, and
    the counts are of what is left; without, everything (for the system's own use).
    """
    consulted = list(round_.consulted.select_related("unit", "responded_by").order_by("position", "id"))
    for c in consulted:
        c.round = round_  # the label of a silent unit depends on how the round closed
    comments = list(round_.comments.select_related("unit", "author", "disposed_by").order_by("id"))
    if user is not None:
        from qiantou.consultation.visibility import task_filter_for

        comments = task_filter_for(user, round_.plan).comments(round_.version.snapshot, comments)
    counts = {r: 0 for r in Response.values}
    for c in consulted:
        counts[c.response] += 1
    counts["comments"] = len(comments)
    for d in Disposition.values:
        counts[f"d_{d or 'pending'}"] = sum(1 for c in comments if c.disposition == d)
    return Statement(round=round_, plan=round_.plan, consulted=consulted, comments=comments, counts=counts)
