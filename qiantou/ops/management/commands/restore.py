"""``qiantou restore DIR [--force]`` — restore a backup made by ``qiantou backup`` and verify the record.

Stop the web and scheduler processes first. Exits 1 when the restored audit chain does not verify up
to the head recorded in the backup's manifest.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qiantou.ops.backup import BackupError, backup_restore, describe


class Command(BaseCommand):
    help = "Restore a backup directory (database, files) and verify the audit chain against its head (恢复)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("source", help="the backup directory")
        parser.add_argument("--force", action="store_true", help="overwrite a database that has a record")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        """Restore, then report the verification."""
        try:
            manifest = backup_restore(options["source"], using=options["database"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        head = manifest["audit_head"]
        self.stdout.write(f"restored: {describe(manifest)}")
        if not manifest["verified"]:
            self.stderr.write(
                "audit chain does NOT verify up to the backup's head — see `qiantou audit verify`"
            )
            sys.exit(1)
        self.stdout.write(f"audit chain verified: {manifest['verified_count']} events, head #{head['seq']}")
