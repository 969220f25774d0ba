"""The accountability report's API refuses bad parameters with 422 naming them, and never reveals whether
a unit it hides exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from qiantou.chasing.tests.factories import City, ensure_calendar, make_city, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None) -> City:
    ensure_calendar()
    return make_city()


def _get(user: Any, **params: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get("/api/assessment/report", params)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-12-31", "2026-01-01", "end"),
        ("0001-01-01", "9999-12-31", "start"),
        ("2026-01-01", "9999-12-31", "end"),
        ("1999-12-31", "2026-01-01", "start"),
        ("2026-01-01", "2101-01-01", "end"),
    ],
)
def test_bad_dates_are_refused_naming_the_parameter(city: City, start: str, end: str, field: str) -> None:
    plan = make_plan(city, title="数字政府建设任务分工方案")
    response = _get(city.auditor, scope="plan", id=plan.pk, start=start, end=end)
    assert response.status_code == 422
    body = response.json()
    assert list(body["errors"]) == [field] and field in body["detail"]


def test_the_widest_allowed_range_works(city: City) -> None:
    plan = make_plan(city, title="数字政府建设任务分工方案")
    response = _get(city.auditor, scope="plan", id=plan.pk, start="2000-01-01", end="2100-12-31")
    assert response.status_code == 200


def test_unknown_scope_is_422_naming_scope(city: City) -> None:
    response = _get(city.auditor, scope="bogus", id=1, start="2026-01-01", end="2026-12-31")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["scope"]


def test_a_hidden_unit_looks_like_a_missing_one(city: City) -> None:
    dates = {"start": "2026-01-01", "end": "2026-12-31"}
    own = _get(city.head_a, scope="unit", id=city.coop_a.pk, **dates)
    assert own.status_code == 200
    hidden = _get(city.head_a, scope="unit", id=city.coop_b.pk, **dates)
    missing = _get(city.head_a, scope="unit", id=999999, **dates)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_a_plan_report_leaves_out_restricted_tasks_the_reader_may_not_see(city: City) -> None:
    import datetime as dt

    from qiantou.chasing.tests.factories import make_task
    from qiantou.plans import services as plan_services

    plan = make_plan(city, status="draft", title="专项核查任务分工方案")
    make_task(plan, "1", dt.date(2026, 6, 30), lead=[city.lead], cooperating=[city.coop_a], text="公开任务甲")
    secret = plan_services.task_create(  # recorded as task.create, with its text
        actor=city.handler, plan=plan, no="2", text="涉密核查对象名单比对", lead_units=[city.lead],
        cooperating_units=[city.coop_b], restricted=True,
    )
    type(plan).objects.filter(pk=plan.pk).update(status="issued")
    dates = {"scope": "plan", "id": plan.pk, "start": "2026-01-01", "end": "2026-12-31"}
    def text(user: Any) -> str:
        response = _get(user, **dates)
        assert response.status_code == 200
        return json.dumps(response.json(), ensure_ascii=False)

    outsider = text(city.head_a)  # 市财政局: named on task 1 only
    assert "涉密核查对象名单比对" not in outsider and "公开任务甲" in outsider
    for reader in (city.head_b, city.handler, city.auditor):  # named on it, the lead unit, the auditor
        assert "涉密核查对象名单比对" in text(reader), reader
    assert secret.restricted
