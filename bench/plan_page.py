"""Render time of the plan page for a plan with 500 tasks (issue 2 target: ≤ 150 ms).

    .venv/bin/python bench/plan_page.py                 # SQLite in a temporary directory
    DATABASE_URL=postgres://… .venv/bin/python bench/plan_page.py   # PostgreSQL, a scratch database

Builds the demo city, then one issued plan of 50 sections × 9 measures (500 tasks, 2–5 named units
each, deadlines mixed), and renders ``/plans/<id>/`` through Django's test client as a liaison of a
cooperating unit (the full request: session, selectors, template). Prints median and p95 in ms.
On PostgreSQL, name a scratch database: the run migrates it and adds the demo city and the plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QIANTOU_DATA_DIR", tempfile.mkdtemp(prefix="qiantou-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantou.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

TARGET_MS = 150.0


def build_plan(tasks: int) -> tuple[int, str]:
    """An issued plan with ``tasks`` tasks in sections of 10 (a heading and 9 measures)."""
    from qiantou.accounts.models import User
    from qiantou.plans.models import DeadlineKind, Plan, PlanStatus, Task, TaskUnit, TaskUnitRole
    from qiantou.units.models import Unit, UnitKind

    units = list(Unit.objects.filter(active=True).exclude(kind=UnitKind.GROUP).order_by("code"))
    lead = Unit.objects.get(code="QS0206")
    handler = User.objects.get(username="mzj_handler")
    plan = Plan.objects.create(
        title=f"性能测试方案（{tasks} 项任务）",
        lead_unit=lead,
        issuing_unit=lead,
        status=PlanStatus.ISSUED,
        year=2026,
        created_by=handler,
    )
    today = dt.date.today()
    parent: Task | None = None
    rows: list[TaskUnit] = []
    for i in range(tasks):
        heading = i % 10 == 0
        deadline = today + dt.timedelta(days=(i * 7) % 120 - 30) if i % 3 else None
        task = Task.objects.create(
            plan=plan,
            parent=None if heading else parent,
            position=i,
            no=f"（{i // 10 + 1}）" if heading else str(i % 10),
            path=str(i),
            text=f"第{i}项任务：推进重点工作落实，完善工作机制，按期报送进展情况并做好资料归档。",
            deadline_text=f"{deadline.year}年{deadline.month}月{deadline.day}日前"
            if deadline
            else "持续推进",
            deadline_kind=DeadlineKind.DATE if deadline else DeadlineKind.OPEN_ENDED,
            deadline=deadline,
            warnings=["多个牵头单位"] if i % 50 == 7 else [],
        )
        if heading:
            parent = task
        rows.append(
            TaskUnit(
                task=task,
                unit=units[i % len(units)],
                role=TaskUnitRole.LEAD,
                position=0,
                printed_name=units[i % len(units)].short_name,
            )
        )
        for j in range(1 + i % 4):
            unit = units[(i * 7 + j * 13 + 1) % len(units)]
            rows.append(
                TaskUnit(
                    task=task,
                    unit=unit,
                    role=TaskUnitRole.COOPERATING,
                    position=j,
                    printed_name=unit.short_name,
                )
            )
    TaskUnit.objects.bulk_create(rows)
    return plan.pk, "sfj_liaison"


def main() -> int:
    """Set up, render the page ``--runs`` times after a warm-up, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0, interactive=False)
    from qiantou.accounts.models import User
    from qiantou.demo.loader import demo_load

    demo_load()
    plan_id, username = build_plan(args.tasks)
    client = Client()
    client.force_login(User.objects.get(username=username))
    url = f"/plans/{plan_id}/"
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    size = len(response.content)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    times.sort()
    median = statistics.median(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"plan page, {args.tasks} tasks, {engine}, {args.runs} runs, {size / 1024:.0f} KiB HTML")
    print(
        f"median {median:.1f} ms   p95 {p95:.1f} ms   (target p95 ≤ {TARGET_MS:.0f} ms: "
        f"{'met' if p95 <= TARGET_MS else 'MISSED'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
