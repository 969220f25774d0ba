"""Scorecards for 200 units over a year of 20,000 tasks (issue 6 target: ≤ 5 s).

    .venv/bin/python bench/scorecards.py                  # SQLite in a temporary directory
    DATABASE_URL=postgres://…/scratch .venv/bin/python bench/scorecards.py   # PostgreSQL (a scratch db)

Builds a city of 200 cooperating units and one lead unit, 20 issued plans of 1,000 tasks each (2024
deadlines spread over the year, a lead and 1–2 cooperating units per task), one chase item per named unit
and task (≈ 50,000; three in four done, a third of those late), the reminders the ladder would have sent
for the late and missing ones (≈ 1–3 each, half acknowledged), and some extension and difficulty
requests. Then times the year's scorecard over all plans (every unit, every event list built), and the
12 monthly totals behind the trend chart. Prints seconds and counts.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QIANTOU_DATA_DIR", tempfile.mkdtemp(prefix="qiantou-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantou.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

TARGET_S = 5.0
UNITS = 200
TASKS = 20_000
PLANS = 20


def build(units: int = UNITS, tasks: int = TASKS, plans: int = PLANS, seed: int = 6) -> dict[str, Any]:
    """Populate the database; returns the lead unit, the supervisor and counts."""
    from qiantou.accounts.models import Role, User
    from qiantou.chasing.calendar import SHANGHAI
    from qiantou.chasing.models import ChaseItem, ItemKind, ItemState, Petition, Reminder
    from qiantou.plans.models import DeadlineKind, Plan, PlanStatus, Task, TaskUnit, TaskUnitRole
    from qiantou.units.models import Unit, UnitKind

    rnd = random.Random(seed)
    gov = Unit.objects.create(code="BG", name="某市人民政府", kind=UnitKind.GOVERNMENT)
    lead = Unit.objects.create(code="BL", name="市发展和改革委员会", parent=gov)
    coop = Unit.objects.bulk_create(
        [Unit(code=f"BU{i:03d}", name=f"市第{i}局", parent=gov) for i in range(units)]
    )
    handler = User.objects.create(username="bench_handler", role=Role.HANDLER, unit=lead)
    supervisor = User.objects.create(username="bench_supervisor", role=Role.SUPERVISION_OFFICE, unit=gov)
    liaison = User.objects.create(username="bench_liaison", role=Role.LIAISON, unit=coop[0])
    plan_rows = [
        Plan.objects.create(
            title=f"2024年重点任务分工方案（{p + 1}）",
            lead_unit=lead,
            issuing_unit=gov,
            status=PlanStatus.ISSUED,
            year=2024,
            created_by=handler,
        )
        for p in range(plans)
    ]
    per_plan = tasks // plans
    task_objs = []
    for p, plan in enumerate(plan_rows):
        for i in range(per_plan):
            due = dt.date(2024, 1, 2) + dt.timedelta(days=rnd.randrange(0, 360))
            task_objs.append(
                Task(
                    plan=plan,
                    no=str(i + 1),
                    path=str(i + 1),
                    position=i,
                    text=f"第{p + 1}-{i + 1}项：推进重点改革任务落实，按期报送进展情况，做好资料归档。",
                    deadline_text=f"{due.month}月{due.day}日前",
                    deadline_kind=DeadlineKind.DATE,
                    deadline=due,
                )
            )
    Task.objects.bulk_create(task_objs, batch_size=2000)
    task_rows = list(Task.objects.order_by("id").values_list("id", "plan_id", "deadline", "no", "text"))
    tus, items = [], []
    now = dt.datetime(2024, 1, 1, 9, tzinfo=SHANGHAI)
    for task_id, plan_id, deadline, no, text in task_rows:
        assert deadline is not None
        due = deadline
        tus.append(
            TaskUnit(task_id=task_id, unit=lead, role=TaskUnitRole.LEAD, position=0, printed_name=lead.name)
        )
        named = rnd.sample(coop, rnd.choice((1, 2)))
        for j, unit in enumerate(named):
            tus.append(
                TaskUnit(
                    task_id=task_id,
                    unit=unit,
                    role=TaskUnitRole.COOPERATING,
                    position=j,
                    printed_name=unit.name,
                )
            )
        for unit in [lead, *named]:
            r = rnd.random()
            state, done_at = ItemState.OPEN, None
            if r < 0.75:
                late = 0 if rnd.random() < 0.67 else rnd.randrange(1, 12)
                state = ItemState.DONE
                done_at = dt.datetime.combine(due + dt.timedelta(days=late), dt.time(15), tzinfo=SHANGHAI)
            items.append(
                ChaseItem(
                    kind=ItemKind.TASK,
                    plan_id=plan_id,
                    task_id=task_id,
                    unit=unit,
                    title=f"{no} {text}"[:255],
                    due_date=due,
                    state=state,
                    done_at=done_at,
                    created_at=now,
                )
            )
    TaskUnit.objects.bulk_create(tus, batch_size=5000)
    ChaseItem.objects.bulk_create(items, batch_size=5000)
    reminders, petitions = [], []
    rungs = [
        ("notice", "到期前3个工作日提醒", -3),
        ("due", "到期当日提醒", 0),
        ("overdue_1", "逾期1个工作日催办", 1),
    ]
    for pk, due, item_state, done_at in ChaseItem.objects.values_list("id", "due_date", "state", "done_at"):
        late = item_state == ItemState.OPEN or (done_at is not None and done_at.date() > due)
        if not late:
            continue
        for k, (key, label, off) in enumerate(rungs[: rnd.randrange(1, 4)]):
            fired = dt.datetime.combine(due + dt.timedelta(days=off), dt.time(9), tzinfo=SHANGHAI)
            reminders.append(
                Reminder(
                    item_id=pk,
                    rung=key,
                    rung_index=k,
                    label=label,
                    recipient_roles=["liaison"],
                    due_date=due,
                    scheduled_for=fired,
                    fired_at=fired,
                    dispatched_at=fired,
                    acknowledged_at=fired + dt.timedelta(hours=2) if rnd.random() < 0.5 else None,
                )
            )
        if rnd.random() < 0.05:
            petitions.append(
                Petition(
                    kind=rnd.choice(["extension", "difficulty"]),
                    item_id=pk,
                    unit_id=coop[0].pk,
                    reason="人手紧张",
                    status=rnd.choice(["granted", "refused", "resolved"]),
                    raised_by=liaison,
                    raised_at=now,
                )
            )
    Reminder.objects.bulk_create(reminders, batch_size=5000)
    Petition.objects.bulk_create(petitions, batch_size=5000)
    return {
        "lead": lead,
        "supervisor": supervisor,
        "handler": handler,
        "items": len(items),
        "reminders": len(reminders),
        "petitions": len(petitions),
    }


def main() -> int:
    from django.db import connection

    from qiantou.assessment.models import ScoringRules
    from qiantou.assessment.scoring import compute_scorecard, score_trend

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    info = build()
    print(
        f"[{connection.vendor}] built {TASKS} tasks, {info['items']} chase items, "
        f"{info['reminders']} reminders, "
        f"{info['petitions']} petitions for {UNITS} units in {time.perf_counter() - t0:.1f} s"
    )
    rules = ScoringRules.objects.create(name="年度考核", weights={}, parameters={})
    start, end, as_of = dt.date(2024, 1, 1), dt.date(2024, 12, 31), dt.date(2024, 12, 31)
    compute_scorecard(rules, start=start, end=end, as_of=as_of)  # warm the calendar cache
    times = []
    for _ in range(3):
        t = time.perf_counter()
        card = compute_scorecard(rules, start=start, end=end, as_of=as_of)
        times.append(time.perf_counter() - t)
    best = min(times)
    events = sum(len(c.events) for line in card.cooperating for c in line.criteria.values())
    print(
        f"scorecard (year, {len(card.cooperating)} cooperating units + {len(card.lead)} lead, "
        f"{events} events linked): best {best:.2f} s, runs {', '.join(f'{x:.2f}' for x in times)} "
        f"(target ≤ {TARGET_S:.0f} s)"
    )
    t = time.perf_counter()
    trend = score_trend(rules, start=start, end=end, as_of=as_of)
    print(f"monthly trend, all units ({len(trend)} periods): {time.perf_counter() - t:.2f} s")
    ok = best <= TARGET_S
    print("OK" if ok else "SLOWER THAN TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
