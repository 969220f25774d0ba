"""``qiantou calendar_load [YEAR …]``: load holiday years from the chinese-calendar package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.chasing.services import calendar_load_year
from qiantou.workdays import CalendarYearNotLoaded, chinese_calendar_years


class Command(BaseCommand):
    help = "载入法定节假日与调休安排（默认：chinese-calendar 覆盖的全部年份）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("years", nargs="*", type=int, help="years to load (default: every year covered)")

    def handle(self, *args: Any, years: list[int], **options: Any) -> None:
        chosen = years or chinese_calendar_years()
        for year in chosen:
            try:
                row = calendar_load_year(actor=None, year=year)
            except CalendarYearNotLoaded as exc:
                covered = chinese_calendar_years()
                raise CommandError(f"{exc} chinese-calendar 只覆盖 {covered[0]}–{covered[-1]} 年。") from exc
            self.stdout.write(f"{year}: {row.days.count()} days ({row.source})")
