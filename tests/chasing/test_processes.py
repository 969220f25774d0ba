"""Real processes against PostgreSQL: two schedulers and two workers over a simulated month send each
reminder exactly once (counted in a real SMTP server); a worker killed mid-send loses nothing and
duplicates nothing beyond one logged retry of the same message."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from qiantou.chasing import services
from qiantou.chasing.models import ChaseItem, ItemState, Reminder, ReportCycle
from qiantou.chasing.scheduler import tick
from qiantou.chasing.tests.factories import City, at, ensure_calendar, make_city, make_plan, run_jobs
from qiantou.notifications.models import Delivery, DeliveryAttempt, DeliveryState
from qiantou.notifications.tests.receivers import Mailbox, smtp_mailers, smtp_server

# No serialized_rollback: restoring the serialized database after other transactional tests re-created
# content types collides with them; the one table a data migration fills (the calendar) is reloaded instead.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QIANTOU = [sys.executable, "-c", "from qiantou.cli import main; main()"]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (several processes on one database)")
    ensure_calendar()


@pytest.fixture
def smtp(settings: Any) -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as (box, port):
        settings.MAILERS = smtp_mailers(port)
        yield box, port


def _env(port: int) -> dict[str, str]:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{host}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "QIANTOU_SMTP_HOST": "127.0.0.1",
        "QIANTOU_SMTP_PORT": str(port),
        "PYTHONWARNINGS": "ignore",
        "DJANGO_SETTINGS_MODULE": "qiantou.settings",
    }


def _set_clock(clock: Path, text: str) -> None:
    """Replace the drill clock atomically (a reader never sees a half-written file)."""
    tmp = clock.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(clock)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([*QIANTOU, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _busy(clock: dt.datetime) -> str:
    """What is still to do at ``clock`` ("" when nothing)."""
    from django_tasks_db.models import DBTaskResult

    checks = {
        "items due": ChaseItem.objects.filter(next_remind_at__lte=clock).exists(),
        "cycles due": ReportCycle.objects.filter(next_generate_at__lte=clock).exists(),
        "reminders undispatched": Reminder.objects.filter(dispatched_at__isnull=True).exists(),
        "deliveries unsent": Delivery.objects.exclude(
            state__in=[DeliveryState.SENT, DeliveryState.DEAD]
        ).exists(),
        "jobs": DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists(),
    }
    detail = list(
        Delivery.objects.exclude(state__in=[DeliveryState.SENT, DeliveryState.DEAD]).values_list(
            "pk", "state", "attempts", "next_attempt_at", "last_error"
        )[:5]
    )
    return ", ".join(k for k, v in checks.items() if v) + (f" {detail}" if detail else "")


def _wait_quiet(
    clock: dt.datetime, procs: list[subprocess.Popen[bytes]], logs: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    quiet_since = None
    busy = ""
    while time.monotonic() < deadline:
        if not all(p.poll() is None for p in procs):
            raise AssertionError("a scheduler or worker died:\n" + _tails(logs))
        busy = _busy(clock)
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.3:  # stayed quiet over a few scheduler ticks
            return
        time.sleep(0.05)
    raise AssertionError(f"work at {clock} did not finish in {timeout}s ({busy}):\n" + _tails(logs))


def _tails(logs: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(logs.glob("*.log"))
    )


def test_two_schedulers_and_two_workers_send_each_reminder_once(
    smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = smtp
    city: City = make_city()
    plan = make_plan(city)
    start = at("2024-09-20 09:30")
    requests = []
    for i in range(24):
        unit = city.coop_a if i % 2 else city.coop_b
        requests.append(
            services.material_request_create(
                actor=city.handler,
                plan=plan,
                unit=unit,
                title=f"材料{i}",
                due_working_days=1 + i % 9,
                issued_on=dt.date(2024, 9, 20),
                now=start,
            )
        )
    run_jobs()  # (nothing queued yet: the creation notices are deliveries the schedulers will claim)
    clock = tmp_path / "clock"
    _set_clock(clock, start.isoformat())
    env = _env(port)
    procs = [
        *[
            _spawn(
                ["scheduler", "--clock-file", str(clock), "--interval", "0.05", "--sync-every", "3600"],
                env,
                tmp_path / f"scheduler{i}.log",
            )
            for i in range(2)
        ],
        *[
            _spawn(
                ["db_worker", "--interval", "0.05", "--no-startup-delay", "--worker-id", f"w{i}"],
                env,
                tmp_path / f"worker{i}.log",
            )
            for i in range(2)
        ],
    ]
    try:
        now = start
        end = at("2024-10-22 21:30")
        while now <= end:
            _set_clock(clock, now.isoformat())
            _wait_quiet(now, procs, tmp_path)
            if now == at("2024-09-27 21:30"):  # four units hand in before the holiday: never reminded again
                for req in requests[:4]:
                    services.material_submit(
                        actor=city.liaison_b if req.unit == city.coop_b else city.liaison_a,
                        request=req,
                        text="已报送",
                        now=now,
                    )
            now += dt.timedelta(hours=12)
        _set_clock(clock, "stop")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    reminders = list(Reminder.objects.all())
    assert len(reminders) > 60
    assert max(Counter((r.item_id, r.rung) for r in reminders).values()) == 1
    email_deliveries = Delivery.objects.filter(channel="email")
    assert set(email_deliveries.values_list("state", flat=True)) == {DeliveryState.SENT}
    received = Counter(str(m["X-Qiantou-Delivery"]) for m in box.messages)
    assert max(received.values()) == 1, "a delivery reached the mail server twice"
    assert set(received) == {str(pk) for pk in email_deliveries.values_list("pk", flat=True)}
    # one e-mail per reminder and recipient with an address (plus the creation notices)
    expected = sum(len(r.recipients) for r in reminders if not r.cancelled)
    assert sum(1 for m in box.messages if str(m["Subject"]).startswith(("【催办", "【提醒"))) == expected
    for req in requests[:4]:
        assert ChaseItem.objects.get(pk=req.item_id).state == ItemState.DONE
        assert not Reminder.objects.filter(item_id=req.item_id, fired_at__gt=at("2024-09-27 21:30")).exists()


def test_killing_a_worker_mid_send_loses_nothing(
    smtp: tuple[Mailbox, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box, port = smtp
    city: City = make_city()
    plan = make_plan(city)
    t0 = at("2024-03-12 09:00")
    req = services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )
    Delivery.objects.all().delete()  # keep only the reminder's e-mail in play
    tick(now=t0)  # fires the notice
    run_jobs()  # dispatch → one e-mail delivery for the liaison
    box.delay = 60  # the mail server takes the message, then hangs before answering
    tick(now=t0)  # claims the delivery and queues a job
    worker = _spawn(
        ["db_worker", "--interval", "0.05", "--no-startup-delay", "--worker-id", "doomed"],
        _env(port),
        tmp_path / "worker.log",
    )
    try:
        assert box.received_event.wait(30), "the worker never reached the mail server"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    delivery = Delivery.objects.get(message__object_type="chasing.reminder")
    assert delivery.state == DeliveryState.SENDING and delivery.attempts == 1
    box.delay = 0
    with caplog.at_level(logging.WARNING, logger="qiantou.notifications"):
        tick(now=t0 + dt.timedelta(minutes=1))
        assert run_jobs() == 0  # the send lease (2 min) has not run out: nobody touches it
        tick(now=t0 + dt.timedelta(minutes=3))
        run_jobs()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [a.finished_at is not None for a in attempts] == [False, True]
    assert attempts[1].retry_of_interrupted
    assert "retries an interrupted send" in caplog.text
    # at most the one logged retry reached the server, with the same Message-ID both times
    ids = box.message_ids()
    assert len(ids) == 2 and len(set(ids)) == 1
    assert Reminder.objects.get(item=req.item).dispatched_at is not None
