"""``qiantou units_export --format csv|xlsx --out FILE``: write the whole unit directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.units.services import unit_directory_export_csv, unit_directory_export_xlsx


class Command(BaseCommand):
    help = "导出单位目录（CSV 为带 BOM 的 UTF-8；XLSX 冻结表头）。Export the unit directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", required=True, help="output file, or - for standard output (CSV only)")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = options["format"]
        data = unit_directory_export_csv() if fmt == "csv" else unit_directory_export_xlsx()
        if options["out"] == "-":
            if fmt != "csv":
                raise CommandError("XLSX 不能写到标准输出，请用 --out 指定文件")
            sys.stdout.buffer.write(data)
            return
        path = Path(options["out"])
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"{path}：无法写入（{exc.strerror}）") from exc
        self.stdout.write(f"{path}：{len(data)} 字节")
