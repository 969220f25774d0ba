"""E-mail throughput: 10,000 reminder e-mails delivered to a local SMTP server (issue 5 target: ≤ 60 s).

    .venv/bin/python bench/mail.py                         # fresh SQLite database, 2 workers
    .venv/bin/python bench/mail.py -n 2000 --workers 1
    DATABASE_URL=postgres://qiantou:qiantou@127.0.0.1:5432/qiantou .venv/bin/python bench/mail.py
                                                           # PostgreSQL (scratch ``<name>_mail_bench``)

Writes one message to N recipients (inbox rows and N e-mail deliveries, not timed), then times the real
path: the scheduler's tick claims the deliveries and enqueues ``deliver`` jobs; ``qiantou db_worker``
processes (``--workers``) send them over SMTP to an aiosmtpd server in this process, recording each
delivery and its audit event. Prints seconds and e-mails/s; exit status 1 when the target is missed or a
message is missing or duplicated.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _scratch import child_django, run_on_each_database  # bench/ is on sys.path when a runner is run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


def measure(label: str, n: int, workers: int) -> bool:
    from django.core.management import call_command
    from django.db import connection

    from qiantou.accounts.models import Role, User
    from qiantou.chasing.scheduler import tick
    from qiantou.notifications.models import Delivery, DeliveryState
    from qiantou.notifications.services import notify
    from qiantou.notifications.tests.receivers import smtp_server
    from qiantou.units.models import Unit

    call_command("migrate", verbosity=0)
    unit = Unit.objects.create(code="BENCH", name="市财政局")
    User.objects.bulk_create(
        [
            User(
                username=f"liaison{i}",
                role=Role.LIAISON,
                unit=unit,
                email=f"liaison{i}@czj.gov.cn",
                display_name=f"联络员{i}",
                password="!",
            )
            for i in range(n)
        ]
    )
    notify(
        recipients=list(User.objects.filter(unit=unit)),
        subject="【催办·逾期1个工作日催办】市财政局：统计数据",
        body="市财政局承担的“统计数据”截止日期为2024年3月15日，至今已逾期1个工作日，请抓紧办理并报送。",
        link="/chasing/items/1/",
    )
    assert Delivery.objects.filter(channel="email").count() == n
    db = connection.settings_dict
    with smtp_server() as (box, port):
        env = dict(
            os.environ, QIANTOU_SMTP_HOST="127.0.0.1", QIANTOU_SMTP_PORT=str(port), PYTHONWARNINGS="ignore"
        )
        if db["ENGINE"].endswith("sqlite3"):
            env.pop("DATABASE_URL", None)
        t0 = time.perf_counter()
        report = tick(now=__import__("django.utils.timezone").utils.timezone.now(), sync=False)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from qiantou.cli import main; main()",
                    "db_worker",
                    "--batch",
                    "--no-startup-delay",
                    "--interval",
                    "0",
                    "--worker-id",
                    f"bench{i}",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        for p in procs:
            p.wait()
        elapsed = time.perf_counter() - t0
        ids = Counter(m["X-Qiantou-Delivery"] for m in box.messages)
        received = len(box)
    sent = Delivery.objects.filter(state=DeliveryState.SENT).count()
    ok = elapsed <= TARGET_SECONDS and sent == n and len(ids) == n and max(ids.values()) == 1
    print(
        f"{label}: {report.delivery_claims:,} deliveries claimed in {report.jobs} jobs; {received:,} e-mails "
        f"received ({len(ids):,} distinct), {sent:,} marked sent, by {workers} worker(s) in {elapsed:.1f} s "
        f"= {n / elapsed:,.0f} e-mails/s (target ≤ {TARGET_SECONDS:.0f} s) {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=10_000, help="e-mails (default 10,000)")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes (default 2)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        with child_django(args.only, "qiantou-bench-mail-") as label:
            return 0 if measure(label, args.n, args.workers) else 1
    argv = [sys.executable, __file__, "-n", str(args.n), "--workers", str(args.workers)]
    return run_on_each_database(argv, "mail_bench")


if __name__ == "__main__":
    sys.exit(main())
