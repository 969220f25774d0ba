"""The scheduler's sweep over 1,000,000 open items of which 10,000 are due (issue 5 target: ≤ 2 s).

    .venv/bin/python bench/scheduler.py                    # fresh SQLite database
    DATABASE_URL=postgres://qiantou:qiantou@127.0.0.1:5432/qiantou .venv/bin/python bench/scheduler.py
                                                           # also PostgreSQL (a scratch database
                                                           # ``<name>_sched_bench``, dropped after)

Inserts N chase items (SQL, not timed) whose ``next_remind_at`` is spread over the next month, with D
of them already due, then times: the sweep that fires the due rungs (select through the index on
``next_remind_at``, compute each next rung on the working-day calendar, one compare-and-set per item,
insert the reminders); the claim of those reminders for dispatch with the job rows it enqueues; and an
idle sweep once nothing is due. Prints seconds; exit status 1 when the sweep misses the target.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _scratch import child_django, run_on_each_database  # bench/ is on sys.path when a runner is run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 2.0


def populate(n: int, due: int) -> None:
    """N open material-request items; the first ``due`` are due at 2024-03-12 09:00 (Shanghai)."""
    from django.db import connection

    from qiantou.plans.models import Plan
    from qiantou.units.models import Unit

    unit = Unit.objects.create(code="BENCH", name="市财政局")
    plan = Plan.objects.create(title="基准测试方案", lead_unit=unit, status="issued")
    base = "2024-03-12 01:00:00"  # 09:00 in Asia/Shanghai, stored in UTC
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                f"""WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
                INSERT INTO chasing_chaseitem (kind, plan_id, task_id, unit_id, title, due_date, restricted,
                    state, done_at, due_overridden, next_remind_at, next_rung, created_at)
                SELECT 'material_request', {plan.pk}, NULL, {unit.pk}, '报送材料：统计数据' || i,
                    '2024-03-15', 0, 'open', NULL, 0,
                    CASE WHEN i <= {due} THEN datetime('{base}', '-' || (i % 3600) || ' seconds')
                         ELSE datetime('{base}', '+' || (60 + i % 43200) || ' minutes') END,
                    0, '2024-03-01 00:00:00'
                FROM seq"""
            )
        else:
            cur.execute(
                f"""INSERT INTO chasing_chaseitem (kind, plan_id, task_id, unit_id, title, due_date,
                    restricted, state, done_at, due_overridden, next_remind_at, next_rung, created_at)
                SELECT 'material_request', {plan.pk}, NULL, {unit.pk}, '报送材料：统计数据' || i,
                    DATE '2024-03-15', false, 'open', NULL, false,
                    CASE WHEN i <= {due} THEN TIMESTAMPTZ '{base}+00' - (i % 3600) * INTERVAL '1 second'
                         ELSE TIMESTAMPTZ '{base}+00' + (60 + i % 43200) * INTERVAL '1 minute' END,
                    0, TIMESTAMPTZ '2024-03-01 00:00:00+00'
                FROM generate_series(1, {n}) AS i"""
            )
            cur.execute("ANALYZE chasing_chaseitem")


def measure(label: str, n: int, due: int) -> bool:
    from django.core.management import call_command
    from django.db import transaction

    from qiantou.chasing import jobs
    from qiantou.chasing.models import ChaseItem, Reminder
    from qiantou.chasing.scheduler import DISPATCH_BATCH, DISPATCH_LEASE, _batches, _claim, fire_due_items
    from qiantou.chasing.tests.factories import at

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    populate(n, due)
    took = time.perf_counter() - t0
    print(f"{label}: inserted {ChaseItem.objects.count():,} open items in {took:.1f} s (not timed)")
    now = at("2024-03-12 09:00")
    t0 = time.perf_counter()
    fired, _ = fire_due_items(now=now, limit=max(due * 2, 20000))
    sweep = time.perf_counter() - t0
    assert fired == due == Reminder.objects.count(), (fired, due)
    t0 = time.perf_counter()
    with transaction.atomic():
        claims = _claim(Reminder, "next_dispatch_at", now, DISPATCH_LEASE, 20000)
        for batch in _batches(claims, DISPATCH_BATCH):
            jobs.dispatch_reminders.enqueue(claims=batch, as_of=now.isoformat())
    claim = time.perf_counter() - t0
    t0 = time.perf_counter()
    idle_fired, _ = fire_due_items(now=now)
    idle = time.perf_counter() - t0
    assert idle_fired == 0 and len(claims) == due
    ok = sweep <= TARGET_SECONDS
    print(
        f"{label}: sweep over {n:,} open items firing {due:,} due rungs: {sweep:.2f} s "
        f"(target ≤ {TARGET_SECONDS:.0f} s) {'OK' if ok else 'MISSED'}"
    )
    print(
        f"{label}: claiming the {len(claims):,} reminders for dispatch and enqueueing "
        f"{(len(claims) + DISPATCH_BATCH - 1) // DISPATCH_BATCH} jobs: {claim:.2f} s"
    )
    print(f"{label}: idle sweep (nothing due) over {n:,} items: {idle * 1000:.1f} ms")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="open items (default 1,000,000)")
    parser.add_argument("--due", type=int, default=10_000, help="items due now (default 10,000)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        with child_django(args.only, "qiantou-bench-sched-") as label:
            return 0 if measure(label, args.n, args.due) else 1
    argv = [sys.executable, __file__, "-n", str(args.n), "--due", str(args.due)]
    return run_on_each_database(argv, "sched_bench")


if __name__ == "__main__":
    sys.exit(main())
