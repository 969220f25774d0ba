"""Template helpers for the web UI: status lights and unit tags."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import gettext as _

from qiantou.plans.models import TaskStatus
from qiantou.plans.selectors import plan_binds, today

register = template.Library()

#: A task due within this many calendar days shows yellow (the working-day calendar refines it later).
DUE_SOON_DAYS = 7


def task_light(task: Any, day: dt.date | None = None, *, plan_status: str | None = None) -> tuple[str, str]:
    """The status light of a task: ``(css_suffix, label)`` — red overdue, yellow due soon, green, done.

    Only tasks of an issued plan are lit: a draft (or a plan in consultation or approval) binds nobody
    yet, so its tasks show a grey "方案未印发" whatever their dates. ``plan_status`` defaults to
    ``task.plan.status`` (callers pass it when they read tasks without their plan).
    """
    if task.status == TaskStatus.DONE:
        return "done", _("已完成")
    if task.status == TaskStatus.CANCELLED:
        return "done", _("已撤销")
    if plan_status is None:
        plan_status = task.plan.status
    if not plan_binds(plan_status):
        return "done", _("方案未印发")
    day = day or today()
    if task.deadline is None:
        return "green", _("办理中")
    if task.deadline < day:
        return "red", _("逾期 %(days)d 天") % {"days": (day - task.deadline).days}
    if (task.deadline - day).days <= DUE_SOON_DAYS:
        return "yellow", _("临期")
    return "green", _("办理中")


@register.inclusion_tag("web/_light.html")
def light(task: Any) -> dict[str, Any]:
    """Render a task's status light (``{% light task %}``)."""
    css, label = task_light(task)
    return {"css": css, "label": label}


@register.inclusion_tag("web/_unit_tags.html")
def unit_tags(task_units: list[Any], role: str) -> dict[str, Any]:
    """Render TaskUnits as tags in printed order; unresolved names are marked as unknown."""
    return {"task_units": task_units, "role": role}


@register.simple_tag
def task_rows(nodes: list[dict[str, Any]]) -> Any:
    """The plan page's task rows (``{% task_rows nodes %}``), rendered in Python for speed."""
    from qiantou.web.rows import TaskRowRenderer

    return TaskRowRenderer().rows(nodes)


@register.filter
def names_unit(task_units: list[Any], unit_id: int | None) -> bool:
    """True when one of ``task_units`` is the unit ``unit_id``."""
    return unit_id is not None and any(tu.unit_id == unit_id for tu in task_units)
