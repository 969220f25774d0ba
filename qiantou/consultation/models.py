"""Consultation rounds (征求意见) on a circulated plan version, the units consulted and their comments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RoundStatus(models.TextChoices):
    """A round is open for comments until it is closed (by the handler or on its closing date)."""

    OPEN = "open", _("征求意见中")
    CLOSED = "closed", _("已截止")


class ConsultationRound(models.Model):
    """One circulation of a frozen plan version to the units consulted, until ``closes_on``."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="consultation_rounds")
    version = models.ForeignKey(
        "plans.PlanVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("征求意见稿")
    )
    number = models.PositiveIntegerField(_("轮次"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    closes_on = models.DateField(_("反馈截止日期"))
    working_days = models.PositiveSmallIntegerField(_("工作日数"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = (
            "plan",
            "number",
        )
        constraints = (models.UniqueConstraint(fields=["plan", "number"], name="round_unique_number"),)
        verbose_name = _("征求意见轮次")
        verbose_name_plural = _("征求意见轮次")

    def __str__(self) -> str:
        return f"{self.plan} 第{self.number}轮征求意见"

    @property
    def closed_early(self) -> bool:
        """True when the round was closed on or before its closing date (``closes_on`` is the last day
        units may answer, in Asia/Shanghai): the units that had not answered were not late."""
        return self.closed_at is not None and timezone.localtime(self.closed_at).date() <= self.closes_on


class Response(models.TextChoices):
    """How a consulted unit answered: not yet, with comments, no objection, or silent (counted as none)."""

    PENDING = "pending", _("未反馈")
    COMMENTED = "commented", _("已提意见")
    NO_OBJECTION = "no_objection", _("无意见")
    SILENT = "silent", _("逾期未反馈，视为无意见")


#: How a silent unit is shown when the round was closed before its closing date (it was not late).
#: The stored value stays ``silent``; the label depends on the round (``ConsultationRound.closed_early``).
SILENT_EARLY_LABEL = _("提前截止时未反馈，视为无意见")


class ConsultedUnit(models.Model):
    """A unit asked for comments in a round, and its answer."""

    round = models.ForeignKey(ConsultationRound, on_delete=models.CASCADE, related_name="consulted")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    response = models.CharField(
        _("反馈情况"), max_length=16, choices=Response.choices, default=Response.PENDING
    )
    responded_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = (
            "round",
            "position",
            "id",
        )
        constraints = (models.UniqueConstraint(fields=["round", "unit"], name="consulted_unique_unit"),)

    def __str__(self) -> str:
        return f"{self.unit}: {self.get_response_display()}"

    @property
    def response_label(self) -> str:
        """The answer as shown: a silent unit of a round closed early is "提前截止时未反馈", not "逾期"."""
        if self.response == Response.SILENT and self.round.closed_early:
            return str(SILENT_EARLY_LABEL)
        return str(self.get_response_display())


class Disposition(models.TextChoices):
    """The lead unit's answer to a comment (采纳情况)."""

    PENDING = "", _("待处理")
    ADOPTED = "adopted", _("采纳")
    PARTLY_ADOPTED = "partly_adopted", _("部分采纳")
    NOT_ADOPTED = "not_adopted", _("不予采纳")


#: Dispositions that need a reason (issue 4: "a reason is required for partly and not adopted").
REASON_REQUIRED = frozenset({Disposition.PARTLY_ADOPTED, Disposition.NOT_ADOPTED})


class Comment(models.Model):
    """One unit's comment on a task of the circulated version (``task`` null: on the whole plan).

    ``task_no`` and ``task_text`` keep the task as circulated, so the statement reads right even after
    the task changed or was deleted. ``lock_version`` guards the disposition (optimistic locking).
    """

    round = models.ForeignKey(ConsultationRound, on_delete=models.PROTECT, related_name="comments")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey("plans.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task_ref = models.BigIntegerField(null=True, blank=True)
    task_no = models.CharField(_("任务序号"), max_length=32, blank=True)
    task_text = models.TextField(_("任务内容"), blank=True)
    body = models.TextField(_("意见内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    disposition = models.CharField(
        _("采纳情况"), max_length=16, choices=Disposition.choices, blank=True, default=Disposition.PENDING
    )
    reason = models.TextField(_("理由"), blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disposed_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = (
            "round",
            "id",
        )
        verbose_name = _("反馈意见")
        verbose_name_plural = _("反馈意见")

    def __str__(self) -> str:
        return f"{self.unit}: {self.body[:30]}"

    @property
    def on_whole_plan(self) -> bool:
        """True when the comment concerns the plan as a whole rather than one task."""
        return self.task_ref is None
