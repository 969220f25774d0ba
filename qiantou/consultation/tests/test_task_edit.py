"""QA regression: the task edit page validates what it saves — a deadline between 2000 and 2100, a task
text of at most 5,000 characters, a whole-number ``lock_version`` (else the conflict message, not
"日期格式不正确") — and changes nothing when it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from qiantou.consultation.forms import TASK_TEXT_MAX
from qiantou.consultation.tests.factories import World, make_world
from qiantou.plans.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings) -> World:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_world()


def _post(world: World, task: Task, **fields: object) -> tuple[int, str]:
    c = Client()
    c.force_login(world.handler)
    data = {
        "text": task.text,
        "deadline_text": task.deadline_text,
        "lock_version": task.lock_version,
    } | fields
    r = c.post(f"/consultation/tasks/{task.pk}/edit/", data)
    return r.status_code, r.content.decode()


def _unchanged(task: Task) -> None:
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.text, fresh.deadline, fresh.lock_version) == (task.text, task.deadline, task.lock_version)


@pytest.mark.parametrize("deadline", ["1900-01-01", "9999-12-31", "2101-01-01", "1999-12-31"])
def test_deadline_outside_2000_2100_is_refused(world: World, deadline: str) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    status, html = _post(world, task, deadline=deadline)
    assert status == 422 and "完成时限（日期）" in html and "2000 年至 2100 年" in html
    assert deadline in html  # the user's input is kept on the page to correct it
    _unchanged(task)


def test_overlong_text_is_refused_and_a_long_one_saved(world: World) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    status, html = _post(world, task, text="字" * 200_000)
    assert status == 422 and "任务内容过长" in html and "5000" in html
    _unchanged(task)
    status, html = _post(world, task, text="  ", deadline="2026-07-31")
    assert status == 422 and "任务内容不能为空" in html
    _unchanged(task)
    status, _ = _post(world, task, text="长" * TASK_TEXT_MAX, deadline="2026-07-31")
    assert status == 302
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.text == "长" * TASK_TEXT_MAX and fresh.deadline == dt.date(2026, 7, 31)


@pytest.mark.parametrize("version", ["abc", "", "1.5", "-1"])
def test_a_bad_lock_version_is_a_conflict_not_a_date_error(world: World, version: str) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    status, html = _post(world, task, text="改过的内容", lock_version=version)
    assert status == 409 and "已被他人修改" in html and "日期格式不正确" not in html
    _unchanged(task)


def test_a_bad_date_format_says_so(world: World) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    status, html = _post(world, task, deadline="明年六月")
    assert status == 422 and "日期格式不正确" in html
    _unchanged(task)


def test_an_outsider_posting_garbage_is_refused_as_unauthorised(world: World) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    c = Client()
    c.force_login(world.liaison_b)
    r = c.post(f"/consultation/tasks/{task.pk}/edit/", {"text": "x", "lock_version": "abc"})
    assert r.status_code in (403, 404)
    _unchanged(task)


@pytest.mark.parametrize("bad", ["999999", "abc"])
def test_an_unknown_cooperating_unit_is_refused_not_dropped(world: World, bad: str) -> None:
    task = Task.objects.get(pk=world.tasks[0].pk)
    before = list(task.task_units.order_by("pk").values_list("unit_id", "role"))
    status, html = _post(world, task, text="改过的内容", cooperating_units=[bad])
    assert status == 422 and "不存在或已撤销" in html
    _unchanged(task)
    assert list(task.task_units.order_by("pk").values_list("unit_id", "role")) == before
