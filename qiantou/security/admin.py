"""Lockouts in the admin: the security administrator (only) sees them and may release one early."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from qiantou.accounts.models import Role
from qiantou.security import services


def _is_security_admin(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(
        user.is_authenticated and user.is_active and getattr(user, "role", None) == Role.SECURITY_ADMIN
    )


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """Failed-login counters; deleting one releases the lock (recorded as ``auth.unlock``)."""

    actions = ["delete_selected"]  # noqa: RUF012

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_security_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_security_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_security_admin(request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.lockout_release(actor=request.user, attempts=AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        services.lockout_release(actor=request.user, attempts=queryset)
