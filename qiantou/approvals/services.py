"""Writes for sign-off (签批) and issuing (印发). Each function takes ``actor=``, owns its transaction,
records an audit event and writes its notifications through the notification service.

Errors: ``PermissionDenied`` (not the current approver / not an editor of the plan), ``StateError``
(wrong state: comments unanswered, round open, not approved …), ``ConflictError`` (optimistic locking:
someone acted on the request since the caller read it), ``ValidationError`` (bad input).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.accounts.models import User
from qiantou.approvals import selectors
from qiantou.approvals.models import ApprovalRequest, ApprovalStep, Decision, PlanApprover, RequestStatus
from qiantou.audit.services import audit_record
from qiantou.consultation.models import ConsultationRound, RoundStatus
from qiantou.consultation.selectors import lead_handlers, undisposed_comments, unit_contacts
from qiantou.consultation.services import plan_has_unsaved_changes
from qiantou.errors import ConflictError, StateError
from qiantou.notifications.services import notify
from qiantou.plans.models import Plan, PlanStatus, PlanVersion, Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.plans.rules import plan_editor_
from qiantou.plans.services import plan_set_status, plan_version_create
from qiantou.units.models import UnitKind
from qiantou.workdays import check_date_range


def _check_manager(actor: Any, plan: Plan) -> None:
    if actor is not None and not plan_editor_(actor, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以办理签批和印发。"))


def _locked_plan(plan: Plan) -> Plan:
    locked = Plan.objects.select_for_update(of=("self",)).select_related("lead_unit", "issuing_unit")
    return locked.get(pk=plan.pk)


def _link(plan: Plan) -> str:
    return f"/approvals/plans/{plan.pk}/"


def _describe_users(ids: Sequence[int]) -> list[str]:
    """Each user as people know them: "陈立（chenli，联络员，青山市司法局）", never a bare database id;
    an id with no user says so."""
    found = {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("unit")}
    out: list[str] = []
    for i in ids:
        user = found.get(i)
        if user is None:
            out.append(_("不存在的用户（编号%(id)s）") % {"id": i})
            continue
        facts = [user.username] if user.display_name and user.display_name != user.username else []
        facts.append(str(user.get_role_display()))
        if user.unit is not None:
            facts.append(user.unit.name)
        if not user.is_active:
            facts.append(_("已停用"))
        out.append(f"{user}（{'，'.join(facts)}）")
    return out


def chain_set(*, actor: Any, plan: Plan, approvers: Sequence[User | int]) -> list[PlanApprover]:
    """Set the plan's ordered sign-off chain (default, when never set: leader in charge, principal).

    Only while the plan is a draft. Raises ``PermissionDenied``, ``StateError``, ``ValidationError``
    (empty, repeated, or a user who is not an active leader of the lead unit or above).
    """
    ids: list[int] = [a if isinstance(a, int) else a.pk for a in approvers]
    if not ids:
        raise ValidationError(_("签批链至少需要一位签批人。"))
    if len(set(ids)) != len(ids):
        raise ValidationError(_("同一签批人不能重复出现。"))
    with transaction.atomic():
        current = _locked_plan(plan)
        _check_manager(actor, current)
        if current.status != PlanStatus.DRAFT:
            raise StateError(_("方案已送签或印发，不能再调整签批链。"))
        allowed = {u.pk: u for u in selectors.eligible_approvers(current)}
        bad = [i for i in ids if i not in allowed]
        if bad:
            raise ValidationError(
                _(
                    "这些用户不能作为本方案的签批人：%(users)s。签批人须为牵头单位或其上级单位在岗的"
                    "分管领导、主要负责人或单位负责人。"
                )
                % {"users": "、".join(_describe_users(bad))}
            )
        PlanApprover.objects.filter(plan=current).delete()
        rows = PlanApprover.objects.bulk_create(
            [PlanApprover(plan=current, position=i, user=allowed[uid]) for i, uid in enumerate(ids)]
        )
        audit_record(
            actor=actor,
            action="approval.chain",
            obj=current,
            payload={
                "approvers": [
                    {"user_id": uid, "name": str(allowed[uid]), "role": allowed[uid].role} for uid in ids
                ]
            },
        )
    return rows


def plan_submit(*, actor: Any, plan: Plan, note: str = "") -> ApprovalRequest:
    """Send the draft for sign-off along its chain. The draft is frozen first as a new version when it
    changed since the last one; the plan moves to "approving" and the first approver is notified.

    Raises ``StateError`` while a round is open or any comment is unanswered (issue 4: "a plan cannot
    go to sign-off while a comment is unanswered"), or when the chain is empty.
    """
    with transaction.atomic():
        current = _locked_plan(plan)
        _check_manager(actor, current)
        if current.status != PlanStatus.DRAFT:
            raise StateError(
                _("方案处于“%(status)s”状态，只有草稿可以送签。") % {"status": current.get_status_display()}
            )
        if ConsultationRound.objects.filter(plan=current, status=RoundStatus.OPEN).exists():
            raise StateError(_("征求意见尚未截止，不能送签。"))
        pending = undisposed_comments(current).count()
        if pending:
            raise StateError(_("还有 %(n)s 条反馈意见未处理（采纳情况），不能送签。") % {"n": pending})
        chain = selectors.chain_for(current)
        if not chain:
            raise StateError(_("未找到签批人（分管领导、主要负责人），请先设置签批链。"))
        if plan_has_unsaved_changes(current):
            version = plan_version_create(
                actor=actor, plan=current, reason=PlanVersion.Reason.REVISED, note=note.strip() or _("送审稿")
            )
        else:
            last = PlanVersion.objects.filter(plan=current).order_by("-number").first()
            assert last is not None
            version = last
        request = ApprovalRequest.objects.create(plan=current, version=version, submitted_by=actor)
        ApprovalStep.objects.bulk_create(
            [ApprovalStep(request=request, position=i, approver=u, role=u.role) for i, u in enumerate(chain)]
        )
        plan_set_status(actor=actor, plan=current, status=PlanStatus.APPROVING, note=_("送签"))
        audit_record(
            actor=actor,
            action="approval.submit",
            obj=request,
            payload={
                "plan_id": current.pk,
                "version": version.number,
                "chain": [{"user_id": u.pk, "name": str(u), "role": u.role} for u in chain],
                "note": note.strip(),
            },
        )
        notify(
            recipients=[chain[0]],
            subject=_("请签批《%(title)s》（第%(n)s版）") % {"title": current.title, "n": version.number},
            body=note.strip(),
            link=_link(current),
            obj=request,
            dedupe_key=f"approval.turn:{request.pk}:0",
        )
    return request


def _locked_request(
    request: ApprovalRequest, lock_version: int, actor: Any
) -> tuple[ApprovalRequest, ApprovalStep]:
    current = (
        ApprovalRequest.objects.select_for_update()
        .select_related("plan", "plan__lead_unit", "version")
        .get(pk=request.pk)
    )
    if current.lock_version != lock_version:
        raise ConflictError(_("该签批已有新的处理（他人已签批或退回），请刷新后查看。"))
    if current.status != RequestStatus.PENDING:
        raise StateError(_("该签批已结束（%(status)s）。") % {"status": current.get_status_display()})
    step = current.steps.select_related("approver").get(position=current.current_position)
    if actor is None or step.approver_id != actor.pk or step.decision != Decision.PENDING:
        raise PermissionDenied(_("现在应由%(who)s签批，您不能办理。") % {"who": step.approver})
    return current, step


def _bump(request: ApprovalRequest, **fields: Any) -> None:
    updated = ApprovalRequest.objects.filter(pk=request.pk, lock_version=request.lock_version).update(
        lock_version=F("lock_version") + 1, **fields
    )
    if updated != 1:
        raise ConflictError(_("该签批已有新的处理，请刷新后查看。"))


def approval_approve(
    *, actor: Any, request: ApprovalRequest, lock_version: int, remarks: str = ""
) -> ApprovalRequest:
    """The current approver agrees (同意). The next approver is notified; after the last one the version
    is the approved one (the plan stays frozen until it is issued) and the handlers are notified.
    Raises ``PermissionDenied`` (not your turn), ``StateError``, ``ConflictError``.
    """
    with transaction.atomic():
        current, step = _locked_request(request, lock_version, actor)
        now = timezone.now()
        ApprovalStep.objects.filter(pk=step.pk).update(
            decision=Decision.APPROVED, remarks=remarks.strip(), decided_at=now
        )
        next_step = (
            current.steps.filter(position__gt=step.position)
            .order_by("position")
            .select_related("approver")
            .first()
        )
        final = next_step is None
        if final:
            _bump(current, status=RequestStatus.APPROVED, finished_at=now)
        else:
            assert next_step is not None
            _bump(current, current_position=next_step.position)
        audit_record(
            actor=actor,
            action="approval.approve",
            obj=current,
            payload={
                "plan_id": current.plan_id,
                "version": current.version.number,
                "step": step.position,
                "remarks": remarks.strip(),
                "final": final,
            },
        )
        if final:
            notify(
                recipients=lead_handlers(current.plan),
                subject=_("《%(title)s》已签批同意，可以印发") % {"title": current.plan.title},
                link=_link(current.plan),
                obj=current,
                dedupe_key=f"approval.done:{current.pk}",
            )
        else:
            assert next_step is not None
            notify(
                recipients=[next_step.approver],
                subject=_("请签批《%(title)s》（第%(n)s版）")
                % {"title": current.plan.title, "n": current.version.number},
                body=_("%(who)s已同意。") % {"who": actor}
                + (f"\n{remarks.strip()}" if remarks.strip() else ""),
                link=_link(current.plan),
                obj=current,
                dedupe_key=f"approval.turn:{current.pk}:{next_step.position}",
            )
        current.refresh_from_db()
    return current


def approval_return(
    *, actor: Any, request: ApprovalRequest, lock_version: int, remarks: str
) -> ApprovalRequest:
    """The current approver sends the plan back (退回) with remarks: the plan returns to draft with the
    remarks attached to the request, and the handlers are notified. Remarks are required.
    Raises ``PermissionDenied``, ``StateError``, ``ConflictError``, ``ValidationError``.
    """
    remarks = (remarks or "").strip()
    if not remarks:
        raise ValidationError(_("退回时请写明修改意见。"))
    with transaction.atomic():
        current, step = _locked_request(request, lock_version, actor)
        now = timezone.now()
        ApprovalStep.objects.filter(pk=step.pk).update(
            decision=Decision.RETURNED, remarks=remarks, decided_at=now
        )
        current.steps.filter(position__gt=step.position).update(decision=Decision.SKIPPED)
        _bump(current, status=RequestStatus.RETURNED, finished_at=now)
        plan_set_status(
            actor=actor, plan=current.plan, status=PlanStatus.DRAFT, note=_("签批退回：") + remarks
        )
        audit_record(
            actor=actor,
            action="approval.return",
            obj=current,
            payload={
                "plan_id": current.plan_id,
                "version": current.version.number,
                "step": step.position,
                "remarks": remarks,
            },
        )
        notify(
            recipients=lead_handlers(current.plan),
            subject=_("《%(title)s》被%(who)s退回修改") % {"title": current.plan.title, "who": actor},
            body=remarks,
            link=_link(current.plan),
            obj=current,
            dedupe_key=f"approval.return:{current.pk}",
        )
        current.refresh_from_db()
    return current


def plan_issue(
    *,
    actor: Any,
    plan: Plan,
    doc_number: str = "",
    main_recipients: str = "",
    body: str = "",
    issued_on: dt.date | None = None,
) -> ApprovalRequest:
    """Issue (印发) the approved version: the plan becomes binding (status "issued", with its document
    number and issuing date), its open tasks are open for work, and every lead and cooperating unit
    named on its tasks is notified.
    ``doc_number`` is required (the plan's own, when one was recorded, is used if none is given): an
    official document is not issued without one.
    Raises ``PermissionDenied``, ``StateError`` (not approved by the whole chain), ``ValidationError``
    (no document number, or one longer than the column), ``DateOutOfRange`` (a date outside 2000–2100).
    """
    doc_number = (doc_number or "").strip()
    limit = ApprovalRequest._meta.get_field("doc_number").max_length or 64
    if len(doc_number) > limit:
        raise ValidationError(
            _("文号过长：最多 %(limit)d 字，现有 %(n)d 字。") % {"limit": limit, "n": len(doc_number)}
        )
    check_date_range(issued_on, _("印发日期"))
    with transaction.atomic():
        current = _locked_plan(plan)
        _check_manager(actor, current)
        request = (
            ApprovalRequest.objects.select_for_update()
            .select_related("version")
            .filter(plan=current)
            .order_by("-submitted_at", "-id")
            .first()
        )
        if (
            current.status != PlanStatus.APPROVING
            or request is None
            or request.status != RequestStatus.APPROVED
        ):
            raise StateError(_("方案尚未经签批链全部同意，不能印发。"))
        doc_number = (doc_number or current.doc_number).strip()
        if not doc_number:
            raise ValidationError(_("文号：印发须填写文号（如“青民〔2026〕1号”）。"))
        issued_on = issued_on or timezone.localdate()
        updated = Plan.objects.filter(pk=current.pk, lock_version=current.lock_version).update(
            doc_number=doc_number,
            issued_on=issued_on,
            lock_version=F("lock_version") + 1,
            updated_at=timezone.now(),
        )
        if updated != 1:
            raise ConflictError(_("方案已被他人修改，请刷新后重试。"))
        current.refresh_from_db()
        plan_set_status(actor=actor, plan=current, status=PlanStatus.ISSUED, note=_("印发"))
        opened = (
            Task.objects.filter(plan=current)
            .exclude(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED, TaskStatus.OPEN])
            .update(status=TaskStatus.OPEN)
        )
        _bump(
            request,
            status=RequestStatus.ISSUED,
            doc_number=doc_number,
            main_recipients=main_recipients.strip(),
            body=body.strip(),
            issued_on=issued_on,
            issued_by=actor,
        )
        unit_ids = list(
            dict.fromkeys(
                TaskUnit.objects.filter(
                    task__plan=current,
                    unit__isnull=False,
                    role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING],
                )
                .exclude(unit__kind=UnitKind.GROUP)
                .order_by("task__position", "role", "position")
                .values_list("unit_id", flat=True)
            )
        )
        audit_record(
            actor=actor,
            action="plan.issue",
            obj=current,
            payload={
                "version": request.version.number,
                "doc_number": doc_number,
                "issued_on": issued_on.isoformat(),
                "main_recipients": main_recipients.strip(),
                "notified_units": unit_ids,
                "tasks_reopened": opened,
            },
        )
        notify(
            recipients=unit_contacts(unit_ids),
            subject=_("《%(title)s》已印发%(no)s，请按分工抓好落实")
            % {"title": current.title, "no": f"（{doc_number}）" if doc_number else ""},
            link=f"/plans/{current.pk}/",
            obj=current,
            group_units=unit_ids,
            dedupe_key=f"plan.issue:{current.pk}:{request.pk}",
        )
        request.refresh_from_db()
    return request
