"""Account pages: change password (forced after an initial password), the TOTP second step, and
binding a TOTP device. Login and logout are Django's views (django-axes guards the login form)."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from qiantou.accounts.forms import OtpTokenForm, PasswordChangeForm
from qiantou.audit.services import audit_record
from qiantou.security import services

#: A session is logged out after this many wrong TOTP codes in a row.
OTP_MAX_FAILURES = 5


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password; required before anything else while ``must_change_password``."""
    user: Any = request.user
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect("home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "forced": user.must_change_password,
            "otp_allowed": services.otp_allowed_for(user) and not user.must_change_password,
            "otp_bound": services.otp_device_for(user) is not None,
            "nav": "account",
        },
    )


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step for a user with a TOTP device: the code from the authenticator app."""
    user: Any = request.user
    device = services.otp_device_for(user)
    if device is None or user.is_verified():
        return redirect(_next(request))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            request.session.pop("qiantou_otp_failures", None)
            with transaction.atomic():
                audit_record(actor=user, action="auth.otp_verified", obj=user, payload={})
            return redirect(_next(request))
        failures = int(request.session.get("qiantou_otp_failures", 0)) + 1
        request.session["qiantou_otp_failures"] = failures
        with transaction.atomic():
            audit_record(actor=user, action="auth.otp_failed", obj=user, payload={"failures": failures})
        if failures >= OTP_MAX_FAILURES:
            request.qiantou_logout_reason = "otp_failures"  # type: ignore[attr-defined]
            logout(request)
            messages.error(request, _("动态口令连续错误，已退出，请重新登录。"))
            return redirect("login")
        form.add_error("token", _("动态口令不正确或已过期。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "nav": "account"})


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Bind a TOTP device: show the key (and ``otpauth://`` URI), confirm with a first code."""
    user: Any = request.user
    if not services.otp_allowed_for(user):
        raise PermissionDenied(_("您的角色不使用动态口令。"))
    if services.otp_device_for(user) is not None and not user.is_verified():
        return redirect("accounts:otp_verify")
    form = OtpTokenForm(request.POST or None)
    device = None
    device_id = request.session.get("qiantou_otp_pending")
    if device_id:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if request.method == "POST" and device is not None and form.is_valid():
        if services.otp_device_confirm(actor=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            request.session.pop("qiantou_otp_pending", None)
            messages.success(request, _("动态口令已启用，今后登录须输入。"))
            return redirect("home")
        form.add_error("token", _("动态口令不正确，请核对手机时间后重试。"))
    if device is None or request.method == "GET":
        device = services.otp_device_start(actor=user)
        request.session["qiantou_otp_pending"] = device.pk
        form = OtpTokenForm()
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "config_url": device.config_url,
            "nav": "account",
        },
    )


def _next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"
