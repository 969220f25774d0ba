"""Hostile or malformed input to the REST API is refused with a 4xx ``{"detail": "<Chinese>"}``, never a
500, and never stored (the request guards in ``qiantou/security/middleware.py`` and ``qiantou/api.py``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client

from qiantou.accounts.services import api_token_create
from qiantou.chasing import services as chasing
from qiantou.chasing.models import MaterialSubmission, ProgressReport, ReportRequest
from qiantou.chasing.tests.factories import City, at, ensure_calendar, make_city
from qiantou.chasing.tests.factories import make_plan as make_chasing_plan
from qiantou.chasing.tests.factories import make_task as make_chasing_task
from qiantou.plans.models import Plan, Task
from tests.api.conftest import Scene

BIG = "100000000000000000000"  # 10**20: beyond 64-bit integers, let alone 2**53

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def token_client(user: Any) -> Client:
    _token, raw = api_token_create(actor=None, user=user, name="bad-input")
    return Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)


def assert_refused(response: Any, status: int | tuple[int, ...], *words: str) -> dict[str, Any]:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body: dict[str, Any] = response.json()
    assert CHINESE.search(body["detail"]), body
    for word in words:
        assert word in body["detail"], body
    return body


# 1. Integers beyond the databases' range, in every spelling pydantic turns into an int.

SPELLINGS = [
    "%2B" + BIG,  # +100000000000000000000
    "1_000_000_000_000_000_000_000",
    BIG + ".0",
    BIG + ".000",
    "%20" + BIG + "%20",
    "-" + BIG,
    "0000" + BIG,
    "9007199254740992",  # 2**53: one past the largest id the API takes
]


@pytest.mark.parametrize("value", SPELLINGS)
@pytest.mark.parametrize(
    "url,name",
    [
        ("/api/plans/tasks?unit={}", "unit"),
        ("/api/plans/tasks?page={}", "page"),
        ("/api/plans/tasks?plan={}", "plan"),
        ("/api/plans/?page={}", "page"),
        ("/api/units/?limit={}", "limit"),
        ("/api/units/?offset={}", "offset"),
        ("/api/chasing/items?offset={}", "offset"),
        ("/api/chasing/items?unit_id={}", "unit_id"),
        ("/api/audit/events?page={}", "page"),
        ("/api/audit/export?since={}", "since"),
    ],
)
def test_big_integers_in_the_query_are_422_naming_the_parameter(
    scene: Scene, url: str, name: str, value: str
) -> None:
    response = token_client(scene.world.auditor).get(url.format(value))
    assert_refused(response, 422, f"“{name}”", "超出范围")


@pytest.mark.parametrize("value", ["１２３", "1e20", "0x10", "1__0", "12.5", BIG + "e0", "٣" * 25])
def test_other_spellings_are_not_a_500(scene: Scene, value: str) -> None:
    for url in ("/api/plans/tasks?page={}", "/api/plans/tasks?unit={}", "/api/audit/export?since={}"):
        response = token_client(scene.world.auditor).get(url.format(value))
        assert_refused(response, 422)


def test_ordinary_numbers_still_work(scene: Scene) -> None:
    client = token_client(scene.world.handler)
    assert client.get("/api/plans/tasks?page=1&unit=%2B" + str(scene.world.lead.pk)).status_code == 200
    assert client.get("/api/plans/tasks?page=1.0").status_code == 200
    assert client.get("/api/plans/tasks?q=9007199254740993x").status_code == 200  # text, not a number


@pytest.mark.parametrize(
    "field,value",
    [
        ("lead_unit_ids", [BIG]),
        ("lead_unit_ids", ["+" + BIG]),
        ("lead_unit_ids", [BIG + ".0"]),
        ("lead_unit_ids", [1e17]),
        ("lead_unit_ids", [int(BIG)]),
        ("cooperating_unit_ids", ["1_000_000_000_000_000_000"]),
        ("parent_id", BIG),
    ],
)
def test_big_integers_in_a_json_body_are_422_naming_the_field(scene: Scene, field: str, value: Any) -> None:
    body = {"text": "新任务", "lead_unit_ids": [scene.world.lead.pk], field: value}
    before = Task.objects.count()
    response = token_client(scene.world.handler).post(
        f"/api/plans/{scene.draft.pk}/tasks", json.dumps(body), content_type="application/json"
    )
    assert_refused(response, 422, field, "超出范围")
    assert Task.objects.count() == before


def test_a_long_digit_string_in_a_text_field_is_not_a_number(scene: Scene) -> None:
    """An 18-digit ID card number in a text field is text: the body check follows the schema."""
    response = token_client(scene.world.handler).post(
        f"/api/plans/{scene.draft.pk}/tasks",
        json.dumps({"text": "110101199003071234", "lead_unit_ids": [scene.world.lead.pk]}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "110101199003071234"


# 2. Deeply nested JSON.


@pytest.mark.parametrize("depth", [2000, 100_000])
@pytest.mark.parametrize("logged_in", [False, True])
def test_deeply_nested_json_is_refused(scene: Scene, depth: int, logged_in: bool) -> None:
    body = '{"title":"a","x":' + "[" * depth + "]" * depth + "}"
    client = token_client(scene.world.handler) if logged_in else Client(raise_request_exception=False)
    response = client.post("/api/plans/", body, content_type="application/json")
    assert_refused(response, 400, "嵌套")
    assert not Plan.objects.filter(title="a").exists()


# 3. NUL characters however the body is sent; no false alarm for an escaped backslash.


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "application/json; x=1"])
def test_nul_in_json_sent_under_another_content_type_is_refused(scene: Scene, content_type: str) -> None:
    response = token_client(scene.world.handler).post(
        "/api/plans/", '{"title":"a","doc_number":"a\\u0000b"}', content_type=content_type
    )
    assert_refused(response, 400, "NUL")
    assert not Plan.objects.filter(title="a").exists()


def test_nul_in_a_json_key_is_refused(scene: Scene) -> None:
    response = token_client(scene.world.handler).post(
        "/api/plans/", '{"title":"a","x\\u0000":1}', content_type="application/json"
    )
    assert_refused(response, 400, "NUL")


def test_big_integer_in_json_sent_as_text_plain_is_refused(scene: Scene) -> None:
    response = token_client(scene.world.handler).post(
        f"/api/plans/{scene.draft.pk}/tasks",
        json.dumps({"text": "x", "lead_unit_ids": [int(BIG)]}),
        content_type="text/plain",
    )
    assert_refused(response, 422, "超出范围")


def test_an_escaped_backslash_before_u0000_is_not_a_nul(scene: Scene) -> None:
    title = "a\\u0000"  # a backslash followed by the five characters u0000
    response = token_client(scene.world.handler).post(
        "/api/plans/", json.dumps({"title": title}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Plan.objects.get(pk=response.json()["id"]).title == title


@pytest.fixture
def city(db: None) -> City:
    ensure_calendar()
    return make_city()


def material_request(city: City) -> Any:
    plan = make_chasing_plan(city)
    make_chasing_task(plan, "1", dt.date(2024, 12, 31), lead=[city.lead], cooperating=[city.coop_a])
    return chasing.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )


def test_nul_in_a_multipart_field_is_refused(city: City) -> None:
    req = material_request(city)
    client = token_client(city.liaison_a)
    url = f"/api/chasing/material-requests/{req.pk}/submissions"
    assert_refused(client.post(url, {"text": "nul\x00here"}), 400, "NUL")
    assert_refused(client.post(url, {"text": "ok", "nul\x00name": "x"}), 400, "NUL")
    assert not MaterialSubmission.objects.exists()
    assert client.post(url, {"text": "材料已报送"}).status_code == 201


# 4. NaN, Infinity and numbers too large for a float.


def report_request(city: City) -> ReportRequest:
    plan = make_chasing_plan(city)
    make_chasing_task(plan, "1", dt.date(2024, 12, 31), lead=[city.lead], cooperating=[city.coop_a])
    cycle = chasing.report_cycle_create(
        actor=city.handler,
        plan=plan,
        title="季度进展",
        rule={"kind": "quarterly", "policy": "previous"},
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        lead_working_days=5,
        now=at("2024-01-02 08:00"),
    )
    chasing.report_requests_generate(cycle=cycle, now=at("2024-03-22 08:00"))
    return ReportRequest.objects.get(cycle=cycle, unit=city.coop_a)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_refused(city: City, number: str) -> None:
    req = report_request(city)
    body = '{"status":"on_track","text":"进展顺利","figures":{"a":NUMBER}}'.replace("NUMBER", number)
    response = token_client(city.liaison_a).post(
        f"/api/chasing/report-requests/{req.pk}/reports", body, content_type="application/json"
    )
    assert_refused(response, 422, "数值")
    assert not ProgressReport.objects.exists()
    ok = token_client(city.liaison_a).post(
        f"/api/chasing/report-requests/{req.pk}/reports",
        '{"status":"on_track","text":"进展顺利","figures":{"a":1.5e300}}',
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content


# 5. Every error under /api/ is JSON in Chinese; pages keep theirs.


def test_malformed_json_is_400_in_chinese(scene: Scene) -> None:
    response = token_client(scene.world.handler).post(
        "/api/plans/", '{"title": "a",', content_type="application/json"
    )
    assert_refused(response, 400, "JSON")


def test_unknown_api_path_and_wrong_method_are_json(scene: Scene) -> None:
    client = token_client(scene.world.handler)
    assert_refused(client.get("/api/no-such-thing"), 404)
    assert_refused(client.get("/api/plans/no-such-thing"), 404)
    wrong = client.delete("/api/plans/")
    assert_refused(wrong, 405, "DELETE")
    assert set(wrong["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_an_unexpected_error_under_api_is_500_json(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from qiantou.plans import api as plans_api

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(plans_api, "plan_list_for", broken)
    response = token_client(scene.world.handler).get("/api/plans/")
    body = assert_refused(response, 500, "系统出错")
    assert "boom" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
