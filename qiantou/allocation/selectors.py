"""Reads for allocation: unit load ("who is buried?") and lead-unit suggestions for a plan's tasks.

Load figures are aggregates (counts and weighted sums per unit) over all plans in force; they name
no task, so any business user may see them (``is_business_user_``); the task lists behind them stay
behind the plans selectors' permissions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from qiantou.accounts.rules import is_business_user_
from qiantou.allocation.suggestion import Suggestion, lead_differs, suggest_lead_units
from qiantou.plans.models import Plan, PlanStatus, Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.plans.selectors import task_list_for, task_units_by_role, today, with_units
from qiantou.units.models import Unit, UnitKind

#: Load weights; override with ``ALLOCATION_LOAD_WEIGHTS`` in settings (issue 7: lead counts more).
DEFAULT_WEIGHTS = {"lead": 2.0, "cooperating": 1.0, "request": 0.5, "overdue": 1.0}
#: Plans whose tasks count toward load: those in force or about to be (a draft is not yet anyone's work).
LOAD_PLAN_STATUSES = (PlanStatus.CONSULTING, PlanStatus.APPROVING, PlanStatus.ISSUED)


def load_weights() -> dict[str, float]:
    """The load weights in force (defaults updated by ``settings.ALLOCATION_LOAD_WEIGHTS``)."""
    return {**DEFAULT_WEIGHTS, **getattr(settings, "ALLOCATION_LOAD_WEIGHTS", {})}


@dataclass
class UnitLoad:
    """One unit's load in a period. ``score`` is the weighted total the chart and balancing use."""

    unit_id: int
    name: str
    short_name: str
    lead_tasks: int = 0
    cooperating_tasks: int = 0
    lead_weight: Decimal = Decimal(0)
    cooperating_weight: Decimal = Decimal(0)
    requests_due: int = 0
    overdue: int = 0
    score: float = 0.0
    plans: set[int] = field(default_factory=set)


def unit_loads(
    *,
    user: Any,
    start: dt.date | None = None,
    end: dt.date | None = None,
    weights: dict[str, float] | None = None,
    exclude_plan: Plan | int | None = None,
    include_plan_statuses: Iterable[str] = LOAD_PLAN_STATUSES,
) -> list[UnitLoad]:
    """Per unit, across all plans in force: open tasks as lead and as cooperating unit (weighted by the
    task's weight), material/report requests due in the period, overdue items; heaviest first.

    A task counts in the period when it is open and its deadline is none, or on/after ``start``
    and (with ``end``) its start is not after ``end``. Requests count when open and due in
    ``[start, end]``. Overdue: open tasks and requests past their date (today, Asia/Shanghai).
    ``exclude_plan`` leaves one plan out (a draft being balanced). Group units are left out.
    Raises ``PermissionDenied`` for users outside the business roles.
    """
    if not is_business_user_(user):
        raise PermissionDenied
    from qiantou.chasing.models import ChaseItem, ItemKind, ItemState

    w = {**load_weights(), **(weights or {})}
    day = today()
    task_q = Q(task__status=TaskStatus.OPEN, task__plan__status__in=list(include_plan_statuses))
    if start is not None:
        task_q &= Q(task__deadline__isnull=True) | Q(task__deadline__gte=start)
    if end is not None:
        task_q &= (
            Q(task__deadline_end__isnull=True) | Q(task__deadline__lte=end) | Q(task__deadline__isnull=True)
        )
    if exclude_plan is not None:
        task_q &= ~Q(task__plan_id=getattr(exclude_plan, "pk", exclude_plan))
    units = {
        u.pk: UnitLoad(unit_id=u.pk, name=u.name, short_name=u.short_name)
        for u in Unit.objects.filter(active=True).exclude(kind=UnitKind.GROUP)
    }
    rows = TaskUnit.objects.filter(task_q, unit_id__isnull=False).values_list(
        "unit_id", "role", "task__weight", "task__deadline", "task__plan_id"
    )
    for unit_id, role, weight, deadline, plan_id in rows:
        load = units.get(unit_id)
        if load is None:
            continue
        load.plans.add(plan_id)
        if role == TaskUnitRole.LEAD:
            load.lead_tasks += 1
            load.lead_weight += weight
        elif role == TaskUnitRole.COOPERATING:
            load.cooperating_tasks += 1
            load.cooperating_weight += weight
        else:
            continue
        if deadline is not None and deadline < day:
            load.overdue += 1
    item_q = Q(state=ItemState.OPEN, kind__in=[ItemKind.MATERIAL_REQUEST, ItemKind.REPORT_REQUEST])
    if exclude_plan is not None:
        item_q &= ~Q(plan_id=getattr(exclude_plan, "pk", exclude_plan))
    for unit_id, due in ChaseItem.objects.filter(item_q).values_list("unit_id", "due_date"):
        load = units.get(unit_id)
        if load is None:
            continue
        if due < day:
            load.overdue += 1
        if (start is None or due >= start) and (end is None or due <= end):
            load.requests_due += 1
    for load in units.values():
        load.score = round(
            w["lead"] * float(load.lead_weight)
            + w["cooperating"] * float(load.cooperating_weight)
            + w["request"] * load.requests_due
            + w["overdue"] * load.overdue,
            2,
        )
    return sorted(units.values(), key=lambda u: (-u.score, u.name))


@dataclass
class TaskSuggestion:
    """A task with its printed leads, the ranked suggestions and whether they differ."""

    task: Task
    printed_leads: list[TaskUnit]
    suggestions: list[Suggestion]
    differs: bool


def plan_lead_suggestions(*, user: Any, plan: Plan, top: int = 3) -> list[TaskSuggestion]:
    """For each task of ``plan`` the user may see: the suggested leads and whether the printed lead
    differs from the top one. Reads only; changes nothing."""
    out = []
    for task in with_units(task_list_for(user, plan=plan)):
        leads = task_units_by_role(task)[TaskUnitRole.LEAD]
        ranked = suggest_lead_units(task.text, top=top, exclude_plan=plan.pk)
        out.append(
            TaskSuggestion(
                task=task,
                printed_leads=leads,
                suggestions=ranked,
                differs=lead_differs([tu.unit_id for tu in leads], ranked),
            )
        )
    return out
