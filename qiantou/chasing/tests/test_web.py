"""Chasing pages and REST API: permission scoping (invisible = 404), bad input = 422 and no change."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qiantou.chasing import services
from qiantou.chasing.models import MaterialRequest, MaterialSubmission, ReportCycle
from qiantou.chasing.scheduler import tick
from qiantou.chasing.tests.factories import City, at, client_for, make_plan, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def req(city: City) -> MaterialRequest:
    plan = make_plan(city)
    r = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    tick(now=at("2024-03-18 09:00"))
    run_jobs()
    return r


def test_pages_render_for_the_people_involved(city: City, req: MaterialRequest) -> None:
    for user in (city.handler, city.liaison_a, city.supervisor):
        c = client_for(user)
        for url in (
            "/chasing/",
            "/chasing/board/",
            f"/chasing/items/{req.item_id}/",
            f"/chasing/materials/{req.pk}/",
            "/chasing/inbox/",
            "/chasing/calendar/?year=2024",
        ):
            response = c.get(url)
            assert response.status_code == 200, (user, url)
    board = client_for(city.supervisor).get("/chasing/board/").content.decode()
    assert "市财政局" in board and "统计数据" in board
    calendar_page = client_for(city.handler).get("/chasing/calendar/?year=2024&start=2024-02-07&n=5")
    calendar = calendar_page.content.decode()
    assert "2024-02-20" in calendar and "调休上班" in calendar


def test_outsiders_get_404_on_pages_and_api(city: City, req: MaterialRequest) -> None:
    outsider = client_for(city.liaison_b)
    assert outsider.get(f"/chasing/items/{req.item_id}/").status_code == 404
    assert outsider.get(f"/chasing/materials/{req.pk}/").status_code == 404
    assert outsider.get(f"/api/chasing/items/{req.item_id}").status_code == 404
    assert outsider.get(f"/api/chasing/items/{req.item_id + 999}").status_code == 404
    assert outsider.get("/api/chasing/items").json() == []
    assert client_for(city.admin).get("/api/chasing/items").json() == []
    assert Client().get("/api/chasing/items").status_code == 401
    assert Client().get("/chasing/").status_code == 302


def test_api_material_request_round_trip(city: City) -> None:
    plan = make_plan(city)
    handler = client_for(city.handler)
    body = {"unit_id": city.coop_a.pk, "title": "年度总结", "due_working_days": 5, "issued_on": "2024-02-07"}
    r = handler.post(
        f"/api/chasing/plans/{plan.pk}/material-requests", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert r.json()["due_date"] == "2024-02-20"
    request_id = r.json()["id"]
    assert (
        client_for(city.liaison_a)
        .post(
            f"/api/chasing/plans/{plan.pk}/material-requests",
            json.dumps(body),
            content_type="application/json",
        )
        .status_code
        == 404
    )
    liaison = client_for(city.liaison_a)
    bad = liaison.post(
        f"/api/chasing/material-requests/{request_id}/submissions",
        {"text": "见附件", "files": [SimpleUploadedFile("病毒.exe", b"MZ" + b"\x00" * 64)]},
    )
    assert bad.status_code == 422 and "病毒.exe" in bad.json()["detail"]
    assert not MaterialSubmission.objects.exists()
    good = liaison.post(
        f"/api/chasing/material-requests/{request_id}/submissions",
        {"text": "见附件", "files": [SimpleUploadedFile("总结.pdf", b"%PDF-1.7 ...")]},
    )
    assert good.status_code == 201 and good.json()["files"] == ["总结.pdf"]
    decided = handler.post(
        f"/api/chasing/submissions/{good.json()['id']}/decision",
        json.dumps({"accept": False, "reason": "请补充数据"}),
        content_type="application/json",
    )
    assert decided.status_code == 200 and decided.json()["decision"] == "returned"
    again = handler.post(
        f"/api/chasing/submissions/{good.json()['id']}/decision",
        json.dumps({"accept": True}),
        content_type="application/json",
    )
    assert again.status_code == 409


def test_api_bad_input_is_422_and_changes_nothing(city: City) -> None:
    plan = make_plan(city)
    handler = client_for(city.handler)
    r = handler.post(
        f"/api/chasing/plans/{plan.pk}/report-cycles",
        json.dumps(
            {
                "title": "国庆周报",
                "rule": {"kind": "weekly", "weekday": 2, "policy": "skip"},
                "start_date": "2024-10-01",
                "end_date": "2024-10-07",
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 422 and "工作日" in r.json()["detail"]
    r = handler.post(
        f"/api/chasing/plans/{plan.pk}/material-requests",
        json.dumps({"unit_id": city.coop_a.pk, "title": "x", "due_date": "2031-05-06"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "2031" in r.json()["detail"]
    assert not ReportCycle.objects.exists() and not MaterialRequest.objects.exists()
    assert handler.get("/api/chasing/calendar/add?start=2024-02-02&n=1").json()["result"] == "2024-02-04"
    assert handler.get("/api/chasing/calendar/add?start=2026-12-20&n=20").status_code == 422
    assert handler.get("/api/chasing/calendar/2031").status_code == 404


def test_page_upload_and_ack(city: City, req: MaterialRequest) -> None:
    liaison = client_for(city.liaison_a)
    refused = liaison.post(
        f"/chasing/materials/{req.pk}/",
        {"text": "附件", "attachments": [SimpleUploadedFile("a.html", b"<html><script>x</script>")]},
    )
    assert refused.status_code == 200 and "a.html" in refused.content.decode()
    assert not MaterialSubmission.objects.exists()
    ok = liaison.post(
        f"/chasing/materials/{req.pk}/",
        {"text": "附件", "attachments": [SimpleUploadedFile("a.txt", "数据说明".encode())]},
    )
    assert ok.status_code == 302 and MaterialSubmission.objects.count() == 1
    reminder = req.item.reminders.first()
    assert reminder is not None
    token = services.ack_token(reminder.pk, city.liaison_a.pk)
    assert Client().get(f"/chasing/ack/{token}/").status_code == 200
    reminder.refresh_from_db()
    assert reminder.acknowledged_at is None  # a GET (a link preview) acknowledges nothing
    assert Client().post(f"/chasing/ack/{token}/").status_code == 200
    reminder.refresh_from_db()
    assert reminder.acknowledged_by == city.liaison_a
    assert Client().get("/chasing/ack/forged-token/").status_code == 400
