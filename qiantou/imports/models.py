"""The upload kept on the server between the import steps (preview, unit choices, confirm)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    """An unguessable id for the upload's URLs."""
    return secrets.token_urlsafe(24)


class ImportUpload(models.Model):
    """A plan file uploaded for import, until it is confirmed or cancelled (then deleted).

    ``preview`` is the parsed plan with every unit name resolved (what the preview page shows);
    ``choices`` maps printed unit names to the directory unit ids the user picked. ``plan`` is the
    draft plan the import will replace, if any. Uploads older than a day are purged.
    """

    token = models.CharField(max_length=48, unique=True, default=new_token, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(_("文件名"), max_length=255)
    data = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    plan = models.ForeignKey(
        "plans.Plan",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("重新导入的方案"),
    )
    preview = models.JSONField(default=dict)
    choices = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("待确认的导入")
        verbose_name_plural = _("待确认的导入")

    def __str__(self) -> str:
        return self.filename
