"""The unit directory (单位): a tree of government bodies with names, aliases and mandates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    """Kinds of unit; ``group`` is a collective party such as 市级各有关部门, never one unit."""

    GOVERNMENT = "government", _("政府/党委")
    BUREAU = "bureau", _("部门")
    DISTRICT = "district", _("县（市、区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    OFFICE = "office", _("办公室/机构")
    DIVISION = "division", _("处室/科室")
    ENTERPRISE = "enterprise", _("企业/事业单位")
    GROUP = "group", _("集合主体")


class Unit(models.Model):
    """One organisation. ``short_names`` and ``former_names`` are lists of strings."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("全称"), max_length=128)
    short_names = models.JSONField(_("简称/别名"), default=list, blank=True)
    former_names = models.JSONField(_("曾用名"), default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("上级单位"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices, default=UnitKind.BUREAU)
    mandate = models.TextField(_("职责（三定）"), blank=True)
    active = models.BooleanField(_("有效"), default=True)
    # Bumped by every write; the resolver cache compares (count, max(updated_at)) to notice changes
    # made by other processes.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]  # noqa: RUF012 (Django reads it; a tuple would be a new migration)
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        """The first short name, else the full name (for tables)."""
        return self.short_names[0] if self.short_names else self.name

    @property
    def is_group(self) -> bool:
        """True for a collective party (市级各有关部门), which is never expanded into units."""
        return self.kind == UnitKind.GROUP
