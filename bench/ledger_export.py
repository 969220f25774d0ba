"""Ledger (台账) export of 20,000 tasks as .xlsx and CSV (issue 6 target: ≤ 10 s, ≤ 500 MB peak memory).

    .venv/bin/python bench/ledger_export.py                 # SQLite in a temporary directory
    DATABASE_URL=postgres://…/scratch .venv/bin/python bench/ledger_export.py   # PostgreSQL (a scratch db)

Builds the same city as ``bench/scorecards.py`` (20,000 tasks over 20 plans, 200 units) plus a progress
note on every fifth task, then — in a forked child, so its memory is measured alone — exports every
task the supervision office sees: rows (selectors, lights, working days overdue, leaders, latest
progress) and the .xlsx workbook, then the CSV. Prints seconds, file sizes and the child's peak resident
memory (``ru_maxrss``, which includes Python, Django and the libraries).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scorecards  # sets up Django
from django.core.management import call_command

TARGET_S = 10.0
TARGET_MB = 500.0


def export(user: Any) -> tuple[float, int, int, float, int]:
    """(seconds for rows + .xlsx, xlsx bytes, csv bytes, seconds for rows + CSV, rows)."""
    from qiantou.assessment.ledger import ledger_csv, ledger_rows, ledger_xlsx
    from qiantou.plans.selectors import task_list_for

    t = time.perf_counter()
    rows = ledger_rows(task_list_for(user), today=dt.date(2024, 9, 30))
    xlsx = ledger_xlsx(rows, title="工作台账（全部方案）", exported_at=dt.datetime(2024, 9, 30, 9))
    elapsed = time.perf_counter() - t
    t = time.perf_counter()
    csv_data = ledger_csv(ledger_rows(task_list_for(user), today=dt.date(2024, 9, 30)))
    csv_elapsed = time.perf_counter() - t
    return elapsed, len(xlsx), len(csv_data), csv_elapsed, len(rows)


def main() -> int:
    from django.db import connection

    from qiantou.assessment.models import LedgerProgress
    from qiantou.plans.models import Task

    call_command("migrate", verbosity=0)
    info = scorecards.build()
    handler = info["handler"]
    now = dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)
    LedgerProgress.objects.bulk_create(
        [
            LedgerProgress(
                task_id=pk,
                text="已完成阶段目标，正在推进下一阶段工作。",
                recorded_by=handler,
                recorded_at=now,
            )
            for pk in Task.objects.values_list("pk", flat=True)[::5]
        ],
        batch_size=5000,
    )
    connection.close()  # the child opens its own connection
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        elapsed, xlsx, csv_bytes, csv_elapsed, rows = export(info["supervisor"])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        os.write(write, f"{elapsed} {xlsx} {csv_bytes} {csv_elapsed} {rows} {rss}".encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 1000).decode().split()
    os.waitpid(pid, 0)
    took, xlsx_size, csv_size, csv_took, row_count, rss = (float(x) for x in data)
    print(
        f"[{connection.vendor}] ledger export of {int(row_count)} tasks: rows + .xlsx {took:.2f} s "
        f"(target ≤ {TARGET_S:.0f} s); rows + CSV {csv_took:.2f} s; xlsx {xlsx_size / 2**20:.1f} MB, "
        f"csv {csv_size / 2**20:.1f} MB"
    )
    print(f"peak memory of the exporting process: {rss:.0f} MB resident (target ≤ {TARGET_MB:.0f} MB)")
    ok = took <= TARGET_S and rss <= TARGET_MB
    print("OK" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
