"""``qiantou demo_load``: load the demo city (units, plans, one user per role) and print the logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qiantou.demo.loader import demo_load, demo_timeline_load


class Command(BaseCommand):
    help = "加载演示数据：青山市单位名录、演示方案、各角色演示用户、催办时间线（可重复执行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        summary = demo_load()
        self.stdout.write(
            f"演示数据：单位 {summary.units} 个；新建用户 {summary.users_created} 个；"
            f"新建方案 {summary.plans_created} 个。"
        )
        self.stdout.write("演示账号（用户名 / 密码 / 角色 / 单位）：")
        width = max(len(row["username"]) for row in summary.logins)
        for row in summary.logins:
            self.stdout.write(
                f"  用户名 {row['username']:<{width}}  密码 {row['password']}  "
                f"角色 {row['role']}  单位 {row['unit']}"
            )
        timeline = demo_timeline_load()
        if timeline is not None:
            self.stdout.write(
                f"演示催办时间线：催办事项 {timeline.items} 项；催办提醒 {timeline.reminders} 条；"
                f"材料报送要求 {timeline.material_requests} 项。"
            )
            for note in timeline.notes:
                self.stdout.write(f"  {note}")
