"""``qiantou import FILE [--lead-unit CODE] [--as USERNAME] [--year YYYY]``: import a plan as a draft.

Atomic: the plan, its tasks and their units are stored together or not at all. Prints a summary.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.planparse import PlanFileError
from qiantou.plans.importing import plan_import
from qiantou.plans.models import TaskUnit


class Command(BaseCommand):
    help = "导入分工方案文件为草稿方案（全部成功或全部不变）。Import a published plan file as a draft plan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the plan file (docx/doc/xlsx/xls/pdf/html/txt)")
        parser.add_argument("--lead-unit", default=None, help="code of the plan's lead unit")
        parser.add_argument("--as", dest="actor", default=None, help="username of the importing user")
        parser.add_argument(
            "--year", type=int, default=None, help="the plan's year for dates printed without one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path.name}：无法读取文件（{exc.strerror}）") from exc
        actor = None
        if options["actor"]:
            try:
                actor = get_user_model().objects.get(username=options["actor"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {options['actor']} 不存在") from None
        try:
            plan = plan_import(
                actor=actor,
                data=data,
                filename=path.name,
                year=options["year"],
                lead_unit=options["lead_unit"],
            )
        except PlanFileError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        units = Counter(TaskUnit.objects.filter(task__plan=plan).values_list("resolution", flat=True))
        tasks = plan.tasks.count()
        flagged = sum(1 for w in plan.tasks.values_list("warnings", flat=True) if w)
        self.stdout.write(f"已导入草稿方案 #{plan.pk}：{plan.title}")
        self.stdout.write(
            f"  牵头单位：{plan.lead_unit.name}；年度：{plan.year or '—'}；文号：{plan.doc_number or '—'}"
        )
        self.stdout.write(f"  任务 {tasks} 项，其中 {flagged} 项有提示")
        self.stdout.write(
            f"  单位：已匹配 {units.get('matched', 0)}，集合主体 {units.get('group', 0)}，"
            f"泛指 {units.get('generic', 0)}，未匹配 {units.get('unknown', 0)}"
        )
        unknown = list(
            TaskUnit.objects.filter(task__plan=plan, resolution="unknown")
            .values_list("printed_name", flat=True)
            .distinct()
        )
        if unknown:
            self.stdout.write(f"  未匹配单位：{'、'.join(unknown)}")
        for w in plan.warnings:
            self.stdout.write(f"  提示：{w}")
