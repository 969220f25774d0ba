"""The ``qiantou`` console command: Django's management commands with Qiantou's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command, e.g. ``qiantou migrate`` or ``qiantou parse FILE --json``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantou.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["qiantou", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
