"""The scheduler core: rungs fire once, on time, on working days; compare-and-set claims; done items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from qiantou.chasing import services
from qiantou.chasing.models import ChaseItem, ItemState, MaterialRequest, Reminder
from qiantou.chasing.scheduler import fire_due_items, tick
from qiantou.chasing.tests.factories import City, at, make_plan, make_task, run_jobs
from qiantou.notifications.cas import compare_and_set
from qiantou.notifications.models import Delivery, DeliveryState, InboxItem
from qiantou.notifications.tests.receivers import smtp_mailers
from qiantou.plans.models import TaskStatus
from qiantou.workdays import CalendarYearNotLoaded

pytestmark = pytest.mark.django_db


def _default() -> list[dict[str, object]]:
    from qiantou.chasing.ladder import default_rungs

    return [r.to_dict() for r in default_rungs()]


def test_material_request_due_in_working_days(city: City) -> None:
    plan = make_plan(city)
    req = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="2023年度统计数据",
        due_working_days=5,
        issued_on=dt.date(2024, 2, 7),
        now=at("2024-02-07 10:00"),
    )
    assert req.due_date == dt.date(2024, 2, 20)
    item = req.item
    # notice: 3 working days before 2/20 → 2/19, Sunday 2/18 (adjusted), Friday 2/9
    assert item.next_remind_at == at("2024-02-09 09:00")
    assert InboxItem.objects.filter(user=city.liaison_a).count() == 1


def test_rung_due_at_noon_fires_on_first_tick_at_or_after_it_and_never_again(city: City) -> None:
    plan = make_plan(city)
    services.ladder_set(actor=city.handler, plan=plan, rungs=_default(), send_time=dt.time(12, 0))
    req = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="材料",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    assert req.item.next_remind_at == at("2024-03-12 12:00:00")
    assert tick(now=at("2024-03-12 11:59:59")).fired == 0
    assert tick(now=at("2024-03-12 12:00:00")).fired == 1
    assert tick(now=at("2024-03-12 12:00:00")).fired == 0
    assert tick(now=at("2024-03-12 12:00:01")).fired == 0
    run_jobs()
    assert Reminder.objects.filter(item=req.item).count() == 1
    reminder = Reminder.objects.get(item=req.item)
    assert reminder.scheduled_for == at("2024-03-12 12:00:00")
    assert reminder.fired_at == at("2024-03-12 12:00:00")
    assert reminder.recipients == [
        {"user": city.liaison_a.pk, "name": str(city.liaison_a), "role": "liaison"}
    ]
    # the e-mail is queued for the next tick and sent by a worker
    tick(now=at("2024-03-12 12:00:05"))
    run_jobs()
    sent = [m for m in mail.outbox if city.liaison_a.email in m.to and "提醒" in m.subject]
    assert len(sent) == 1 and "/chasing/ack/" in sent[0].body


def test_compare_and_set_lets_exactly_one_claimer_win(city: City) -> None:
    plan = make_plan(city)
    req = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="材料",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    old = req.item.next_remind_at
    first = compare_and_set(ChaseItem, "next_remind_at", [(req.item.pk, old, at("2024-03-15 09:00"))])
    second = compare_and_set(ChaseItem, "next_remind_at", [(req.item.pk, old, at("2024-03-18 09:00"))])
    assert first == [req.item.pk] and second == []
    assert ChaseItem.objects.get(pk=req.item.pk).next_remind_at == at("2024-03-15 09:00")


def test_two_sweeps_at_the_same_instant_fire_once(city: City) -> None:
    plan = make_plan(city)
    services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="材料",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    assert fire_due_items(now=at("2024-03-12 09:00")) == (1, 0)
    assert fire_due_items(now=at("2024-03-12 09:00")) == (0, 0)
    assert Reminder.objects.count() == 1


def test_done_task_is_never_reminded(city: City) -> None:
    plan = make_plan(city)
    task = make_task(plan, "1", dt.date(2024, 9, 30), lead=[city.lead], cooperating=[city.coop_a])
    tick(now=at("2024-09-20 08:00"))
    items = ChaseItem.objects.filter(task=task)
    assert {i.unit_id for i in items} == {city.lead.pk, city.coop_a.pk}
    # the notice (3 working days before Mon 9/30: 9/29 adjusted Sunday, 9/27, 9/26) fires for both
    assert tick(now=at("2024-09-26 09:00")).fired == 2
    # the task is done after the reminder fired but before a worker dispatched it
    task.status = TaskStatus.DONE
    task.save()
    run_jobs()
    assert Reminder.objects.filter(item__task=task, cancelled=True).count() == 2
    assert not InboxItem.objects.filter(message__object_type="chasing.reminder").exists()
    tick(now=at("2024-10-31 09:00"))
    assert set(ChaseItem.objects.filter(task=task).values_list("state", flat=True)) == {ItemState.DONE}
    assert Reminder.objects.filter(item__task=task).count() == 2


def test_deadline_in_an_unloaded_year_changes_nothing(city: City) -> None:
    plan = make_plan(city)
    before = (MaterialRequest.objects.count(), ChaseItem.objects.count())
    with pytest.raises(CalendarYearNotLoaded, match="2031"):
        services.material_request_create(
            actor=city.handler,
            plan=plan,
            unit=city.coop_a,
            title="材料",
            due_date=dt.date(2031, 3, 1),
            now=at("2024-03-01 08:00"),
        )
    with pytest.raises(CalendarYearNotLoaded):
        services.material_request_create(
            actor=city.handler,
            plan=plan,
            unit=city.coop_a,
            title="材料",
            due_working_days=5,
            issued_on=dt.date(2031, 1, 2),
            now=at("2024-03-01 08:00"),
        )
    assert (MaterialRequest.objects.count(), ChaseItem.objects.count()) == before
    assert Delivery.objects.count() == 0


def test_failed_delivery_is_retried_with_backoff(city: City, settings: object) -> None:
    settings.MAILERS = smtp_mailers(9)  # type: ignore[attr-defined]  # discard port: nothing listens
    plan = make_plan(city)
    services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="材料",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    tick(now=at("2024-03-01 08:00:01"))
    run_jobs()
    delivery = Delivery.objects.get(channel="email")
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1 and delivery.last_error
    assert delivery.next_attempt_at == at("2024-03-01 08:00:01") + dt.timedelta(minutes=1)
    tick(now=at("2024-03-01 08:00:30"))
    assert run_jobs() == 0  # not yet due again
    tick(now=at("2024-03-01 08:01:01"))
    run_jobs()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == at("2024-03-01 08:01:01") + dt.timedelta(minutes=2)
