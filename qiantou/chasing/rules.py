"""Who may do what in chasing (django-rules). Follows only from the user's unit and role.

- ``chasing.manage_plan`` (obj: Plan): a handler or unit head of the plan's lead unit — ask for
  materials, set up report cycles, set the ladder;
- ``chasing.decide_item`` (obj: ChaseItem): the same people for the item's plan — accept or return
  submissions, decide difficulty and extension requests;
- ``chasing.submit_item`` (obj: ChaseItem): a liaison, handler or unit head of the unit that owes the
  item — hand in materials and reports, raise a difficulty or ask for an extension;
- ``chasing.decide_escalated`` (obj: Petition): a leader in charge or principal of the plan's lead
  unit or a unit above it — decide a request the lead unit escalated;
- ``chasing.view_item`` (obj: ChaseItem): see :func:`qiantou.chasing.selectors.items_visible_to`;
- ``chasing.manage_calendar``: the system administrator (load or correct holiday years).
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import Role

EDITOR_ROLES = frozenset({Role.HANDLER, Role.UNIT_HEAD})
SUBMITTER_ROLES = frozenset({Role.LIAISON, Role.HANDLER, Role.UNIT_HEAD})


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


@rules.predicate
def manages_plan(user: Any, plan: Any) -> bool:
    """Handler or unit head of the plan's lead unit."""
    return (
        _active(user)
        and plan is not None
        and user.role in EDITOR_ROLES
        and user.unit_id is not None
        and user.unit_id == plan.lead_unit_id
    )


@rules.predicate
def decides_item(user: Any, item: Any) -> bool:
    """Handler or unit head of the item's plan's lead unit."""
    return item is not None and manages_plan(user, item.plan)


@rules.predicate
def submits_item(user: Any, item: Any) -> bool:
    """Liaison, handler or unit head of the unit that owes the item."""
    return (
        _active(user)
        and item is not None
        and user.role in SUBMITTER_ROLES
        and user.unit_id is not None
        and user.unit_id == item.unit_id
    )


@rules.predicate
def decides_escalated(user: Any, petition: Any) -> bool:
    """Leader in charge or principal of the lead unit or a unit above it."""
    if not _active(user) or petition is None or user.role not in (Role.LEADER_IN_CHARGE, Role.PRINCIPAL):
        return False
    unit = petition.item.plan.lead_unit
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        if unit.pk == user.unit_id:
            return True
        seen.add(unit.pk)
        unit = unit.parent
    return False


@rules.predicate
def views_item(user: Any, item: Any) -> bool:
    """May see the item (and its requests, reports, reminders)."""
    from qiantou.chasing.selectors import item_visible

    return item is not None and item_visible(user, item)


@rules.predicate
def is_system_admin(user: Any) -> bool:
    """The system administrator."""
    return _active(user) and user.role == Role.SYSTEM_ADMIN


rules.add_perm("chasing.manage_plan", manages_plan)
rules.add_perm("chasing.decide_item", decides_item)
rules.add_perm("chasing.submit_item", submits_item)
rules.add_perm("chasing.decide_escalated", decides_escalated)
rules.add_perm("chasing.view_item", views_item)
rules.add_perm("chasing.manage_calendar", is_system_admin)
