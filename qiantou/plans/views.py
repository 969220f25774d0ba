"""Plan and task pages. Every object comes through the selectors, so what a user may not see is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from qiantou.plans.models import PlanStatus, TaskStatus
from qiantou.plans.selectors import (
    past_deadlines,
    plan_get_for,
    plan_list_for,
    task_get_for,
    task_list_for,
    task_units_by_role,
    with_units,
)
from qiantou.web.htmx import wants_fragment
from qiantou.web.selectors import plan_rows_for, plan_task_counts_for

PAGE_SIZE = 50


def _flag(value: str | None) -> bool | None:
    """Query-string yes/no: ``"1"`` → True, ``"0"`` → False, anything else → None."""
    return {"1": True, "0": False}.get(value or "")


def _int_or_none(value: str | None) -> int | None:
    """A positive integer from the query string, else None."""
    return int(value) if value and value.isdigit() else None


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans this user may see, filtered by status and a search over title and document number."""
    user: Any = request.user
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    plans = plan_list_for(user)
    if status in PlanStatus.values:
        plans = plans.filter(status=status)
    if q:
        plans = plans.filter(Q(title__icontains=q) | Q(doc_number__icontains=q))
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = plan_task_counts_for(user, [p.pk for p in page.object_list])
    rows = [{"plan": p, "counts": counts[p.pk]} for p in page.object_list]
    ctx = {
        "nav": "plans",
        "page": page,
        "rows": rows,
        "status": status,
        "q": q,
        "statuses": PlanStatus.choices,
    }
    template = "plans/_plan_rows.html" if wants_fragment(request) else "plans/plan_list.html"
    return render(request, template, ctx)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan page: its task tree with numbering, units in printed order, deadlines, warnings, status."""
    user: Any = request.user
    plan = plan_get_for(user, pk)
    nodes = plan_rows_for(plan, user)
    only_mine = request.GET.get("mine") == "1"
    q = request.GET.get("q", "").strip()
    shown = [
        n
        for n in nodes
        if (not only_mine or n["mine"]) and (not q or q in n["task"].text or q in (n["task"].no or ""))
    ]
    ctx = {
        "nav": "plans",
        "plan": plan,
        "nodes": shown,
        "total": len(nodes),
        "mine_count": sum(1 for n in nodes if n["mine"]),
        "overdue_count": sum(1 for n in nodes if n["overdue"]),
        "only_mine": only_mine,
        "q": q,
        "can_change": user.has_perm("plans.change_plan", plan),
    }
    if not wants_fragment(request):
        ctx["past_deadlines"] = past_deadlines(plan)
    template = "plans/_task_rows.html" if wants_fragment(request) else "plans/plan_detail.html"
    return render(request, template, ctx)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """Tasks across the plans this user may see; filters: my unit, status, overdue, search."""
    user: Any = request.user
    status = request.GET.get("status", "")
    overdue = _flag(request.GET.get("overdue"))
    q = request.GET.get("q", "").strip()
    mine = request.GET.get("mine") == "1"
    unit = user.unit_id if mine and user.unit_id else _int_or_none(request.GET.get("unit"))
    tasks = task_list_for(
        user,
        unit=unit,
        status=status if status in TaskStatus.values else None,
        overdue=overdue,
        q=q or None,
    ).select_related("plan")
    page = Paginator(with_units(tasks), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"task": t, "units": task_units_by_role(t)} for t in page.object_list]
    ctx = {
        "nav": "tasks",
        "page": page,
        "rows": rows,
        "status": status,
        "q": q,
        "mine": mine,
        "unit": unit,
        "overdue": request.GET.get("overdue", ""),
        "statuses": TaskStatus.choices,
    }
    template = "plans/_task_list_rows.html" if wants_fragment(request) else "plans/task_list.html"
    return render(request, template, ctx)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One task: text, units, deadline (as printed and resolved), deliverables, standard, warnings."""
    user: Any = request.user
    task = task_get_for(user, pk)
    task = with_units(task_list_for(user, plan=task.plan_id)).select_related("plan", "parent").get(pk=task.pk)
    units = task_units_by_role(task)
    unit_id = getattr(user, "unit_id", None)
    children = list(task_list_for(user, plan=task.plan_id).filter(parent_id=task.pk))
    ctx = {
        "nav": "plans",
        "task": task,
        "plan": task.plan,
        "lead_units": units["lead"],
        "cooperating_units": units["cooperating"],
        "generic_units": units["generic"],
        "mine": unit_id is not None and any(tu.unit_id == unit_id for us in units.values() for tu in us),
        "parent_visible": task.parent_id is not None
        and task_list_for(user, plan=task.plan_id).filter(pk=task.parent_id).exists(),
        "children": children,
    }
    return render(request, "plans/task_detail.html", ctx)
