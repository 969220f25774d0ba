"""The apps wired together for a new user: the sidebar per role (every link opens, none leads to a
403/404), the plan and task pages' links into consultation, sign-off, allocation, assessment, chasing
and the audit trail, the demo's chasing timeline, the scheduler closing consultation rounds, and the
API's error statuses."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client, RequestFactory

from qiantou.accounts.models import Role, User
from qiantou.api import api
from qiantou.chasing.calendar import at_local
from qiantou.chasing.models import ChaseItem, ItemState, Reminder
from qiantou.chasing.scheduler import tick
from qiantou.chasing.tests.factories import ensure_calendar
from qiantou.consultation import services as consultation
from qiantou.consultation.models import ConsultationRound, RoundStatus
from qiantou.consultation.tests.factories import make_world
from qiantou.demo.loader import demo_load
from qiantou.errors import ConflictError, QiantouError, StateError
from qiantou.plans.models import Plan
from qiantou.plans.selectors import today
from qiantou.units.models import Unit

from .test_pages import LOW_INCOME, client_for


@pytest.fixture
def city(db: Any) -> dict[str, Any]:
    demo_load()
    return {"plans": {p.title: p for p in Plan.objects.all()}}


SIDE = re.compile(r'<nav class="side".*?</nav>', re.S)
HREF = re.compile(r'href="([^"#]+)"')

#: username → optional sidebar links it must show (all others of OPTIONAL must be absent)
OPTIONAL = {
    "imports": "/imports/new/",
    "approvals": "/approvals/",
    "chasing": "/chasing/",
    "inbox": "/chasing/inbox/",
    "assessment": "/assessment/",
    "allocation": "/allocation/load/",
    "consultation": "/consultation/",
    "matching": "/matching/",
    "admin": "/admin/",
}
#: pages that refuse (403/404) the roles they are hidden from; the others show an empty page and refuse
#: the action itself (an import by a liaison, a sign-off by a non-approver)
REFUSING = {"matching", "allocation"}
BUSINESS = {"chasing", "inbox", "assessment", "allocation", "consultation"}
EXPECTED = {
    "mzj_handler": BUSINESS | {"imports"},
    "mzj_unit_head": BUSINESS | {"imports", "approvals"},
    "mzj_leader": BUSINESS | {"approvals"},
    "mzj_principal": BUSINESS | {"approvals"},
    "sfj_liaison": BUSINESS,
    "dcs_officer": BUSINESS,
    "sjj_auditor": BUSINESS,
    "data_officer": BUSINESS | {"matching"},
    "sysadmin": {"admin"},
}


def _links(html: str) -> list[str]:
    side = SIDE.search(html)
    assert side, "sidebar missing"
    return [h.replace("&amp;", "&") for h in HREF.findall(side.group(0))]


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_sidebar_shows_each_role_only_links_it_may_open(city: dict[str, Any], username: str) -> None:
    if username == "data_officer":
        User.objects.create_user(
            "data_officer", password="x", role=Role.DATA_OFFICER, unit=Unit.objects.get(code="QS0206")
        )
    client = client_for(username)
    html = client.get("/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html
    links = _links(html)
    for key, url in OPTIONAL.items():
        assert (url in links) == (key in EXPECTED[username]), f"{username}: {key}"
        if key not in EXPECTED[username] and key in REFUSING:
            # hidden because the page refuses this role, not by accident
            assert client.get(url).status_code in (403, 404), f"{username} {url}"
    for url in ["/", "/plans/", "/plans/tasks/", "/units/"]:
        assert url in links
    for url in links:
        if url.startswith("/admin/"):
            continue  # the Django admin's own login rules
        assert client.get(url).status_code == 200, f"{username} {url}"


@pytest.mark.parametrize("username", ["mzj_handler", "sfj_liaison", "dcs_officer"])
def test_plan_page_links_into_every_app(city: dict[str, Any], username: str) -> None:
    plan = city["plans"][LOW_INCOME]
    client = client_for(username)
    html = client.get(f"/plans/{plan.pk}/").content.decode()
    expected = [
        f"/consultation/plans/{plan.pk}/",
        f"/approvals/plans/{plan.pk}/",
        f"/allocation/plans/{plan.pk}/balance/",
        f"/assessment/ledger/?plan={plan.pk}&format=xlsx",
        f"/audit/plans.plan/{plan.pk}/",
    ]
    hrefs = [h.replace("&amp;", "&") for h in HREF.findall(html)]
    for url in expected:
        assert url in hrefs, url
        response = client.get(url)
        assert response.status_code == 200, f"{username} {url}"
    assert client.get(f"/assessment/ledger/?plan={plan.pk}&format=xlsx")["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    hx = f'hx-get="/allocation/plans/{plan.pk}/suggestions/" hx-trigger="load"'
    assert hx in html
    partial = client.get(f"/allocation/plans/{plan.pk}/suggestions/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'id="plan-suggestions"' in partial.content.decode()


def test_demo_command_replays_chasing_once_and_task_page_links_its_items(city: dict[str, Any]) -> None:
    ensure_calendar()
    call_command("demo_load", stdout=io.StringIO())
    reminders, items = Reminder.objects.count(), ChaseItem.objects.count()
    assert reminders > 0 and items > 0
    overdue = ChaseItem.objects.filter(state=ItemState.OPEN, due_date__lt=today())
    assert overdue.exists()
    call_command("demo_load", stdout=io.StringIO())
    assert (Reminder.objects.count(), ChaseItem.objects.count()) == (reminders, items)

    item = (
        overdue.filter(task__isnull=False, plan__lead_unit__members__role=Role.HANDLER)
        .select_related("plan")
        .first()
    )
    assert item is not None
    lead_handler = User.objects.get(role=Role.HANDLER, unit_id=item.plan.lead_unit_id)
    client = Client()
    client.force_login(lead_handler)
    html = client.get(f"/plans/tasks/{item.task_id}/").content.decode()
    assert f'href="/chasing/items/{item.pk}/"' in html and "催办事项" in html
    assert f'href="/audit/plans.task/{item.task_id}/"' in html
    assert client.get(f"/chasing/items/{item.pk}/").status_code == 200
    # the lead handler's home page shows the overdue items
    assert "逾期" in client.get("/").content.decode()


def test_scheduler_tick_closes_consultation_rounds_past_their_date(db: Any) -> None:
    world = make_world()
    closes = today() + dt.timedelta(days=5)
    rnd = consultation.round_open(actor=world.handler, plan=world.plan, closes_on=closes)
    # on the closing date itself the round stays open
    assert tick(now=at_local(closes, dt.time(9, 0)), sync=False).rounds_closed == 0
    report = tick(now=at_local(closes + dt.timedelta(days=1), dt.time(9, 0)), sync=False)
    assert report.rounds_closed == 1
    assert ConsultationRound.objects.get(pk=rnd.pk).status != RoundStatus.OPEN
    assert Plan.objects.get(pk=world.plan.pk).status == "draft"


def test_a_failing_round_close_does_not_stop_the_tick(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**kwargs: Any) -> int:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(consultation, "rounds_close_due", boom)
    report = tick(now=at_local(today(), dt.time(9, 0)), sync=False)
    assert report.rounds_closed == 0 and report.now


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ConflictError("该任务已被他人修改。"), 409),
        (StateError("方案已印发，不能修改。"), 409),
        (QiantouError("该单位已停用。"), 422),
        (ValidationError("请填写任务内容。"), 422),
        (PermissionDenied("只有牵头单位可以修改。"), 403),
        (PermissionDenied(), 403),
        (StateError(), 409),
    ],
)
def test_api_maps_service_errors_to_statuses_with_a_chinese_detail(exc: Exception, status: int) -> None:
    response = api.on_exception(RequestFactory().get("/api/"), exc)
    assert response.status_code == status
    detail = json.loads(response.content)["detail"]
    assert detail and re.search(r"[\u4e00-\u9fff]", detail)
    if str(exc) and not isinstance(exc, ValidationError):
        assert detail == str(exc)
