"""Task-division plans (分工方案), their frozen versions and their tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    """A plan's life: draft → consulting → approving → issued → closed."""

    DRAFT = "draft", _("草稿")
    CONSULTING = "consulting", _("征求意见中")
    APPROVING = "approving", _("签批中")
    ISSUED = "issued", _("已印发")
    CLOSED = "closed", _("已办结")


class Plan(models.Model):
    """A task-division plan. ``lock_version`` guards against lost updates (optimistic locking)."""

    title = models.CharField(_("标题"), max_length=255)
    doc_number = models.CharField(_("文号"), max_length=64, blank=True)
    issuing_unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="issued_plans",
        verbose_name=_("发文单位"),
    )
    lead_unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="led_plans", verbose_name=_("牵头单位"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    lead_rule = models.TextField(_("牵头规则"), blank=True)
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]  # noqa: RUF012 (Django reads a list; a tuple would be a migration)
        verbose_name = _("分工方案")
        verbose_name_plural = _("分工方案")

    def __str__(self) -> str:
        return self.title


class PlanVersion(models.Model):
    """A frozen snapshot of a plan: ``snapshot`` is ``{"plan": {...}, "tasks": [task dicts]}``."""

    class Reason(models.TextChoices):
        CIRCULATED = "circulated", _("征求意见稿")
        REVISED = "revised", _("修改稿")
        APPROVED = "approved", _("签批稿")
        ISSUED = "issued", _("印发稿")

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    snapshot = models.JSONField()
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "number"]  # noqa: RUF012 (Django reads a list; a tuple would be a migration)
        constraints = (models.UniqueConstraint(fields=["plan", "number"], name="planversion_unique_number"),)

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class DeadlineKind(models.TextChoices):
    """How a deadline reads: a date, a range, a recurring rule, open-ended, relative to an event, or none."""

    DATE = "date", _("日期")
    RANGE = "range", _("时段")
    RECURRING = "recurring", _("周期")
    OPEN_ENDED = "open_ended", _("持续")
    RELATIVE = "relative", _("相对")
    NONE = "none", _("无")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("办理中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


class Task(models.Model):
    """One numbered item of a plan. ``path`` is the dotted position in the numbering tree ("2.1.3")."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    no = models.CharField(_("序号"), max_length=32, blank=True)
    path = models.CharField(max_length=128, blank=True)
    position = models.PositiveIntegerField(default=0)
    text = models.TextField(_("任务内容"))
    deadline_text = models.CharField(_("完成时限（原文）"), max_length=255, blank=True)
    deadline_kind = models.CharField(_("时限类型"), max_length=16, choices=DeadlineKind.choices,
                                     default=DeadlineKind.NONE)
    deadline = models.DateField(_("完成时限"), null=True, blank=True, db_index=True)
    deadline_end = models.DateField(null=True, blank=True)
    deadline_rule = models.JSONField(default=dict, blank=True)
    deliverables = models.TextField(_("成果形式"), blank=True)
    acceptance_standard = models.TextField(_("验收标准"), blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2, default=1)
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN,
                              db_index=True)
    restricted = models.BooleanField(_("涉密/受限"), default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)
    units = models.ManyToManyField("units.Unit", through="TaskUnit", related_name="tasks")

    class Meta:
        ordering = ["plan", "position"]  # noqa: RUF012 (Django reads a list; a tuple would be a migration)
        indexes = (
            models.Index(fields=["plan", "position"]),
            models.Index(fields=["status", "deadline"]),
            # Few tasks are restricted; the visibility check starts from them (bench/api_tasks.py).
            models.Index(fields=["plan"], condition=models.Q(restricted=True), name="task_restricted_plan"),
        )
        verbose_name = _("任务")
        verbose_name_plural = _("任务")

    def __str__(self) -> str:
        return f"{self.no} {self.text[:30]}"


class TaskUnitRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")
    COOPERATING = "cooperating", _("配合单位")
    GENERIC = "generic", _("其他有关单位")


class Resolution(models.TextChoices):
    MATCHED = "matched", _("已匹配")
    GROUP = "group", _("集合主体")
    GENERIC = "generic", _("泛指")
    UNKNOWN = "unknown", _("未匹配单位")


def _fill_plan(rows: Iterable[TaskUnit]) -> None:
    """Set ``plan_id`` from the task on rows that lack it (one query for the tasks not loaded)."""
    missing = [row for row in rows if row.plan_id is None]
    unloaded = {row.task_id for row in missing if not TaskUnit.task.is_cached(row)}
    plan_of = dict(Task.objects.filter(pk__in=unloaded).values_list("pk", "plan_id")) if unloaded else {}
    for row in missing:
        plan_id = row.task.plan_id if TaskUnit.task.is_cached(row) else plan_of.get(row.task_id)
        if plan_id is not None:  # else the missing task fails the insert itself
            row.plan_id = plan_id


class TaskUnitManager(models.Manager["TaskUnit"]):
    def bulk_create(self, objs: Iterable[TaskUnit], *args: Any, **kwargs: Any) -> list[TaskUnit]:
        """``bulk_create`` that fills each row's ``plan_id`` from its task, as :meth:`TaskUnit.save` does."""
        objs = list(objs)
        _fill_plan(objs)
        return super().bulk_create(objs, *args, **kwargs)


class TaskUnit(models.Model):
    """A unit named on a task, in printed order; ``unit`` is null while the printed name is unresolved.

    ``plan`` repeats the task's plan (a task never changes plan; filled from the task on save and
    bulk create) so that "the plans naming my unit", which every unit member's list starts from, is
    one index range (``taskunit_unit_plan``) instead of a lookup per named task.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_units")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="task_units")
    role = models.CharField(max_length=16, choices=TaskUnitRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    printed_name = models.CharField(max_length=128, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, default=Resolution.MATCHED)
    confidence = models.FloatField(default=1.0)

    objects = TaskUnitManager()

    class Meta:
        ordering = ["task", "role", "position"]  # noqa: RUF012 (Django reads a list; a tuple would be a migration)
        indexes = (
            models.Index(fields=["unit", "role"]),
            # Covering index for "tasks/plans naming my unit" (visibility and the unit filter).
            models.Index(fields=["unit", "task"], name="taskunit_unit_task"),
            models.Index(fields=["unit", "plan"], name="taskunit_unit_plan"),
        )

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.unit or self.printed_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.plan_id is None and self.task_id is not None:
            _fill_plan([self])
        super().save(*args, **kwargs)
