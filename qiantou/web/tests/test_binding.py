"""QA regression: a plan not yet issued binds nobody, so its tasks are never overdue and carry no red
or yellow light — on the home page, in the task list filter, the plan page, the API rows and chasing.

Before the fix an imported draft (last year's deadlines) raised the handler's "本单位牵头·逾期" from 2 to
5 and its tasks showed "逾期 152 天".
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from qiantou.chasing import selectors as chasing_selectors
from qiantou.chasing.tests.factories import City, make_city, make_plan, make_task
from qiantou.plans.models import PlanStatus, Task
from qiantou.plans.selectors import plan_task_tree, task_list_for, task_rows, today, unit_task_counts_for
from qiantou.web import selectors
from qiantou.web.templatetags.qiantou_ui import task_light

pytestmark = pytest.mark.django_db

#: Statuses of plans whose tasks must never count as overdue.
NOT_BINDING = [PlanStatus.DRAFT, PlanStatus.CONSULTING, PlanStatus.APPROVING, PlanStatus.CLOSED]


@pytest.fixture
def city() -> City:
    return make_city()


def _late(city: City, status: str, no: str) -> Task:
    plan = make_plan(city, status=status, title=f"方案{no}")
    return make_task(plan, no, today() - dt.timedelta(days=152), lead=[city.lead], cooperating=[city.coop_a])


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.mark.parametrize("status", NOT_BINDING)
def test_only_issued_plans_count_as_overdue(city: City, status: str) -> None:
    issued = _late(city, PlanStatus.ISSUED, "1")
    other = _late(city, status, "2")
    counts = unit_task_counts_for(city.handler)
    assert counts["lead_open"] == 2 and counts["lead_overdue"] == 1
    assert unit_task_counts_for(city.liaison_a)["cooperating_overdue"] == 1
    assert list(task_list_for(city.handler, overdue=True)) == [issued]
    assert list(task_list_for(city.handler, overdue=False)) == [other]
    rows = {r["id"]: r["overdue"] for r in task_rows(task_list_for(city.handler))}
    assert rows == {issued.pk: True, other.pk: False}
    assert [n["overdue"] for n in plan_task_tree(other.plan, city.handler)] == [False]
    assert [n["overdue"] for n in selectors.plan_rows_for(other.plan, city.handler)] == [False]
    assert [n["overdue"] for n in selectors.plan_rows_for(issued.plan, city.handler)] == [True]
    counts_by_plan = selectors.plan_task_counts_for(city.handler, [issued.plan_id, other.plan_id])
    assert counts_by_plan[issued.plan_id]["overdue"] == 1 and counts_by_plan[other.plan_id]["overdue"] == 0
    assert [r["unit_id"] for r in selectors.overdue_by_unit_for(city.supervisor)] == [city.lead.pk]
    assert selectors.overdue_by_unit_for(city.supervisor)[0]["overdue"] == 1
    by_task = {r["task"].pk: r for r in selectors.unit_tasks_for(city.handler)}
    assert by_task[issued.pk]["overdue"] and not by_task[other.pk]["overdue"]


def test_lights_of_a_draft_are_grey_and_say_why(city: City) -> None:
    issued = _late(city, PlanStatus.ISSUED, "1")
    draft = _late(city, PlanStatus.DRAFT, "2")
    soon = make_task(draft.plan, "3", today() + dt.timedelta(days=2), lead=[city.lead])
    assert task_light(issued) == ("red", "逾期 152 天")
    assert task_light(draft) == ("done", "方案未印发")
    assert task_light(soon)[0] == "done"
    assert chasing_selectors.status_light(issued, today()) == chasing_selectors.Light.RED
    assert chasing_selectors.status_light(draft, today()) == chasing_selectors.Light.GREEN
    handler = _client(city.handler)
    home = handler.get("/").content.decode()
    assert home.count("逾期 152 天") == 1 and "方案未印发" in home
    plan_page = handler.get(f"/plans/{draft.plan_id}/").content.decode()
    assert "逾期 152 天" not in plan_page and "方案未印发" in plan_page
    assert "逾期 152 天" in handler.get(f"/plans/{issued.plan_id}/").content.decode()
    assert "逾期 152 天" not in handler.get(f"/plans/tasks/{draft.pk}/").content.decode()
    listed = handler.get("/plans/tasks/?overdue=1").content.decode()
    assert "任务1" in listed and "任务2" not in listed
    api = handler.get(f"/api/plans/{draft.plan_id}")
    assert api.status_code == 200, api.content
    assert [t["overdue"] for t in json.loads(api.content)["tasks"]] == [False, False]
