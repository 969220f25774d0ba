"""Home pages, one per role: what this user has to look at first."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from qiantou.accounts.models import ADMINISTRATOR_ROLES, Role
from qiantou.plans.selectors import plan_list_for, plan_status_counts_for, unit_task_counts_for
from qiantou.units.models import Unit
from qiantou.web import selectors

#: Which home page each role sees.
HOME_KIND = {
    Role.HANDLER: "handler",
    Role.LIAISON: "liaison",
    Role.UNIT_HEAD: "leader",
    Role.LEADER_IN_CHARGE: "leader",
    Role.PRINCIPAL: "leader",
    Role.SUPERVISION_OFFICE: "overseer",
    Role.AUDITOR: "overseer",
    Role.DATA_OFFICER: "liaison",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The role's home page (工作台): my plans, my unit's tasks, overdue counts."""
    user: Any = request.user
    if user.role in ADMINISTRATOR_ROLES:
        return render(
            request,
            "web/home_admin.html",
            {
                "nav": "home",
                "unit_count": Unit.objects.filter(active=True).count(),
            },
        )
    kind = HOME_KIND.get(user.role, "liaison")
    ctx: dict[str, Any] = {"nav": "home", "kind": kind, "counts": unit_task_counts_for(user)}
    if kind == "handler":
        ctx["plans"] = selectors.plans_with_counts(user, selectors.own_unit_plans_for(user))
        ctx["unit_tasks"] = selectors.unit_tasks_for(user)
    elif kind == "liaison":
        ctx["unit_tasks"] = selectors.unit_tasks_for(user, limit=100)
    elif kind == "leader":
        own = selectors.own_unit_plans_for(user)
        ctx["plans"] = selectors.plans_with_counts(user, own)
        ctx["overdue_by_unit"] = selectors.overdue_by_unit_for(user, plans=[p.pk for p in own])
        ctx["unit_tasks"] = selectors.unit_tasks_for(user, limit=20)
    else:
        ctx["plans"] = selectors.plans_with_counts(user, list(plan_list_for(user)[:100]))
        ctx["plan_status"] = plan_status_counts_for(user)
        ctx["overdue_by_unit"] = selectors.overdue_by_unit_for(user)
    ctx["overdue_total"] = ctx["counts"]["lead_overdue"] + ctx["counts"]["cooperating_overdue"]
    if kind == "overseer":
        ctx["overdue_total"] = sum(r["overdue"] for r in ctx["overdue_by_unit"])
    return render(request, f"web/home_{kind}.html", ctx)
