"""Writes to plans and tasks. Each function takes ``actor=`` first, owns its transaction and records
the action in the accountability record (``audit_record``) inside it.

``actor=None`` means the system itself (demo loading, migrations of data): no permission check, the
event is recorded as "system". Any other actor is checked against ``plans/rules.py``:

- ``PermissionDenied`` — the actor may not do this (not a handler/unit head of the lead unit);
- ``StateError`` — the plan is no longer a draft, so it is frozen;
- ``ConflictError`` — optimistic locking: someone changed the object since the caller read it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.accounts.rules import is_editor_role_
from qiantou.audit.services import audit_record
from qiantou.errors import ConflictError, StateError
from qiantou.plans.models import (
    DeadlineKind,
    Plan,
    PlanStatus,
    PlanVersion,
    Resolution,
    Task,
    TaskStatus,
    TaskUnit,
    TaskUnitRole,
)
from qiantou.plans.rules import plan_editor_
from qiantou.units.models import Unit

#: Task warnings this module computes (and recomputes on every change of the units).
WARN_NO_LEAD = "未明确牵头单位：每项任务应有一个负责到底的牵头单位"
WARN_SEVERAL_LEADS_PREFIX = "多个牵头单位"

#: Plan fields ``plan_update`` may change (the lead unit is not among them: reassigning a plan is
#: a decision of its own, not an edit).
PLAN_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "doc_number",
        "issuing_unit",
        "year",
        "lead_rule",
        "source_name",
        "source_sha256",
        "warnings",
        "issued_on",
    }
)
#: Task fields ``task_update`` may change besides the units.
TASK_EDITABLE_FIELDS = frozenset(
    {
        "no",
        "text",
        "deadline_text",
        "deadline_kind",
        "deadline",
        "deadline_end",
        "deadline_rule",
        "deliverables",
        "acceptance_standard",
        "weight",
        "restricted",
        "position",
        "warnings",
        "status",
    }
)


@dataclass(frozen=True)
class NamedUnit:
    """A unit as named on a task: the resolved unit (None while unresolved) and the printed name."""

    unit: Unit | None
    printed_name: str = ""
    resolution: str = Resolution.MATCHED
    confidence: float = 1.0


UnitRef = Unit | int | NamedUnit | Mapping[str, Any]


# --- checks -----------------------------------------------------------------------------------------


def _check_editor(actor: Any, plan: Plan) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` (or the system) may edit ``plan``."""
    if actor is None:
        return
    if not plan_editor_(actor, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以修改该方案及其任务。"))


def _check_draft(plan: Plan) -> None:
    """Raise ``StateError`` unless ``plan`` is still a draft."""
    if plan.status != PlanStatus.DRAFT:
        raise StateError(
            _("方案处于“%(status)s”状态，已冻结，不能再修改；如需修改请另行修订。")
            % {"status": plan.get_status_display()}
        )


def _locked_plan(plan: Plan | int) -> Plan:
    """Re-read the plan inside the transaction, locking its row (PostgreSQL; SQLite locks the database)."""
    pk = plan.pk if isinstance(plan, Plan) else plan
    return Plan.objects.select_for_update().select_related("lead_unit").get(pk=pk)


def _conflict(kind: str) -> ConflictError:
    return ConflictError(
        _("该%(kind)s已被他人修改，您看到的不是最新内容。请刷新后重新编辑。") % {"kind": kind}
    )


def _bump(model: type[Plan] | type[Task], pk: int, lock_version: int, kind: str, **fields: Any) -> int:
    """Compare-and-set UPDATE: write ``fields`` only if ``lock_version`` is unchanged; return the new one."""
    updated = model.objects.filter(pk=pk, lock_version=lock_version).update(
        lock_version=F("lock_version") + 1, **fields
    )
    if updated != 1:
        raise _conflict(kind)
    return lock_version + 1


def _jsonable(value: Any) -> Any:
    """A field value as JSON for the audit payload and snapshots."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Unit):
        return value.pk
    return value


# --- units on a task --------------------------------------------------------------------------------


def _named_unit(ref: UnitRef) -> NamedUnit:
    """Normalise a unit reference (Unit, unit id, NamedUnit, or a mapping with the same keys)."""
    if isinstance(ref, NamedUnit):
        return ref
    if isinstance(ref, Unit):
        return NamedUnit(unit=ref, printed_name=ref.name)
    if isinstance(ref, int):
        try:
            unit = Unit.objects.get(pk=ref)
        except Unit.DoesNotExist:
            raise ValidationError(_("单位 %(id)s 不存在。") % {"id": ref}) from None
        return NamedUnit(unit=unit, printed_name=unit.name)
    unit_value = ref.get("unit")
    resolved: Unit | None = _named_unit(unit_value).unit if unit_value is not None else None
    printed = ref.get("printed_name") or (resolved.name if resolved else "")
    if resolved is None and not printed:
        raise ValidationError(_("单位既无匹配结果也无原文名称。"))
    return NamedUnit(
        unit=resolved,
        printed_name=printed,
        resolution=ref.get("resolution") or (Resolution.MATCHED if resolved else Resolution.UNKNOWN),
        confidence=float(ref.get("confidence", 1.0)),
    )


def _write_task_units(task: Task, groups: Mapping[str, Sequence[UnitRef]]) -> list[dict[str, Any]]:
    """Replace the task's units of the given roles, keeping printed order; return them as JSON."""
    TaskUnit.objects.filter(task=task, role__in=list(groups)).delete()
    rows = []
    for role, refs in groups.items():
        for i, ref in enumerate(refs):
            named = _named_unit(ref)
            rows.append(
                TaskUnit(
                    task=task,
                    plan_id=task.plan_id,
                    unit=named.unit,
                    role=role,
                    position=i,
                    printed_name=named.printed_name,
                    resolution=named.resolution,
                    confidence=named.confidence,
                )
            )
    TaskUnit.objects.bulk_create(rows)
    return [{"role": r.role, "unit_id": r.unit_id, "printed_name": r.printed_name} for r in rows]


def lead_warnings(existing: Iterable[str], lead_count: int) -> list[str]:
    """``existing`` warnings with the lead-unit check redone: none, or several leads, is flagged.

    One accountable lead unit per task is the norm (issue 2, item 5: "several are flagged").
    """
    kept = [w for w in existing if w != WARN_NO_LEAD and not w.startswith(WARN_SEVERAL_LEADS_PREFIX)]
    if lead_count == 0:
        kept.append(WARN_NO_LEAD)
    elif lead_count > 1:
        kept.append(f"{WARN_SEVERAL_LEADS_PREFIX}（{lead_count}个）：通常应由一个单位牵头负责到底")
    return kept


# --- plans ------------------------------------------------------------------------------------------


def plan_create(
    *,
    actor: Any,
    title: str,
    lead_unit: Unit | None = None,
    issuing_unit: Unit | None = None,
    doc_number: str = "",
    year: int | None = None,
    lead_rule: str = "",
    source_name: str = "",
    source_sha256: str = "",
    warnings: list[str] | None = None,
) -> Plan:
    """Create a draft plan led by ``lead_unit`` (default: the actor's unit).

    A user may only create plans led by their own unit, as a handler or unit head.
    Raises ``PermissionDenied`` or ``ValidationError`` (blank title, no lead unit).
    """
    if actor is not None:
        if not is_editor_role_(actor):
            raise PermissionDenied(_("只有经办人或单位负责人可以新建方案。"))
        lead_unit = lead_unit or actor.unit
        if lead_unit is None or lead_unit.pk != actor.unit_id:
            raise PermissionDenied(_("只能新建由本单位牵头的方案。"))
    if lead_unit is None:
        raise ValidationError(_("方案必须有牵头单位。"))
    title = (title or "").strip()
    if not title:
        raise ValidationError(_("方案标题不能为空。"))
    with transaction.atomic():
        plan = Plan.objects.create(
            title=title,
            lead_unit=lead_unit,
            issuing_unit=issuing_unit,
            doc_number=doc_number,
            year=year,
            lead_rule=lead_rule,
            source_name=source_name,
            source_sha256=source_sha256,
            warnings=list(warnings or []),
            created_by=actor,
            status=PlanStatus.DRAFT,
        )
        audit_record(
            actor=actor,
            action="plan.create",
            obj=plan,
            payload={"title": title, "lead_unit_id": lead_unit.pk, "doc_number": doc_number},
        )
    return plan


def plan_update(*, actor: Any, plan: Plan, lock_version: int, **fields: Any) -> Plan:
    """Change a draft plan's fields (``PLAN_EDITABLE_FIELDS``) if nobody changed it since ``lock_version``.

    Returns the fresh plan. Raises ``PermissionDenied``, ``StateError`` (not a draft),
    ``ConflictError`` (stale ``lock_version``), ``ValidationError`` (unknown field or blank title).
    """
    unknown = set(fields) - PLAN_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise ValidationError(_("方案标题不能为空。"))
    with transaction.atomic():
        current = _locked_plan(plan)
        _check_editor(actor, current)
        _check_draft(current)
        if current.lock_version != lock_version:
            raise _conflict(_("方案"))
        before = {k: _jsonable(getattr(current, k)) for k in fields}
        _bump(Plan, current.pk, lock_version, _("方案"), updated_at=timezone.now(), **fields)
        audit_record(
            actor=actor,
            action="plan.update",
            obj=current,
            payload={"before": before, "after": {k: _jsonable(v) for k, v in fields.items()}},
        )
        current.refresh_from_db()
    return current


def plan_set_status(
    *, actor: Any, plan: Plan, status: str, lock_version: int | None = None, note: str = ""
) -> Plan:
    """Move a plan to ``status`` (internal: consultation, approvals and issuing call this).

    No permission check here: the calling flow decided who may do it. ``lock_version`` (optional)
    guards against a concurrent change. Records ``plan.status`` with the old and new status.
    """
    if status not in PlanStatus.values:
        raise ValidationError(_("未知的方案状态：%(status)s") % {"status": status})
    with transaction.atomic():
        current = _locked_plan(plan)
        if lock_version is not None and current.lock_version != lock_version:
            raise _conflict(_("方案"))
        old = current.status
        extra: dict[str, Any] = {}
        if status == PlanStatus.ISSUED and current.issued_on is None:
            extra["issued_on"] = timezone.localdate()
        _bump(
            Plan,
            current.pk,
            current.lock_version,
            _("方案"),
            status=status,
            updated_at=timezone.now(),
            **extra,
        )
        audit_record(
            actor=actor, action="plan.status", obj=current, payload={"from": old, "to": status, "note": note}
        )
        current.refresh_from_db()
    return current


def plan_snapshot(plan: Plan) -> dict[str, Any]:
    """The plan and all its tasks as JSON (``{"plan": {...}, "tasks": [...]}``), in printed order.

    Used for ``PlanVersion.snapshot``; every task carries its units by role in printed order.
    """
    tasks = list(
        Task.objects.filter(plan=plan).order_by("position", "id").prefetch_related("task_units__unit")
    )
    return {
        "plan": {
            "id": plan.pk,
            "title": plan.title,
            "doc_number": plan.doc_number,
            "issuing_unit_id": plan.issuing_unit_id,
            "lead_unit_id": plan.lead_unit_id,
            "status": plan.status,
            "year": plan.year,
            "lead_rule": plan.lead_rule,
            "warnings": list(plan.warnings),
            "lock_version": plan.lock_version,
        },
        "tasks": [task_as_json(t) for t in tasks],
    }


def task_as_json(task: Task) -> dict[str, Any]:
    """One task as JSON (units by role in printed order, from a prefetch when there is one)."""
    units: dict[str, list[dict[str, Any]]] = {r: [] for r in TaskUnitRole.values}
    for tu in sorted(task.task_units.all(), key=lambda t: (t.position, t.pk)):
        units.setdefault(tu.role, []).append(
            {
                "unit_id": tu.unit_id,
                "name": tu.unit.name if tu.unit else tu.printed_name,
                "printed_name": tu.printed_name,
                "resolution": tu.resolution,
            }
        )
    return {
        "id": task.pk,
        "parent_id": task.parent_id,
        "no": task.no,
        "path": task.path,
        "position": task.position,
        "text": task.text,
        "lead_units": units[TaskUnitRole.LEAD],
        "cooperating_units": units[TaskUnitRole.COOPERATING],
        "generic_units": units[TaskUnitRole.GENERIC],
        "deadline_text": task.deadline_text,
        "deadline_kind": task.deadline_kind,
        "deadline": _jsonable(task.deadline),
        "deadline_end": _jsonable(task.deadline_end),
        "deadline_rule": task.deadline_rule,
        "deliverables": task.deliverables,
        "acceptance_standard": task.acceptance_standard,
        "weight": _jsonable(task.weight),
        "status": task.status,
        "restricted": task.restricted,
        "warnings": list(task.warnings),
    }


def plan_version_create(*, actor: Any, plan: Plan, reason: str, note: str = "") -> PlanVersion:
    """Freeze the plan as its next numbered version (1, 2, …) with a snapshot of all its tasks.

    No permission check here beyond visibility decided by the calling flow (consultation, approvals).
    """
    if reason not in PlanVersion.Reason.values:
        raise ValidationError(_("未知的版本原因：%(reason)s") % {"reason": reason})
    with transaction.atomic():
        current = _locked_plan(plan)
        last = PlanVersion.objects.filter(plan=current).aggregate(n=Max("number"))["n"] or 0
        version = PlanVersion.objects.create(
            plan=current,
            number=last + 1,
            reason=reason,
            snapshot=plan_snapshot(current),
            note=note,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="plan.version",
            obj=current,
            payload={"version_id": version.pk, "number": version.number, "reason": reason},
        )
    return version


# --- tasks ------------------------------------------------------------------------------------------


def task_create(
    *,
    actor: Any,
    plan: Plan,
    no: str,
    text: str,
    lead_units: Sequence[UnitRef] = (),
    cooperating_units: Sequence[UnitRef] = (),
    deadline_text: str = "",
    deadline: dt.date | None = None,
    parent: Task | None = None,
    generic_units: Sequence[UnitRef] = (),
    deadline_kind: str | None = None,
    deadline_end: dt.date | None = None,
    deadline_rule: dict[str, Any] | None = None,
    deliverables: str = "",
    acceptance_standard: str = "",
    weight: decimal.Decimal | int | str = 1,
    restricted: bool = False,
    position: int | None = None,
    path: str | None = None,
    warnings: list[str] | None = None,
) -> Task:
    """Add a task to a draft plan, with lead/cooperating units in printed order.

    ``position`` defaults to after the plan's last task; ``path`` to the parent's path plus the
    task's rank among its siblings ("2.1"). A task without a lead unit or with several is saved
    with a warning.
    Raises ``PermissionDenied``, ``StateError``, ``ValidationError``.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("任务内容不能为空。"))
    with transaction.atomic():
        current = _locked_plan(plan)
        _check_editor(actor, current)
        _check_draft(current)
        if parent is not None and parent.plan_id != current.pk:
            raise ValidationError(_("上级任务不属于该方案。"))
        if position is None:
            position = (Task.objects.filter(plan=current).aggregate(m=Max("position"))["m"] or 0) + 1
        if path is None:
            rank = Task.objects.filter(plan=current, parent=parent).count() + 1
            path = f"{parent.path}.{rank}" if parent is not None and parent.path else str(rank)
        if deadline_kind is None:
            deadline_kind = DeadlineKind.DATE if deadline else DeadlineKind.NONE
        task = Task.objects.create(
            plan=current,
            parent=parent,
            no=no,
            path=path,
            position=position,
            text=text,
            deadline_text=deadline_text,
            deadline_kind=deadline_kind,
            deadline=deadline,
            deadline_end=deadline_end,
            deadline_rule=deadline_rule or {},
            deliverables=deliverables,
            acceptance_standard=acceptance_standard,
            weight=decimal.Decimal(str(weight)),
            restricted=restricted,
            warnings=lead_warnings(warnings or [], len(lead_units)),
        )
        units = _write_task_units(
            task,
            {
                TaskUnitRole.LEAD: lead_units,
                TaskUnitRole.COOPERATING: cooperating_units,
                TaskUnitRole.GENERIC: generic_units,
            },
        )
        Plan.objects.filter(pk=current.pk).update(updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="task.create",
            obj=task,
            payload={
                "plan_id": current.pk,
                "no": no,
                "text": text,
                "units": units,
                "deadline": _jsonable(deadline),
                "deadline_text": deadline_text,
            },
        )
    return task


_UNSET: Any = object()


def task_update(
    *,
    actor: Any,
    task: Task,
    lock_version: int,
    lead_units: Sequence[UnitRef] | None = None,
    cooperating_units: Sequence[UnitRef] | None = None,
    generic_units: Sequence[UnitRef] | None = None,
    **fields: Any,
) -> Task:
    """Change a task of a draft plan if nobody changed it since ``lock_version``.

    ``fields`` are among ``TASK_EDITABLE_FIELDS``; unit lists, when given, replace that role's units
    (printed order kept) and redo the lead-unit warning. Returns the fresh task.
    Raises ``PermissionDenied``, ``StateError``, ``ConflictError``, ``ValidationError``.
    """
    unknown = set(fields) - TASK_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    if "text" in fields:
        fields["text"] = (fields["text"] or "").strip()
        if not fields["text"]:
            raise ValidationError(_("任务内容不能为空。"))
    if "status" in fields and fields["status"] not in TaskStatus.values:
        raise ValidationError(_("未知的任务状态。"))
    if "weight" in fields:
        fields["weight"] = decimal.Decimal(str(fields["weight"]))
    with transaction.atomic():
        plan = _locked_plan(task.plan_id)
        _check_editor(actor, plan)
        _check_draft(plan)
        current = Task.objects.select_for_update().get(pk=task.pk)
        if current.lock_version != lock_version:
            raise _conflict(_("任务"))
        before = {k: _jsonable(getattr(current, k)) for k in fields}
        groups: dict[str, Sequence[UnitRef]] = {
            role: refs
            for role, refs in (
                (TaskUnitRole.LEAD, lead_units),
                (TaskUnitRole.COOPERATING, cooperating_units),
                (TaskUnitRole.GENERIC, generic_units),
            )
            if refs is not None
        }
        units = _write_task_units(current, groups) if groups else None
        lead_count = TaskUnit.objects.filter(task=current, role=TaskUnitRole.LEAD).count()
        fields["warnings"] = lead_warnings(fields.get("warnings", current.warnings), lead_count)
        if fields.get("status") == TaskStatus.DONE and current.status != TaskStatus.DONE:
            fields["done_at"] = timezone.now()
        _bump(Task, current.pk, lock_version, _("任务"), **fields)
        Plan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())
        payload: dict[str, Any] = {
            "plan_id": plan.pk,
            "before": before,
            "after": {k: _jsonable(v) for k, v in fields.items() if k in before},
        }
        if units is not None:
            payload["units"] = units
        audit_record(actor=actor, action="task.update", obj=current, payload=payload)
        current.refresh_from_db()
    return current


def task_delete(*, actor: Any, task: Task, lock_version: int | None = None) -> None:
    """Delete a task of a draft plan (and its sub-tasks); the record keeps what was deleted.

    Raises ``PermissionDenied``, ``StateError``, ``ConflictError`` (when ``lock_version`` is stale).
    """
    with transaction.atomic():
        plan = _locked_plan(task.plan_id)
        _check_editor(actor, plan)
        _check_draft(plan)
        current = Task.objects.select_for_update().prefetch_related("task_units__unit").get(pk=task.pk)
        if lock_version is not None and current.lock_version != lock_version:
            raise _conflict(_("任务"))
        removed = [current.pk, *_descendant_ids(current.pk)]
        snapshot = task_as_json(current)
        Task.objects.filter(pk__in=removed).delete()
        Plan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="task.delete",
            object_type="plans.task",
            object_id=snapshot["id"],
            payload={"plan_id": plan.pk, "task": snapshot, "removed_ids": removed},
        )


def _descendant_ids(task_id: int) -> list[int]:
    """Ids of every sub-task of ``task_id``, breadth first."""
    out: list[int] = []
    frontier = [task_id]
    while frontier:
        frontier = list(Task.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        out.extend(frontier)
    return out
