"""People: a user belongs to one unit and holds one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user does in Qiantou. Business roles and the three administrator roles (三员) are apart."""

    HANDLER = "handler", _("经办人")
    LIAISON = "liaison", _("联络员")
    UNIT_HEAD = "unit_head", _("单位负责人")
    LEADER_IN_CHARGE = "leader_in_charge", _("分管领导")
    PRINCIPAL = "principal", _("主要负责人")
    SUPERVISION_OFFICE = "supervision_office", _("督查室")
    AUDITOR = "auditor", _("审计/巡察（只读）")
    DATA_OFFICER = "data_officer", _("数据核对专员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    SECURITY_AUDITOR = "security_auditor", _("安全审计员")


ADMINISTRATOR_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR})


class User(AbstractUser):
    """A person using Qiantou; ``unit`` scopes what they may see, ``role`` what they may do."""

    unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("单位"),
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.HANDLER)
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    must_change_password = models.BooleanField(_("须修改初始密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the token is stored; it is shown once.

    Tokens are 256-bit random strings, so a fast hash is enough (no password stretching needed).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    name = models.CharField(_("用途"), max_length=64, blank=True)
    prefix = models.CharField(_("令牌前缀"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 访问令牌")
        verbose_name_plural = _("API 访问令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
