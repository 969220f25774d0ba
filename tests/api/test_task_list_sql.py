"""The API's hand-written task-list SQL (``plans/tasklist.py``) against the ORM selectors it stands in for.

For every role and every combination of filters, the written-out SQL must return the same rows, in
the same order and shape, and the same count as ``task_list_for`` + ``task_rows`` — the querysets
the web pages use and ``rules.py`` mirrors.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from qiantou.plans.models import PlanStatus, TaskStatus
from qiantou.plans.selectors import task_list_for, task_rows, today
from qiantou.plans.tasklist import task_list_query
from qiantou.plans.tests.factories import World, make_plan, make_task, make_world

pytestmark = pytest.mark.django_db

USERS = (
    "handler",
    "lead_liaison",
    "named_liaison",
    "other_liaison",
    "issuing_liaison",
    "supervision",
    "auditor",
    "sysadmin",
)


@pytest.fixture
def city() -> tuple[World, dict[str, int]]:
    """Plans in every status, restricted tasks, unresolved units, dates either side of today."""
    w = make_world()
    day = today()
    plans = {
        "draft": make_plan(w.lead, status=PlanStatus.DRAFT, issuing_unit=w.issuing),
        "issued": make_plan(w.lead, status=PlanStatus.ISSUED, issuing_unit=w.issuing),
        "consulting": make_plan(w.named, status=PlanStatus.CONSULTING),
        "closed": make_plan(w.other, status=PlanStatus.CLOSED, issuing_unit=w.lead),
    }
    texts = ["推进Excel台账数据共享", "低保资金100%发放", "建立under_score机制", "完善数据共享机制", "督查"]
    for i, (name, plan) in enumerate(itertools.cycle(plans.items())):
        if i >= 24:
            break
        units = [w.lead, w.named, w.other, w.issuing]
        make_task(
            plan,
            no=f"{i // 4 + 1}" if i % 3 else f"（{i}）",
            lead=[units[i % 4]] if i % 7 else [],
            cooperating=[units[(i + 1) % 4], units[(i + 2) % 4]][: i % 3],
            deadline=None if i % 5 == 0 else day + dt.timedelta(days=(i % 4) * 20 - 30),
            text=texts[i % len(texts)] + f"（{name}{i}）",
            status=[TaskStatus.OPEN, TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.CANCELLED][i % 4],
            restricted=i % 6 == 1,
        )
    make_task(plans["issued"], no="99", lead=[], cooperating=[], text="未匹配单位的任务")
    return w, {name: plan.pk for name, plan in plans.items()}


@pytest.mark.parametrize("who", USERS)
def test_same_rows_order_and_count_as_the_selectors(city: tuple[World, dict[str, int]], who: str) -> None:
    w, plans = city
    user = getattr(w, who)
    filters = itertools.product(
        [None, plans["issued"], plans["consulting"], plans["draft"], 999_999],
        [None, w.named.pk, w.other.pk],
        [None, TaskStatus.OPEN],
        [None, True, False],
        [None, "excel", "数据", "100%", "_score", "（1）"],
    )
    compared = 0
    for plan, unit, status, overdue, q in filters:
        kwargs = dict(plan=plan, unit=unit, status=status, overdue=overdue, q=q)
        expected = task_rows(task_list_for(user, **kwargs))
        query = task_list_query(user, **kwargs)
        assert query.page(0, 1000) == expected, kwargs
        assert query.count() == len(expected), kwargs
        assert query.count(limit=2) == min(2, len(expected)), kwargs
        if len(expected) > 3:
            assert query.page(2, 2) == expected[2:4], kwargs
        compared += bool(expected)
    if who != "sysadmin":
        assert compared > 50  # the combinations do reach rows, not only empty lists
