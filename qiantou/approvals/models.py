"""Sign-off (签批): the approvers configured per plan, each request for sign-off and its ordered steps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanApprover(models.Model):
    """One place in a plan's sign-off chain, by ``position`` (default: leader in charge, principal)."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="approvers")
    position = models.PositiveSmallIntegerField(default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("签批人")
    )

    class Meta:
        ordering = (
            "plan",
            "position",
            "id",
        )
        constraints = (models.UniqueConstraint(fields=["plan", "position"], name="approver_unique_position"),)

    def __str__(self) -> str:
        return f"{self.plan} #{self.position}: {self.user}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("签批中")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已签批")
    ISSUED = "issued", _("已印发")


class ApprovalRequest(models.Model):
    """A plan version sent for sign-off. ``current_position`` is the step whose approver may act now.

    After the last approval the version is the approved one; issuing records the document number,
    the main recipients (主送机关) and the issuing date used on the official document.
    """

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="approval_requests")
    version = models.ForeignKey(
        "plans.PlanVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("送签版本")
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    current_position = models.PositiveSmallIntegerField(default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    doc_number = models.CharField(_("文号"), max_length=64, blank=True)
    main_recipients = models.TextField(_("主送机关"), blank=True)
    body = models.TextField(_("正文"), blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = (
            "plan",
            "-submitted_at",
            "-id",
        )
        verbose_name = _("签批")
        verbose_name_plural = _("签批")

    def __str__(self) -> str:
        return f"{self.plan} v{self.version.number} {self.get_status_display()}"


class Decision(models.TextChoices):
    PENDING = "pending", _("待签批")
    APPROVED = "approved", _("同意")
    RETURNED = "returned", _("退回")
    SKIPPED = "skipped", _("未到达")


class ApprovalStep(models.Model):
    """One approver's place in a request: approve or return with remarks (意见)."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, blank=True)
    decision = models.CharField(
        _("签批意见"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    remarks = models.TextField(_("批示"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = (
            "request",
            "position",
        )
        constraints = (models.UniqueConstraint(fields=["request", "position"], name="step_unique_position"),)

    def __str__(self) -> str:
        return f"{self.approver}: {self.get_decision_display()}"
