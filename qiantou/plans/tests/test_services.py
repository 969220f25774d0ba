"""Plan and task services: permissions, the draft-only rule, optimistic locking, the audit record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qiantou.audit.models import AuditEvent
from qiantou.errors import ConflictError, StateError
from qiantou.plans import services
from qiantou.plans.models import Plan, PlanStatus, PlanVersion, Resolution, Task, TaskUnit
from qiantou.plans.tests.factories import World, make_plan, make_task, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_plan_create_records_event(world: World) -> None:
    plan = services.plan_create(
        actor=world.handler, title="  低收入人口动态监测工作方案 ", doc_number="民发〔2026〕3号"
    )
    assert plan.lead_unit == world.lead
    assert plan.status == PlanStatus.DRAFT
    assert plan.title == "低收入人口动态监测工作方案"
    [event] = events("plan.create")
    assert event.object_type == "plans.plan" and event.object_id == str(plan.pk)
    assert event.actor_id == world.handler.pk and event.actor_unit_id == world.lead.pk


def test_plan_create_refused_for_other_roles_and_units(world: World) -> None:
    for user in (world.lead_liaison, world.auditor, world.supervision, world.sysadmin):
        with pytest.raises(PermissionDenied):
            services.plan_create(actor=user, title="方案")
    with pytest.raises(PermissionDenied):
        services.plan_create(actor=world.handler, title="方案", lead_unit=world.named)
    with pytest.raises(ValidationError):
        services.plan_create(actor=world.handler, title="   ")
    assert not Plan.objects.exists()
    assert not AuditEvent.objects.exists()


def test_audit_event_is_in_the_same_transaction(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """If recording fails, the change is rolled back too: no action without its record."""
    plan = make_plan(world.lead)

    def broken(**kwargs):
        raise RuntimeError("record unavailable")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.plan_update(actor=world.handler, plan=plan, lock_version=0, title="改过的标题")
    with pytest.raises(RuntimeError):
        services.task_create(actor=world.handler, plan=plan, no="1", text="任务", lead_units=[world.lead])
    plan.refresh_from_db()
    assert plan.title == "测试分工方案" and plan.lock_version == 0
    assert not Task.objects.exists() and not TaskUnit.objects.exists()


def test_plan_update_optimistic_locking(world: World) -> None:
    plan = make_plan(world.lead)
    alice_copy = Plan.objects.get(pk=plan.pk)
    bob_copy = Plan.objects.get(pk=plan.pk)
    updated = services.plan_update(
        actor=world.handler, plan=alice_copy, lock_version=alice_copy.lock_version, title="甲改的标题"
    )
    assert updated.lock_version == 1 and updated.title == "甲改的标题"
    with pytest.raises(ConflictError) as exc:
        services.plan_update(
            actor=world.unit_head, plan=bob_copy, lock_version=bob_copy.lock_version, title="乙改的"
        )
    assert "已被他人修改" in str(exc.value)
    plan.refresh_from_db()
    assert plan.title == "甲改的标题" and plan.lock_version == 1
    [event] = events("plan.update")
    assert event.payload == {"before": {"title": "测试分工方案"}, "after": {"title": "甲改的标题"}}


def test_task_update_optimistic_locking(world: World) -> None:
    plan = make_plan(world.lead)
    task = make_task(plan, lead=[world.lead])
    services.task_update(actor=world.handler, task=task, lock_version=0, text="第一次修改")
    with pytest.raises(ConflictError):
        services.task_update(actor=world.handler, task=task, lock_version=0, text="基于旧版本的修改")
    task.refresh_from_db()
    assert task.text == "第一次修改" and task.lock_version == 1
    assert len(events("task.update")) == 1


@pytest.mark.parametrize("status", [s for s in PlanStatus.values if s != PlanStatus.DRAFT])
def test_frozen_plan_refuses_edits(world: World, status: str) -> None:
    plan = make_plan(world.lead, status=status)
    task = make_task(plan, lead=[world.lead])
    with pytest.raises(StateError) as exc:
        services.plan_update(actor=world.handler, plan=plan, lock_version=0, title="不应成功")
    assert "冻结" in str(exc.value)
    with pytest.raises(StateError):
        services.task_create(actor=world.handler, plan=plan, no="2", text="新任务", lead_units=[world.lead])
    with pytest.raises(StateError):
        services.task_update(actor=world.handler, task=task, lock_version=0, text="不应成功")
    with pytest.raises(StateError):
        services.task_delete(actor=world.handler, task=task)
    plan.refresh_from_db()
    task.refresh_from_db()
    assert plan.title == "测试分工方案" and task.text == "任务1"
    assert Task.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_only_lead_unit_editors_may_edit(world: World) -> None:
    plan = make_plan(world.lead, status=PlanStatus.DRAFT)
    task = make_task(plan, lead=[world.lead], cooperating=[world.named])
    for user in (
        world.lead_liaison,
        world.named_liaison,
        world.other_liaison,
        world.supervision,
        world.auditor,
        world.sysadmin,
    ):
        with pytest.raises(PermissionDenied):
            services.plan_update(actor=user, plan=plan, lock_version=0, title="x")
        with pytest.raises(PermissionDenied):
            services.task_update(actor=user, task=task, lock_version=0, text="x")
        with pytest.raises(PermissionDenied):
            services.task_delete(actor=user, task=task)
    assert not AuditEvent.objects.exists()


def test_task_create_units_order_and_lead_warnings(world: World) -> None:
    plan = make_plan(world.lead)
    parent = services.task_create(
        actor=world.handler,
        plan=plan,
        no="一、",
        text="加强数据共享",
        lead_units=[world.lead],
        cooperating_units=[world.other, world.named],
    )
    child = services.task_create(
        actor=world.handler,
        plan=plan,
        no="（一）",
        text="比对服刑人员信息",
        parent=parent,
        lead_units=[world.named, world.lead],
        cooperating_units=[],
        deadline_text="2026年6月底前",
        deadline=dt.date(2026, 6, 30),
    )
    orphan = services.task_create(
        actor=world.handler,
        plan=plan,
        no="二、",
        text="无人牵头的任务",
        lead_units=[],
        cooperating_units=[{"unit": None, "printed_name": "市级各有关部门", "resolution": Resolution.GROUP}],
    )
    assert parent.warnings == []
    assert parent.path == "1" and child.path == "1.1" and orphan.path == "2"
    assert parent.position < child.position < orphan.position
    assert [tu.unit for tu in child.task_units.filter(role="lead").order_by("position")] == [
        world.named,
        world.lead,
    ]
    assert [tu.unit for tu in parent.task_units.filter(role="cooperating").order_by("position")] == [
        world.other,
        world.named,
    ]
    assert any(w.startswith(services.WARN_SEVERAL_LEADS_PREFIX) for w in child.warnings)
    assert services.WARN_NO_LEAD in orphan.warnings
    group = orphan.task_units.get()
    assert (
        group.unit is None and group.printed_name == "市级各有关部门" and group.resolution == Resolution.GROUP
    )
    assert child.deadline == dt.date(2026, 6, 30) and child.deadline_kind == "date"
    # fixing the leads clears the warning
    fixed = services.task_update(actor=world.handler, task=child, lock_version=0, lead_units=[world.named])
    assert fixed.warnings == []
    assert len(events("task.create")) == 3


def test_task_delete_removes_subtasks_and_records(world: World) -> None:
    plan = make_plan(world.lead)
    top = make_task(plan, no="一", lead=[world.lead])
    child = make_task(plan, no="1", parent=top, lead=[world.lead])
    make_task(plan, no="（1）", parent=child, lead=[world.lead])
    keep = make_task(plan, no="二", lead=[world.lead])
    with pytest.raises(ConflictError):
        services.task_delete(actor=world.handler, task=top, lock_version=7)
    services.task_delete(actor=world.handler, task=top, lock_version=0)
    assert list(Task.objects.values_list("pk", flat=True)) == [keep.pk]
    [event] = events("task.delete")
    assert event.payload["task"]["no"] == "一" and len(event.payload["removed_ids"]) == 3


def test_versions_and_status(world: World) -> None:
    plan = make_plan(world.lead)
    make_task(plan, no="1", lead=[world.lead], cooperating=[world.named], deadline=dt.date(2026, 12, 31))
    v1 = services.plan_version_create(actor=world.handler, plan=plan, reason=PlanVersion.Reason.CIRCULATED)
    plan = services.plan_set_status(actor=world.handler, plan=plan, status=PlanStatus.CONSULTING)
    v2 = services.plan_version_create(actor=world.handler, plan=plan, reason="revised", note="采纳意见后修改")
    assert (v1.number, v2.number) == (1, 2)
    [task_json] = v1.snapshot["tasks"]
    assert task_json["lead_units"][0]["unit_id"] == world.lead.pk
    assert task_json["cooperating_units"][0]["name"] == world.named.name
    assert task_json["deadline"] == "2026-12-31"
    assert v1.snapshot["plan"]["status"] == PlanStatus.DRAFT and v2.snapshot["plan"]["status"] == "consulting"
    [status_event] = events("plan.status")
    assert status_event.payload["from"] == "draft" and status_event.payload["to"] == "consulting"
    assert len(events("plan.version")) == 2
    with pytest.raises(ConflictError):
        services.plan_set_status(actor=None, plan=plan, status=PlanStatus.APPROVING, lock_version=0)
    with pytest.raises(ValidationError):
        services.plan_set_status(actor=None, plan=plan, status="nonsense")
