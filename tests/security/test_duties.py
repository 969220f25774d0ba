"""Separation of duties (三员分立): the three administrators are refused each other's screens and all
business data; the security auditor reads the record and changes nothing; no account holds two roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from qiantou.accounts.models import Role, User
from qiantou.audit.models import AuditEvent
from qiantou.plans.models import PlanStatus
from qiantou.plans.tests.factories import make_plan, make_task, make_world
from qiantou.security import services

pytestmark = pytest.mark.django_db

ADMINS = ("sysadmin", "secadmin", "secauditor")


@pytest.fixture
def city(db: Any) -> dict[str, Any]:
    world = make_world()
    User.objects.filter(pk__in=[world.sysadmin.pk, world.secadmin.pk]).update(is_staff=True)
    plan = make_plan(world.lead, status=PlanStatus.ISSUED, title="低收入人口常态化帮扶工作任务分工")
    task = make_task(
        plan, no="1", lead=[world.lead], cooperating=[world.named], text="建立低收入人口动态监测机制"
    )
    return {"plan": plan, "task": task, "sysadmin": world.sysadmin, "world": world}


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_admin_screens_belong_to_one_administrator_each(city: dict[str, Any]) -> None:
    sys_, sec, aud, handler = (client_for(u) for u in (*ADMINS, "handler"))
    # Accounts: the system administrator creates and edits; the security administrator grants roles.
    assert sys_.get("/admin/accounts/user/add/").status_code == 200
    assert sec.get("/admin/accounts/user/add/").status_code == 403
    user = User.objects.get(username="handler")
    sys_form = sys_.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    sec_form = sec.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert 'name="display_name"' in sys_form and 'name="role"' not in sys_form
    assert 'name="role"' in sec_form and 'name="display_name"' not in sec_form
    # Permission groups: the security administrator's only.
    assert sec.get("/admin/auth/group/").status_code == 200
    assert sys_.get("/admin/auth/group/").status_code == 403
    # The security auditor and business users have no admin screens at all.
    for client in (aud, handler):
        response = client.get("/admin/accounts/user/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_account_needs_both_administrators_and_every_step_is_recorded(city: dict[str, Any]) -> None:
    sys_, sec = client_for("sysadmin"), client_for("secadmin")
    response = sys_.post(
        "/admin/accounts/user/add/",
        {"username": "newbie", "display_name": "新同事", "phone": "", "initial_password": "Initial#2026-pw"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    assert not newbie.is_active and newbie.must_change_password  # no access until a role is granted
    response = sec.post(f"/admin/accounts/user/{newbie.pk}/change/", {"role": Role.HANDLER})
    assert response.status_code == 302
    newbie.refresh_from_db()
    assert newbie.is_active and newbie.role == Role.HANDLER and not newbie.is_staff
    actions = list(
        AuditEvent.objects.filter(object_type="accounts.user", object_id=str(newbie.pk)).values_list(
            "action", "actor_name"
        )
    )
    assert actions == [("accounts.user_create", "sysadmin"), ("accounts.role_assign", "secadmin")]


def test_services_enforce_who_does_what(city: dict[str, Any]) -> None:
    sysadmin = city["sysadmin"]
    secadmin = User.objects.get(username="secadmin")
    handler = User.objects.get(username="handler")
    with pytest.raises(PermissionDenied):
        services.user_role_assign(actor=sysadmin, user=handler, role=Role.PRINCIPAL)
    with pytest.raises(PermissionDenied):
        services.user_role_assign(actor=secadmin, user=secadmin, role=Role.SYSTEM_ADMIN)
    with pytest.raises(PermissionDenied):
        services.user_create(actor=secadmin, username="x1", initial_password="Initial#2026-pw")
    with pytest.raises(PermissionDenied):
        services.otp_device_remove(actor=sysadmin, user=handler)
    # Granting an administrator role strips superuser and any extra permission: one role, one duty.
    handler.is_superuser = True
    handler.save()
    services.user_role_assign(actor=secadmin, user=handler, role=Role.SYSTEM_ADMIN)
    handler.refresh_from_db()
    assert handler.role == Role.SYSTEM_ADMIN and handler.is_staff and not handler.is_superuser
    assert services.duties_violations(handler) == []
    handler.is_superuser = True
    assert services.duties_violations(handler)


WEB_BUSINESS = [
    "/plans/",
    "/plans/{plan}/",
    "/plans/tasks/",
    "/plans/tasks/{task}/",
    "/consultation/",
    "/consultation/plans/{plan}/",
    "/approvals/",
    "/approvals/plans/{plan}/",
    "/chasing/",
    "/chasing/board/",
    "/assessment/",
    "/assessment/ledger/",
    "/allocation/load/",
    "/matching/",
    "/audit/plans.plan/{plan}/",
]
API_BUSINESS = [
    "/api/plans/",
    "/api/plans/{plan}",
    "/api/plans/tasks",
    "/api/plans/tasks/{task}",
    "/api/plans/{plan}/tasks",
    "/api/consultation/plans/{plan}/rounds",
    "/api/approvals/plans/{plan}",
    "/api/chasing/items",
    "/api/chasing/board",
    "/api/assessment/ledger",
    "/api/allocation/load",
    "/api/matching/runs",
    "/api/audit/events?object_type=plans.plan&object_id={plan}",
]


@pytest.mark.parametrize("username", ADMINS)
def test_administrators_see_no_business_data(city: dict[str, Any], username: str) -> None:
    plan, task = city["plan"], city["task"]
    client = client_for(username)
    leaks = []
    for pattern in WEB_BUSINESS + API_BUSINESS:
        url = pattern.format(plan=plan.pk, task=task.pk)
        response = client.get(url)
        body = response.content.decode(errors="replace")
        if response.status_code == 200 and (plan.title in body or task.text[:20] in body):
            leaks.append((url, response.status_code))
        elif response.status_code >= 500:
            leaks.append((url, response.status_code))
    assert leaks == []


def test_the_security_auditor_reads_and_verifies_the_record_and_changes_nothing(city: dict[str, Any]) -> None:
    auditor = client_for("secauditor")
    assert auditor.get("/api/audit/verify").json()["ok"] is True
    assert auditor.get("/api/audit/events").status_code == 200
    assert auditor.get("/api/audit/head").status_code == 200
    for client in (client_for("sysadmin"), client_for("secadmin")):
        assert client.get("/api/audit/verify").status_code == 403
    before = AuditEvent.objects.exclude(action__startswith="auth.").count()
    plan = city["plan"]
    writes = [
        ("post", "/api/plans/", {"title": "审计员不能建方案"}),
        ("patch", f"/api/plans/{plan.pk}", {"lock_version": plan.lock_version, "title": "改"}),
        ("post", "/api/units/", {"code": "X1", "name": "审计员不能建单位"}),
    ]
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    auditor.cookies["csrftoken"] = token
    for method, url, body in writes:
        response = getattr(auditor, method)(
            url, body, content_type="application/json", headers={"X-CSRFToken": token}
        )
        assert response.status_code in (403, 404), (url, response.status_code)
    assert AuditEvent.objects.exclude(action__startswith="auth.").count() == before


def test_the_business_pages_above_do_show_the_plan_to_its_handler(city: dict[str, Any]) -> None:
    """Control for the test above: the same URLs show the plan to a user of the lead unit."""
    plan, task = city["plan"], city["task"]
    client = client_for("handler")
    shown = [
        p
        for p in WEB_BUSINESS + API_BUSINESS
        if plan.title in client.get(p.format(plan=plan.pk, task=task.pk)).content.decode(errors="replace")
        or task.text in client.get(p.format(plan=plan.pk, task=task.pk)).content.decode(errors="replace")
    ]
    assert len(shown) >= 8, shown


def test_deploy_check_names_accounts_that_break_separation_of_duties(city: dict[str, Any]) -> None:
    from qiantou.security.checks import check_duties

    assert check_duties(databases=["default"]) == []
    User.objects.filter(username="handler").update(is_superuser=True)
    User.objects.filter(username="secauditor").update(is_staff=True)
    messages = check_duties(databases=["default"])
    assert [m.id for m in messages] == ["qiantou.security.W001"] * 2
    assert "handler" in messages[0].msg and "secauditor" in messages[1].msg
    assert check_duties(databases=None) == []  # without --database the check reads nothing
