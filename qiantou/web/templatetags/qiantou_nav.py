"""Template helpers that wire the apps together: which sidebar links a user's role may open, and a
task's chase items for the task page. Each flag follows the rule of the page it links to, so no
link leads to a 403 or 404."""

from __future__ import annotations

from typing import Any

from django import template

from qiantou.accounts.models import Role
from qiantou.accounts.rules import is_business_user_, is_editor_role_

register = template.Library()

#: Roles that may stand on a sign-off chain (``approvals.selectors.eligible_approvers``).
APPROVER_ROLES = frozenset({Role.LEADER_IN_CHARGE, Role.PRINCIPAL, Role.UNIT_HEAD})


def nav_flags(user: Any) -> dict[str, bool]:
    """Which optional sidebar entries ``user`` sees."""
    role = getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None
    business = is_business_user_(user)
    return {
        "business": business,
        "imports": is_editor_role_(user),  # imports.services: handlers and unit heads with a unit
        "approvals": business and role in APPROVER_ROLES,
        "matching": business and role == Role.DATA_OFFICER,
        "admin": bool(getattr(user, "is_staff", False)),  # the Django admin needs is_staff
    }


@register.simple_tag
def nav_for(user: Any) -> dict[str, bool]:
    """``{% nav_for user as can %}`` then ``{% if can.imports %}``."""
    return nav_flags(user)


@register.simple_tag
def task_chase_items(user: Any, task: Any) -> list[Any]:
    """The chase items of ``task`` that ``user`` may see (the chasing app's visibility), by due date."""
    try:
        from qiantou.chasing.selectors import items_visible_to
    except ImportError:  # chasing app absent
        return []
    return list(items_visible_to(user).filter(task_id=task.pk).order_by("due_date", "id")[:20])
