"""``qiantou scheduler``: the long-running sweep that claims due work (:mod:`qiantou.chasing.scheduler`)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from qiantou.chasing.scheduler import tick


def _parse_now(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CommandError(f"not an ISO date-time: {text!r}") from exc
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # read as Asia/Shanghai
    return value


class Command(BaseCommand):
    help = "Run the chasing scheduler: fire due reminders, create report requests, queue deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between ticks (default 5)")
        parser.add_argument("--now", help="pretend the time is this ISO date-time (drills and tests)")
        parser.add_argument(
            "--clock-file", help="read the current time from this file on every tick (drills)"
        )
        parser.add_argument("--limit", type=int, default=20000, help="most rows claimed per step and tick")
        parser.add_argument(
            "--sync-every",
            type=float,
            default=60.0,
            help="seconds between task-item synchronisations (default 60)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = {"flag": False}

        def _stop(signum: int, frame: Any) -> None:
            stop["flag"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        clock = Path(options["clock_file"]) if options["clock_file"] else None
        last_sync = 0.0
        while True:
            close_old_connections()
            if clock is not None:
                # A drill clock: never fall back to the real time (a half-written file reads empty).
                text = clock.read_text(encoding="utf-8").strip() if clock.exists() else ""
                if text == "stop":
                    return
                if not text:
                    time.sleep(options["interval"])
                    continue
                now = _parse_now(text)
            elif options["now"]:
                now = _parse_now(options["now"])
            else:
                now = timezone.now()
            sync = options["once"] or time.monotonic() - last_sync >= options["sync_every"]
            report = tick(now=now, limit=options["limit"], sync=sync)
            if sync:
                last_sync = time.monotonic()
            if options["verbosity"] > 1 or (options["once"] and options["verbosity"] > 0):
                self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            if options["once"] or stop["flag"]:
                return
            time.sleep(options["interval"])
            if stop["flag"]:
                return
