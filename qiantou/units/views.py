"""The unit directory (单位名录): a tree with search, and each unit's page with its mandate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from qiantou.plans.models import TaskStatus
from qiantou.plans.selectors import task_list_for
from qiantou.units import selectors as unit_selectors
from qiantou.units.models import Unit
from qiantou.web.htmx import wants_fragment


def _require_view(user: Any) -> None:
    if not user.has_perm("units.view_unit"):
        raise PermissionDenied


def _tree(units: list[Unit]) -> list[dict[str, Any]]:
    """Units as nested ``{"unit", "children"}`` nodes, roots first, each level in code order."""
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.pk for u in units}
    for u in units:
        parent = u.parent_id if u.parent_id in ids else None
        by_parent.setdefault(parent, []).append(u)

    def build(parent: int | None) -> list[dict[str, Any]]:
        return [{"unit": u, "children": build(u.pk)} for u in by_parent.get(parent, [])]

    return build(None)


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    """The directory as a tree; with ``q``, a flat list of matches (any name, in any script, or code)."""
    _require_view(request.user)
    q = request.GET.get("q", "").strip()
    show_inactive = request.GET.get("inactive") == "1"
    active = None if show_inactive else True
    units = list(unit_selectors.unit_list(user=request.user, active=active))
    ctx: dict[str, Any] = {"nav": "units", "q": q, "show_inactive": show_inactive, "count": len(units)}
    if q:
        ctx["matches"] = list(unit_selectors.unit_list(user=request.user, search=q, active=active))
    else:
        ctx["tree"] = _tree(units)
    template = "units/_unit_results.html" if wants_fragment(request) else "units/unit_list.html"
    return render(request, template, ctx)


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One unit: names, place in the tree, mandate (三定职责), and the visible tasks naming it."""
    user: Any = request.user
    _require_view(user)
    try:
        unit = unit_selectors.unit_get(user=user, unit_id=pk)
    except Unit.DoesNotExist:
        raise Http404(_("未找到该单位。")) from None
    tasks = task_list_for(user, unit=unit, status=TaskStatus.OPEN)
    ctx = {
        "nav": "units",
        "unit": unit,
        "children": list(unit.children.order_by("code")),
        "open_tasks": tasks.count(),
        "overdue_tasks": task_list_for(user, unit=unit, overdue=True).count(),
    }
    return render(request, "units/unit_detail.html", ctx)
