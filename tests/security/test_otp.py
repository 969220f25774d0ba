"""The optional TOTP second factor (django-otp) for administrators and approvers."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiantou.accounts.models import Role
from qiantou.audit.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def login(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_bind_then_every_login_needs_the_code(make_user: Any) -> None:
    make_user("leader", role=Role.LEADER_IN_CHARGE)
    client = login("leader")
    page = client.get("/accounts/otp/setup/").content.decode()
    assert re.search(r'id="otp-secret">[A-Z2-7 ]{20,}<', page)
    device = TOTPDevice.objects.get(user__username="leader", confirmed=False)
    assert client.post("/accounts/otp/setup/", {"token": "000000"}).status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    time.sleep(1.1)  # django-otp throttles a device for a second after a wrong code
    assert client.post("/accounts/otp/setup/", {"token": code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post("/logout/")

    # Next login: the password alone opens nothing but the code page.
    client = login("leader")
    for path in ("/", "/plans/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/")
    assert client.get("/api/plans/").status_code == 403
    wrong = client.post("/accounts/otp/", {"token": "123456" if code(device) != "123456" else "654321"})
    assert wrong.status_code == 200 and "不正确" in wrong.content.decode()
    # A fresh code (the next time step: codes are single-use) opens the system.
    time.sleep(1.1)
    assert client.post("/accounts/otp/", {"token": code(device, offset=30)}).status_code == 302
    assert client.get("/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(action__startswith="auth.otp")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["auth.otp_enable", "auth.otp_failed", "auth.otp_verified"]


def test_business_roles_without_approval_do_not_use_totp(make_user: Any) -> None:
    make_user("liaison", role=Role.LIAISON)
    client = login("liaison")
    assert client.get("/accounts/otp/setup/").status_code == 403


def test_required_roles_must_bind_before_working(make_user: Any, settings: Any) -> None:
    settings.QIANTOU_OTP_REQUIRED_ROLES = [Role.SYSTEM_ADMIN]
    make_user("sys", role=Role.SYSTEM_ADMIN, with_unit=False)
    client = login("sys")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/otp/setup/"


def test_repeated_wrong_codes_end_the_session(make_user: Any) -> None:
    user = make_user("principal", role=Role.PRINCIPAL)
    TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    client = login("principal")
    last = None
    for _ in range(5):
        last = client.post("/accounts/otp/", {"token": "000000"})
    assert last is not None and last.status_code == 302 and last["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    logout = AuditEvent.objects.filter(action="auth.logout").last()
    assert logout is not None and logout.payload["reason"] == "otp_failures"
