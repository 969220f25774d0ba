"""A chasing timeline for the demo city, so a new user sees lights, reminders and escalations.

:func:`load_demo_timeline` replays the last weeks on the issued demo plans: the scheduler ticks every
working morning, so reminders climb the ladder for the units that are late; one material request is
overdue and escalated, one was handed in and accepted, one is due soon; a monthly progress report cycle
runs; a cooperating unit has asked for an extension. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from qiantou.accounts.models import Role, User
from qiantou.chasing import services
from qiantou.chasing.calendar import at_local, get_calendar, local_date
from qiantou.chasing.jobs import run_ready_jobs
from qiantou.chasing.models import ChaseItem, MaterialRequest, Petition, Reminder, ReportCycle
from qiantou.chasing.scheduler import tick
from qiantou.plans.models import Plan, PlanStatus
from qiantou.workdays import CalendarYearNotLoaded

DEMO_TAG = "（演示）"
REPLAY_DAYS = 40


@dataclass
class TimelineSummary:
    """What the demo timeline created."""

    items: int = 0
    reminders: int = 0
    material_requests: int = 0
    notes: list[str] = field(default_factory=list)


def _user(role: str, unit_id: int | None) -> User | None:
    if unit_id is None:
        return None
    return User.objects.filter(role=role, unit_id=unit_id, is_active=True).order_by("id").first()


def load_demo_timeline(*, now: dt.datetime | None = None) -> TimelineSummary:
    """Replay the last :data:`REPLAY_DAYS` days of chasing on the issued demo plans (idempotent)."""
    now = now or timezone.now()
    summary = TimelineSummary()
    if MaterialRequest.objects.filter(title__endswith=DEMO_TAG).exists():
        summary.notes.append("演示催办时间线已存在，未重复创建。")
        return summary
    plan = (
        Plan.objects.filter(status=PlanStatus.ISSUED, lead_unit__members__role=Role.HANDLER)
        .order_by("id")
        .distinct()
        .first()
    )
    if plan is None:
        summary.notes.append("没有已印发、且牵头单位有经办人的方案：请先运行 qiantou demo_load。")
        return summary
    handler = _user(Role.HANDLER, plan.lead_unit_id)
    assert handler is not None
    cal = get_calendar()
    start = at_local(local_date(now) - dt.timedelta(days=REPLAY_DAYS), dt.time(8, 0))
    try:
        cal.check_year(local_date(start))
        cal.check_year(local_date(now))
    except CalendarYearNotLoaded as exc:
        summary.notes.append(str(exc))
        return summary
    cooperating = list(
        User.objects.filter(role=Role.LIAISON, is_active=True, unit__task_units__task__plan=plan)
        .exclude(unit_id=plan.lead_unit_id)
        .distinct()
        .order_by("id")
    )
    with transaction.atomic():
        services.task_items_sync(now=start)
        requests: list[MaterialRequest] = []
        day = local_date(start)
        today = local_date(now)
        plan_specs = [
            # (days after start it was issued, working days allowed)
            (3, 10),  # long overdue: climbs the whole ladder
            (25, 5),  # handed in and accepted
            (REPLAY_DAYS - 2, 5),  # due soon
        ]
        while day <= today:
            moment = at_local(day, dt.time(9, 5))
            for i, (offset, working_days) in enumerate(plan_specs):
                if (day - local_date(start)).days == offset and cooperating:
                    liaison = cooperating[i % len(cooperating)]
                    assert liaison.unit is not None
                    requests.append(
                        services.material_request_create(
                            actor=handler,
                            plan=plan,
                            unit=liaison.unit,
                            due_working_days=working_days,
                            title=["2025年度工作总结及佐证材料", "帮扶对象数据比对结果", "下季度工作计划"][i]
                            + DEMO_TAG,
                            issued_on=day,
                            now=at_local(day, dt.time(8, 30)),
                        )
                    )
            if len(requests) > 1 and day == requests[1].due_date:
                second = requests[1]
                second_liaison = _user(Role.LIAISON, second.unit_id)
                if second_liaison is not None:
                    sub = services.material_submit(
                        actor=second_liaison,
                        request=second,
                        text="已按要求报送，详见附件。",
                        files=[("数据比对结果.csv", "序号,姓名,结果\n1,某某,一致\n".encode())],
                        now=at_local(day, dt.time(16, 0)),
                    )
                    services.material_decide(
                        actor=handler, submission=sub, accept=True, now=at_local(day, dt.time(17, 0))
                    )
            tick(now=moment, sync=False)
            run_ready_jobs()
            tick(now=moment + dt.timedelta(minutes=1), sync=False)  # queue the pushes the dispatch wrote
            day += dt.timedelta(days=1)
        if requests:
            late = requests[0]
            late_liaison = _user(Role.LIAISON, late.unit_id)
            if late_liaison is not None and not Petition.objects.filter(item=late.item).exists():
                services.petition_raise(
                    actor=late_liaison,
                    item=late.item,
                    kind="extension",
                    reason="涉及多个县区数据汇总，人手紧张，申请延期。",
                    requested_due_date=cal.add_working_days(today, 5),
                    now=now,
                )
        if not ReportCycle.objects.filter(plan=plan).exists():
            try:
                services.report_cycle_create(
                    actor=handler,
                    plan=plan,
                    title="月度工作进展" + DEMO_TAG,
                    rule={"kind": "monthly", "day": 28, "policy": "previous"},
                    start_date=local_date(start),
                    end_date=dt.date(local_date(now).year, 12, 31),
                    now=start,
                )
            except services.QiantouError as exc:
                summary.notes.append(str(exc))
    summary.items = ChaseItem.objects.count()
    summary.reminders = Reminder.objects.count()
    summary.material_requests = len(requests)
    return summary
