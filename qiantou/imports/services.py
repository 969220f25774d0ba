"""Writes of the web import flow. Every function takes the acting user and owns its transaction.

The flow (issue 3, "Web"): :func:`import_upload_create` reads and parses the file and keeps it with
its preview → the user picks directory units for unknown names (:func:`import_upload_choose`) →
:func:`import_upload_confirm` creates (or replaces) the draft plan through
:func:`qiantou.plans.importing.plan_import`, atomically, and deletes the upload;
:func:`import_upload_cancel` deletes it and changes nothing else. Nothing reaches the accountability
record before the confirmation (an upload is not a decision); the confirmation records
``plan.import`` with the user's choices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.accounts.rules import is_editor_role_
from qiantou.errors import StateError
from qiantou.imports.models import ImportUpload
from qiantou.planparse.document import warning_text
from qiantou.plans.importing import ImportPreview, plan_import, plan_import_preview, plan_import_replaceable
from qiantou.plans.models import Plan
from qiantou.plans.rules import plan_editor_
from qiantou.units.models import Unit
from qiantou.units.resolver import Resolution as NameResolution

__all__ = [
    "UPLOAD_TTL",
    "import_upload_cancel",
    "import_upload_choose",
    "import_upload_confirm",
    "import_upload_create",
    "import_upload_purge",
]

#: How long an unconfirmed upload is kept.
UPLOAD_TTL = dt.timedelta(hours=24)


def _check_importer(actor: Any, plan: Plan | None) -> None:
    if not is_editor_role_(actor):
        raise PermissionDenied(_("只有经办人或单位负责人可以导入方案。"))
    if plan is not None:
        if not plan_editor_(actor, plan):
            raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以重新导入该方案。"))
        reason = plan_import_replaceable(plan)
        if reason:
            raise StateError(reason)


def _resolution_json(r: NameResolution, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "method": r.method,
        "confidence": round(r.confidence, 2),
        "unit_id": r.unit_id,
        "unit_name": r.unit_name,
        "candidates": [
            {"id": ids[c.code], "code": c.code, "name": c.name, "score": round(c.score, 2)}
            for c in r.candidates
            if c.code in ids
        ],
    }


def preview_as_json(preview: ImportPreview) -> dict[str, Any]:
    """What the preview page shows: the parsed plan, its tasks with their source text, every name's
    resolution (kind, unit, candidates with directory ids)."""
    codes = {c.code for r in preview.resolutions.values() for c in r.candidates}
    ids = dict(Unit.objects.filter(code__in=codes).values_list("code", "pk"))
    plan = preview.plan
    return {
        "title": plan.title,
        "doc_number": plan.doc_number,
        "lead_rule": warning_text(plan.lead_rule) if plan.lead_rule else None,
        "year": plan.year,
        "warnings": [warning_text(w) for w in plan.warnings],
        "tasks": [
            {
                "no": t.no,
                "path": t.path,
                "text": t.text,
                "source": t.source_excerpt,
                "lead": t.lead_units,
                "cooperating": t.cooperating_units,
                "generic": t.generic_units,
                "deadline_text": t.deadline.text,
                "deadline_kind": t.deadline.kind,
                "deadline": t.deadline.date.isoformat() if t.deadline.date else None,
                "warnings": [warning_text(w) for w in t.warnings],
            }
            for t in plan.tasks
        ],
        "names": {name: _resolution_json(r, ids) for name, r in preview.resolutions.items()},
        "aliases": preview.aliases,
    }


def import_upload_create(
    *, actor: Any, data: bytes, filename: str, year: int | None = None, plan: Plan | None = None
) -> ImportUpload:
    """Read and parse an uploaded plan file and keep it, with its preview, for the next steps.

    ``plan``: a draft plan whose tasks the import is to replace. Raises
    :class:`~qiantou.planparse.document.PlanFileError` (unreadable file; the message names the file and
    the reason), ``ValidationError`` (no task found), ``PermissionDenied`` (not a handler or unit head;
    not the plan's lead unit) or ``StateError`` (the plan went out for consultation). Stores nothing
    on error. Also purges uploads older than :data:`UPLOAD_TTL`.
    """
    _check_importer(actor, plan)
    preview = plan_import_preview(data=data, filename=filename, year=year)
    if not preview.plan.tasks:
        raise ValidationError(
            _("%(file)s：没有找到带牵头单位或责任单位的任务，未导入。") % {"file": filename}
        )
    with transaction.atomic():
        import_upload_purge()
        return ImportUpload.objects.create(
            user=actor,
            filename=filename[:255],
            data=data,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            year=year,
            plan=plan,
            preview=preview_as_json(preview),
        )


def _own(actor: Any, upload: ImportUpload) -> ImportUpload:
    """The upload re-read and locked; only the user who uploaded it may act on it."""
    current = ImportUpload.objects.select_for_update().filter(pk=upload.pk).first()
    if current is None or current.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("该导入不存在或已处理。"))
    return current


def import_upload_choose(*, actor: Any, upload: ImportUpload, name: str, unit_id: int | None) -> ImportUpload:
    """Record that the printed unit ``name`` means directory unit ``unit_id`` (None: undo the choice).

    Raises ``ValidationError`` for a name the document does not print, or a unit that does not
    exist or is inactive; ``PermissionDenied`` for someone else's upload.
    """
    with transaction.atomic():
        current = _own(actor, upload)
        if name not in current.preview.get("names", {}):
            raise ValidationError(_("文件中没有单位名称“%(name)s”。") % {"name": name})
        choices = dict(current.choices)
        if unit_id is None:
            choices.pop(name, None)
        else:
            if not Unit.objects.filter(pk=unit_id, active=True).exists():
                raise ValidationError(_("所选单位不存在或已撤销。"))
            choices[name] = unit_id
        current.choices = choices
        current.save(update_fields=["choices"])
    return current


def import_upload_confirm(*, actor: Any, upload: ImportUpload) -> Plan:
    """Create (or replace) the draft plan from the upload with the user's choices; delete the upload.

    Raises whatever :func:`~qiantou.plans.importing.plan_import` raises; then nothing is stored and
    the upload stays, so the user can retry or cancel.
    """
    with transaction.atomic():
        current = _own(actor, upload)
        if current.plan_id is not None:
            _check_importer(actor, Plan.objects.get(pk=current.plan_id))
        else:
            _check_importer(actor, None)
        plan = plan_import(
            actor=actor,
            data=bytes(current.data),
            filename=current.filename,
            year=current.year,
            choices={name: int(unit_id) for name, unit_id in current.choices.items()},
            replace=current.plan,
        )
        current.delete()
    return plan


def import_upload_cancel(*, actor: Any, upload: ImportUpload) -> None:
    """Throw the upload away; nothing else changes."""
    with transaction.atomic():
        _own(actor, upload).delete()


def import_upload_purge(*, now: dt.datetime | None = None) -> int:
    """Delete uploads older than :data:`UPLOAD_TTL`; returns how many."""
    cutoff = (now or timezone.now()) - UPLOAD_TTL
    deleted, _detail = ImportUpload.objects.filter(created_at__lt=cutoff).delete()
    return deleted
