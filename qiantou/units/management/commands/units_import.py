"""``qiantou units_import FILE``: create/update the unit directory from a CSV or XLSX file, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.units.services import UnitImportError, unit_directory_import


class Command(BaseCommand):
    help = "导入单位目录（CSV 或 XLSX；全部成功或全部不变）。Import the unit directory from CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV (UTF-8, or GBK/GB18030) or XLSX file")
        parser.add_argument("--actor", default=None, help="username recorded as the actor (default: system)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}：无法读取文件（{exc.strerror}）") from exc
        actor = None
        if options["actor"]:
            try:
                actor = get_user_model().objects.get(username=options["actor"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {options['actor']} 不存在") from None
        try:
            report = unit_directory_import(actor=actor, file_name=path.name, data=data)
        except UnitImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
        for warning in report.warnings:
            self.stderr.write(f"提示：{warning}")
