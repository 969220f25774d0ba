"""Reads for sign-off: the chain of a plan, its requests, and what waits for a given approver."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from qiantou.accounts.models import Role, User
from qiantou.approvals.models import ApprovalRequest, Decision, PlanApprover, RequestStatus
from qiantou.plans.models import Plan, PlanStatus
from qiantou.units.models import Unit


def _ancestors(unit: Unit | None) -> list[Unit]:
    chain: list[Unit] = []
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        chain.append(unit)
        seen.add(unit.pk)
        unit = unit.parent
    return chain


def _nearest(unit: Unit, role: str) -> User | None:
    for u in _ancestors(unit):
        found = User.objects.filter(unit=u, role=role, is_active=True).order_by("id").first()
        if found is not None:
            return found
    return None


def default_chain(plan: Plan) -> list[User]:
    """The default sign-off chain: the leader in charge, then the principal, of the plan's lead unit
    (each from the nearest unit upwards that has one). Missing roles are left out."""
    out: list[User] = []
    for role in (Role.LEADER_IN_CHARGE, Role.PRINCIPAL):
        user = _nearest(plan.lead_unit, role)
        if user is not None and user not in out:
            out.append(user)
    return out


def chain_for(plan: Plan) -> list[User]:
    """The plan's configured chain in order, else the default one."""
    configured = [
        a.user for a in PlanApprover.objects.filter(plan=plan).select_related("user").order_by("position")
    ]
    return configured or default_chain(plan)


def eligible_approvers(plan: Plan) -> QuerySet[User]:
    """Users who may be put on the plan's chain: leaders and heads of the lead unit and its ancestors."""
    unit_ids = [u.pk for u in _ancestors(plan.lead_unit)]
    return User.objects.filter(
        unit_id__in=unit_ids,
        role__in=[Role.LEADER_IN_CHARGE, Role.PRINCIPAL, Role.UNIT_HEAD],
        is_active=True,
    ).order_by("unit_id", "role", "id")


def requests_for_plan(plan: Plan) -> QuerySet[ApprovalRequest]:
    """The plan's sign-off requests, newest first, with their version and steps."""
    return (
        ApprovalRequest.objects.filter(plan=plan)
        .select_related("version", "submitted_by", "issued_by")
        .prefetch_related("steps__approver")
        .order_by("-submitted_at", "-id")
    )


def latest_request(plan: Plan) -> ApprovalRequest | None:
    """The plan's most recent sign-off request."""
    return requests_for_plan(plan).first()


def pending_for(user: Any) -> QuerySet[ApprovalRequest]:
    """Requests waiting for ``user``'s decision now."""
    if not getattr(user, "is_authenticated", False):
        return ApprovalRequest.objects.none()
    return (
        ApprovalRequest.objects.filter(
            status=RequestStatus.PENDING,
            steps__approver_id=user.pk,
            steps__decision=Decision.PENDING,
            steps__position=F("current_position"),
        )
        .select_related("plan", "version", "plan__lead_unit")
        .order_by("submitted_at")
        .distinct()
    )


def request_involves(user: Any, request: ApprovalRequest) -> bool:
    """True when ``user`` is an approver on the request (so may see it even without the plan)."""
    return request.steps.filter(approver_id=getattr(user, "pk", None)).exists()


def plan_status_label(plan: Plan) -> str:
    """The plan's status as shown: "已签批待印发" once every approver has signed and until it is issued
    (the stored status stays "approving" until issue); otherwise the stored status's label."""
    if plan.status == PlanStatus.APPROVING:
        latest = ApprovalRequest.objects.filter(plan=plan).order_by("-submitted_at", "-id").first()
        if latest is not None and latest.status == RequestStatus.APPROVED:
            return _("已签批待印发")
    return str(plan.get_status_display())
