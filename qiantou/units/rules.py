"""Who may read and change the unit directory (django-rules).

``units.view_unit``: any active, authenticated user who belongs to a unit (the directory is common
knowledge inside the government), and the system administrator. ``units.change_unit``: the system
administrator (系统管理员) only — the directory is reference data every plan depends on.
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import Role


@rules.predicate
def is_active_user(user: Any) -> bool:
    """An authenticated, active account."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


@rules.predicate
def has_unit(user: Any) -> bool:
    """The user belongs to a unit."""
    return getattr(user, "unit_id", None) is not None


@rules.predicate
def is_system_admin(user: Any) -> bool:
    """The user holds the system administrator role."""
    return getattr(user, "role", None) == Role.SYSTEM_ADMIN


can_view_units = is_active_user & (has_unit | is_system_admin)
can_change_units = is_active_user & is_system_admin

rules.add_perm("units.view_unit", can_view_units)
rules.add_perm("units.change_unit", can_change_units)
