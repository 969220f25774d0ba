"""Background jobs of the notification service (django.tasks, run by ``qiantou db_worker``)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from qiantou.notifications.services import deliveries_send


@task()
def deliver(claims: list[list[str | int]], as_of: str) -> dict[str, int]:
    """Send a batch of claimed deliveries (``[[id, claimed_at_iso], …]``) as of the scheduler's time."""
    return deliveries_send(claims=claims, as_of=dt.datetime.fromisoformat(as_of))
