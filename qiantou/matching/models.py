"""Data-check runs. The personal data never enters the database: only counts, the run id and the
sealed files' locations; round files, results and the requester's secret state are sealed at rest
(see ``vault.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Side(models.TextChoices):
    """Which side of the check this installation played."""

    REQUESTER = "requester", _("发起方（持有名册）")
    RESPONDER = "responder", _("答复方（持有登记库）")


class RunStatus(models.TextChoices):
    REQUESTED = "requested", _("已发出请求")
    RESPONDED = "responded", _("已答复")
    FINISHED = "finished", _("已完成")


class MatchRun(models.Model):
    """One side's record of one data check (``run_id`` is shared by both installations)."""

    run_id = models.CharField(_("比对编号"), max_length=32)
    side = models.CharField(_("角色"), max_length=16, choices=Side.choices)
    status = models.CharField(_("状态"), max_length=16, choices=RunStatus.choices)
    mode = models.CharField(_("模式"), max_length=8, default="oprf")
    unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("单位"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    peer_signer = models.CharField(_("对方签名公钥"), max_length=64, blank=True)
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (models.UniqueConstraint(fields=("run_id", "side"), name="matchrun_unique_side"),)
        verbose_name = _("数据比对")
        verbose_name_plural = _("数据比对")

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.run_id}"
