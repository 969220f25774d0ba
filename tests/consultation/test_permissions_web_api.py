"""Permissions through the UI and the REST API (the services are tested beside their apps):
a liaison comments only for its own unit and only while open; only the current approver signs;
nobody edits a frozen plan version; a stale disposition form gets a clear conflict message."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from qiantou.approvals import services as approvals
from qiantou.approvals.models import RequestStatus
from qiantou.consultation import services
from qiantou.consultation.models import Comment, ConsultationRound
from qiantou.consultation.tests.factories import World, client_for
from qiantou.plans.models import Plan, PlanStatus, Task
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db




def opened(world: World) -> ConsultationRound:
    return services.round_open(actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=5))


def test_ui_comment_only_for_own_unit_and_only_while_open(world: World) -> None:
    rnd = opened(world)
    url = f"/consultation/rounds/{rnd.pk}/comment/"
    # a unit not consulted does not even see the round
    assert client_for(world.liaison_out).get(f"/consultation/rounds/{rnd.pk}/").status_code == 404
    assert client_for(world.liaison_out).post(url, {"body": "意见"}).status_code == 404
    liaison = client_for(world.liaison_b)
    page = liaison.get(f"/consultation/rounds/{rnd.pk}/").content.decode()
    assert "对此任务提意见" in page
    liaison.post(url, {"body": "建议明确资金来源", "task": world.tasks[0].pk})
    comment = Comment.objects.get()
    assert comment.unit == world.b and comment.author == world.liaison_b
    services.round_close(actor=world.handler, round=rnd, early=True)
    response = liaison.post(url, {"body": "补充意见"}, follow=True)
    assert "已于" in response.content.decode() and "截止" in response.content.decode()
    assert Comment.objects.count() == 1
    assert "对此任务提意见" not in liaison.get(f"/consultation/rounds/{rnd.pk}/").content.decode()


def test_api_comment_permissions(world: World) -> None:
    rnd = opened(world)
    url = f"/api/consultation/rounds/{rnd.pk}/comments"
    body = json.dumps({"body": "意见", "task_id": world.tasks[1].pk})
    assert client_for(world.liaison_out).post(url, body, content_type="application/json").status_code == 404
    assert client_for(world.handler).post(url, body, content_type="application/json").status_code == 403
    assert client_for(world.liaison_a).post(url, body, content_type="application/json").status_code == 201
    services.round_close(actor=world.handler, round=rnd, early=True)
    r = client_for(world.liaison_a).post(url, body, content_type="application/json")
    assert r.status_code == 409 and "截止" in r.json()["detail"]
    data = client_for(world.liaison_c).get(f"/api/consultation/rounds/{rnd.pk}").json()
    assert {c["unit"]: c["response"] for c in data["consulted"]}["青山市人力资源和社会保障局"] == "silent"


def test_stale_disposition_form_shows_conflict_and_api_answers_409(world: World) -> None:
    rnd = opened(world)
    c = services.comment_create(actor=world.liaison_b, round=rnd, body="意见", task_id=world.tasks[0].pk)
    services.round_close(actor=world.handler, round=rnd, early=True)
    first, second = client_for(world.handler), client_for(world.handler2)
    url = f"/consultation/comments/{c.pk}/dispose/"
    first.post(url, {"disposition": "adopted", "lock_version": 0})
    response = second.post(
        url, {"disposition": "not_adopted", "reason": "不同意", "lock_version": 0}, follow=True
    )
    assert "已由handler处理为“采纳”" in response.content.decode()
    c.refresh_from_db()
    assert c.disposition == "adopted"
    api = second.post(
        f"/api/consultation/comments/{c.pk}/dispose",
        json.dumps({"disposition": "not_adopted", "reason": "x", "lock_version": 0}),
        content_type="application/json",
    )
    assert api.status_code == 409 and "未保存" in api.json()["detail"]


def _approved_request(world: World):  # type: ignore[no-untyped-def]
    return approvals.plan_submit(actor=world.handler, plan=world.plan)


def test_only_current_approver_ui_and_api(world: World) -> None:
    req = _approved_request(world)
    principal = client_for(world.principal)
    page = principal.get(f"/approvals/plans/{world.plan.pk}/").content.decode()
    assert 'id="approve"' not in page
    principal.post(f"/approvals/requests/{req.pk}/decide/", {"action": "approve", "lock_version": 0})
    req.refresh_from_db()
    assert req.current_position == 0 and req.status == RequestStatus.PENDING
    api = principal.post(
        f"/api/approvals/requests/{req.pk}/approve",
        json.dumps({"lock_version": 0}),
        content_type="application/json",
    )
    assert api.status_code == 403
    leader = client_for(world.leader)
    assert 'id="approve"' in leader.get(f"/approvals/plans/{world.plan.pk}/").content.decode()
    for malformed in ({"lock_version": 0}, {"action": "yes", "lock_version": 0}):  # no signature by default
        leader.post(f"/approvals/requests/{req.pk}/decide/", malformed)
        req.refresh_from_db()
        assert req.current_position == 0 and req.status == RequestStatus.PENDING
    leader.post(
        f"/approvals/requests/{req.pk}/decide/", {"action": "return", "remarks": "再改改", "lock_version": 0}
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.RETURNED
    assert Plan.objects.get(pk=world.plan.pk).status == PlanStatus.DRAFT
    assert "再改改" in client_for(world.handler).get(f"/approvals/plans/{world.plan.pk}/").content.decode()


def test_nobody_edits_a_frozen_version_ui_and_api(world: World) -> None:
    _approved_request(world)  # the plan is approving: frozen
    task = Task.objects.get(pk=world.tasks[0].pk)
    handler = client_for(world.handler)
    form = handler.get(f"/consultation/tasks/{task.pk}/edit/").content.decode()
    assert 'id="frozen-note"' in form and "disabled" in form
    r = handler.post(
        f"/consultation/tasks/{task.pk}/edit/", {"text": "偷改", "lock_version": task.lock_version}
    )
    assert r.status_code == 409 and "已冻结" in r.content.decode()
    api = handler.patch(
        f"/api/plans/tasks/{task.pk}",
        json.dumps({"text": "偷改", "lock_version": 0}),
        content_type="application/json",
    )
    assert api.status_code == 409
    assert Task.objects.get(pk=task.pk).text == "建立低收入人口动态监测机制"


def test_issue_date_outside_the_calendar_is_refused_and_nothing_issues(world: World) -> None:
    req = _approved_request(world)
    approvals.approval_approve(actor=world.leader, request=req, lock_version=req.lock_version)
    req.refresh_from_db()
    approvals.approval_approve(actor=world.principal, request=req, lock_version=req.lock_version)
    page = client_for(world.handler).post(
        f"/approvals/plans/{world.plan.pk}/issue/",
        {"doc_number": "青政办〔2026〕1号", "issued_on": "9999-12-31"},
        follow=True,
    )
    assert "日期应在 2000 年至 2100 年之间" in page.content.decode()
    assert Plan.objects.get(pk=world.plan.pk).status != PlanStatus.ISSUED
