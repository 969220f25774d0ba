"""The plans/tasks API end to end: contents, filters, pagination, conflicts, validation and auth."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qiantou.accounts.models import ApiToken
from qiantou.accounts.services import api_token_create, api_token_revoke
from qiantou.audit.models import AuditEvent
from qiantou.plans.models import Plan, PlanStatus, Task
from qiantou.plans.schemas import TaskPage
from qiantou.plans.selectors import today
from qiantou.plans.tests.factories import make_plan, make_task
from tests.api.conftest import CSRF_SECRET, Scene

ClientFor = Callable[[Any, str], Client]


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_plan_list_shows_only_visible_plans(scene: Scene, client_for: ClientFor) -> None:
    expected = {
        "handler": {"草稿方案", "已印发方案"},
        "named_liaison": {"已印发方案"},
        "other_liaison": set(),
        "auditor": {"草稿方案", "已印发方案"},
        "sysadmin": set(),
    }
    for role, titles in expected.items():
        body = client_for(getattr(scene.world, role), "token").get("/api/plans/").json()
        assert {p["title"] for p in body["items"]} == titles, role
        assert body["count"] == len(titles)


def test_plan_detail_has_tasks_with_units_in_printed_order(scene: Scene, client_for: ClientFor) -> None:
    w = scene.world
    make_task(scene.issued, no="2", lead=[w.named], cooperating=[w.other, w.lead])
    make_task(scene.issued, no="3", lead=[w.lead], cooperating=[w.other], restricted=True)
    body = client_for(w.named_liaison, "token").get(f"/api/plans/{scene.issued.pk}").json()
    assert body["lead_unit"]["name"] == w.lead.name and body["status"] == "issued"
    assert body["can_change"] is False
    assert [t["no"] for t in body["tasks"]] == ["1", "2"]  # the restricted task is not the named unit's
    assert [u["name"] for u in body["tasks"][1]["cooperating_units"]] == [w.other.name, w.lead.name]
    assert body["tasks"][0]["overdue"] == (dt.date(2026, 6, 30) < today())
    mine = client_for(w.handler, "token").get(f"/api/plans/{scene.draft.pk}").json()
    assert mine["can_change"] is True


def test_missing_and_invisible_look_the_same(scene: Scene, client_for: ClientFor) -> None:
    client = client_for(scene.world.other_liaison, "token")
    invisible = client.get(f"/api/plans/{scene.draft.pk}")
    missing = client.get("/api/plans/987654")
    assert invisible.status_code == missing.status_code == 404
    assert invisible.content == missing.content
    t_invisible = client.get(f"/api/plans/tasks/{scene.draft_task.pk}")
    t_missing = client.get("/api/plans/tasks/987654")
    assert t_invisible.content == t_missing.content


def test_task_list_filters_and_pagination(scene: Scene, client_for: ClientFor) -> None:
    w = scene.world
    day = today()
    plan = make_plan(w.lead, status=PlanStatus.ISSUED, title="大方案")
    for i in range(120):
        make_task(
            plan,
            no=str(i),
            lead=[w.lead] if i % 2 else [w.named],
            cooperating=[w.other] if i % 3 == 0 else [],
            deadline=day - dt.timedelta(days=1) if i < 30 else day + dt.timedelta(days=10),
            text=f"第{i}项任务" + ("低保" if i == 7 else ""),
        )
    client = client_for(w.handler, "token")
    page1 = client.get(f"/api/plans/tasks?plan={plan.pk}").json()
    assert page1["count"] == 120 and len(page1["items"]) == 50
    page3 = client.get(f"/api/plans/tasks?plan={plan.pk}&page=3").json()
    assert [t["no"] for t in page3["items"]] == [str(i) for i in range(100, 120)]
    assert page3["count"] == 120  # the short last page gives the count
    past_end = client.get(f"/api/plans/tasks?plan={plan.pk}&page=4").json()
    assert past_end["items"] == [] and past_end["count"] == 120
    full_last = client.get(f"/api/plans/tasks?plan={plan.pk}&page=2&page_size=60").json()
    assert len(full_last["items"]) == 60 and full_last["count"] == 120 and full_last["count_exact"]
    assert (page3["page"], page3["page_size"]) == (3, 50)
    TaskPage.model_validate(page3)  # the rows are built by hand: they must match the documented shape
    assert client.get(f"/api/plans/tasks?plan={plan.pk}&page_size=500").status_code == 422
    small = client.get(f"/api/plans/tasks?plan={plan.pk}&page_size=7&page=2").json()
    assert [t["no"] for t in small["items"]] == [str(i) for i in range(7, 14)]
    first = page1["items"][0]
    assert first["lead_units"] == [
        {"unit_id": w.named.pk, "name": w.named.name, "printed_name": w.named.name, "resolution": "matched"}
    ]
    assert [u["unit_id"] for u in first["cooperating_units"]] == [w.other.pk]
    overdue = client.get(f"/api/plans/tasks?plan={plan.pk}&overdue=true").json()
    assert overdue["count"] == 30 and all(t["overdue"] for t in overdue["items"])
    by_unit = client.get(f"/api/plans/tasks?plan={plan.pk}&unit={w.other.pk}").json()
    assert by_unit["count"] == 40
    led_by_named = client.get(f"/api/plans/tasks?plan={plan.pk}&unit={w.named.pk}&overdue=false").json()
    assert led_by_named["count"] == 45
    assert client.get("/api/plans/tasks?q=低保").json()["count"] == 1
    make_task(plan, no="E", text="对接Excel台账")
    assert client.get("/api/plans/tasks?q=excel").json()["count"] == 1  # Latin letters: any case
    assert client.get("/api/plans/tasks?q=EXCEL台账").json()["count"] == 1
    assert client.get("/api/plans/tasks?q=低保&status=open").json()["count"] == 1
    assert client.get("/api/plans/tasks?q=低保&status=done").json()["count"] == 0
    assert client.get("/api/plans/tasks?status=bogus").status_code == 422
    # a unit named on a task of an issued plan sees that plan's tasks, and nothing of the others
    other = client_for(w.other_liaison, "token")
    assert other.get("/api/plans/tasks").json()["count"] == 121
    assert other.get(f"/api/plans/tasks?unit={w.other.pk}").json()["count"] == 40


def test_task_count_is_exact_up_to_the_limit_then_a_lower_bound(
    scene: Scene, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiantou.plans import api

    monkeypatch.setattr(api, "COUNT_LIMIT", 25)
    plan = make_plan(scene.world.lead, status=PlanStatus.ISSUED)
    for i in range(40):
        make_task(plan, no=str(i), lead=[scene.world.lead])
    client = client_for(scene.world.handler, "token")
    url = f"/api/plans/tasks?plan={plan.pk}&page_size=10"
    first = client.get(url).json()
    assert (first["count"], first["count_exact"]) == (25, False)  # "25+": more match than counted
    deep = client.get(url + "&page=3").json()
    assert (deep["count"], deep["count_exact"]) == (30, False)  # never less than the rows paged past
    assert client.get(url + "&exact_count=true").json() | {"items": []} == {
        "items": [], "count": 40, "count_exact": True, "page": 1, "page_size": 10
    }
    last = client.get(url + "&page=4").json()
    assert (last["count"], last["count_exact"]) == (40, True)
    past_end = client.get(url + "&page=9").json()  # 80 rows paged over, only 40 exist
    assert (past_end["items"], past_end["count"], past_end["count_exact"]) == ([], 40, True)
    under = client.get(f"/api/plans/tasks?plan={plan.pk}&page_size=10&q=1").json()  # 1, 10-19, 21, 31
    assert (under["count"], under["count_exact"]) == (13, True)


def test_create_update_delete_flow_records_each_step(scene: Scene, client_for: ClientFor) -> None:
    w = scene.world
    client = client_for(w.handler, "session")
    created = send(
        client, "post", "/api/plans/", {"title": "  城乡低保比对方案 ", "doc_number": "民发〔2026〕5号"}
    )
    assert created.status_code == 201, created.content
    plan = created.json()
    assert (
        plan["lead_unit"]["id"] == w.lead.pk
        and plan["status"] == "draft"
        and plan["title"] == "城乡低保比对方案"
    )
    t = send(
        client,
        "post",
        f"/api/plans/{plan['id']}/tasks",
        {
            "no": "1",
            "text": "比对服刑人员名单",
            "lead_unit_ids": [w.lead.pk, w.named.pk],
            "cooperating_unit_ids": [w.other.pk],
            "deadline": "2026-06-30",
            "deadline_text": "6月底前",
        },
    )
    assert t.status_code == 201, t.content
    task = t.json()
    assert [u["unit_id"] for u in task["lead_units"]] == [w.lead.pk, w.named.pk]
    assert any(x.startswith("多个牵头单位") for x in task["warnings"])
    fixed = send(
        client,
        "patch",
        f"/api/plans/tasks/{task['id']}",
        {"lock_version": task["lock_version"], "lead_unit_ids": [w.named.pk]},
    )
    assert fixed.status_code == 200 and fixed.json()["warnings"] == []
    stale = send(
        client, "patch", f"/api/plans/tasks/{task['id']}", {"lock_version": 0, "text": "旧版本上的修改"}
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    renamed = send(client, "patch", f"/api/plans/{plan['id']}", {"lock_version": 0, "title": "新标题"})
    assert renamed.status_code == 200 and renamed.json()["lock_version"] == 1
    assert client.delete(f"/api/plans/tasks/{task['id']}").status_code == 204
    assert not Task.objects.filter(plan_id=plan["id"]).exists()
    recorded = AuditEvent.objects.exclude(action__startswith="auth.")  # the session's login is recorded too
    actions = list(recorded.order_by("seq").values_list("action", flat=True))
    assert actions == ["plan.create", "task.create", "task.update", "plan.update", "task.delete"]


def test_validation_errors_are_422_in_chinese(scene: Scene, client_for: ClientFor) -> None:
    client = client_for(scene.world.handler, "token")
    url = f"/api/plans/{scene.draft.pk}/tasks"
    missing_text = send(client, "post", url, {"no": "9"})
    assert missing_text.status_code == 422 and "text" in missing_text.json()["detail"]
    unknown_unit = send(client, "post", url, {"text": "任务", "lead_unit_ids": [424242]})
    assert unknown_unit.status_code == 422 and "424242" in unknown_unit.json()["detail"]
    foreign_parent = send(client, "post", url, {"text": "任务", "parent_id": scene.issued_task.pk})
    assert foreign_parent.status_code == 422
    blank_title = send(client, "patch", f"/api/plans/{scene.draft.pk}", {"lock_version": 0, "title": None})
    assert blank_title.status_code == 422
    assert Task.objects.filter(plan=scene.draft).count() == 1


def test_session_writes_need_csrf(scene: Scene) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.world.handler)
    assert client.get("/api/plans/").status_code == 200  # safe methods need no token
    refused = send(client, "post", "/api/plans/", {"title": "无CSRF"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.cookies["csrftoken"] = CSRF_SECRET
    ok = client.post(
        "/api/plans/",
        data=json.dumps({"title": "有CSRF"}),
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )
    assert ok.status_code == 201
    assert list(Plan.objects.filter(title__contains="CSRF").values_list("title", flat=True)) == ["有CSRF"]


def test_bearer_tokens(scene: Scene) -> None:
    user = scene.world.handler
    token, raw = api_token_create(actor=None, user=user, name="台账同步")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    good = Client(headers={"Authorization": f"Bearer {raw}"})
    assert good.get("/api/plans/").status_code == 200
    # a token needs no CSRF token for writes
    assert send(good, "post", "/api/plans/", {"title": "令牌创建"}).status_code == 201
    assert Client(headers={"Authorization": f"Bearer {raw}x"}).get("/api/plans/").status_code == 401
    assert Client(headers={"Authorization": "Bearer "}).get("/api/plans/").status_code == 401
    api_token_revoke(actor=user, token=token)
    assert good.get("/api/plans/").status_code == 401
    _t, expired = api_token_create(actor=None, user=user, expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client(headers={"Authorization": f"Bearer {expired}"}).get("/api/plans/").status_code == 401
    _t, inactive = api_token_create(actor=None, user=user)
    user.is_active = False
    user.save()
    response = Client(headers={"Authorization": f"Bearer {inactive}"}).get("/api/plans/")
    assert response.status_code == 401 and "令牌" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/units/", "/api/plans/", "/api/plans/tasks"])
def test_every_router_is_protected_by_default(db: Any, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 401


def test_task_input_no_published_plan_means_is_refused_and_nothing_changes(
    scene: Scene, client_for: ClientFor
) -> None:
    w, task = scene.world, scene.draft_task
    client = client_for(w.handler, "token")
    url = f"/api/plans/{scene.draft.pk}/tasks"
    refusals = {
        "deadline": {"text": "x", "deadline": "1899-12-31"},
        "deadline_end": {"text": "x", "deadline": "2026-06-30", "deadline_end": "2026-03-31"},
        "cooperating_unit_ids": {
            "text": "x",
            "lead_unit_ids": [w.lead.pk],
            "cooperating_unit_ids": [w.lead.pk],
        },
        "parnet_id": {"text": "x", "parnet_id": task.pk},  # misspelt: not silently dropped
    }
    tasks_before = Task.objects.count()
    for field, body in refusals.items():
        response = send(client, "post", url, body)
        assert response.status_code == 422, (field, response.content)
        assert field in response.json()["detail"], (field, response.json())
    assert Task.objects.count() == tasks_before
    misspelt = send(client, "post", url, refusals["parnet_id"]).json()["detail"]
    assert misspelt.endswith("：parnet_id")  # the field as the caller wrote it, not "payload.parnet_id"
    # A change of one list is checked against the stored other list (市司法局 cooperates already).
    events = AuditEvent.objects.count()
    patch = f"/api/plans/tasks/{task.pk}"
    for body in (
        {"lock_version": task.lock_version, "lead_unit_ids": [w.named.pk]},
        {"lock_version": task.lock_version, "deadline_end": "2026-01-01", "deadline": "2026-02-01"},
        {"lock_version": task.lock_version, "parent_id": None},  # not a field a PATCH may change
    ):
        response = send(client, "patch", patch, body)
        assert response.status_code == 422, (body, response.content)
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.lock_version == task.lock_version and AuditEvent.objects.count() == events
