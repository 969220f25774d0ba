"""``qiantou check --deploy --database default``: accounts that break separation of duties (三员分立)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.security, checks.Tags.database, deploy=True)
def check_duties(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A warning per account that is a superuser, or whose admin access does not follow its role.

    Tagged ``database``: Django runs it only when ``--database`` names one (it reads the accounts)."""
    if not databases:
        return []
    from django.db.models import Q

    from qiantou.accounts.models import User
    from qiantou.security.services import STAFF_ROLES

    wrong = User.objects.filter(
        Q(is_superuser=True)
        | (Q(is_staff=True) & ~Q(role__in=STAFF_ROLES))
        | (Q(is_staff=False) & Q(role__in=STAFF_ROLES))
    ).order_by("username")
    return [
        checks.Warning(
            f"账号 {u.username} 违反三员分立：超级用户或管理后台权限与角色（{u.get_role_display()}）不符",
            hint="由安全管理员重新分配角色（qiantou.security.services.user_role_assign），不要使用超级用户。",
            id="qiantou.security.W001",
        )
        for u in wrong
    ]
