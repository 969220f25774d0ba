"""Progress reports: figures must be finite numbers (the line or name is named when not), and a report
handed in late says how late beside its (green: done) light."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.chasing import services
from qiantou.chasing.models import ProgressReport, ReportRequest
from qiantou.chasing.selectors import Light, status_light
from qiantou.chasing.tests.factories import City, at, client_for, make_plan, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def rr(city: City) -> ReportRequest:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a])
    cycle = services.report_cycle_create(
        actor=city.handler, plan=plan, title="月报", rule={"kind": "monthly", "day": 10},
        start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 31), now=at("2026-11-30 08:00"),
    )
    services.report_requests_generate(cycle=cycle, now=at("2026-12-10 08:00"))
    return ReportRequest.objects.get(cycle=cycle)


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ("资金=abc", "第1行：“资金”的数值“abc”不是数字。"),
        ("项目=3\n资金=1e999", "第2行：“资金”的数值“1e999”不是有效的有限数值。"),
        ("资金=NaN", "第1行：“资金”的数值“NaN”不是有效的有限数值。"),
        ("资金=-inf", "第1行：“资金”的数值“-inf”不是有效的有限数值。"),
    ],
)
def test_page_refuses_non_numbers_naming_the_line(
    city: City, rr: ReportRequest, figures: str, message: str
) -> None:
    r = client_for(city.liaison_a).post(
        f"/chasing/reports/{rr.pk}/", {"status": "on_track", "text": "推进中", "figures": figures}
    )
    assert r.status_code == 200
    assert r.context["form"].errors["figures"] == [message]
    assert not ProgressReport.objects.exists()


def test_page_accepts_numbers(city: City, rr: ReportRequest) -> None:
    r = client_for(city.liaison_a).post(
        f"/chasing/reports/{rr.pk}/",
        {"status": "on_track", "text": "推进中", "figures": "资金=1,200.5\n项目=-3"},
    )
    assert r.status_code == 302
    assert ProgressReport.objects.get().figures == {"资金": "1200.5", "项目": "-3"}


@pytest.mark.parametrize("value", ["abc", "NaN", "1e999", True, None])
def test_api_refuses_non_numbers_naming_the_figure(city: City, rr: ReportRequest, value: object) -> None:
    r = client_for(city.liaison_a).post(
        f"/api/chasing/report-requests/{rr.pk}/reports",
        {"status": "on_track", "text": "推进中", "figures": {"资金": value}},
        content_type="application/json",
    )
    assert r.status_code == 422 and "“资金”" in r.json()["detail"], r.content
    assert not ProgressReport.objects.exists()


def test_late_report_is_green_and_says_how_late(city: City, rr: ReportRequest) -> None:
    # due 2026-12-10 (Thursday); handed in on Tuesday 12-15: three working days late
    services.progress_report_submit(
        actor=city.liaison_a, request=rr, status="on_track", text="推进中", now=at("2026-12-15 10:00")
    )
    rr.refresh_from_db()
    assert status_light(rr, dt.date(2026, 12, 15)) == Light.GREEN  # done: nothing more is owed
    page = client_for(city.handler).get(f"/chasing/reports/{rr.pk}/").content.decode()
    assert "逾期3个工作日报送" in page
