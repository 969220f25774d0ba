"""Separation of duties (三员分立, GB/T 22239-2019 8.1.4.2/8.1.10.2): which administrator does what.

- system administrator (系统管理员): users' accounts, units, configuration — no business data;
- security administrator (安全管理员): roles and permissions — no business data;
- security auditor (安全审计员): reads the audit record and its verification — changes nothing.

One ``User.role`` per account, so no account holds two of these; the business roles hold none of them.
Business data is refused to all three by the apps' own rules/selectors (``is_business_user_``).
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import Role
from qiantou.accounts.rules import role_of


@rules.predicate
def is_system_admin(user: Any) -> bool:
    """系统管理员."""
    return role_of(user) == Role.SYSTEM_ADMIN


@rules.predicate
def is_security_admin(user: Any) -> bool:
    """安全管理员."""
    return role_of(user) == Role.SECURITY_ADMIN


@rules.predicate
def is_security_auditor(user: Any) -> bool:
    """安全审计员."""
    return role_of(user) == Role.SECURITY_AUDITOR


@rules.predicate
def is_data_officer(user: Any) -> bool:
    """数据核对专员 with a unit: the one role that may see residents' full ID numbers and names."""
    return role_of(user) == Role.DATA_OFFICER and getattr(user, "unit_id", None) is not None


rules.add_perm("security.manage_accounts", is_system_admin)
rules.add_perm("security.manage_roles", is_security_admin)
rules.add_perm("security.verify_audit", is_security_auditor)
rules.add_perm("security.view_personal_data", is_data_officer)
