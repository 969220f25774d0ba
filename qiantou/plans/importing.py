"""Importing a published plan file as a draft plan (issue 3): read, parse, resolve units, store atomically.

:func:`plan_import` is the one write path used by ``qiantou import`` (and by the web upload once the
preview is confirmed). Every unit name goes through the unit-name resolver and is stored with its
printed name, resolution (matched / group / generic / unknown) and confidence; an unknown name is
kept unresolved (``TaskUnit.unit`` null), never dropped and never guessed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.audit.services import audit_record
from qiantou.errors import StateError
from qiantou.planparse.document import ParsedPlan, ParsedTask, warning_text
from qiantou.planparse.parser import PlanParser
from qiantou.planparse.readers import read_document
from qiantou.plans.models import Plan, PlanStatus, Resolution, Task
from qiantou.plans.rules import plan_editor_
from qiantou.plans.services import NamedUnit, plan_create, task_create
from qiantou.units.models import Unit
from qiantou.units.resolver import Resolution as NameResolution
from qiantou.units.resolver import UnitResolver, get_resolver

__all__ = ["ImportPreview", "plan_import", "plan_import_preview", "plan_import_replaceable"]

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


def _named(resolution: NameResolution, units: dict[int, Unit], chosen: Mapping[str, int]) -> NamedUnit:
    picked = chosen.get(resolution.printed)
    if picked is not None and picked in units:
        # The handler picked the directory unit this printed name means (import preview).
        picked_unit = units[picked]
        return NamedUnit(
            unit=picked_unit,
            printed_name=resolution.printed[:128],
            resolution=Resolution.GROUP if picked_unit.kind == "group" else Resolution.MATCHED,
            confidence=1.0,
        )
    unit = units.get(resolution.unit_id) if resolution.unit_id is not None else None
    kind = resolution.kind if unit is not None or resolution.kind in ("generic", "unknown") else "unknown"
    return NamedUnit(
        unit=unit,
        printed_name=resolution.printed[:128],
        resolution=_KIND_TO_RESOLUTION[kind],
        confidence=resolution.confidence,
    )


def _unit_warnings(
    task: ParsedTask, resolutions: dict[str, NameResolution], chosen: Mapping[str, int]
) -> list[str]:
    out = [warning_text(w) for w in task.warnings if not w.startswith(_SERVICE_WARNINGS)]
    for name in task.lead_units + task.cooperating_units:
        r = resolutions[name]
        if name in chosen:
            continue  # a person picked the unit: nothing left to check
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


def plan_import_replaceable(plan: Plan) -> str | None:
    """Why ``plan``'s tasks may not be replaced by a new import (a Chinese message), or None if they may.

    A draft import can be replaced until the plan goes out for consultation: the plan must be a draft
    that was never circulated, approved or issued (it has no frozen version).
    """
    if plan.status != PlanStatus.DRAFT:
        return _("方案处于“%(status)s”状态，不能再重新导入。") % {"status": plan.get_status_display()}
    if plan.versions.exists():
        return _("方案已有征求意见稿或签批稿，不能再重新导入；请在方案中逐项修改。")
    return None


def _replace_plan(*, actor: Any, plan: Plan, parsed: ParsedPlan, filename: str, sha256: str) -> Plan:
    """Inside the import's transaction: check the plan may be replaced, drop its tasks, take the new
    document's title, number, year, lead rule and source. Records ``plan.import_replace``."""
    current = Plan.objects.select_for_update().get(pk=plan.pk)
    if actor is not None and not plan_editor_(actor, current):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以重新导入该方案。"))
    reason = plan_import_replaceable(current)
    if reason:
        raise StateError(reason)
    removed = Task.objects.filter(plan=current).count()
    previous = {"source_name": current.source_name, "source_sha256": current.source_sha256}
    Task.objects.filter(plan=current).delete()
    Plan.objects.filter(pk=current.pk).update(
        title=parsed.title[:255],
        doc_number=(parsed.doc_number or "")[:64],
        year=parsed.year,
        lead_rule=parsed.lead_rule or "",
        source_name=filename[:255],
        source_sha256=sha256,
        warnings=[warning_text(w) for w in parsed.warnings],
        lock_version=F("lock_version") + 1,
        updated_at=timezone.now(),
    )
    current.refresh_from_db()
    audit_record(
        actor=actor,
        action="plan.import_replace",
        obj=current,
        payload={"removed_tasks": removed, "previous": previous, "source_name": filename},
    )
    return current


def plan_import(
    *,
    actor: Any,
    data: bytes,
    filename: str,
    year: int | None = None,
    lead_unit: Unit | str | None = None,
    resolver: UnitResolver | None = None,
    choices: Mapping[str, int] | None = None,
    replace: Plan | None = None,
) -> Plan:
    """Import a published plan file as a draft :class:`Plan` with its tasks and units, atomically.

    ``lead_unit`` is a :class:`Unit` or a unit code (default: the actor's unit, else — for the system —
    the unit leading most tasks). ``year`` resolves dates printed without a year (default: read from
    the document). ``choices`` maps printed unit names to the directory unit ids a person picked for
    them (the web preview); those names are stored as matched with confidence 1. ``replace`` is a
    draft plan whose tasks the import replaces (see :func:`plan_import_replaceable`) instead of
    creating a new plan. Records ``plan.import`` (plus the usual ``plan.create``/``task.create``, and
    ``plan.import_replace`` when replacing) in the accountability record. Raises
    :class:`~qiantou.planparse.document.PlanFileError` (unreadable file), ``ValidationError`` (no tasks
    found, unknown lead unit code, a picked unit that does not exist), ``PermissionDenied`` (the actor
    may not create or edit plans for that unit) or ``StateError`` (the plan to replace went out for
    consultation); on any error nothing is stored or changed.
    """
    preview = plan_import_preview(data=data, filename=filename, year=year, resolver=resolver)
    parsed = preview.plan
    if not parsed.tasks:
        raise ValidationError(
            _("%(file)s：没有找到带牵头单位或责任单位的任务，未导入。") % {"file": filename}
        )
    chosen = {name: int(unit_id) for name, unit_id in (choices or {}).items() if name in preview.resolutions}
    unit_ids = {r.unit_id for r in preview.resolutions.values() if r.unit_id is not None}
    units = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids | set(chosen.values()))}
    missing = sorted(name for name, unit_id in chosen.items() if unit_id not in units)
    if missing:
        raise ValidationError(_("所选单位不存在：%(names)s") % {"names": "、".join(missing)})
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        if replace is not None:
            plan = _replace_plan(actor=actor, plan=replace, parsed=parsed, filename=filename, sha256=sha256)
        else:
            lead = _choose_lead_unit(actor, lead_unit, preview)
            plan = plan_create(
                actor=actor,
                title=parsed.title[:255],
                lead_unit=lead,
                doc_number=(parsed.doc_number or "")[:64],
                year=parsed.year,
                lead_rule=parsed.lead_rule or "",
                source_name=filename[:255],
                source_sha256=sha256,
                warnings=[warning_text(w) for w in parsed.warnings],
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
                lead_units=[_named(preview.resolutions[n], units, chosen) for n in pt.lead_units],
                cooperating_units=[
                    _named(preview.resolutions[n], units, chosen) for n in pt.cooperating_units
                ],
                generic_units=[_named(preview.resolutions[n], units, chosen) for n in pt.generic_units],
                deadline_text=(d.text or "")[:255],
                deadline_kind=d.kind,
                deadline=d.date,
                deadline_end=d.date if d.kind == "range" else None,
                deadline_rule=rule,
                parent=parent,
                position=position,
                path=pt.path[:128],
                warnings=_unit_warnings(pt, preview.resolutions, chosen),
            )
            created.append((pt, task))
            for name in pt.lead_units + pt.cooperating_units + pt.generic_units:
                counts["chosen" if name in chosen else preview.resolutions[name].kind] += 1
        audit_record(
            actor=actor,
            action="plan.import",
            obj=plan,
            payload={
                "source_name": filename,
                "source_sha256": plan.source_sha256,
                "tasks": len(created),
                "units": dict(counts),
                "unknown_units": [n for n in preview.unknown_names if n not in chosen],
                "chosen_units": chosen,
                "replaced": replace is not None,
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
