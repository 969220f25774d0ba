"""Authentication: complexity, lockout after N failures and unlock after the period, forced change of
the initial password, idle timeout — and every login, failure, lockout and logout on the record."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client

from qiantou.audit.models import AuditEvent
from qiantou.security.middleware import LAST_SEEN

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


@pytest.mark.parametrize(
    "password, missing",
    [
        ("abcdefghij", ["数字", "符号"]),
        ("abcdefgh12", ["符号"]),
        ("1234567890!", ["字母"]),
        ("Abc#123", None),  # too short: Django's MinimumLengthValidator
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, missing: list[str] | None) -> None:
    with pytest.raises(ValidationError) as err:
        password_validation.validate_password(password)
    text = " ".join(err.value.messages)
    if missing is None:
        assert "10" in text
    else:
        assert all(m in text for m in missing), text


def test_a_strong_password_passes() -> None:
    password_validation.validate_password("Lead-unit 2026!")


def test_login_and_logout_are_recorded(make_user: Any) -> None:
    user = make_user("zhang")
    client = Client()
    response = login(client, "zhang", PASSWORD)
    assert response.status_code == 302
    client.post("/logout/")
    events = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("seq"))
    assert [e.action for e in events] == ["auth.login", "auth.logout"]
    assert all(e.actor_id == user.pk for e in events)
    assert events[1].payload["reason"] == "user"


def test_lockout_after_n_failures_then_unlock_after_the_period(make_user: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    make_user("li")
    client = Client()
    for _ in range(2):
        response = login(client, "li", "wrong-password-1!")
        assert response.status_code == 200  # the form again, with an error
    response = login(client, "li", "wrong-password-1!")
    assert response.status_code == 403
    assert "账号已锁定" in response.content.decode()
    # Locked: even the right password is refused, and the refusal is recorded.
    response = login(client, "li", PASSWORD)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert actions() == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.lockout",
        "auth.login_failed",
        "auth.login_refused",
        "auth.login_failed",
    ]
    failed = AuditEvent.objects.filter(action="auth.login_failed").last()
    assert failed is not None and failed.payload["username"] == "li" and failed.payload["locked"] is True
    assert "password" not in str(failed.payload).lower() or "wrong-password" not in str(failed.payload)
    # Another account is not affected by li's lockout.
    make_user("wang")
    assert login(Client(), "wang", PASSWORD).status_code == 302
    # The cool-off period passes (the attempt is dated back beyond it): li may log in again.
    AccessAttempt.objects.filter(username="li").update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    response = login(client, "li", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_lockout_is_still_in_force_just_before_the_period_ends(make_user: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    make_user("zhao")
    client = Client()
    login(client, "zhao", "nope-nope-1!")
    login(client, "zhao", "nope-nope-1!")
    AccessAttempt.objects.filter(username="zhao").update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    )
    assert login(client, "zhao", PASSWORD).status_code == 403


def test_initial_password_must_be_changed_before_anything_else(make_user: Any) -> None:
    user = make_user("new", must_change_password=True)
    client = Client()
    assert login(client, "new", PASSWORD).status_code == 302
    for path in ["/", "/plans/", "/units/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/password/", path
    api = client.get("/api/plans/")
    assert api.status_code == 403 and "修改初始密码" in api.json()["detail"]
    page = client.get("/accounts/password/")
    assert "初始密码" in page.content.decode()
    # The new password is held to the same rules.
    weak = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "simple1234", "new_password2": "simple1234"},
    )
    assert weak.status_code == 200 and "符号" in weak.content.decode()
    same = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert "不能与原密码相同" in same.content.decode()
    done = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Brand-new 2026!", "new_password2": "Brand-new 2026!"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Brand-new 2026!")
    assert client.get("/").status_code == 200  # still logged in, now free to work
    event = AuditEvent.objects.get(action="auth.password_change")
    assert event.payload == {"forced": True}


def test_idle_session_times_out(make_user: Any, settings: Any) -> None:
    settings.QIANTOU_SESSION_IDLE_MINUTES = 30
    user = make_user("idle")
    client = Client()
    login(client, "idle", PASSWORD)
    assert client.get("/").status_code == 200
    # 29 minutes of silence: still in.
    session = client.session
    session[LAST_SEEN] = time.time() - 29 * 60
    session.save()
    assert client.get("/").status_code == 200
    # 31 minutes of silence: logged out, sent to the login page, recorded.
    session = client.session
    session[LAST_SEEN] = time.time() - 31 * 60
    session.save()
    response = client.get("/plans/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.filter(action="auth.logout").last()
    assert event is not None and event.actor_id == user.pk and event.payload["reason"] == "idle_timeout"


def test_idle_timeout_on_the_api_answers_401(make_user: Any) -> None:
    make_user("idleapi")
    client = Client()
    login(client, "idleapi", PASSWORD)
    session = client.session
    session[LAST_SEEN] = time.time() - 3600
    session.save()
    response = client.get("/api/plans/")
    assert response.status_code == 401


def test_the_security_administrator_may_release_a_lock_early(make_user: Any, settings: Any) -> None:
    from qiantou.accounts.models import Role

    settings.AXES_FAILURE_LIMIT = 2
    make_user("locked")
    secadmin = make_user("secadmin", role=Role.SECURITY_ADMIN, with_unit=False, is_staff=True)
    sysadmin = make_user("sysadmin", role=Role.SYSTEM_ADMIN, with_unit=False, is_staff=True)
    client = Client()
    login(client, "locked", "nope-nope-1!")
    login(client, "locked", "nope-nope-1!")
    assert login(client, "locked", PASSWORD).status_code == 403
    attempt = AccessAttempt.objects.get(username="locked")
    other = Client()
    other.force_login(sysadmin)
    assert other.get("/admin/axes/accessattempt/").status_code == 403
    admin = Client()
    admin.force_login(secadmin)
    assert "locked" in admin.get("/admin/axes/accessattempt/").content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert login(client, "locked", PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="auth.unlock")
    assert event.actor_id == secadmin.pk and event.payload == {"username": "locked"}
