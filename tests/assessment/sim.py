"""A simulated plan year for assessment scenarios: the clock moves from one scheduled reminder to the
next (the scheduler ticks exactly when something is due, then the workers run), and the units act at
the times the scenario says."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min

from qiantou.chasing.models import ChaseItem, ItemState, Reminder
from qiantou.chasing.scheduler import tick
from qiantou.chasing.services import ack_token, reminder_acknowledge
from qiantou.chasing.tests.factories import at, run_jobs

__all__ = ["acknowledge", "advance", "at"]


def advance(until: dt.datetime) -> int:
    """Run the scheduler and workers at every moment a rung is due up to ``until``; returns ticks run."""
    ticks = 0
    while True:
        nxt = ChaseItem.objects.filter(
            state=ItemState.OPEN, next_remind_at__isnull=False, next_remind_at__lte=until
        ).aggregate(t=Min("next_remind_at"))["t"]
        if nxt is None:
            break
        tick(now=nxt)
        run_jobs()
        tick(now=nxt + dt.timedelta(minutes=1))  # hand the reminder's messages to the delivery workers
        run_jobs()
        ticks += 1
        assert ticks < 500, "runaway simulation"
    tick(now=until)
    run_jobs()
    return ticks


def acknowledge(reminder: Reminder, user: object, when: dt.datetime) -> None:
    """The recipient clicks the acknowledgement link of ``reminder`` at ``when``."""
    reminder_acknowledge(token=ack_token(reminder.pk, user.pk), user=user, now=when)  # type: ignore[attr-defined]
