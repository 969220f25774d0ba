"""Read models for the home pages, built only on the permission-scoped selectors of the apps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q

from qiantou.plans.models import Plan, Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.plans.selectors import plan_list_for, task_list_for, today


def overdue_by_unit_for(user: Any, *, plans: Any = None, limit: int = 20) -> list[dict[str, Any]]:
    """Overdue visible tasks counted per lead unit, most overdue first.

    Returns ``[{"unit_id", "unit_name", "overdue"}]``; ``plans`` (a queryset or ids) narrows the count
    to those plans. Only tasks ``user`` may see are counted.
    """
    overdue = task_list_for(user, overdue=True)
    if plans is not None:
        overdue = overdue.filter(plan__in=plans)
    rows = (
        TaskUnit.objects.filter(task__in=overdue.values("pk"), role=TaskUnitRole.LEAD, unit__isnull=False)
        .values("unit_id", "unit__name")
        .annotate(overdue=Count("task", distinct=True))
        .order_by("-overdue", "unit__name")[:limit]
    )
    return [{"unit_id": r["unit_id"], "unit_name": r["unit__name"], "overdue": r["overdue"]} for r in rows]


def plan_task_counts_for(user: Any, plan_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per plan: ``{"total", "open", "overdue", "done"}`` over the tasks ``user`` may see."""
    day = today()
    rows = (
        task_list_for(user)
        .filter(plan_id__in=plan_ids)
        .order_by()
        .values("plan_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status=TaskStatus.OPEN)),
            overdue=Count("pk", filter=Q(status=TaskStatus.OPEN, deadline__lt=day)),
            done=Count("pk", filter=Q(status=TaskStatus.DONE)),
        )
    )
    empty = {"total": 0, "open": 0, "overdue": 0, "done": 0}
    out = {pid: dict(empty) for pid in plan_ids}
    for r in rows:
        out[r["plan_id"]] = {
            "total": r["total"],
            "open": r["open"],
            "overdue": r["overdue"],
            "done": r["done"],
        }
    return out


def plans_with_counts(user: Any, plans: list[Plan]) -> list[dict[str, Any]]:
    """``[{"plan": Plan, "counts": {...}}]`` for a list of already-scoped plans."""
    counts = plan_task_counts_for(user, [p.pk for p in plans])
    return [{"plan": p, "counts": counts[p.pk]} for p in plans]


def unit_tasks_for(user: Any, *, limit: int = 50) -> list[dict[str, Any]]:
    """The user's unit's open visible tasks, earliest deadline first (undated last).

    Each row: ``{"task": Task, "role": "lead"|"cooperating"|"generic", "overdue": bool, "due_soon": bool}``.
    """
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return []
    qs = (
        task_list_for(user, unit=unit_id, status=TaskStatus.OPEN)
        .select_related("plan")
        .order_by(F("deadline").asc(nulls_last=True), "plan_id", "position")
    )
    tasks: list[Task] = list(qs[:limit])
    roles: dict[int, str] = {}
    for tu in TaskUnit.objects.filter(task__in=[t.pk for t in tasks], unit_id=unit_id).order_by("role"):
        # lead wins over cooperating when a unit is named twice
        if roles.get(tu.task_id) != TaskUnitRole.LEAD:
            roles[tu.task_id] = tu.role
    day = today()
    soon = day + dt.timedelta(days=7)
    return [
        {
            "task": t,
            "role": roles.get(t.pk, TaskUnitRole.GENERIC),
            "overdue": t.deadline is not None and t.deadline < day,
            "due_soon": t.deadline is not None and day <= t.deadline <= soon,
        }
        for t in tasks
    ]


def own_unit_plans_for(user: Any) -> list[Plan]:
    """Visible plans led or issued by the user's own unit, newest first."""
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return []
    return list(plan_list_for(user).filter(Q(lead_unit_id=unit_id) | Q(issuing_unit_id=unit_id))[:50])
