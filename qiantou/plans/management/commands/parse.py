"""``qiantou parse FILE [--json] [--year YYYY]``: print the tasks parsed from a published plan file.

Needs no database. With ``--json`` stdout is exactly one JSON object (``ParsedPlan.as_json()``); a
file that cannot be read exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.planparse import PlanFileError, parse_file
from qiantou.planparse.document import ParsedPlan


class Command(BaseCommand):
    help = (
        "解析分工方案文件并输出任务。Parse a published task-division plan (docx/doc/xlsx/xls/pdf/html/txt)."
    )
    requires_system_checks: tuple[str, ...] = ()
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the plan file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--year", type=int, default=None, help="the plan's year for dates printed without one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path.name}：无法读取文件（{exc.strerror}）") from exc
        try:
            plan = parse_file(data, path.name, year=options["year"])
        except PlanFileError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(plan.as_json(), ensure_ascii=False))
            return
        self.stdout.write(_as_text(plan))


def _as_text(plan: ParsedPlan) -> str:
    lines = [plan.title]
    if plan.doc_number:
        lines.append(f"文号：{plan.doc_number}")
    lines.append(f"牵头规则：{plan.lead_rule or '未说明（逐项注明或无法判断）'}")
    lines.append(f"任务：{len(plan.tasks)} 项")
    for w in plan.warnings:
        lines.append(f"  ! {w}")
    for t in plan.tasks:
        lines.append("")
        lines.append(f"[{t.path}] {t.no or '（无编号）'} {t.text}")
        lines.append(f"    牵头：{'、'.join(t.lead_units) or '—'}")
        if t.cooperating_units:
            lines.append(f"    配合：{'、'.join(t.cooperating_units)}")
        if t.generic_units:
            lines.append(f"    其他：{'、'.join(t.generic_units)}")
        if t.deadline.text:
            when = t.deadline.date.isoformat() if t.deadline.date else (t.deadline.rule or "")
            lines.append(f"    时限：{t.deadline.text}（{t.deadline.kind} {when}）")
        for w in t.warnings:
            lines.append(f"    ! {w}")
    return "\n".join(lines)
