"""QA regression: out-of-range dates on the chasing pages and API answer with a Chinese message (form
error or 422) and change nothing — never a 500 (OverflowError: date value out of range)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from qiantou.chasing import services
from qiantou.chasing.models import ChaseItem, MaterialRequest, Petition, ReportCycle
from qiantou.chasing.tests.factories import City, at, make_plan

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)  # type: ignore[arg-type]
    return c


def _cycle_form(start: str, end: str, **extra: object) -> dict[str, object]:
    return {
        "title": "月报",
        "kind": "monthly",
        "day": 28,
        "month": 3,
        "weekday": 4,
        "n": 10,
        "policy": "previous",
        "start_date": start,
        "end_date": end,
        "lead_working_days": 5,
        **extra,
    }


@pytest.mark.parametrize("kind", ["monthly", "quarterly", "yearly", "weekly", "every_n_working_days"])
def test_cycle_page_refuses_far_dates_with_a_message(city: City, kind: str) -> None:
    plan = make_plan(city)
    r = _client(city.handler).post(
        f"/chasing/plans/{plan.pk}/cycles/new/", _cycle_form("1900-01-01", "9999-12-31", kind=kind)
    )
    assert r.status_code == 200
    assert "2000 年至 2100 年" in r.content.decode()
    assert not ReportCycle.objects.exists()


def test_cycle_page_in_range_but_unloaded_year_says_so(city: City) -> None:
    plan = make_plan(city)
    r = _client(city.handler).post(
        f"/chasing/plans/{plan.pk}/cycles/new/", _cycle_form("2024-01-01", "2099-12-31")
    )
    assert r.status_code == 200 and "尚未载入工作日历" in r.content.decode()
    assert not ReportCycle.objects.exists()


def test_calendar_calculator_refuses_far_dates(city: City) -> None:
    c = _client(city.handler)
    r = c.get("/chasing/calendar/?start=9999-12-31&n=250")
    assert r.status_code == 200 and "2000 年至 2100 年" in r.content.decode()
    r = c.get("/chasing/calendar/?start=2026-12-31&n=250")  # in range, runs into an unloaded year
    assert r.status_code == 200 and "尚未载入工作日历" in r.content.decode()
    assert 'min="2000-01-01"' in c.get("/chasing/calendar/").content.decode()


def test_material_request_page_refuses_far_dates(city: City) -> None:
    plan = make_plan(city)
    r = _client(city.handler).post(
        f"/chasing/plans/{plan.pk}/materials/new/",
        {"unit": city.coop_a.pk, "title": "统计", "due_mode": "date", "due_date": "9999-12-31"},
    )
    assert r.status_code == 200 and "2000 年至 2100 年" in r.content.decode()
    assert not MaterialRequest.objects.exists()


def test_api_far_dates_are_422_and_change_nothing(city: City) -> None:
    plan = make_plan(city)
    api = _client(city.handler)
    cycle = {
        "title": "月报",
        "rule": {"kind": "monthly", "day": 28, "policy": "previous"},
        "start_date": "1900-01-01",
        "end_date": "9999-12-31",
    }
    r = api.post(
        f"/api/chasing/plans/{plan.pk}/report-cycles", json.dumps(cycle), content_type="application/json"
    )
    assert r.status_code == 422 and "2000年至 2100年" in r.json()["detail"]
    for body in (
        {"unit_id": city.coop_a.pk, "title": "材料", "due_working_days": 5, "issued_on": "9999-12-31"},
        {"unit_id": city.coop_a.pk, "title": "材料", "due_working_days": 5, "issued_on": "0001-01-01"},
        {"unit_id": city.coop_a.pk, "title": "材料", "due_date": "9999-12-31", "issued_on": "2024-03-01"},
    ):
        r = api.post(
            f"/api/chasing/plans/{plan.pk}/material-requests",
            json.dumps(body),
            content_type="application/json",
        )
        assert r.status_code == 422, (body, r.content)
    for query in ("start=9999-12-31&n=250", "start=0001-01-01&n=-250", "start=2024-02-02&n=100000"):
        assert api.get(f"/api/chasing/calendar/add?{query}").status_code == 422, query
    assert not ReportCycle.objects.exists() and not MaterialRequest.objects.exists()


def test_petition_dates_are_bounded(city: City) -> None:
    plan = make_plan(city)
    req = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    item = ChaseItem.objects.get(pk=req.item_id)
    r = _client(city.liaison_a).post(
        f"/api/chasing/items/{item.pk}/petitions",
        json.dumps({"kind": "extension", "reason": "数据未出", "requested_due_date": "9999-12-31"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "2100" in r.json()["detail"]
    page = _client(city.liaison_a).post(
        f"/chasing/items/{item.pk}/",
        {"raise": "1", "kind": "extension", "reason": "数据未出", "requested_due_date": "1900-01-01"},
    )
    assert page.status_code == 200 and "2000 年至 2100 年" in page.content.decode()
    assert not Petition.objects.exists()


def test_material_form_unit_list_starts_in_chinese(city: City) -> None:
    plan = make_plan(city)
    html = _client(city.handler).get(f"/chasing/plans/{plan.pk}/materials/new/").content.decode()
    assert '<option value="" selected>请选择单位</option>' in html
    assert "Select an option" not in html and "---------" not in html
