"""Password complexity: letters, digits and symbols (GB/T 22239-2019 等保2.0 三级, 8.1.4.1 a: 口令应有
复杂度要求). Length is Django's ``MinimumLengthValidator`` (10, in settings)."""

from __future__ import annotations

import string
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class ComplexityValidator:
    """Refuse a password that lacks a letter, a digit or a symbol (any other printable character)."""

    def validate(self, password: str, user: Any = None) -> None:
        """Raise ``ValidationError`` naming every missing class (code ``password_too_simple``)."""
        missing = []
        if not any(c.isalpha() and c.isascii() for c in password):
            missing.append(_("字母"))
        if not any(c in string.digits for c in password):
            missing.append(_("数字"))
        if not any(not c.isalnum() and not c.isspace() for c in password):
            missing.append(_("符号"))
        if missing:
            raise ValidationError(
                _("密码须同时包含字母、数字和符号，缺少：%(missing)s。") % {"missing": "、".join(missing)},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        """Shown beside the new-password field."""
        return _("密码须同时包含字母、数字和符号。")
