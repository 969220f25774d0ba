"""``flush`` that may empty the append-only audit table (Django's flush, with the audit triggers unlocked).

Emptying every table is what ``flush`` is for (and what test isolation does between transactional
tests); the triggers exist to refuse changing or removing single events, so they let this one through.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand

from qiantou.audit.protection import unlocked


class Command(FlushCommand):
    help = FlushCommand.help + " The audit record is emptied too (its append-only triggers are unlocked)."

    def handle(self, **options: Any) -> None:
        """Run Django's flush with the audit table unlocked on that database."""
        with unlocked(options["database"]):
            super().handle(**options)
