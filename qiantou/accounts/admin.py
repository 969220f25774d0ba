"""Admin screens for accounts under separation of duties (三员分立).

- System administrator: creates accounts (inactive until a role is granted), edits name, unit, phone,
  active flag, resets the initial password. Never sees or edits roles or permissions.
- Security administrator: grants the one role of an account and edits groups' permissions. Never
  creates accounts or edits their personal fields.
- Security auditor and every business role: no admin screens at all.

Every save goes through ``qiantou.security.services`` (the audit record, the checks).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qiantou.accounts.models import Role, User
from qiantou.security import services

SYSADMIN_FIELDS = (
    "username",
    "display_name",
    "unit",
    "phone",
    "is_active",
    "must_change_password",
    "last_login",
)
SECADMIN_FIELDS = ("username", "display_name", "unit", "role", "is_active", "last_login")


def _role(request: HttpRequest) -> str | None:
    user: Any = request.user
    return getattr(user, "role", None) if user.is_authenticated and user.is_active else None


class UserCreateForm(forms.ModelForm):
    """System administrator: a new account with an initial password."""

    initial_password = forms.CharField(
        label=_("初始密码"), strip=False, widget=forms.PasswordInput, help_text=_("首次登录时须修改。")
    )

    class Meta:
        model = User
        fields = ("username", "display_name", "unit", "phone")


class UserChangeForm(forms.ModelForm):
    """System administrator: optionally a new initial password."""

    new_initial_password = forms.CharField(
        label=_("重置为新的初始密码"), required=False, strip=False, widget=forms.PasswordInput
    )

    class Meta:
        model = User
        fields = ("display_name", "unit", "phone", "is_active")


class RoleForm(forms.ModelForm):
    """Security administrator: the account's one role."""

    class Meta:
        model = User
        fields = ("role",)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Accounts, split between the system and the security administrator."""

    list_display = ("username", "display_name", "unit", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _role(request) in {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _role(request) == Role.SYSTEM_ADMIN

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted: the record names them

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if _role(request) == Role.SECURITY_ADMIN:
            kwargs["form"] = RoleForm
        else:
            kwargs["form"] = UserChangeForm if obj is not None else UserCreateForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _role(request) == Role.SECURITY_ADMIN:
            return ("username", "display_name", "unit", "is_active", "role")
        if obj is None:
            return ("username", "display_name", "unit", "phone", "initial_password")
        return (
            "username",
            "display_name",
            "unit",
            "phone",
            "is_active",
            "must_change_password",
            "new_initial_password",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _role(request) == Role.SECURITY_ADMIN:
            return ("username", "display_name", "unit", "is_active")
        return ("username", "must_change_password") if obj is not None else ()

    def get_list_display(self, request: HttpRequest) -> Any:
        if _role(request) == Role.SYSTEM_ADMIN:
            return ("username", "display_name", "unit", "is_active", "last_login")
        return self.list_display

    def get_list_filter(self, request: HttpRequest) -> Any:
        return ("is_active",) if _role(request) == Role.SYSTEM_ADMIN else self.list_filter

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save through the services (checks and the audit record), never directly."""
        actor: Any = request.user
        try:
            if _role(request) == Role.SECURITY_ADMIN:
                fresh = User.objects.get(pk=obj.pk)
                services.user_role_assign(actor=actor, user=fresh, role=form.cleaned_data["role"])
            elif not change:
                created = services.user_create(
                    actor=actor,
                    username=form.cleaned_data["username"],
                    initial_password=form.cleaned_data["initial_password"],
                    display_name=form.cleaned_data.get("display_name", ""),
                    unit=form.cleaned_data.get("unit"),
                    phone=form.cleaned_data.get("phone", ""),
                )
                obj.pk = created.pk
            else:
                fresh = User.objects.get(pk=obj.pk)
                services.user_update(
                    actor=actor,
                    user=fresh,
                    display_name=form.cleaned_data.get("display_name", ""),
                    unit=form.cleaned_data.get("unit"),
                    phone=form.cleaned_data.get("phone", ""),
                    is_active=form.cleaned_data.get("is_active"),
                )
                if form.cleaned_data.get("new_initial_password"):
                    services.user_password_reset(
                        actor=actor, user=fresh, initial_password=form.cleaned_data["new_initial_password"]
                    )
        except (ValidationError, PermissionDenied) as exc:
            text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)
            raise PermissionDenied(text) from None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing many-to-many is edited here (groups/permissions belong to the security administrator)."""


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    """Permission groups: the security administrator's only."""

    filter_horizontal = ("permissions",)
    search_fields = ("name",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _role(request) == Role.SECURITY_ADMIN

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)
