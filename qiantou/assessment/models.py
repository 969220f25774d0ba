"""Assessment (考核): scoring rules, quality ratings, manual bonus/penalty items, circular drafts, and the
progress notes that come back from an imported ledger (台账).

Scores themselves are never stored: :mod:`qiantou.assessment.scoring` computes them from the record
(chase items, reminders, submissions, petitions, ratings, adjustments) every time they are read, so a
change of the rules recomputes every scorecard at once.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

#: The criteria of the scoring rules and their default weights (percent).
CRITERIA = ("timeliness", "completeness", "quality", "cooperation")
DEFAULT_WEIGHTS: dict[str, int] = {"timeliness": 40, "completeness": 30, "quality": 20, "cooperation": 10}
#: Parameters of the criteria (see ``scoring.py`` for how each is used).
DEFAULT_PARAMETERS: dict[str, int] = {
    "late_penalty_per_working_day": 10,  # timeliness: points off an item per working day late
    "extension_penalty": 5,  # cooperation: points off per extension request
    "difficulty_resolved_bonus": 2,  # cooperation: points on per difficulty raised and resolved
}


class ScoringRules(models.Model):
    """考核细则: weights of the criteria and their parameters, for one plan or (plan empty) for every plan
    the leading group oversees. ``version`` grows with every change (scorecards name the version)."""

    name = models.CharField(_("名称"), max_length=128)
    leading_group = models.CharField(_("领导小组"), max_length=128, blank=True)
    plan = models.ForeignKey(
        "plans.Plan",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scoring_rules",
        verbose_name=_("分工方案"),
        help_text=_("留空：适用于全部方案"),
    )
    weights = models.JSONField(_("权重"), default=dict)
    parameters = models.JSONField(_("参数"), default=dict)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at", "-id")
        verbose_name = _("考核细则")
        verbose_name_plural = _("考核细则")

    def __str__(self) -> str:
        return self.name


class QualityRating(models.Model):
    """The lead unit's 1–5 quality rating of one accepted material submission or progress report."""

    submission = models.OneToOneField(
        "chasing.MaterialSubmission",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quality_rating",
    )
    report = models.OneToOneField(
        "chasing.ProgressReport",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quality_rating",
    )
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    rating = models.PositiveSmallIntegerField(
        _("质量评分"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("评语"))
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField()

    class Meta:
        ordering = ("-rated_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=Q(submission__isnull=False, report__isnull=True)
                | Q(submission__isnull=True, report__isnull=False),
                name="qualityrating_one_target",
            ),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="qualityrating_1_to_5"),
        )
        verbose_name = _("质量评分")
        verbose_name_plural = _("质量评分")

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.rating}"


class ScoreAdjustment(models.Model):
    """A manual bonus (positive points) or penalty (negative) for a unit on a date, with its reason."""

    rules = models.ForeignKey(ScoringRules, on_delete=models.CASCADE, related_name="adjustments")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    on_date = models.DateField(_("日期"))
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("理由"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("on_date", "id")
        verbose_name = _("加减分")
        verbose_name_plural = _("加减分")

    def __str__(self) -> str:
        return f"{self.unit_id} {self.points:+}"

    @property
    def is_bonus(self) -> bool:
        """True for a bonus (加分), False for a penalty (减分)."""
        return self.points >= Decimal(0)


class CircularStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SENT = "sent", _("已印发")


class CircularDraft(models.Model):
    """通报 draft for the leading group office: generated from a scorecard, edited, then sent (frozen)."""

    rules = models.ForeignKey(ScoringRules, on_delete=models.PROTECT, related_name="circulars")
    period_start = models.DateField(_("起"))
    period_end = models.DateField(_("止"))
    authority = models.CharField(_("发文机关标志"), max_length=128)
    doc_number = models.CharField(_("发文字号"), max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=255)
    main_recipients = models.CharField(_("主送机关"), max_length=255, blank=True)
    body = models.TextField(_("正文"), help_text=_("每段一行"))
    signatory = models.CharField(_("落款"), max_length=128)
    status = models.CharField(
        _("状态"), max_length=16, choices=CircularStatus.choices, default=CircularStatus.DRAFT
    )
    figures = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("通报")
        verbose_name_plural = _("通报")

    def __str__(self) -> str:
        return self.title


class LedgerProgress(models.Model):
    """A progress note on a task, written back from an imported ledger's 最新进展 column."""

    task = models.ForeignKey("plans.Task", on_delete=models.CASCADE, related_name="ledger_progress")
    text = models.TextField(_("进展情况"))
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    row = models.PositiveIntegerField(_("行号"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("task", "-recorded_at", "-id")
        indexes = (models.Index(fields=["task", "recorded_at"], name="ledgerprogress_task_time"),)
        verbose_name = _("台账进展")
        verbose_name_plural = _("台账进展")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.text[:20]}"
