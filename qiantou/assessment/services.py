"""Writes for assessment. Keyword-only ``<entity>_<action>`` functions that take ``actor=``, check the
permission, own the transaction and write the audit record."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from qiantou.assessment.ledger import LedgerFileError, read_ledger
from qiantou.assessment.models import (
    CRITERIA,
    DEFAULT_PARAMETERS,
    CircularDraft,
    CircularStatus,
    LedgerProgress,
    QualityRating,
    ScoreAdjustment,
    ScoringRules,
)
from qiantou.assessment.offline import MANIFEST_FORMAT, key_fingerprint, signed_bytes
from qiantou.assessment.report import AccountabilityReport
from qiantou.assessment.scoring import CRITERION_LABELS, compute_scorecard
from qiantou.assessment.signing import public_key_hex, sign
from qiantou.audit.chain import canonical_json
from qiantou.audit.services import audit_record
from qiantou.chasing.models import Decision, MaterialSubmission, ProgressReport
from qiantou.documents.official import chinese_date
from qiantou.errors import ConflictError, QiantouError, StateError
from qiantou.plans.models import Plan, Task
from qiantou.plans.selectors import task_list_for
from qiantou.units.models import Unit


class AssessmentError(QiantouError):
    """Bad input to an assessment service; the message says what to fix."""


class LedgerImportError(AssessmentError):
    """An imported ledger has bad rows; ``errors`` lists ``(row, message)`` and nothing was changed."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__(f"台账有{len(errors)}处错误，未导入任何内容。")


#: What each permission lets one do, as the refusal says it (``rules.py`` says who holds it).
_REFUSALS = {
    "assessment.manage_rules": gettext_lazy(
        "只有督查室，或方案牵头单位的经办人、单位负责人可以制定和修改考核细则。"
    ),
    "assessment.rate": gettext_lazy(
        "只有方案牵头单位的经办人或单位负责人可以评定事项。"
    ),
    "assessment.draft_circular": gettext_lazy(
        "只有督查室可以起草通报。"
    ),
    "assessment.view_report": gettext_lazy(
        "您的角色不能查看问责材料。"
    ),
    "assessment.import_ledger": gettext_lazy(
        "只有方案牵头单位的经办人或单位负责人可以导入台账。"
    ),
}


def _refusal(perm: str) -> PermissionDenied:
    return PermissionDenied(str(_REFUSALS.get(perm) or gettext("您无权执行此操作。")))


def _require(actor: Any, perm: str, obj: Any = None) -> None:
    """PermissionDenied with a sentence saying who may do this (the API shows it as the 403 body)."""
    if not actor.has_perm(perm, obj):
        raise _refusal(perm)


# --- Scoring rules ---------------------------------------------------------------------------------------


def _clean_weights(weights: dict[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (weights or {}).items():
        if key not in CRITERIA:
            raise AssessmentError(f"未知的考核指标：{key}")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise AssessmentError(f"“{CRITERION_LABELS[key]}”的权重不是数字：{value}") from exc
        if not math.isfinite(number):  # NaN passes both comparisons below
            raise AssessmentError(f"“{CRITERION_LABELS[key]}”的权重不是有限数值：{value}")
        if number < 0 or number > 100:
            raise AssessmentError(f"“{CRITERION_LABELS[key]}”的权重应在0到100之间。")
        out[key] = number
    return out


def _clean_parameters(parameters: dict[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (parameters or {}).items():
        if key not in DEFAULT_PARAMETERS:
            raise AssessmentError(f"未知的考核参数：{key}")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise AssessmentError(f"参数 {key} 不是数字：{value}") from exc
        if not math.isfinite(number):
            raise AssessmentError(f"参数 {key} 不是有限数值：{value}")
        if number < 0 or number > 100:
            raise AssessmentError(f"参数 {key} 应在0到100之间。")
        out[key] = number
    return out


def _check_total(weights: dict[str, float]) -> None:
    from qiantou.assessment.models import DEFAULT_WEIGHTS

    merged = {**DEFAULT_WEIGHTS, **weights}
    if sum(float(v) for v in merged.values()) <= 0:
        raise AssessmentError("各项权重之和须大于0。")


def rules_create(
    *,
    actor: Any,
    name: str,
    plan: Plan | None = None,
    leading_group: str = "",
    weights: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> ScoringRules:
    """考核细则: create scoring rules for a plan (or every plan, ``plan=None``). Raises
    :class:`AssessmentError` for unknown criteria or weights outside 0–100, PermissionDenied."""
    probe = ScoringRules(plan=plan)
    _require(actor, "assessment.manage_rules", probe if plan is not None else None)
    if plan is None and actor.role != "supervision_office":
        raise PermissionDenied(gettext("只有督查室可以制定适用于所有方案的考核细则。"))
    name = (name or "").strip()
    if not name:
        raise AssessmentError("请填写考核细则名称。")
    w, p = _clean_weights(weights), _clean_parameters(parameters)
    _check_total(w)
    with transaction.atomic():
        rules = ScoringRules.objects.create(
            name=name[:128],
            plan=plan,
            leading_group=leading_group[:128],
            weights=w,
            parameters=p,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="assessment.rules_create",
            obj=rules,
            payload={"name": rules.name, "plan": getattr(plan, "pk", None), "weights": w, "parameters": p},
        )
    return rules


def rules_update(
    *,
    actor: Any,
    rules: ScoringRules,
    version: int,
    weights: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    name: str | None = None,
) -> ScoringRules:
    """Change weights/parameters; every scorecard recomputes from the record on its next read.
    ``version`` is the version the caller read (:class:`~qiantou.errors.ConflictError` when it moved)."""
    _require(actor, "assessment.manage_rules", rules)
    w, p = _clean_weights(weights), _clean_parameters(parameters)
    with transaction.atomic():
        current = ScoringRules.objects.select_for_update().get(pk=rules.pk)
        if current.version != version:
            raise ConflictError("考核细则已被他人修改，请刷新后重试。")
        before = {"weights": current.weights, "parameters": current.parameters}
        current.weights = {**current.weights, **w}
        current.parameters = {**current.parameters, **p}
        _check_total({k: float(v) for k, v in current.weights.items()})
        if name is not None and name.strip():
            current.name = name.strip()[:128]
        current.version += 1
        current.save()
        audit_record(
            actor=actor,
            action="assessment.rules_update",
            obj=current,
            payload={
                "before": before,
                "weights": current.weights,
                "parameters": current.parameters,
                "version": current.version,
            },
        )
    return current


# --- Quality ratings and manual adjustments ---------------------------------------------------------------


def rating_give(
    *,
    actor: Any,
    rating: int,
    comment: str,
    submission: MaterialSubmission | None = None,
    report: ProgressReport | None = None,
    now: dt.datetime | None = None,
) -> QualityRating:
    """The lead unit rates an accepted material submission or a progress report 1–5, with a comment.
    Rating again replaces the score (both are in the audit record)."""
    if (submission is None) == (report is None):
        raise AssessmentError("请选择一项报送材料或进展报告进行评分。")
    # Read the current state: the caller's instance may predate the lead unit's decision.
    if submission is not None:
        submission = MaterialSubmission.objects.select_related("request__item__plan").get(pk=submission.pk)
    if report is not None:
        report = ProgressReport.objects.select_related("request__item__plan").get(pk=report.pk)
    item = submission.request.item if submission is not None else report.request.item  # type: ignore[union-attr]
    _require(actor, "assessment.rate", item)
    if submission is not None and submission.decision != Decision.ACCEPTED:
        raise StateError("只能对已采用的材料评分。")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise AssessmentError("质量评分应为1至5分。")
    comment = (comment or "").strip()
    if not comment:
        raise AssessmentError("请填写评语。")
    now = now or timezone.now()
    with transaction.atomic():
        key = {"submission": submission} if submission is not None else {"report": report}
        row, created = QualityRating.objects.update_or_create(
            **key,
            defaults={
                "unit_id": item.unit_id,
                "rating": rating,
                "comment": comment,
                "rated_by": actor,
                "rated_at": now,
            },
        )
        target = submission.request if submission is not None else report.request  # type: ignore[union-attr]
        audit_record(
            actor=actor,
            action="assessment.rating",
            obj=target,
            payload={
                "rating": rating,
                "comment": comment,
                "item": item.pk,
                "unit": item.unit_id,
                "submission": getattr(submission, "pk", None),
                "report": getattr(report, "pk", None),
                "replaces": not created,
            },
        )
    return row


def adjustment_add(
    *,
    actor: Any,
    rules: ScoringRules,
    unit: Unit,
    points: Any,
    reason: str,
    on_date: dt.date,
) -> ScoreAdjustment:
    """A manual bonus (points > 0) or penalty (< 0) with its reason (required), −100…100, not 0."""
    _require(actor, "assessment.manage_rules", rules)
    try:
        value = Decimal(str(points)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise AssessmentError(f"分值不是数字：{points}") from exc
    if value == 0 or abs(value) > 100:
        raise AssessmentError("加减分应为 -100 至 100 之间的非零分值。")
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError("加减分须写明理由。")
    with transaction.atomic():
        row = ScoreAdjustment.objects.create(
            rules=rules, unit=unit, points=value, reason=reason, on_date=on_date, created_by=actor
        )
        audit_record(
            actor=actor,
            action="assessment.adjustment",
            obj=row,
            payload={
                "rules": rules.pk,
                "unit": unit.pk,
                "points": str(value),
                "reason": reason,
                "on_date": on_date.isoformat(),
            },
        )
    return row


# --- Circular drafts -------------------------------------------------------------------------------------


def _circular_body(
    rules: ScoringRules, start: dt.date, end: dt.date, as_of: dt.date
) -> tuple[list[str], dict[str, Any]]:
    card = compute_scorecard(rules, start=start, end=end, as_of=as_of, with_events=False)
    lines = card.cooperating
    praised = [x for x in lines if x.total >= 90 and not x.items_missing][:10]
    late = [x for x in lines if x.items_late or x.items_missing]
    late.sort(key=lambda x: (-(x.items_missing + x.items_late), x.total))
    due = sum(x.items_due for x in lines)
    on_time = sum(x.items_due - x.items_late - x.items_missing for x in lines)
    rate = f"{100 * on_time / due:.1f}%" if due else "—"
    span = f"{chinese_date(start)}至{chinese_date(end)}"
    body = [
        f"为压实工作责任，推动各项任务落地见效，现将{span}各配合单位任务落实情况通报如下。",
        "一、总体情况",
        f"本期应完成事项{due}项，按时完成{on_time}项，按时完成率{rate}。参与考核的配合单位{len(lines)}个。",
        "二、表扬单位",
    ]
    if praised:
        body.append(
            "、".join(x.unit_name for x in praised)
            + f"等{len(praised)}个单位按时保质完成各项任务，综合得分均在90分以上，予以通报表扬。"
        )
    else:
        body.append("本期无综合得分90分以上且无逾期事项的单位。")
    body.append("三、逾期单位")
    if late:
        for i, x in enumerate(late, start=1):
            body.append(
                f"{i}. {x.unit_name}：应完成{x.items_due}项，逾期完成{x.items_late}项，"
                f"逾期未完成{x.items_missing}项，综合得分{x.total:.2f}分。"
            )
    else:
        body.append("本期无逾期单位。")
    body += [
        "四、下一步工作要求",
        "各单位要对照任务分工，切实履行配合职责，按时报送材料和进展情况；逾期单位要查找原因、"
        "限期整改，并于5个工作日内将整改情况报领导小组办公室。",
    ]
    figures = {
        "due": due,
        "on_time": on_time,
        "units": len(lines),
        "praised": [x.unit_name for x in praised],
        "late": [
            {
                "unit": x.unit_name,
                "late": x.items_late,
                "missing": x.items_missing,
                "total": round(x.total, 2),
            }
            for x in late
        ],
        "rules_version": rules.version,
    }
    return body, figures


def circular_draft_create(
    *,
    actor: Any,
    rules: ScoringRules,
    start: dt.date,
    end: dt.date,
    authority: str,
    signatory: str,
    as_of: dt.date | None = None,
    doc_number: str = "",
    main_recipients: str = "各有关单位：",
) -> CircularDraft:
    """通报 draft from the scorecard of ``[start, end]``: praised units, late units, figures. Editable
    (:func:`circular_draft_update`) until sent."""
    _require(actor, "assessment.draft_circular")
    if end < start:
        raise AssessmentError("结束日期早于开始日期。")
    as_of = as_of or timezone.localdate()
    body, figures = _circular_body(rules, start, end, as_of)
    with transaction.atomic():
        draft = CircularDraft.objects.create(
            rules=rules,
            period_start=start,
            period_end=end,
            authority=authority.strip()[:128],
            doc_number=doc_number[:64],
            title=f"关于{start.year}年{rules.name}任务落实情况的通报"[:255],
            main_recipients=main_recipients[:255],
            body="\n".join(body),
            signatory=signatory.strip()[:128],
            figures=figures,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="assessment.circular_draft",
            obj=draft,
            payload={
                "rules": rules.pk,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "figures": figures,
            },
        )
    return draft


def circular_draft_update(
    *, actor: Any, draft: CircularDraft, lock_version: int, **fields: Any
) -> CircularDraft:
    """Edit a draft's title, body (one paragraph per line), recipients, number or signatory."""
    _require(actor, "assessment.draft_circular")
    allowed = {"title", "body", "main_recipients", "doc_number", "signatory", "authority"}
    unknown = set(fields) - allowed
    if unknown:
        raise AssessmentError(f"不能修改：{', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = CircularDraft.objects.select_for_update().get(pk=draft.pk)
        if current.status != CircularStatus.DRAFT:
            raise StateError("通报已印发，不能再修改。")
        if current.lock_version != lock_version:
            raise ConflictError("通报已被他人修改，请刷新后重试。")
        for key, value in fields.items():
            setattr(current, key, str(value).strip())
        if not current.title or not current.body.strip():
            raise AssessmentError("标题和正文不能为空。")
        current.lock_version += 1
        current.save()
        audit_record(
            actor=actor,
            action="assessment.circular_update",
            obj=current,
            payload={"fields": sorted(fields), "sha256": hashlib.sha256(current.body.encode()).hexdigest()},
        )
    return current


def circular_send(*, actor: Any, draft: CircularDraft, now: dt.datetime | None = None) -> CircularDraft:
    """Freeze the draft as sent (印发); its text's digest goes into the record."""
    _require(actor, "assessment.draft_circular")
    now = now or timezone.now()
    with transaction.atomic():
        current = CircularDraft.objects.select_for_update().get(pk=draft.pk)
        if current.status != CircularStatus.DRAFT:
            raise StateError("通报已印发。")
        current.status = CircularStatus.SENT
        current.sent_at = now
        current.save(update_fields=["status", "sent_at"])
        audit_record(
            actor=actor,
            action="assessment.circular_send",
            obj=current,
            payload={"title": current.title, "sha256": hashlib.sha256(current.body.encode()).hexdigest()},
        )
    return current


# --- Ledger import ---------------------------------------------------------------------------------------


def _is_task_id(text: str) -> bool:
    """A 系统编号 cell int() reads: decimal digits only ("²" is a digit but no number), at most 18."""
    return text.isdecimal() and len(text) <= 18


def ledger_import(*, actor: Any, name: str, data: bytes, now: dt.datetime | None = None) -> dict[str, int]:
    """Read a ledger's 最新进展 column back: a changed progress text becomes a progress note on its task.

    All or nothing: any bad row (unknown or invisible task id, a task of a plan the actor's unit does not
    lead, text over 4,000 characters) raises :class:`LedgerImportError` listing every bad row, and nothing
    is written. Returns ``{"rows", "updated", "unchanged"}``.
    """
    try:
        lines = read_ledger(name, data)
    except LedgerFileError as exc:
        raise AssessmentError(str(exc)) from exc
    from qiantou.assessment.ledger import ledger_rows

    ids = [int(line.task_id) for line in lines if _is_task_id(line.task_id)]
    visible = {t.pk: t for t in task_list_for(actor).filter(pk__in=ids).select_related("plan")}
    today = timezone.localdate()
    current = {
        r.task_id: r.progress
        for r in ledger_rows(Task.objects.filter(pk__in=list(visible)).order_by("pk"), today=today)
    }
    errors: list[tuple[int, str]] = []
    changes: list[tuple[int, Task, str]] = []
    seen: set[int] = set()
    for line in lines:
        if not _is_task_id(line.task_id):
            errors.append((line.row, f"“系统编号”应为数字（不超过18位），实为“{line.task_id[:40]}”。"))
            continue
        task_id = int(line.task_id)
        task = visible.get(task_id)
        if task is None:
            errors.append((line.row, f"系统编号 {task_id} 的任务不存在或您无权查看。"))
            continue
        if task_id in seen:
            errors.append((line.row, f"系统编号 {task_id} 在表中重复出现。"))
            continue
        seen.add(task_id)
        if len(line.progress) > 4000:
            errors.append((line.row, "进展情况超过4000字。"))
            continue
        if not line.progress or line.progress == current.get(task_id, ""):
            continue
        if not actor.has_perm("assessment.import_ledger", task.plan):
            errors.append((line.row, f"任务 {task.no} 所属方案不由本单位牵头，不能导入其进展。"))
            continue
        changes.append((line.row, task, line.progress))
    if errors:
        raise LedgerImportError(errors)
    now = now or timezone.now()
    with transaction.atomic():
        for row, task, text in changes:
            LedgerProgress.objects.create(
                task=task, text=text, source_name=name[:255], row=row, recorded_by=actor, recorded_at=now
            )
            audit_record(
                actor=actor,
                action="task.progress_import",
                obj=task,
                payload={"text": text, "file": name, "row": row},
            )
        audit_record(
            actor=actor,
            action="ledger.import",
            object_type="assessment.ledger",
            object_id=name[:64],
            payload={"file": name, "rows": len(lines), "updated": len(changes)},
        )
    return {"rows": len(lines), "updated": len(changes), "unchanged": len(lines) - len(changes)}


# --- Accountability report checkpoint ----------------------------------------------------------------------


def report_checkpoint(*, actor: Any, report: AccountabilityReport) -> dict[str, Any]:
    """Sign the report's checkpoint (cited events, chain head) and record it in the audit chain.

    Returns the manifest (with ``signature``) and stores it on ``report.checkpoint``. The manifest, with
    an event bundle, is what :mod:`qiantou.assessment.offline` re-verifies.
    """
    _require(actor, "assessment.view_report")
    v = report.verification
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "scope": {"kind": report.scope, "id": report.scope_id, "label": report.scope_label},
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "generated_by": report.generated_by,
        "cited": [[seq, h] for seq, h in v.cited],
        "chain": {"head_seq": v.head_seq, "head_hash": v.head_hash, "verified": v.ok, "message": v.message},
        "public_key": public_key_hex(),
    }
    manifest["signature"] = sign(signed_bytes(manifest))
    with transaction.atomic():
        event = audit_record(
            actor=actor,
            action="assessment.report_checkpoint",
            object_type=f"assessment.report.{report.scope}",
            object_id=report.scope_id,
            payload={
                "head_seq": v.head_seq,
                "head_hash": v.head_hash,
                "verified": v.ok,
                "cited": len(v.cited),
                "manifest_sha256": hashlib.sha256(canonical_json(manifest).encode()).hexdigest(),
                "key": key_fingerprint(manifest["public_key"]),
            },
        )
    manifest_out = {**manifest, "checkpoint_seq": event.seq}
    # checkpoint_seq is added after signing: it names where the checkpoint itself sits in the chain.
    report.checkpoint = manifest_out
    return manifest_out
