"""Who sees which plans and tasks: the selectors and the rules permissions must agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from qiantou.plans import selectors
from qiantou.plans.models import PlanStatus, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.plans.tests.factories import World, make_plan, make_task, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def visible_plan_ids(user) -> set[int]:
    return set(selectors.plan_list_for(user).values_list("pk", flat=True))


def visible_task_ids(user, **filters) -> set[int]:
    return set(selectors.task_list_for(user, **filters).values_list("pk", flat=True))


@pytest.mark.parametrize("status", PlanStatus.values)
def test_plan_visibility_by_unit_and_role(world: World, status: str) -> None:
    plan = make_plan(world.lead, status=status, issuing_unit=world.issuing)
    make_task(plan, no="1", lead=[world.lead], cooperating=[world.named])
    circulated = status != PlanStatus.DRAFT
    expected = {
        "handler": True,
        "unit_head": True,
        "lead_liaison": True,
        "issuing_liaison": True,
        "named_liaison": circulated,
        "other_liaison": False,
        "supervision": True,
        "auditor": True,
        "sysadmin": False,
        "secadmin": False,
        "secauditor": False,
    }
    for name, sees in expected.items():
        user = getattr(world, name)
        assert (plan.pk in visible_plan_ids(user)) is sees, name
        assert user.has_perm("plans.view_plan", plan) is sees, name
        if sees:
            assert selectors.plan_get_for(user, plan.pk) == plan
        else:
            with pytest.raises(Http404):
                selectors.plan_get_for(user, plan.pk)


def test_anonymous_sees_nothing(world: World) -> None:
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    make_task(plan, lead=[world.lead])
    anon = AnonymousUser()
    assert visible_plan_ids(anon) == set()
    assert visible_task_ids(anon) == set()
    assert not anon.has_perm("plans.view_plan", plan)


def test_name_in_text_grants_nothing(world: World) -> None:
    """A unit named only in the task text, or as an unresolved printed name, does not see the plan."""
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    task = make_task(plan, text=f"{world.other.name}负责落实", lead=[world.lead])
    TaskUnit.objects.create(
        task=task, unit=None, role=TaskUnitRole.COOPERATING, printed_name=world.other.name
    )
    assert plan.pk not in visible_plan_ids(world.other_liaison)
    assert not world.other_liaison.has_perm("plans.view_task", task)


def test_restricted_task(world: World) -> None:
    plan = make_plan(world.lead, status=PlanStatus.ISSUED, issuing_unit=world.issuing)
    open_task = make_task(plan, no="1", lead=[world.lead], cooperating=[world.named])
    secret = make_task(plan, no="2", lead=[world.lead], cooperating=[world.other], restricted=True)
    expected = {
        "handler": {open_task.pk, secret.pk},
        "lead_liaison": {open_task.pk, secret.pk},
        "issuing_liaison": {open_task.pk},  # sees the plan, not the restricted task
        "named_liaison": {open_task.pk},
        "other_liaison": {open_task.pk, secret.pk},  # on the restricted task, so sees the plan too
        "supervision": {open_task.pk, secret.pk},
        "auditor": {open_task.pk, secret.pk},
        "sysadmin": set(),
    }
    for name, ids in expected.items():
        user = getattr(world, name)
        assert visible_task_ids(user) == ids, name
        for task in (open_task, secret):
            assert user.has_perm("plans.view_task", task) is (task.pk in ids), (name, task.no)
        if secret.pk not in ids:
            with pytest.raises(Http404):
                selectors.task_get_for(user, secret.pk)


def test_edit_permissions(world: World) -> None:
    draft = make_plan(world.lead)
    task = make_task(draft, lead=[world.lead])
    issued = make_plan(world.lead, status=PlanStatus.ISSUED)
    for name in ("handler", "unit_head"):
        user = getattr(world, name)
        assert user.has_perm("plans.change_plan", draft)
        assert user.has_perm("plans.change_task", task)
        assert user.has_perm("plans.add_task", draft)
        assert not user.has_perm("plans.change_plan", issued)
    for name in ("lead_liaison", "named_liaison", "supervision", "auditor", "sysadmin"):
        user = getattr(world, name)
        assert not user.has_perm("plans.change_plan", draft), name
        assert not user.has_perm("plans.change_task", task), name
    assert world.handler.has_perm("plans.add_plan")
    assert not world.auditor.has_perm("plans.add_plan")
    assert not world.lead_liaison.has_perm("plans.add_plan")


def test_role_permissions(world: World) -> None:
    for name in ("auditor", "supervision", "secauditor"):
        assert getattr(world, name).has_perm("audit.view_events"), name
    for name in ("handler", "named_liaison", "sysadmin", "secadmin"):
        assert not getattr(world, name).has_perm("audit.view_events"), name
    assert world.sysadmin.has_perm("units.change_unit")
    assert not world.handler.has_perm("units.change_unit")
    assert world.named_liaison.has_perm("units.view_unit")
    assert not AnonymousUser().has_perm("units.view_unit")


def test_task_filters(world: World) -> None:
    today = selectors.today()
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    late = make_task(
        plan,
        no="1",
        lead=[world.lead],
        cooperating=[world.named],
        deadline=today - dt.timedelta(days=1),
        text="低保数据比对",
    )
    due_today = make_task(plan, no="2", lead=[world.lead], deadline=today)
    done_late = make_task(
        plan, no="3", lead=[world.named], deadline=today - dt.timedelta(days=9), status=TaskStatus.DONE
    )
    other_plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    elsewhere = make_task(other_plan, no="1", lead=[world.lead])
    user = world.handler
    assert visible_task_ids(user, overdue=True) == {late.pk}
    assert visible_task_ids(user, overdue=False) == {due_today.pk, done_late.pk, elsewhere.pk}
    assert visible_task_ids(user, unit=world.named) == {late.pk, done_late.pk}
    assert visible_task_ids(user, unit=world.named.pk, status=TaskStatus.DONE) == {done_late.pk}
    assert visible_task_ids(user, plan=other_plan) == {elsewhere.pk}
    assert visible_task_ids(user, q="低保") == {late.pk}
    # the named liaison sees both plans' tasks only where the plan names its unit
    assert visible_task_ids(world.named_liaison) == {late.pk, due_today.pk, done_late.pk}


def test_unit_task_counts(world: World) -> None:
    today = selectors.today()
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    make_task(
        plan, no="1", lead=[world.lead], cooperating=[world.named], deadline=today - dt.timedelta(days=3)
    )
    make_task(
        plan, no="2", lead=[world.lead], cooperating=[world.named], deadline=today + dt.timedelta(days=3)
    )
    make_task(plan, no="3", lead=[world.named], deadline=today - dt.timedelta(days=3))
    make_task(plan, no="4", lead=[world.named], status=TaskStatus.DONE)
    assert selectors.unit_task_counts_for(world.named_liaison) == {
        "lead_open": 1,
        "lead_overdue": 1,
        "cooperating_open": 2,
        "cooperating_overdue": 1,
    }
    assert selectors.unit_task_counts_for(world.handler) == {
        "lead_open": 2,
        "lead_overdue": 1,
        "cooperating_open": 0,
        "cooperating_overdue": 0,
    }
    assert selectors.unit_task_counts_for(world.sysadmin)["lead_open"] == 0


def test_plan_task_tree_is_nested_in_printed_order(world: World, django_assert_max_num_queries) -> None:
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    top = make_task(plan, no="一", lead=[world.lead])
    child2 = make_task(
        plan, no="（二）", parent=top, position=5, lead=[world.named], cooperating=[world.other]
    )
    child1 = make_task(plan, no="（一）", parent=top, position=2, lead=[world.lead, world.named])
    second = make_task(plan, no="二", position=9, lead=[world.named])
    for i in range(20):
        make_task(
            plan, no=f"{i}", parent=second, position=10 + i, lead=[world.other], cooperating=[world.lead]
        )
    # visible plans, restricted tasks naming the unit, the tasks, their units: not one per task
    with django_assert_max_num_queries(4):
        tree = selectors.plan_task_tree(plan, world.handler)
        flat = selectors.flatten_tree(tree)
        names = [[tu.unit.name for tu in n["cooperating_units"]] for n in flat]
    assert [n["task"].pk for n in tree] == [top.pk, second.pk]
    assert [n["task"].pk for n in tree[0]["children"]] == [child1.pk, child2.pk]
    assert [tu.unit for tu in tree[0]["children"][0]["lead_units"]] == [world.lead, world.named]
    assert tree[0]["children"][1]["depth"] == 1
    assert names[2] == [world.other.name]
    assert len(flat) == 24


def test_named_units_carry_their_tasks_plan_however_they_are_written(world: World) -> None:
    """Visibility reads "plans naming my unit" from ``TaskUnit.plan``: every way of writing a row fills it."""
    plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    other_plan = make_plan(world.lead, status=PlanStatus.ISSUED)
    task = make_task(plan, no="1", lead=[world.lead])  # bulk_create with the task loaded
    later = make_task(other_plan, no="1", lead=[world.lead])
    bare = TaskUnit(task_id=later.pk, unit=world.named, role=TaskUnitRole.COOPERATING)  # task not loaded
    TaskUnit.objects.bulk_create([bare])
    saved = TaskUnit.objects.create(task=task, unit=world.other, role=TaskUnitRole.COOPERATING)
    rows = dict(TaskUnit.objects.values_list("pk", "plan_id"))
    assert rows[bare.pk] == other_plan.pk and rows[saved.pk] == plan.pk
    assert set(rows.values()) == {plan.pk, other_plan.pk}
    # and so the named units see exactly the plan that names them
    assert visible_plan_ids(world.named_liaison) == {other_plan.pk}
    assert visible_plan_ids(world.other_liaison) == {plan.pk}
