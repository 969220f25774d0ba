"""Allocation pages: "who is buried?" (load chart and table), lead-unit suggestions for a plan or a
typed text (htmx partials), and the balancing proposal of a draft plan with its acceptance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qiantou.allocation.charts import load_chart_svg
from qiantou.allocation.selectors import plan_lead_suggestions, unit_loads
from qiantou.allocation.services import AcceptedChange, balance_accept, plan_balance_proposal
from qiantou.allocation.suggestion import suggest_lead_units
from qiantou.errors import ConflictError, StateError
from qiantou.plans.selectors import plan_get_for
from qiantou.workdays import EARLIEST_DATE, LATEST_DATE

#: How many units the load chart shows (the table lists all).
CHART_UNITS = 20


def _date(value: str | None) -> dt.date | None:
    """A date from the query string; unreadable or outside the calendar's range (2000–2100) → None."""
    try:
        parsed = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is None or EARLIEST_DATE <= parsed <= LATEST_DATE else None


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


@login_required
def load_overview(request: HttpRequest) -> HttpResponse:
    """Per unit: open tasks as lead/cooperating (weighted), requests due, overdue — chart and table."""
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    loads = unit_loads(user=request.user, start=start, end=end)
    busy = [u for u in loads if u.score > 0]
    ctx = {
        "nav": "allocation",
        "loads": busy,
        "start": start,
        "end": end,
        "chart": load_chart_svg(busy[:CHART_UNITS]) if busy else "",
    }
    return render(request, "allocation/load.html", ctx)


@login_required
def suggest_text(request: HttpRequest) -> HttpResponse:
    """htmx partial: ranked lead units for a typed task text (``text``), with the evidence."""
    text = request.GET.get("text", "")[:4000]
    printed = _ids(request.GET.getlist("lead"))
    ranked = suggest_lead_units(text, top=5) if text.strip() else []
    differs = bool(printed) and bool(ranked) and ranked[0].unit_id not in printed
    return render(request, "allocation/_suggestions.html", {"suggestions": ranked, "differs": differs})


@login_required
def plan_suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's tasks with the suggested lead units; says where the printed lead differs (changes nothing)."""
    plan = plan_get_for(request.user, pk)
    rows = plan_lead_suggestions(user=request.user, plan=plan)
    ctx = {"nav": "plans", "plan": plan, "rows": rows, "differ_count": sum(r.differs for r in rows)}
    template = (
        "allocation/_plan_suggestions.html"
        if request.headers.get("HX-Request")
        else ("allocation/plan_suggestions.html")
    )
    return render(request, template, ctx)


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


@login_required
@require_http_methods(["GET", "POST"])
def plan_balance(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the balancing proposal as a diff; POST: accept the ticked rows (or all of them)."""
    user: Any = request.user
    plan = plan_get_for(user, pk)
    if request.method == "POST":
        chosen = set(_ids(request.POST.getlist("accept")))
        changes = []
        for task_id in _ids(request.POST.getlist("task")):
            if request.POST.get("all") != "1" and task_id not in chosen:
                continue
            changes.append(
                AcceptedChange(
                    task_id=task_id,
                    lock_version=int(request.POST.get(f"lock_{task_id}", "-1")),
                    cooperating_unit_ids=tuple(_ids(request.POST.get(f"units_{task_id}", "").split(","))),
                )
            )
        try:
            updated = balance_accept(actor=user, plan=plan, changes=changes)
        except (ValidationError, ConflictError, StateError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        except PermissionDenied as exc:
            raise exc
        else:
            messages.success(request, _("已采纳 %(n)d 项配合单位调整。") % {"n": len(updated)})
        return redirect("plans:plan_detail", pk=plan.pk)
    params = request.GET
    threshold = _float(params.get("threshold"), 0.2)
    cap = _float(params.get("cap"), 0.0)
    unavailable = _ids(params.getlist("unavailable"))
    fixed = _ids(params.getlist("fixed"))
    proposal = None
    if params.get("run") == "1":
        caps = {}
        if cap > 0:
            from qiantou.units.models import Unit

            caps = dict.fromkeys(Unit.objects.values_list("id", flat=True), cap)
        proposal = plan_balance_proposal(
            user=user,
            plan=plan,
            fit_threshold=threshold,
            caps=caps,
            unavailable=unavailable,
            fixed_tasks=fixed,
        )
    ctx = {
        "nav": "plans",
        "plan": plan,
        "proposal": proposal,
        "threshold": threshold,
        "cap": cap or "",
        "unavailable": unavailable,
        "fixed": fixed,
    }
    return render(request, "allocation/balance.html", ctx)
