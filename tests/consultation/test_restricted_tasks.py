"""Restricted tasks stay hidden in everything consultation and sign-off show (diffs, the circulated
draft, comments, statements, the official document), identical 404 bodies, and input bounds.

A restricted task is seen only by the plan's lead unit, the units named on that task, the supervision
office and auditors (``qiantou.plans.rules.task_visible_``); a liaison of another consulted unit must
not learn its text, its comments, or even that it exists.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import pytest
from django.test import Client
from docx import Document
from openpyxl import load_workbook

from qiantou.accounts.models import User
from qiantou.approvals import services as approvals
from qiantou.approvals.models import ApprovalRequest, RequestStatus
from qiantou.consultation import services
from qiantou.consultation.models import Comment, ConsultationRound
from qiantou.consultation.tests.factories import World, client_for, post_json
from qiantou.plans import services as plan_services
from qiantou.plans.models import Plan, Task
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db

#: The texts of the two restricted tasks (before and after the revision) and of the one naming 财政局.
SECRET_V1 = "核查涉密对象名单甲"
SECRET_V2 = "核查涉密对象名单乙"
NAMED_SECRET = "财政局专项核查事项"





@dataclass
class Rounds:
    secret: Task  # restricted, naming no unit
    named: Task  # restricted, naming 财政局 (b) as cooperating unit
    first: ConsultationRound
    second: ConsultationRound


def _open(world: World) -> ConsultationRound:
    return services.round_open(actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=5))


def two_rounds(world: World) -> Rounds:
    """The QA repro: restricted tasks added, round 1, its text revised, round 2."""
    secret = plan_services.task_create(
        actor=world.handler, plan=world.plan, no="4", text=SECRET_V1, restricted=True
    )
    named = plan_services.task_create(
        actor=world.handler,
        plan=world.plan,
        no="5",
        text=NAMED_SECRET,
        lead_units=[world.lead],
        cooperating_units=[world.b],
        restricted=True,
    )
    first = _open(world)
    services.comment_create(actor=world.liaison_b, round=first, body="建议细化核查口径", task_id=named.pk)
    services.round_close(actor=world.handler, round=first, early=True)
    r = client_for(world.handler).patch(
        f"/api/plans/tasks/{secret.pk}",
        json.dumps({"text": SECRET_V2, "lock_version": Task.objects.get(pk=secret.pk).lock_version}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    second = _open(world)
    return Rounds(secret=secret, named=named, first=first, second=second)


def test_api_diff_leaves_out_tasks_the_caller_may_not_see(world: World) -> None:
    rounds = two_rounds(world)
    url = f"/api/consultation/plans/{world.plan.pk}/diff?a=1&b=2"
    # the liaison of 司法局 may not see the restricted task anywhere
    liaison = client_for(world.liaison_a)
    assert liaison.get(f"/api/plans/tasks/{rounds.secret.pk}").status_code == 404
    r = liaison.get(url)
    assert r.status_code == 200
    assert SECRET_V1 not in str(r.json()) and SECRET_V2 not in str(r.json())
    assert r.json() == []
    # the lead unit and the auditor see the change
    for user in (world.handler, world.auditor):
        changes = client_for(user).get(url).json()
        assert [(c["kind"], c["before"]["text"], c["after"]["text"]) for c in changes] == [
            ("changed", SECRET_V1, SECRET_V2)
        ]


def test_web_diff_and_its_file_leave_out_hidden_tasks(world: World) -> None:
    two_rounds(world)
    liaison, handler = client_for(world.liaison_a), client_for(world.handler)
    page = f"/consultation/plans/{world.plan.pk}/diff/?a=1&b=2"
    xlsx = f"/consultation/plans/{world.plan.pk}/diff.xlsx?a=1&b=2"

    def cells(client: Client) -> str:
        r = client.get(xlsx)
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(r.content)).active
        return " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)

    assert SECRET_V2 in handler.get(page).content.decode()
    assert SECRET_V2 in cells(handler)
    assert liaison.get(page).status_code == 200
    assert SECRET_V1 not in liaison.get(page).content.decode()
    assert SECRET_V2 not in liaison.get(page).content.decode()
    assert SECRET_V1 not in cells(liaison) and SECRET_V2 not in cells(liaison)


def test_circulated_draft_page_and_version_list_leave_out_hidden_tasks(world: World) -> None:
    rounds = two_rounds(world)
    for rnd in (rounds.first, rounds.second):
        page = client_for(world.liaison_a).get(f"/consultation/rounds/{rnd.pk}/").content.decode()
        assert "建立低收入人口动态监测机制" in page
        assert SECRET_V1 not in page and SECRET_V2 not in page and NAMED_SECRET not in page
        assert f'data-task="{rounds.secret.pk}"' not in page
    # 财政局 is named on one restricted task: it sees that one, not the other
    page_b = client_for(world.liaison_b).get(f"/consultation/rounds/{rounds.second.pk}/").content.decode()
    assert NAMED_SECRET in page_b and SECRET_V2 not in page_b
    lead_page = client_for(world.handler).get(f"/consultation/rounds/{rounds.second.pk}/").content.decode()
    assert SECRET_V2 in lead_page and NAMED_SECRET in lead_page
    # the version list counts only the tasks the reader sees (3 public tasks; 5 for the lead unit)
    versions_a = client_for(world.liaison_a).get(f"/consultation/plans/{world.plan.pk}/").content.decode()
    versions_h = client_for(world.handler).get(f"/consultation/plans/{world.plan.pk}/").content.decode()
    assert 'data-label="任务数">3<' in versions_a and 'data-label="任务数">5<' not in versions_a
    assert 'data-label="任务数">5<' in versions_h


def test_comments_on_hidden_tasks_are_left_out_of_rounds_and_statements(world: World) -> None:
    rounds = two_rounds(world)
    api = client_for(world.liaison_a).get(f"/api/consultation/rounds/{rounds.first.pk}")
    assert api.status_code == 200
    assert api.json()["comments"] == []
    assert "建议细化核查口径" not in str(api.json())
    # who may see the task sees the comment on it
    for user in (world.liaison_b, world.handler, world.auditor):
        comments = client_for(user).get(f"/api/consultation/rounds/{rounds.first.pk}").json()["comments"]
        assert [(c["task_no"], c["body"]) for c in comments] == [("5", "建议细化核查口径")]
    # the disposition statement as a file and as a page
    liaison = client_for(world.liaison_a)
    xlsx = liaison.get(f"/consultation/rounds/{rounds.first.pk}/statement.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "建议细化核查口径" not in text and NAMED_SECRET not in text
    assert "提出意见0条" in text
    docx = liaison.get(f"/consultation/rounds/{rounds.first.pk}/statement.docx")
    doc = Document(io.BytesIO(docx.content))
    doc_text = " ".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "建议细化核查口径" not in doc_text and NAMED_SECRET not in doc_text
    page = liaison.get(f"/consultation/rounds/{rounds.first.pk}/").content.decode()
    assert "建议细化核查口径" not in page
    own = client_for(world.liaison_b).get(f"/consultation/rounds/{rounds.first.pk}/statement.xlsx")
    wb_b = load_workbook(io.BytesIO(own.content))
    text_b = " ".join(
        str(c.value) for ws in wb_b.worksheets for row in ws.iter_rows() for c in row if c.value
    )
    assert "建议细化核查口径" in text_b


def test_official_document_leaves_out_hidden_tasks_but_not_for_the_signers(world: World) -> None:
    rounds = two_rounds(world)
    services.round_close(actor=world.handler, round=rounds.second, early=True)
    for c in Comment.objects.all():
        services.comment_dispose(
            actor=world.handler, comment=c, disposition="adopted", lock_version=c.lock_version
        )
    req = approvals.plan_submit(actor=world.handler, plan=Plan.objects.get(pk=world.plan.pk))
    for approver in (world.leader, world.principal):
        req = ApprovalRequest.objects.get(pk=req.pk)
        approvals.approval_approve(actor=approver, request=req, lock_version=req.lock_version)
    assert ApprovalRequest.objects.get(pk=req.pk).status == RequestStatus.APPROVED

    def table_text(user: User) -> str:
        r = client_for(user).get(f"/approvals/plans/{world.plan.pk}/official.docx")
        assert r.status_code == 200
        doc = Document(io.BytesIO(r.content))
        return " ".join(c.text for t in doc.tables for row in t.rows for c in row.cells)

    liaison_text = table_text(world.liaison_a)
    assert "做好刑满释放人员救助衔接" in liaison_text
    assert SECRET_V2 not in liaison_text and NAMED_SECRET not in liaison_text
    assert NAMED_SECRET in table_text(world.liaison_b) and SECRET_V2 not in table_text(world.liaison_b)
    for user in (world.handler, world.principal, world.auditor):
        assert SECRET_V2 in table_text(user) and NAMED_SECRET in table_text(user)


def test_comment_on_a_task_the_caller_may_not_see_is_refused_like_a_task_outside_the_plan(
    world: World,
) -> None:
    secret = plan_services.task_create(
        actor=world.handler, plan=world.plan, no="4", text=SECRET_V1, restricted=True
    )
    rnd = _open(world)
    url = f"/api/consultation/rounds/{rnd.pk}/comments"
    liaison = client_for(world.liaison_a)
    hidden = post_json(liaison, url, {"body": "意见", "task_id": secret.pk})
    outside = post_json(liaison, url, {"body": "意见", "task_id": 987654})
    assert hidden.status_code == outside.status_code == 422  # type: ignore[attr-defined]
    assert hidden.content == outside.content  # type: ignore[attr-defined]
    assert "所指任务不在本轮征求意见稿中" in hidden.json()["detail"]  # type: ignore[attr-defined]
    # the web form refuses it too, and nothing is stored
    liaison.post(f"/consultation/rounds/{rnd.pk}/comment/", {"body": "意见", "task": secret.pk})
    assert not Comment.objects.exists()
    assert post_json(liaison, url, {"body": "意见", "task_id": world.tasks[1].pk}).status_code == 201  # type: ignore[attr-defined]
