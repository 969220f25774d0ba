"""The audit trail page reads as words: action and object labels, object names, readable payloads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from qiantou.audit.labels import ACTION_LABELS, OBJECT_LABELS, event_rows
from qiantou.audit.services import audit_record
from qiantou.plans.models import PlanStatus
from qiantou.plans.tests.factories import make_plan, make_task, make_world

SOURCES = Path(__file__).resolve().parents[2]


def recorded_actions() -> set[str]:
    """Every literal action the code base passes to ``audit_record`` (tests excluded)."""
    found: set[str] = set()
    for path in SOURCES.rglob("*.py"):
        if "tests" in path.parts or path.name == "labels.py":
            continue
        found.update(re.findall(r"""\baction\s*=\s*["']([a-z_]+\.[a-z_]+)["']""", path.read_text("utf-8")))
    return found


def test_every_recorded_action_has_a_label() -> None:
    actions = recorded_actions()
    assert {"plan.create", "consultation.open", "approval.approve", "plan.issue"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_every_model_recorded_as_object_has_a_label() -> None:
    from django.apps import apps

    for label in ("plans.plan", "plans.task", "consultation.consultationround", "approvals.approvalrequest"):
        assert apps.get_model(label) is not None
        assert label in OBJECT_LABELS


@pytest.mark.django_db
def test_payload_rendering() -> None:
    world = make_world()
    plan = make_plan(world.lead, status=PlanStatus.CONSULTING, title="测试方案")
    task = make_task(plan, no="3", lead=[world.lead], cooperating=[world.named])
    events = [
        audit_record(
            actor=world.handler,
            action="task.create",
            obj=task,
            payload={
                "units": [
                    {"role": "lead", "unit_id": world.lead.pk, "printed_name": "印刷名"},
                    {"role": "cooperating", "unit_id": None, "printed_name": "未知局"},
                ],
                "deadline": None,
                "plan_id": plan.pk,
                "whatever": 7,
            },
        ),
        audit_record(
            actor=world.handler,
            action="task.update",
            obj=task,
            payload={
                "before": {"status": "open", "deadline": None},
                "after": {"status": "done", "deadline": None},
            },
        ),
        audit_record(actor=None, action="plan.status", obj=plan, payload={"from": "draft", "to": "issued"}),
        audit_record(actor=None, action="something.new", obj=plan, payload={}),
    ]
    with translation.override("zh-hans"):
        rows = event_rows(events)
    created, updated, status, unknown = rows
    assert created.action == "新增任务"
    assert created.object_label == "任务"
    assert created.object_name.startswith("3 ")
    content = {line.label: line.value for line in created.lines}
    assert content["承办单位"] == f"{world.lead.short_name}（牵头单位）、未知局（配合单位）"
    assert content["完成时限"] == "—"
    assert content["方案"] == "测试方案"
    assert content["whatever"] == "7"  # unknown keys as they are
    assert [(line.label, line.value) for line in updated.lines] == [("状态", "办理中 → 已完成")]
    assert [(line.label, line.value) for line in status.lines] == [("状态", "草稿 → 已印发")]
    assert unknown.action == "something.new"  # an action without a label shows its code


@pytest.mark.django_db
def test_trail_page_shows_words_and_keeps_codes() -> None:
    from qiantou.audit.tests.test_access import client_for

    world = make_world()
    plan = make_plan(world.lead, status=PlanStatus.CONSULTING, title="测试方案")
    audit_record(
        actor=world.handler,
        action="plan.create",
        obj=plan,
        payload={"title": "测试方案", "lead_unit_id": world.lead.pk, "doc_number": None},
    )
    client: Client = client_for(world.handler)
    html = client.get(f"/audit/plans.plan/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'title="plan.create"' in html
    assert ">创建方案<" in html
    assert "方案：测试方案" in html
    assert f"牵头单位：{world.lead.short_name}" in html
    assert "文号：—" in html
    assert "None" not in html and "lead_unit_id" not in html
    assert re.search(r'<td class="no"[^>]*><time[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>', html)
    # The API is unchanged: codes and raw payloads.
    item = client.get(f"/api/audit/events?object_type=plans.plan&object_id={plan.pk}").json()["items"][0]
    assert item["action"] == "plan.create"
    assert item["payload"]["lead_unit_id"] == world.lead.pk


@pytest.mark.django_db
def test_pages_link_the_favicon() -> None:
    """Every page links an SVG icon that the static files serve (no /favicon.ico 404 per page)."""
    from django.contrib.staticfiles import finders

    from qiantou.audit.tests.test_access import client_for

    world = make_world()
    html = client_for(world.handler).get("/").content.decode()
    match = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert match and match.group(1).endswith("qiantou/favicon.svg")
    found = finders.find("qiantou/favicon.svg")
    assert found and "<svg" in Path(str(found)).read_text("utf-8")


def test_labels_have_english_translations() -> None:
    """The English catalogue (compiled ``.mo``) covers every audit label and the page's own words."""
    from qiantou.audit.labels import KEY_LABELS

    with translation.override("en"):
        for label in (*ACTION_LABELS.values(), *OBJECT_LABELS.values(), *KEY_LABELS.values()):
            english = translation.gettext(label)
            assert english != label and english.isascii(), label
        assert translation.gettext("发起征求意见") == "Open consultation"
        assert translation.gettext("审计记录") != "审计记录"
