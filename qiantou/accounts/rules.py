"""Role predicates (django-rules) shared by every app.

What a user may see and do follows only from ``user.unit`` and ``user.role`` — never from a name
printed in a plan's text. The three administrator roles (三员: system, security administrator and
security auditor) manage the system and see no business data (plans, tasks).

The permissions themselves live in each app's ``rules.py`` (``units.*`` in units, ``plans.*`` and,
unless the audit app defines it, ``audit.view_events`` in plans).
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import ADMINISTRATOR_ROLES, Role

#: Roles that edit a plan of their own unit (the lead unit's working level).
EDITOR_ROLES = frozenset({Role.HANDLER, Role.UNIT_HEAD})
#: Roles that read every plan and task, read-only (督查室, 审计/巡察).
OVERSEER_ROLES = frozenset({Role.SUPERVISION_OFFICE, Role.AUDITOR})
#: Roles that read the whole accountability record.
EVENT_READER_ROLES = frozenset({Role.AUDITOR, Role.SUPERVISION_OFFICE, Role.SECURITY_AUDITOR})


def role_of(user: Any) -> str | None:
    """The role of an authenticated, active user, else None (anonymous or disabled)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return getattr(user, "role", None)


def is_business_user_(user: Any) -> bool:
    """True for an active user in a business role (not one of the three administrators)."""
    role = role_of(user)
    return role is not None and role not in ADMINISTRATOR_ROLES


def is_overseer_(user: Any) -> bool:
    """True for the supervision office and auditors: they read every plan and task."""
    return role_of(user) in OVERSEER_ROLES


def is_unit_member_(user: Any) -> bool:
    """True for a business user who belongs to a unit (and so sees that unit's work)."""
    return is_business_user_(user) and getattr(user, "unit_id", None) is not None


def is_editor_role_(user: Any) -> bool:
    """True for a handler or unit head with a unit (the roles that draft plans)."""
    return role_of(user) in EDITOR_ROLES and getattr(user, "unit_id", None) is not None


@rules.predicate
def is_active_user(user: Any) -> bool:
    """Authenticated and active."""
    return role_of(user) is not None


@rules.predicate
def is_business_user(user: Any) -> bool:
    """An active user in a business role."""
    return is_business_user_(user)


@rules.predicate
def is_overseer(user: Any) -> bool:
    """Supervision office or auditor."""
    return is_overseer_(user)


@rules.predicate
def is_auditor(user: Any) -> bool:
    """The read-only auditor / inspector."""
    return role_of(user) == Role.AUDITOR


@rules.predicate
def is_supervision_office(user: Any) -> bool:
    """The supervision office (督查室)."""
    return role_of(user) == Role.SUPERVISION_OFFICE


@rules.predicate
def is_system_admin(user: Any) -> bool:
    """The system administrator (系统管理员)."""
    return role_of(user) == Role.SYSTEM_ADMIN


@rules.predicate
def is_event_reader(user: Any) -> bool:
    """Auditor, supervision office or security auditor."""
    return role_of(user) in EVENT_READER_ROLES


@rules.predicate
def is_editor_role(user: Any) -> bool:
    """Handler or unit head with a unit."""
    return is_editor_role_(user)

