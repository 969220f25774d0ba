"""The demo timeline: a new user sees red lights, reminders that climbed the ladder and a petition."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.chasing.demo import load_demo_timeline
from qiantou.chasing.models import ChaseItem, MaterialRequest, Petition, Reminder
from qiantou.chasing.selectors import Light, status_light
from qiantou.chasing.tests.factories import at
from qiantou.demo.loader import demo_load
from qiantou.notifications.models import InboxItem

pytestmark = pytest.mark.django_db


def test_demo_timeline_shows_late_units_and_escalations() -> None:
    demo_load(day=dt.date(2024, 11, 20))
    summary = load_demo_timeline(now=at("2024-11-20 10:00"))
    assert summary.notes == [] and summary.material_requests == 3
    today = dt.date(2024, 11, 20)
    lights = {status_light(i, today) for i in ChaseItem.objects.all()}
    assert {Light.RED, Light.GREEN} <= lights
    rungs = set(Reminder.objects.values_list("rung", flat=True))
    assert {"notice", "due", "overdue_1", "overdue_3", "overdue_5"} <= rungs
    assert Petition.objects.filter(status="pending").count() == 1
    assert MaterialRequest.objects.filter(status="accepted").count() == 1
    assert InboxItem.objects.exists()
    again = load_demo_timeline(now=at("2024-11-20 10:00"))
    assert again.notes and MaterialRequest.objects.count() == 3
