"""Files handed in with materials and progress reports can be downloaded by those who may see the
request — the lead unit, the submitting unit, the supervision office — and nobody else (404)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qiantou.audit.models import AuditEvent
from qiantou.chasing import services
from qiantou.chasing.models import Attachment, ReportCycle, ReportRequest
from qiantou.chasing.tests.factories import City, at, client_for, make_plan, make_task

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF"


def _material_with_pdf(city: City) -> tuple[int, Attachment]:
    plan = make_plan(city)
    req = services.material_request_create(
        actor=city.handler, plan=plan, unit=city.coop_a, title="统计数据", due_date=dt.date(2026, 12, 15),
        now=at("2026-11-30 08:00"),
    )
    r = client_for(city.liaison_a).post(
        f"/chasing/materials/{req.pk}/",
        {"text": "见附件", "attachments": [SimpleUploadedFile("统计表.pdf", PDF)]},
    )
    assert r.status_code == 302, r.content
    return req.pk, Attachment.objects.get(submission__request=req)


def test_material_file_is_linked_and_downloadable_by_the_handler(city: City) -> None:
    req_pk, att = _material_with_pdf(city)
    handler = client_for(city.handler)
    page = handler.get(f"/chasing/materials/{req_pk}/").content.decode()
    assert f'href="/chasing/attachments/{att.pk}/"' in page
    r = handler.get(f"/chasing/attachments/{att.pk}/")
    assert r.status_code == 200
    assert r.content == PDF
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment;")
    assert "%E7%BB%9F%E8%AE%A1%E8%A1%A8.pdf" in r["Content-Disposition"]  # 统计表.pdf, RFC 5987
    event = AuditEvent.objects.filter(action="export.download", actor_id=city.handler.pk).latest("id")
    assert event.payload["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert event.payload["path"] == f"/chasing/attachments/{att.pk}/"


def test_material_file_visibility_web_and_api(city: City) -> None:
    _, att = _material_with_pdf(city)
    for user in (city.handler, city.liaison_a, city.supervisor, city.auditor):
        assert client_for(user).get(f"/chasing/attachments/{att.pk}/").status_code == 200, user
        assert client_for(user).get(f"/api/chasing/attachments/{att.pk}").status_code == 200, user
    for user in (city.liaison_b, city.admin):
        assert client_for(user).get(f"/chasing/attachments/{att.pk}/").status_code == 404, user
        assert client_for(user).get(f"/api/chasing/attachments/{att.pk}").status_code == 404, user
    assert client_for(city.handler).get(f"/chasing/attachments/{att.pk + 999}/").status_code == 404
    assert Client().get(f"/api/chasing/attachments/{att.pk}").status_code == 401
    api = client_for(city.liaison_b).get(f"/api/chasing/attachments/{att.pk}")
    assert api.status_code == 404
    r = client_for(city.handler).get(f"/api/chasing/attachments/{att.pk}")
    assert r.content == PDF and r["Content-Disposition"].startswith("attachment;")


def test_report_file_is_linked_and_downloadable(city: City) -> None:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a])
    cycle = services.report_cycle_create(
        actor=city.handler, plan=plan, title="月报", rule={"kind": "monthly", "day": 20},
        start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 31), now=at("2026-11-30 08:00"),
    )
    services.report_requests_generate(cycle=cycle, now=at("2026-12-20 08:00"))
    rr = ReportRequest.objects.get(cycle=cycle, unit=city.coop_a)
    r = client_for(city.liaison_a).post(
        f"/chasing/reports/{rr.pk}/",
        {"status": "on_track", "text": "按计划推进", "figures": "",
         "attachments": [SimpleUploadedFile("进展.pdf", PDF)]},
    )
    assert r.status_code == 302, r.content
    att = Attachment.objects.get(report__request=rr)
    page = client_for(city.handler).get(f"/chasing/reports/{rr.pk}/").content.decode()
    assert f'href="/chasing/attachments/{att.pk}/"' in page
    assert client_for(city.handler).get(f"/chasing/attachments/{att.pk}/").content == PDF
    assert client_for(city.liaison_b).get(f"/chasing/attachments/{att.pk}/").status_code == 404
    assert ReportCycle.objects.count() == 1
