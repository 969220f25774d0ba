"""Chasing (催办): the working-day calendar table, chase items and their reminder ladder, material
requests, progress-report cycles, difficulty and extension requests.

Every thing a unit owes by a date — its part of a task, a material request, a period's progress report —
has one :class:`ChaseItem`. The item carries the scheduling datum ``next_remind_at`` (the next rung's
fire time) that the scheduler claims with a compare-and-set update; each rung that fires leaves one
:class:`Reminder` (unique per item and rung).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# --- The official calendar ------------------------------------------------------------------------


class HolidayYear(models.Model):
    """A year whose holiday schedule is loaded; a year without a row is "not loaded"."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    source = models.CharField(_("来源"), max_length=128, blank=True)
    note = models.TextField(_("说明"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ("year",)
        verbose_name = _("节假日安排（年度）")
        verbose_name_plural = _("节假日安排（年度）")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that differs from the Monday–Friday rule: a holiday, or an adjusted working day (调休)."""

    year = models.ForeignKey(HolidayYear, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("上班"), help_text=_("勾选：调休上班日；不勾选：放假"))
    name = models.CharField(_("名称"), max_length=64, blank=True)

    class Meta:
        ordering = ("date",)
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_working_day else '放假'} {self.name}"


# --- The reminder ladder ----------------------------------------------------------------------------


class RecipientRole(models.TextChoices):
    """Who a rung goes to, relative to the item's unit and plan."""

    LIAISON = "liaison", _("联络员")
    UNIT_HEAD = "unit_head", _("单位负责人")
    LEADER_IN_CHARGE = "leader_in_charge", _("分管领导")
    SUPERVISION_OFFICE = "supervision_office", _("督查室")
    HANDLER = "handler", _("牵头单位经办人")


class ReminderLadder(models.Model):
    """A plan's reminder ladder. ``rungs``: ``[{"key", "label", "offset", "recipients"}]``.

    ``offset`` counts working days from the due date (negative: before it; 0: the due day, moved to the
    next working day when it is a holiday). Rungs fire at ``send_time`` (Asia/Shanghai).
    """

    plan = models.OneToOneField("plans.Plan", on_delete=models.CASCADE, related_name="reminder_ladder")
    rungs = models.JSONField(_("催办阶梯"))
    send_time = models.TimeField(_("发送时间"), default=dt.time(9, 0))
    warning_working_days = models.PositiveSmallIntegerField(_("黄灯提前工作日数"), default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("催办阶梯")
        verbose_name_plural = _("催办阶梯")

    def __str__(self) -> str:
        return f"{self.plan}"


# --- Chase items and reminders ------------------------------------------------------------------------


class ItemKind(models.TextChoices):
    TASK = "task", _("任务")
    MATERIAL_REQUEST = "material_request", _("材料报送")
    REPORT_REQUEST = "report_request", _("进展报送")


class ItemState(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


class ChaseItem(models.Model):
    """Something one unit owes by a date. ``next_remind_at`` is null when nothing more will fire."""

    kind = models.CharField(_("类型"), max_length=24, choices=ItemKind.choices)
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="chase_items")
    task = models.ForeignKey(
        "plans.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="chase_items"
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="chase_items", verbose_name=_("责任单位")
    )
    title = models.CharField(_("事项"), max_length=255)
    due_date = models.DateField(_("截止日期"))
    restricted = models.BooleanField(default=False)
    state = models.CharField(_("状态"), max_length=16, choices=ItemState.choices, default=ItemState.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    due_overridden = models.BooleanField(
        default=False, help_text="an extension moved the due date off the task's"
    )
    next_remind_at = models.DateTimeField(null=True, blank=True)
    next_rung = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("due_date", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["task", "unit"], condition=Q(kind="task"), name="chaseitem_unique_task_unit"
            ),
        )
        indexes = (
            models.Index(fields=["next_remind_at"], name="chaseitem_next_remind_idx"),
            models.Index(fields=["unit", "state", "due_date"], name="chaseitem_unit_state_due"),
            models.Index(fields=["plan", "state"], name="chaseitem_plan_state"),
        )
        verbose_name = _("催办事项")
        verbose_name_plural = _("催办事项")

    def __str__(self) -> str:
        return f"{self.title} — {self.unit_id} — {self.due_date}"


class Reminder(models.Model):
    """One rung that fired for one item (at most once: unique on item and rung).

    ``next_dispatch_at`` is the scheduling datum for fanning the reminder out into notifications (claimed
    with compare-and-set like the items); null once dispatched.
    """

    item = models.ForeignKey(ChaseItem, on_delete=models.CASCADE, related_name="reminders")
    rung = models.CharField(_("阶梯"), max_length=32)
    rung_index = models.PositiveSmallIntegerField()
    label = models.CharField(_("名称"), max_length=64)
    recipient_roles = models.JSONField(default=list)
    due_date = models.DateField(_("截止日期"))
    scheduled_for = models.DateTimeField(_("计划发送时间"))
    fired_at = models.DateTimeField(_("触发时间"))
    next_dispatch_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    cancelled = models.BooleanField(_("已取消"), default=False, help_text=_("事项在发出前已完成，未再催办"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("item", "rung_index")
        constraints = (models.UniqueConstraint(fields=["item", "rung"], name="reminder_unique_item_rung"),)
        indexes = (models.Index(fields=["next_dispatch_at"], name="reminder_next_dispatch_idx"),)
        verbose_name = _("催办记录")
        verbose_name_plural = _("催办记录")

    def __str__(self) -> str:
        return f"{self.label} #{self.item_id}"


# --- Material requests ------------------------------------------------------------------------------


class MaterialStatus(models.TextChoices):
    OPEN = "open", _("待报送")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已采用")
    CANCELLED = "cancelled", _("已撤销")


class MaterialRequest(models.Model):
    """催交材料: the lead unit asks one unit for documents or data by a date."""

    item = models.OneToOneField(ChaseItem, on_delete=models.CASCADE, related_name="material_request")
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="material_requests")
    task = models.ForeignKey(
        "plans.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="material_requests"
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="material_requests", verbose_name=_("报送单位")
    )
    title = models.CharField(_("材料名称"), max_length=255)
    description = models.TextField(_("要求"), blank=True)
    issued_on = models.DateField(_("发出日期"))
    due_working_days = models.PositiveSmallIntegerField(_("工作日数"), null=True, blank=True)
    due_date = models.DateField(_("截止日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=MaterialStatus.choices, default=MaterialStatus.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("材料报送要求")
        verbose_name_plural = _("材料报送要求")

    def __str__(self) -> str:
        return self.title


class Decision(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACCEPTED = "accepted", _("采用")
    RETURNED = "returned", _("退回")


class MaterialSubmission(models.Model):
    """One hand-in for a material request: text and/or files, and the handler's decision."""

    request = models.ForeignKey(MaterialRequest, on_delete=models.CASCADE, related_name="submissions")
    text = models.TextField(_("说明"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("报送时间"))
    decision = models.CharField(_("审核"), max_length=16, choices=Decision.choices, default=Decision.PENDING)
    reason = models.TextField(_("退回理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("request", "submitted_at", "id")

    def __str__(self) -> str:
        return f"{self.request_id}@{self.submitted_at:%Y-%m-%d %H:%M}"


# --- Progress reporting cycles --------------------------------------------------------------------------


class ReportCycle(models.Model):
    """进展报送: a recurring rule for a plan or a task, creating one request per unit per period.

    ``rule`` is a :class:`qiantou.workdays.RecurrenceRule` as a dict. Requests for a period are created
    ``lead_working_days`` working days before its due date; ``next_generate_at`` is the scheduling datum.
    """

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="report_cycles")
    task = models.ForeignKey(
        "plans.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="report_cycles"
    )
    title = models.CharField(_("名称"), max_length=255)
    rule = models.JSONField(_("周期规则"))
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    lead_working_days = models.PositiveSmallIntegerField(_("提前发起工作日数"), default=5)
    generate_from = models.DateField(
        _("自此日起生成"),
        null=True,
        blank=True,
        help_text=_("截止日期早于此日（设置周期的当天）的期次不生成报送要求"),
    )
    active = models.BooleanField(default=True)
    next_generate_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("plan", "id")
        indexes = (models.Index(fields=["next_generate_at"], name="reportcycle_next_gen_idx"),)
        verbose_name = _("报送周期")
        verbose_name_plural = _("报送周期")

    def __str__(self) -> str:
        return self.title


class ReportRequest(models.Model):
    """One unit's report for one period of a cycle (exactly one: unique on cycle, unit, period)."""

    item = models.OneToOneField(ChaseItem, on_delete=models.CASCADE, related_name="report_request")
    cycle = models.ForeignKey(ReportCycle, on_delete=models.CASCADE, related_name="requests")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="report_requests")
    period = models.CharField(_("期次"), max_length=16)
    due_date = models.DateField(_("截止日期"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("cycle", "due_date", "unit")
        constraints = (
            models.UniqueConstraint(fields=["cycle", "unit", "period"], name="reportrequest_unique_period"),
        )

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.unit_id}/{self.period}"


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未启动")
    ON_TRACK = "on_track", _("正常推进")
    AT_RISK = "at_risk", _("存在风险")
    DONE = "done", _("已完成")


class ProgressReport(models.Model):
    """A unit's report for a period: status, progress text, figures (name → value) and attachments."""

    request = models.ForeignKey(ReportRequest, on_delete=models.CASCADE, related_name="reports")
    status = models.CharField(_("进展状态"), max_length=16, choices=ProgressStatus.choices)
    text = models.TextField(_("进展情况"))
    figures = models.JSONField(_("数据"), default=dict, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ("request", "submitted_at", "id")

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"


class Attachment(models.Model):
    """An uploaded file (type sniffed from its content) on a material submission or a progress report."""

    submission = models.ForeignKey(
        MaterialSubmission, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    report = models.ForeignKey(
        ProgressReport, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="chasing/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    kind = models.CharField(_("文件类型"), max_length=32)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.CheckConstraint(
                condition=Q(submission__isnull=False, report__isnull=True)
                | Q(submission__isnull=True, report__isnull=False),
                name="attachment_one_owner",
            ),
        )

    def __str__(self) -> str:
        return self.original_name


# --- Difficulty and extension requests ----------------------------------------------------------------


class PetitionKind(models.TextChoices):
    DIFFICULTY = "difficulty", _("困难反映")
    EXTENSION = "extension", _("延期申请")


class PetitionStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    ESCALATED = "escalated", _("已提请分管领导")
    GRANTED = "granted", _("同意")
    REFUSED = "refused", _("不同意")
    RESOLVED = "resolved", _("已协调解决")


class Petition(models.Model):
    """A cooperating unit's 困难反映 or 延期申请 on a chase item, and the lead unit's decision."""

    kind = models.CharField(_("类型"), max_length=16, choices=PetitionKind.choices)
    item = models.ForeignKey(ChaseItem, on_delete=models.CASCADE, related_name="petitions")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="petitions")
    reason = models.TextField(_("理由"))
    requested_due_date = models.DateField(_("申请延至"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PetitionStatus.choices, default=PetitionStatus.PENDING
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    decision_note = models.TextField(_("处理意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    granted_due_date = models.DateField(_("同意延至"), null=True, blank=True)

    class Meta:
        ordering = ("-raised_at", "-id")
        verbose_name = _("困难反映/延期申请")
        verbose_name_plural = _("困难反映/延期申请")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
