"""A report cycle cannot be backdated: a day no month has is refused naming the field, and periods
already due when the cycle is set up are not generated (no unit is red the moment a cycle exists)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qiantou.chasing import services
from qiantou.chasing.models import ReportCycle, ReportRequest
from qiantou.chasing.tests.factories import City, at, client_for, make_plan, make_task
from qiantou.workdays.recurrence import RecurrenceRule, RuleError

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_30_november(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock reads 2026-11-30 10:00 Asia/Shanghai (the QA pass's day)."""
    monkeypatch.setattr(timezone, "now", lambda: at("2026-11-30 10:00"))


@pytest.mark.parametrize(("month", "day"), [(2, 30), (2, 31), (4, 31), (11, 31)])
def test_yearly_rule_refuses_a_day_the_month_does_not_have(month: int, day: int) -> None:
    with pytest.raises(RuleError, match=r"日（day）"):
        RecurrenceRule.from_dict({"kind": "yearly", "month": month, "day": day})


def test_yearly_rule_accepts_29_february_and_month_ends() -> None:
    RecurrenceRule.from_dict({"kind": "yearly", "month": 2, "day": 29})
    RecurrenceRule.from_dict({"kind": "yearly", "month": 12, "day": 31})
    RecurrenceRule.from_dict({"kind": "monthly", "day": 31})  # monthly: past a month's end = its last day


def _form(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "年报", "kind": "yearly", "month": 2, "day": 30, "weekday": 4, "n": 10,
        "policy": "previous", "start_date": "2026-01-01", "end_date": "2026-12-31", "lead_working_days": 5,
    }
    data.update(over)
    return data


@pytest.mark.usefixtures("on_30_november")
def test_page_refuses_30_february_naming_the_day_field(city: City) -> None:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a])
    r = client_for(city.handler).post(f"/chasing/plans/{plan.pk}/cycles/new/", _form())
    assert r.status_code == 200
    assert r.context["form"].errors["day"] == ["2月没有30日（2月最多29日），请改正“日”。"]
    assert not ReportCycle.objects.exists()


@pytest.mark.usefixtures("on_30_november")
def test_api_refuses_30_february(city: City) -> None:
    plan = make_plan(city)
    body = {"title": "年报", "rule": {"kind": "yearly", "month": 2, "day": 30},
            "start_date": "2026-01-01", "end_date": "2027-12-31"}
    r = client_for(city.handler).post(
        f"/api/chasing/plans/{plan.pk}/report-cycles", body, content_type="application/json"
    )
    assert r.status_code == 422 and "日（day）" in r.json()["detail"]
    assert not ReportCycle.objects.exists()


def test_periods_due_before_the_cycle_was_set_up_are_not_generated(city: City) -> None:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a], cooperating=[city.coop_b])
    now = at("2026-11-30 10:00")
    cycle = services.report_cycle_create(
        actor=city.handler, plan=plan, title="月报", rule={"kind": "monthly", "day": 20},
        start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), now=now,
    )
    assert cycle.generate_from == dt.date(2026, 11, 30)
    services.report_requests_generate(cycle=cycle, now=now)
    assert not ReportRequest.objects.filter(due_date__lt=dt.date(2026, 11, 30)).exists()
    services.report_requests_generate(cycle=cycle, now=at("2026-12-31 10:00"))
    periods = sorted(set(ReportRequest.objects.values_list("period", flat=True)))
    assert periods == ["2026-12"]
    assert ReportRequest.objects.count() == 2


def test_a_cycle_whose_every_period_is_past_is_refused(city: City) -> None:
    plan = make_plan(city)
    with pytest.raises(services.ChasingError, match="早于今天"):
        services.report_cycle_create(
            actor=city.handler, plan=plan, title="年报", rule={"kind": "yearly", "month": 2, "day": 28},
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), now=at("2026-11-30 10:00"),
        )
    assert not ReportCycle.objects.exists()


@pytest.mark.usefixtures("on_30_november")
def test_cycle_page_says_which_past_periods_were_left_out(city: City) -> None:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a])
    r = client_for(city.handler).post(
        f"/chasing/plans/{plan.pk}/cycles/new/",
        _form(kind="monthly", day=20),
        follow=True,
    )
    page = r.content.decode()
    assert "2026-11-30" in page and "2026-10" in page and "不生成报送要求" in page
