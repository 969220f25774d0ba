"""Reads for assessment: the scoring rules a user may see, report targets, and dashboard figures.
Every function takes the user and returns only what that user may see."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from qiantou.accounts.models import Role
from qiantou.assessment.models import CircularDraft, ScoringRules
from qiantou.assessment.rules import EDITOR_ROLES, LEADER_ROLES, OVERSEER_ROLES, _active
from qiantou.assessment.scoring import month_periods
from qiantou.chasing.calendar import SHANGHAI
from qiantou.chasing.models import ChaseItem, ItemState
from qiantou.chasing.selectors import items_visible_to
from qiantou.plans.selectors import plan_get_for, task_get_for
from qiantou.units.models import Unit

# A unit one may not see and a missing one get the same words (as the plan selectors do).
NOT_FOUND = "未找到该单位，或您无权查看。"


def rules_list_for(user: Any) -> QuerySet[ScoringRules]:
    """Scoring rules the user may see: all for overseers and leaders; their lead unit's plans' for editors."""
    qs = ScoringRules.objects.select_related("plan", "plan__lead_unit")
    if not _active(user):
        return qs.none()
    if user.role in OVERSEER_ROLES | LEADER_ROLES:
        return qs
    if user.role in EDITOR_ROLES and user.unit_id:
        return qs.filter(plan__lead_unit_id=user.unit_id)
    return qs.none()


def rules_get_for(user: Any, pk: Any) -> ScoringRules:
    """One rules set the user may see, else Http404."""
    try:
        return rules_list_for(user).get(pk=pk)
    except (ScoringRules.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该考核细则，或您无权查看。") from None


def circulars_for(user: Any) -> QuerySet[CircularDraft]:
    """Circular drafts: the supervision office's work; leaders and auditors read them."""
    if not _active(user) or user.role not in OVERSEER_ROLES | LEADER_ROLES:
        return CircularDraft.objects.none()
    return CircularDraft.objects.select_related("rules")


def report_target_for(user: Any, scope: str, pk: Any) -> Any:
    """The Task, Plan or Unit a report may cover for ``user``; Http404 when not visible.

    Tasks and plans follow the plan selectors (auditors and the supervision office see every one).
    A unit: overseers and leaders any; handlers and unit heads their own unit only.
    """
    if not _active(user) or not user.has_perm("assessment.view_report"):
        raise Http404("无权查看问责材料。")
    if scope == "task":
        return task_get_for(user, pk)
    if scope == "plan":
        return plan_get_for(user, pk)
    if scope == "unit":
        try:
            unit = Unit.objects.get(pk=pk)
        except (Unit.DoesNotExist, ValueError, TypeError):
            raise Http404(NOT_FOUND) from None
        if user.role in OVERSEER_ROLES | LEADER_ROLES or unit.pk == user.unit_id:
            return unit
        raise Http404(NOT_FOUND)  # the same words as a missing unit: existence is not revealed
    raise Http404("范围应为 task / plan / unit。")


def dashboard_figures(user: Any, *, today: dt.date, start: dt.date) -> dict[str, Any]:
    """Figures for the role dashboard over items the user may see (chasing's visibility):

    ``overdue``: [(unit name, open overdue items)] most first; ``trend``: [(month, on-time rate or None)]
    for items due in each month from ``start`` to ``today``; ``totals``: counts (open, overdue, done on time,
    done late) in that span.
    """
    items = items_visible_to(user).exclude(state=ItemState.CANCELLED)
    if getattr(user, "role", None) == Role.LIAISON:
        items = items.filter(unit_id=user.unit_id)
    overdue = Counter(
        dict((name, n) for name, n in _count_by_unit(items.filter(state=ItemState.OPEN, due_date__lt=today)))
    )
    span = items.filter(due_date__gte=start, due_date__lte=today)
    trend: list[tuple[str, float | None]] = []
    totals = {
        "open": items.filter(state=ItemState.OPEN).count(),
        "overdue": sum(overdue.values()),
        "on_time": 0,
        "late": 0,
    }
    by_month: dict[str, list[int]] = {}
    for due, state, done_at in span.values_list("due_date", "state", "done_at"):
        key = f"{due:%Y-%m}"
        ok = state == ItemState.DONE and done_at is not None and done_at.astimezone(SHANGHAI).date() <= due
        cell = by_month.setdefault(key, [0, 0])
        cell[0] += 1
        cell[1] += int(ok)
        totals["on_time" if ok else "late"] += int(state == ItemState.DONE or due < today)
    for label, _a, _b in month_periods(start, today):
        n, good = by_month.get(label, [0, 0])
        trend.append((label, good / n if n else None))
    return {"overdue": overdue.most_common(20), "trend": trend, "totals": totals}


def _count_by_unit(items: QuerySet[ChaseItem]) -> list[tuple[str, int]]:
    from django.db.models import Count

    return [
        (row["unit__name"], row["n"])
        for row in items.values("unit__name").annotate(n=Count("id")).order_by("-n", "unit__name")
    ]


def rules_for_dashboard(user: Any) -> ScoringRules | None:
    """The rules set a dashboard ranks by: the most recently changed one the user may see."""
    return rules_list_for(user).order_by("-updated_at", "-id").first()


def units_q(ids: list[int]) -> Q:
    """``Q(pk__in=ids)`` (helper for views)."""
    return Q(pk__in=ids)
