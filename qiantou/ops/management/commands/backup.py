"""``qiantou backup --out DIR`` — a consistent backup while the system runs (see ``qiantou.ops.backup``).

Prints the audit chain head of the snapshot; keep it (``qiantou audit verify --expect-head SEQ:HASH``
after a restore proves nothing was cut off or rewritten).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qiantou.ops.backup import BackupError, backup_create, describe


class Command(BaseCommand):
    help = "Back up the database, uploaded files and the audit chain head into a new directory (备份)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", required=True, help="new (or empty) directory to write")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        """Make the backup and print its head."""
        try:
            result = backup_create(options["out"], using=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        head = result.manifest["audit_head"]
        self.stdout.write(f"backup written to {result.path}: {describe(result.manifest)}")
        self.stdout.write(f"expect-head {head['seq']}:{head['hash']}")
