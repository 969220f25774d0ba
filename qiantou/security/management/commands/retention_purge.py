"""``qiantou retention_purge [--days N]`` — delete data-check files past their retention period.

Run it daily (cron/systemd timer, or enqueue ``qiantou.security.jobs.retention_purge_job``); every
deletion is recorded as ``matching.retention_delete``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from qiantou.security.services import retention_purge


class Command(BaseCommand):
    help = "Delete data-check files older than the retention period (数据比对文件到期删除)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="retention in days (default: setting)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Purge and print one line per deletion."""
        deleted = retention_purge(actor=None, days=options["days"])
        for entry in deleted:
            what = f"run {entry['run_id']} {entry['side']}" if "run_id" in entry else entry["file"]
            self.stdout.write(f"deleted {what} ({entry['bytes']} bytes)")
        self.stdout.write(f"{len(deleted)} deleted")
