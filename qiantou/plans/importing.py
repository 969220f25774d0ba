"""Importing a published plan file as a draft plan (issue 3): read, parse, resolve units, store atomically.

:func:`plan_import` is the one write path used by ``qiantou import`` (and by the web upload once the
preview is confirmed). Every unit name goes through the unit-name resolver and is stored with its
printed name, resolution (matched / group / generic / unknown) and confidence; an unknown name is
kept unresolved (``TaskUnit.unit`` null), never dropped and never guessed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qiantou.audit.services import audit_record
from qiantou.planparse.document import ParsedPlan, ParsedTask
from qiantou.planparse.parser import PlanParser
from qiantou.planparse.readers import read_document
from qiantou.plans.models import Plan, Resolution, Task
from qiantou.plans.services import NamedUnit, plan_create, task_create
from qiantou.units.models import Unit
from qiantou.units.resolver import Resolution as NameResolution
from qiantou.units.resolver import UnitResolver, get_resolver

__all__ = ["ImportPreview", "plan_import", "plan_import_preview"]

_KIND_TO_RESOLUTION = {
    "unit": Resolution.MATCHED,
    "group": Resolution.GROUP,
    "generic": Resolution.GENERIC,
    "unknown": Resolution.UNKNOWN,
}
# The plans service computes these two itself (lead_warnings); the parser's own copies are dropped.
_SERVICE_WARNINGS = ("several_leads", "no_lead")


@dataclass
class ImportPreview:
    """A parsed plan with every unit name resolved: what the import would store, before it does."""

    plan: ParsedPlan
    aliases: dict[str, str]
    resolutions: dict[str, NameResolution] = field(default_factory=dict)

    @property
    def unknown_names(self) -> list[str]:
        """Printed names the directory does not know, in first-seen order."""
        return [n for n, r in self.resolutions.items() if r.kind == "unknown"]


def _resolve(resolver: UnitResolver, name: str, aliases: dict[str, str]) -> NameResolution:
    """Resolve a printed name; an alias the document defined (以下统称…) resolves as its full name."""
    found = resolver.resolve(name)
    if found.kind == "unknown" and name in aliases:
        full = resolver.resolve(aliases[name])
        if full.kind != "unknown":
            return NameResolution(
                printed=name,
                normalized=found.normalized,
                kind=full.kind,
                method=full.method,
                confidence=full.confidence,
                unit_code=full.unit_code,
                unit_id=full.unit_id,
                unit_name=full.unit_name,
                candidates=full.candidates,
            )
    return found


def plan_import_preview(
    *, data: bytes, filename: str, year: int | None = None, resolver: UnitResolver | None = None
) -> ImportPreview:
    """Read and parse a plan file and resolve its unit names; stores nothing.

    Raises :class:`~qiantou.planparse.document.PlanFileError` for a file that cannot be read.
    """
    parser = PlanParser(read_document(data, filename), year=year)
    plan = parser.parse()
    preview = ImportPreview(plan=plan, aliases=dict(parser.aliases))
    resolver = resolver or get_resolver()
    for task in plan.tasks:
        for name in task.lead_units + task.cooperating_units + task.generic_units:
            if name not in preview.resolutions:
                preview.resolutions[name] = _resolve(resolver, name, preview.aliases)
    return preview


def _named(resolution: NameResolution, units: dict[int, Unit]) -> NamedUnit:
    unit = units.get(resolution.unit_id) if resolution.unit_id is not None else None
    kind = resolution.kind if unit is not None or resolution.kind in ("generic", "unknown") else "unknown"
    return NamedUnit(
        unit=unit,
        printed_name=resolution.printed[:128],
        resolution=_KIND_TO_RESOLUTION[kind],
        confidence=resolution.confidence,
    )


def _unit_warnings(task: ParsedTask, resolutions: dict[str, NameResolution]) -> list[str]:
    out = [w for w in task.warnings if not w.startswith(_SERVICE_WARNINGS)]
    for name in task.lead_units + task.cooperating_units:
        r = resolutions[name]
        if r.kind == "unknown":
            hint = "、".join(c.name for c in r.candidates[:3])
            out.append(
                _("未匹配单位：“%(name)s”不在单位目录中%(hint)s")
                % {"name": name, "hint": _("，相近的有：%s") % hint if hint else ""}
            )
        elif r.method == "fuzzy":
            out.append(
                _("单位名称近似匹配：“%(name)s”→%(unit)s（置信度%(c).2f），请核对")
                % {"name": name, "unit": r.unit_name, "c": r.confidence}
            )
    return out


def _choose_lead_unit(actor: Any, lead_unit: Unit | str | None, preview: ImportPreview) -> Unit:
    if isinstance(lead_unit, Unit):
        return lead_unit
    if isinstance(lead_unit, str) and lead_unit:
        try:
            return Unit.objects.get(code=lead_unit)
        except Unit.DoesNotExist:
            raise ValidationError(_("单位编码 %(code)s 不存在。") % {"code": lead_unit}) from None
    if actor is not None and getattr(actor, "unit", None) is not None:
        return actor.unit  # type: ignore[no-any-return]
    # The system importing without a lead unit: the unit that leads most tasks.
    counts: Counter[int] = Counter()
    for t in preview.plan.tasks:
        for n in t.lead_units:
            r = preview.resolutions[n]
            if r.kind == "unit" and r.unit_id is not None:
                counts[r.unit_id] += 1
    if counts:
        unit = Unit.objects.filter(pk=counts.most_common(1)[0][0]).first()
        if unit is not None:
            return unit
    raise ValidationError(_("无法确定方案的牵头单位，请指定牵头单位。"))


def plan_import(
    *,
    actor: Any,
    data: bytes,
    filename: str,
    year: int | None = None,
    lead_unit: Unit | str | None = None,
    resolver: UnitResolver | None = None,
) -> Plan:
    """Import a published plan file as a draft :class:`Plan` with its tasks and units, atomically.

    ``lead_unit`` is a :class:`Unit` or a unit code (default: the actor's unit, else — for the system —
    the unit leading most tasks). ``year`` resolves dates printed without a year (default: read from
    the document). Records ``plan.import`` (plus the usual ``plan.create``/``task.create``) in the
    accountability record. Raises :class:`~qiantou.planparse.document.PlanFileError` (unreadable file),
    ``ValidationError`` (no tasks found, unknown lead unit code) or ``PermissionDenied`` (the actor may
    not create plans for that unit); on any error nothing is stored.
    """
    preview = plan_import_preview(data=data, filename=filename, year=year, resolver=resolver)
    parsed = preview.plan
    if not parsed.tasks:
        raise ValidationError(
            _("%(file)s：没有找到带牵头单位或责任单位的任务，未导入。") % {"file": filename}
        )
    unit_ids = {r.unit_id for r in preview.resolutions.values() if r.unit_id is not None}
    units = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids)}
    with transaction.atomic():
        lead = _choose_lead_unit(actor, lead_unit, preview)
        plan = plan_create(
            actor=actor,
            title=parsed.title[:255],
            lead_unit=lead,
            doc_number=(parsed.doc_number or "")[:64],
            year=parsed.year,
            lead_rule=parsed.lead_rule or "",
            source_name=filename[:255],
            source_sha256=hashlib.sha256(data).hexdigest(),
            warnings=parsed.warnings,
        )
        created: list[tuple[ParsedTask, Task]] = []
        counts = Counter[str]()
        for position, pt in enumerate(parsed.tasks, start=1):
            parent = _parent_task(pt, created)
            d = pt.deadline
            rule = dict(d.rule)
            if d.start is not None:
                rule["start"] = d.start.isoformat()
            task = task_create(
                actor=actor,
                plan=plan,
                no=(pt.no or "")[:32],
                text=pt.text or _("（无内容）"),
                lead_units=[_named(preview.resolutions[n], units) for n in pt.lead_units],
                cooperating_units=[_named(preview.resolutions[n], units) for n in pt.cooperating_units],
                generic_units=[_named(preview.resolutions[n], units) for n in pt.generic_units],
                deadline_text=(d.text or "")[:255],
                deadline_kind=d.kind,
                deadline=d.date,
                deadline_end=d.date if d.kind == "range" else None,
                deadline_rule=rule,
                parent=parent,
                position=position,
                path=pt.path[:128],
                warnings=_unit_warnings(pt, preview.resolutions),
            )
            created.append((pt, task))
            for name in pt.lead_units + pt.cooperating_units + pt.generic_units:
                counts[preview.resolutions[name].kind] += 1
        audit_record(
            actor=actor,
            action="plan.import",
            obj=plan,
            payload={
                "source_name": filename,
                "source_sha256": plan.source_sha256,
                "tasks": len(created),
                "units": dict(counts),
                "unknown_units": preview.unknown_names,
                "lead_rule": parsed.lead_rule,
                "warnings": len(parsed.warnings) + sum(len(t.warnings) for t in parsed.tasks),
            },
        )
    return plan


def _parent_task(pt: ParsedTask, created: list[tuple[ParsedTask, Task]]) -> Task | None:
    """The task of the enclosing item (same number as ``parent_no``, path one level up)."""
    if not pt.parent_no:
        return None
    parent_path = pt.path.rsplit(".", 1)[0] if "." in pt.path else ""
    for earlier, task in reversed(created):
        if earlier.no == pt.parent_no and earlier.path == parent_path:
            return task
    return None
