"""Time travel over a plan's lifetime in 2024, across the Spring Festival and National Day 调休 periods:
every rung fires exactly once, on a working day, on the first tick at or after its time; done items are
never reminded; reminders are sent, delivered and acknowledged on the record."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.core import mail
from django.test import Client

from qiantou.audit.models import AuditEvent
from qiantou.chasing import services
from qiantou.chasing.calendar import SHANGHAI, get_calendar
from qiantou.chasing.models import ChaseItem, Reminder, ReportRequest
from qiantou.chasing.scheduler import tick
from qiantou.chasing.tests.factories import City, at, make_city, make_plan, make_task, run_jobs
from qiantou.plans.models import TaskStatus

pytestmark = pytest.mark.django_db

STEP = dt.timedelta(hours=3)


def _travel(start: dt.datetime, end: dt.datetime, on_tick: dict[dt.date, object] | None = None) -> int:
    now, ticks, last_day = start, 0, None
    while now <= end:
        day = now.astimezone(SHANGHAI).date()
        if on_tick and day != last_day and day in on_tick:
            on_tick[day]()  # type: ignore[operator]
        tick(now=now, sync=day != last_day)
        run_jobs()
        last_day = day
        now += STEP
        ticks += 1
    return ticks


def _rungs(item: ChaseItem) -> dict[str, dt.date]:
    return {r.rung: r.fired_at.astimezone(SHANGHAI).date() for r in Reminder.objects.filter(item=item)}


def test_plan_lifetime_2024() -> None:
    city: City = make_city()
    plan = make_plan(city)
    spring = make_task(plan, "1", dt.date(2024, 2, 8), lead=[city.lead], cooperating=[city.coop_a])
    autumn = make_task(plan, "2", dt.date(2024, 9, 30), lead=[city.lead], cooperating=[city.coop_b])
    holder: dict[str, object] = {}

    def before_national_day() -> None:
        holder["request"] = services.material_request_create(
            actor=city.handler,
            plan=plan,
            unit=city.coop_a,
            title="三季度统计数据",
            due_working_days=5,
            issued_on=dt.date(2024, 9, 25),
            now=at("2024-09-25 10:00"),
        )
        holder["cycle"] = services.report_cycle_create(
            actor=city.handler,
            plan=plan,
            title="月度进展",
            rule={"kind": "monthly", "day": 28, "policy": "next"},
            start_date=dt.date(2024, 9, 1),
            end_date=dt.date(2024, 10, 31),
            lead_working_days=3,
            now=at("2024-09-25 10:00"),
        )

    def task_two_done() -> None:
        autumn.status = TaskStatus.DONE
        autumn.save()

    ticks = _travel(
        at("2024-01-15 00:00"),
        at("2024-11-15 00:00"),
        {dt.date(2024, 9, 25): before_national_day, dt.date(2024, 9, 27): task_two_done},
    )
    assert ticks > 2000
    cal = get_calendar()

    # Spring Festival: due Thu 2/8; 1 overdue → Fri 2/9; 3 → 2/9, Sun 2/18 (adjusted), 2/19; 5 → 2/21.
    expected_spring = {
        "notice": dt.date(2024, 2, 5),
        "due": dt.date(2024, 2, 8),
        "overdue_1": dt.date(2024, 2, 9),
        "overdue_3": dt.date(2024, 2, 19),
        "overdue_5": dt.date(2024, 2, 21),
    }
    for item in ChaseItem.objects.filter(task=spring):
        assert _rungs(item) == expected_spring
    # Task 2 is done on 9/27, after its notice (9/26): nothing more for either unit.
    for item in ChaseItem.objects.filter(task=autumn):
        assert _rungs(item) == {"notice": dt.date(2024, 9, 26)}
        assert item.state == "done"
    # The material request: issued 9/25, 5 working days → 10/8 (9/29 is an adjusted Sunday).
    req = holder["request"]
    assert req.due_date == dt.date(2024, 10, 8)  # type: ignore[attr-defined]
    assert _rungs(req.item) == {  # type: ignore[attr-defined]
        "notice": dt.date(2024, 9, 27),
        "due": dt.date(2024, 10, 8),
        "overdue_1": dt.date(2024, 10, 9),
        "overdue_3": dt.date(2024, 10, 11),
        "overdue_5": dt.date(2024, 10, 14),
    }

    # Every reminder: a working day, fired on the first 3-hourly tick at or after 09:00, and exactly once.
    reminders = list(Reminder.objects.all())
    assert Counter((r.item_id, r.rung) for r in reminders).most_common(1)[0][1] == 1
    for r in reminders:
        local = r.fired_at.astimezone(SHANGHAI)
        assert cal.is_working_day(local.date()), r
        assert r.scheduled_for <= r.fired_at < r.scheduled_for + STEP
        assert r.dispatched_at is not None

    # Report cycle: one request per unit per period, due on working days (9/28 Sat → Sun 9/29, adjusted).
    requests = list(ReportRequest.objects.filter(cycle_id=holder["cycle"].pk))  # type: ignore[attr-defined]
    assert Counter((q.unit_id, q.period) for q in requests).most_common(1)[0][1] == 1
    assert {q.period: q.due_date for q in requests} == {
        "2024-09": dt.date(2024, 9, 29),
        "2024-10": dt.date(2024, 10, 28),
    }
    assert {q.unit_id for q in requests} == {city.lead.pk, city.coop_a.pk, city.coop_b.pk}

    # E-mail: one per reminder and recipient; the escalation reaches the leader and the supervision office.
    reminder_mail = [m for m in mail.outbox if m.subject.startswith(("【催办", "【提醒"))]
    per_reminder = Counter(m.extra_headers["X-Qiantou-Delivery"] for m in reminder_mail)
    assert max(per_reminder.values()) == 1
    expected_mail = sum(len(r.recipients) for r in reminders if not r.cancelled)
    assert len(reminder_mail) == expected_mail
    assert any(city.leader.email in m.to for m in reminder_mail)
    assert any(city.supervisor.email in m.to for m in reminder_mail)
    assert any(city.head_a.email in m.to and "逾期1个工作日" in m.subject for m in reminder_mail)

    # Acknowledge from the e-mail's link; sent / delivered / acknowledged are all on the record.
    first = next(m for m in reminder_mail if city.liaison_a.email in m.to)
    link = re.search(r"/chasing/ack/[^/\s]+/", str(first.body))
    assert link is not None
    client = Client()
    assert client.get(link.group(0)).status_code == 200
    assert client.post(link.group(0)).status_code == 200
    acked = Reminder.objects.get(acknowledged_at__isnull=False)
    assert acked.acknowledged_by == city.liaison_a
    for action in ("reminder.sent", "reminder.delivered", "reminder.acknowledged"):
        assert AuditEvent.objects.filter(action=action, object_id=str(acked.pk)).exists(), action
