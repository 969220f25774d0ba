"""``qiantou token_create USERNAME [--name N] [--days D]``: print a new API bearer token once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qiantou.accounts.models import User
from qiantou.accounts.services import api_token_create


class Command(BaseCommand):
    help = "为用户创建 API 访问令牌并打印一次（只保存其哈希，无法再次查看）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="令牌用途（例如：台账同步脚本）")
        parser.add_argument("--days", type=int, default=None, help="有效天数（默认长期有效）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"用户 {options['username']!r} 不存在。") from None
        if not user.is_active:
            raise CommandError(f"用户 {user.username!r} 已停用，不能创建令牌。")
        days = options["days"]
        if days is not None and days <= 0:
            raise CommandError("--days 必须是正整数。")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        _token, raw = api_token_create(actor=None, user=user, name=options["name"], expires_at=expires_at)
        self.stdout.write(raw)
        self.stderr.write(
            "请妥善保存此令牌：它只显示这一次。调用 API 时使用请求头 Authorization: Bearer <令牌>。"
        )
