"""Background jobs of chasing (django.tasks, run by ``qiantou db_worker``): load ids, call a service."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.tasks import task

from qiantou.chasing.models import ReportCycle
from qiantou.chasing.services import next_generation_after, reminders_dispatch, report_requests_generate
from qiantou.notifications.cas import compare_and_set


@task()
def dispatch_reminders(claims: list[list[str | int]], as_of: str) -> dict[str, int]:
    """Fan claimed reminders (``[[id, claimed_at_iso], …]``) out into notifications."""
    return reminders_dispatch(claims=claims, as_of=dt.datetime.fromisoformat(as_of))


@task()
def generate_reports(cycle_id: int, claimed: str, as_of: str) -> int:
    """Create a cycle's due report requests, then schedule its next generation (if the claim still holds)."""
    from qiantou.chasing.calendar import get_calendar

    now = dt.datetime.fromisoformat(as_of)
    claimed_at = dt.datetime.fromisoformat(claimed)
    cycle = ReportCycle.objects.select_related("plan", "task").get(pk=cycle_id)
    if cycle.next_generate_at != claimed_at:
        return 0  # another worker has it (or it was re-issued after a lease ran out)
    created = report_requests_generate(cycle=cycle, now=now)
    next_at = next_generation_after(cycle, now, get_calendar())
    with transaction.atomic():
        if next_at is None:
            ReportCycle.objects.filter(pk=cycle_id, next_generate_at=claimed_at).update(next_generate_at=None)
        else:
            compare_and_set(ReportCycle, "next_generate_at", [(cycle_id, claimed_at, next_at)])
    return created


def run_ready_jobs(limit: int = 100000) -> int:
    """Run every ready job in this process, as ``qiantou db_worker`` would (demo timeline, drills, tests).

    Returns how many ran; a job that raises is marked failed and the error propagates.
    """
    from django_tasks_db.models import DBTaskResult

    done = 0
    while done < limit:
        row = DBTaskResult.objects.ready().first()
        if row is None:
            break
        row.claim("in-process")
        result = row.task_result
        try:
            value = row.task.call(*result.args, **result.kwargs)
        except BaseException as exc:
            row.set_failed(exc)
            raise
        row.set_successful(value)
        done += 1
    return done
