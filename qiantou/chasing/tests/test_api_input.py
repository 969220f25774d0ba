"""The chasing API's answers to bad or awkward input found by the QA pass: filters before paging, 422
naming the parameter or field, Chinese 403 sentences, nothing changed on a refusal."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qiantou.chasing import services
from qiantou.chasing.models import ChaseItem, HolidayYear, ItemKind, MaterialRequest, ReportCycle
from qiantou.chasing.tests.factories import City, at, make_plan, make_task

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def items(city: City) -> dict[str, list[int]]:
    """Six overdue (red) items, then five due far ahead (green), all open, in one issued plan."""
    plan = make_plan(city)
    today = timezone.localdate()
    ids: dict[str, list[int]] = {"red": [], "green": []}
    for n in range(11):
        light = "red" if n < 6 else "green"
        due = today - dt.timedelta(days=30 - n) if light == "red" else today + dt.timedelta(days=200 + n)
        item = ChaseItem.objects.create(
            kind=ItemKind.MATERIAL_REQUEST, plan=plan, unit=city.coop_a, title=f"事项{n}", due_date=due,
            created_at=timezone.now(),
        )
        ids[light].append(item.pk)
    return ids


def test_item_light_filter_applies_before_paging(city: City, items: dict[str, list[int]]) -> None:
    c = _client(city.supervisor)

    def ids(**params: Any) -> list[int]:
        rows = c.get("/api/chasing/items", params).json()
        assert all(r["light"] == params["light"] for r in rows) if "light" in params else True
        return [r["id"] for r in rows]

    assert ids(limit=1000) == items["red"] + items["green"]
    assert ids(limit=2, light="green") == items["green"][:2]
    assert ids(limit=2, offset=2, light="green") == items["green"][2:4]
    assert ids(limit=3, offset=4, light="red") == items["red"][4:6]
    assert ids(light="green", state="done") == []


@pytest.mark.parametrize(("param", "value"), [("state", "bogus"), ("light", "purple")])
def test_item_list_refuses_unknown_state_or_light(
    city: City, items: dict[str, list[int]], param: str, value: str
) -> None:
    response = _client(city.supervisor).get("/api/chasing/items", {param: value})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [param] and param in response.json()["detail"]


def _post(user: Any, url: str, data: dict[str, Any]) -> Any:
    return _client(user).post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def material(city: City) -> Any:
    plan = make_plan(city)
    return services.material_request_create(
        actor=city.handler, plan=plan, unit=city.coop_a, title="统计数据", due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )


def _no_codename(body: dict[str, Any]) -> None:
    detail = body["detail"]
    assert not re.search(r"[a-z_]+\.[a-z_]+", detail), detail
    assert re.search(r"[\u4e00-\u9fff]", detail), detail


def test_forbidden_actions_say_in_chinese_what_the_role_may_not_do(city: City, material: Any) -> None:
    item_id = material.item_id
    hardship = {"kind": "difficulty", "reason": "难"}
    # The lead unit's handler may see the item but does not owe it: no petition.
    raised = _post(city.handler, f"/api/chasing/items/{item_id}/petitions", hardship)
    assert raised.status_code == 403
    _no_codename(raised.json())
    # The owing unit's liaison hands in materials and raises a petition, but may not decide either.
    sub = services.material_submit(actor=city.liaison_a, request=material, text="已报送", files=[])
    decided = _post(city.liaison_a, f"/api/chasing/submissions/{sub.pk}/decision", {"accept": True})
    assert decided.status_code == 403
    _no_codename(decided.json())
    petition = _post(city.liaison_a, f"/api/chasing/items/{item_id}/petitions", hardship)
    assert petition.status_code == 201
    refused = _post(
        city.liaison_a, f"/api/chasing/petitions/{petition.json()['id']}/decision", {"decision": "granted"}
    )
    assert refused.status_code == 403
    _no_codename(refused.json())
    assert "审核" in decided.json()["detail"] or "处理" in decided.json()["detail"]


def test_unknown_unit_or_foreign_task_is_422_naming_the_field(city: City) -> None:
    plan, other = make_plan(city), make_plan(city, title="别的方案")
    foreign = make_task(other, "1", dt.date(2030, 6, 28), lead=[city.lead])
    url = f"/api/chasing/plans/{plan.pk}/material-requests"
    body = {"unit_id": city.coop_a.pk, "title": "统计数据", "due_working_days": 5}
    for field, value in (("unit_id", 999999), ("task_id", foreign.pk), ("task_id", 999999)):
        response = _post(city.handler, url, {**body, field: value})
        assert response.status_code == 422 and response.json()["detail"].startswith(field), (field, value)
    cycle = {"title": "月报", "rule": {"kind": "monthly", "day": 5}, "start_date": "2030-01-01",
             "end_date": "2030-06-30", "task_id": foreign.pk}
    response = _post(city.handler, f"/api/chasing/plans/{plan.pk}/report-cycles", cycle)
    assert response.status_code == 422 and response.json()["detail"].startswith("task_id")
    assert not MaterialRequest.objects.exists() and not ReportCycle.objects.exists()


@pytest.mark.parametrize("endpoint", ["material-requests", "report-cycles"])
def test_over_long_title_is_422_naming_the_field(
    city: City, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = make_plan(city)
    year = max(HolidayYear.objects.values_list("year", flat=True))  # a loaded year: the rule can be placed
    # Set up on New Year's Day of that year, so its periods are not already past (those are not generated).
    monkeypatch.setattr(timezone, "now", lambda: at(f"{year}-01-01 08:00"))
    body: dict[str, Any] = (
        {"unit_id": city.coop_a.pk, "due_working_days": 5}
        if endpoint == "material-requests"
        else {"rule": {"kind": "monthly", "day": 5}, "start_date": f"{year}-01-01",
              "end_date": f"{year}-06-30"}
    )
    response = _post(city.handler, f"/api/chasing/plans/{plan.pk}/{endpoint}", {**body, "title": "材" * 300})
    assert response.status_code == 422 and "title" in response.json()["detail"]
    assert not MaterialRequest.objects.exists() and not ReportCycle.objects.exists()
    # 255 characters fit the column.
    response = _post(city.handler, f"/api/chasing/plans/{plan.pk}/{endpoint}", {**body, "title": "材" * 255})
    assert response.status_code == 201, response.json()


def test_material_request_service_refuses_an_over_long_title(city: City) -> None:
    with pytest.raises(services.ChasingError, match="title"):
        services.material_request_create(
            actor=city.handler, plan=make_plan(city), unit=city.coop_a, title="材" * 256, due_working_days=5,
        )
    assert not MaterialRequest.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rule": {"kind": "monthly", "day": 1.5}}, "day"),
        ({"rule": {"kind": "bogus"}}, "kind"),
        ({"rule": {"kind": "monthly", "day": 5, "policy": "bogus"}}, "policy"),
        ({"lead_working_days": -100}, "lead_working_days"),
        ({"lead_working_days": 61}, "lead_working_days"),
    ],
)
def test_report_cycle_refuses_bad_rules_naming_the_field(
    city: City, change: dict[str, Any], field: str
) -> None:
    plan = make_plan(city)
    year = max(HolidayYear.objects.values_list("year", flat=True))
    body = {"rule": {"kind": "monthly", "day": 5}, "start_date": f"{year}-01-01", "end_date": f"{year}-06-30"}
    response = _post(city.handler, f"/api/chasing/plans/{plan.pk}/report-cycles", {**body, **change})
    assert response.status_code == 422 and field in response.json()["detail"], response.json()
    assert "不是一个" not in response.json()["detail"] and "valid" not in response.json()["detail"]
    assert not ReportCycle.objects.exists()


def test_report_cycle_service_refuses_a_lead_out_of_range(city: City) -> None:
    year = max(HolidayYear.objects.values_list("year", flat=True))
    with pytest.raises(services.ChasingError, match="lead_working_days"):
        services.report_cycle_create(
            actor=city.handler, plan=make_plan(city), title="", rule={"kind": "monthly", "day": 5},
            start_date=dt.date(year, 1, 1), end_date=dt.date(year, 6, 30), lead_working_days=-100,
        )
