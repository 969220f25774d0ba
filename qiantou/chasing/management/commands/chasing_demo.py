"""``qiantou chasing_demo``: replay a chasing timeline on the demo plans (run after ``qiantou demo_load``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qiantou.chasing.demo import load_demo_timeline


class Command(BaseCommand):
    help = "生成演示催办时间线：部分单位逾期、催办逐级升级（可重复执行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        summary = load_demo_timeline()
        for note in summary.notes:
            self.stdout.write(note)
        if not summary.notes:
            self.stdout.write(
                f"催办事项 {summary.items} 项，催办记录 {summary.reminders} 条，"
                f"新建材料报送要求 {summary.material_requests} 项。"
            )
