"""Writes for consultation rounds (征求意见). Each function takes ``actor=``, owns its transaction and
records the step in the accountability record; notifications are written in the same transaction
through the one notification service (``qiantou.notifications.services.notify``).

Errors: ``PermissionDenied`` (not allowed for this user), ``StateError`` (the round or plan is not in
a state that allows it), ``ConflictError`` (optimistic locking: changed since read),
``ValidationError`` (bad input).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.audit.services import audit_record
from qiantou.consultation import selectors
from qiantou.consultation.diff import version_diff
from qiantou.consultation.models import (
    REASON_REQUIRED,
    Comment,
    ConsultationRound,
    ConsultedUnit,
    Disposition,
    Response,
    RoundStatus,
)
from qiantou.consultation.rules import RESPONDER_ROLES
from qiantou.consultation.visibility import task_filter_for
from qiantou.errors import ConflictError, StateError
from qiantou.notifications.services import notify
from qiantou.plans.models import Plan, PlanStatus, PlanVersion
from qiantou.plans.rules import plan_editor_
from qiantou.plans.selectors import today
from qiantou.plans.services import plan_set_status, plan_snapshot, plan_version_create
from qiantou.units.models import Unit

#: A comment identical to one the same unit posted on the same task this recently is taken as a
#: repeat of the same request (a network retry, a double click) and answered with the first one.
DUPLICATE_COMMENT_WINDOW = dt.timedelta(minutes=10)

#: Longest round we accept, in days (a closing date further out is almost surely a typing error).
MAX_ROUND_DAYS = 366


def closing_date(start: dt.date, working_days: int) -> tuple[dt.date, bool]:
    """The closing date ``working_days`` working days after ``start`` and whether the official calendar
    was used. Without a loaded calendar year the days are counted as calendar days (issue 4)."""
    from qiantou.chasing.calendar import get_calendar
    from qiantou.workdays import CalendarYearNotLoaded

    try:
        return get_calendar().add_working_days(start, working_days), True
    except CalendarYearNotLoaded:
        return start + dt.timedelta(days=working_days), False


def _locked_round(round_: ConsultationRound | int) -> ConsultationRound:
    pk: int = round_ if isinstance(round_, int) else round_.pk
    return (
        ConsultationRound.objects.select_for_update()
        .select_related("plan", "plan__lead_unit", "version")
        .get(pk=pk)
    )


def _check_manager(actor: Any, plan: Plan) -> None:
    if actor is not None and not plan_editor_(actor, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以办理征求意见。"))


def _round_link(round_: ConsultationRound) -> str:
    return f"/consultation/rounds/{round_.pk}/"


def round_open(
    *,
    actor: Any,
    plan: Plan,
    closes_on: dt.date | None = None,
    working_days: int | None = None,
    units: Sequence[Unit | int] | None = None,
    note: str = "",
) -> ConsultationRound:
    """Circulate the draft plan for comments: freeze it as a version (征求意见稿) and open a round.

    ``units`` default to every unit named in the plan (``selectors.default_consulted_units``). The
    closing date is ``closes_on``, or ``working_days`` working days after today on the official
    calendar (calendar days while that year is not loaded). The plan moves to "consulting" (frozen)
    and the liaisons of the consulted units are notified.
    Raises ``PermissionDenied``, ``StateError`` (plan not a draft, a round already open),
    ``ValidationError`` (no units, no or past closing date).
    """
    if closes_on is None and working_days is None:
        raise ValidationError(_("请填写反馈截止日期或工作日数。"))
    if closes_on is not None and working_days is not None:
        raise ValidationError(_("反馈截止日期和工作日数只填一项。"))
    if working_days is not None and not 1 <= working_days <= 250:
        raise ValidationError(_("工作日数应在 1 到 250 之间。"))
    start = today()
    calendar_used = False
    if closes_on is None:
        assert working_days is not None
        closes_on, calendar_used = closing_date(start, working_days)
    if closes_on < start:
        raise ValidationError(_("反馈截止日期不能早于今天。"))
    if closes_on > start + dt.timedelta(days=MAX_ROUND_DAYS):
        raise ValidationError(_("反馈截止日期超过一年，请检查。"))
    with transaction.atomic():
        current = Plan.objects.select_for_update().select_related("lead_unit").get(pk=plan.pk)
        _check_manager(actor, current)
        if current.status != PlanStatus.DRAFT:
            raise StateError(
                _("方案处于“%(status)s”状态，只有草稿可以征求意见。")
                % {"status": current.get_status_display()}
            )
        if ConsultationRound.objects.filter(plan=current, status=RoundStatus.OPEN).exists():
            raise StateError(_("该方案已有一轮征求意见尚未截止。"))
        if units is None:
            chosen = selectors.default_consulted_units(current)
        else:
            ids: list[int] = [u if isinstance(u, int) else u.pk for u in units]
            found = {u.pk: u for u in Unit.objects.filter(pk__in=ids, active=True)}
            missing = [str(i) for i in ids if i not in found]
            if missing:
                raise ValidationError(_("单位不存在或已停用：%(ids)s") % {"ids": "、".join(missing)})
            chosen = list(dict.fromkeys(found[i] for i in ids))
        chosen = [u for u in chosen if u.pk != current.lead_unit_id]
        if not chosen:
            raise ValidationError(_("请至少选择一个征求意见的单位。"))
        version = plan_version_create(
            actor=actor, plan=current, reason=PlanVersion.Reason.CIRCULATED, note=_("征求意见稿")
        )
        number = (ConsultationRound.objects.filter(plan=current).aggregate(n=Max("number"))["n"] or 0) + 1
        rnd = ConsultationRound.objects.create(
            plan=current,
            version=version,
            number=number,
            closes_on=closes_on,
            working_days=working_days if calendar_used else None,
            note=note.strip(),
            opened_by=actor,
        )
        ConsultedUnit.objects.bulk_create(
            [ConsultedUnit(round=rnd, unit=u, position=i) for i, u in enumerate(chosen)]
        )
        plan_set_status(actor=actor, plan=current, status=PlanStatus.CONSULTING, note=_("征求意见"))
        audit_record(
            actor=actor,
            action="consultation.open",
            obj=rnd,
            payload={
                "plan_id": current.pk,
                "version": version.number,
                "units": [u.pk for u in chosen],
                "closes_on": closes_on.isoformat(),
                "working_days": working_days,
                "counted_in": "working_days" if calendar_used else "calendar_days",
                "note": rnd.note,
            },
        )
        notify(
            recipients=selectors.unit_contacts([u.pk for u in chosen]),
            subject=_("请于%(date)s前反馈对《%(title)s》的意见")
            % {"date": f"{closes_on.month}月{closes_on.day}日", "title": current.title},
            body=(rnd.note + "\n" if rnd.note else "") + _("逾期未反馈视为无意见。"),
            link=_round_link(rnd),
            obj=rnd,
            group_units=chosen,
            dedupe_key=f"consultation.open:{rnd.pk}",
        )
    return rnd


def _check_commenter(actor: Any, rnd: ConsultationRound) -> ConsultedUnit:
    """The actor's consulted unit row, or the reason they may not answer."""
    if rnd.status != RoundStatus.OPEN:
        raise StateError(
            _("本轮征求意见已于%(time)s截止，不能再反馈。")
            % {"time": timezone.localtime(rnd.closed_at).strftime("%Y-%m-%d %H:%M") if rnd.closed_at else ""}
        )
    if getattr(actor, "role", None) not in RESPONDER_ROLES:
        raise PermissionDenied(_("只有被征求意见单位的联络员或单位负责人可以反馈意见。"))
    row = rnd.consulted.filter(unit_id=getattr(actor, "unit_id", None) or 0).first()
    if row is None:
        raise PermissionDenied(_("您的单位不在本轮征求意见范围内。"))
    return row


def comment_create(*, actor: Any, round: ConsultationRound, body: str, task_id: int | None = None) -> Comment:
    """A liaison's comment for their own unit, on task ``task_id`` of the circulated version or on the
    whole plan (``task_id`` None), while the round is open.

    Idempotent for repeats: the same text from the same unit on the same task (or the whole plan)
    within ``DUPLICATE_COMMENT_WINDOW`` returns the comment already saved and records nothing new (the
    round row is locked first, so two simultaneous posts are serialised and the second finds the first).

    Raises ``PermissionDenied`` (not a responder of a consulted unit), ``StateError`` (round closed),
    ``ValidationError`` (empty text, task not in the circulated version). A restricted task the actor
    may not see gets the same error as a task that is not there, so the answer never confirms it.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("意见内容不能为空。"))
    with transaction.atomic():
        rnd = _locked_round(round)
        row = _check_commenter(actor, rnd)
        task_no = task_text = ""
        if task_id is not None:
            shown = task_filter_for(actor, rnd.plan).tasks(rnd.version.snapshot)
            found = next((t for t in shown if t.get("id") == task_id), None)
            if found is None:
                raise ValidationError(_("所指任务不在本轮征求意见稿中。"))
            task_no, task_text = found.get("no") or "", found.get("text") or ""
        repeat = (
            Comment.objects.filter(
                round=rnd,
                unit_id=row.unit_id,
                task_ref=task_id,
                body=body,
                created_at__gte=timezone.now() - DUPLICATE_COMMENT_WINDOW,
            )
            .order_by("id")
            .first()
        )
        if repeat is not None:
            return repeat
        from qiantou.plans.models import Task

        comment = Comment.objects.create(
            round=rnd,
            unit_id=row.unit_id,
            task=Task.objects.filter(pk=task_id).first() if task_id is not None else None,
            task_ref=task_id,
            task_no=task_no,
            task_text=task_text,
            body=body,
            author=actor,
        )
        ConsultedUnit.objects.filter(pk=row.pk).update(
            response=Response.COMMENTED, responded_at=timezone.now(), responded_by=actor
        )
        audit_record(
            actor=actor,
            action="consultation.comment",
            obj=comment,
            payload={
                "round_id": rnd.pk,
                "plan_id": rnd.plan_id,
                "unit_id": row.unit_id,
                "task_id": task_id,
                "task_no": task_no,
                "body": body,
            },
        )
    return comment


def no_objection_record(*, actor: Any, round: ConsultationRound) -> ConsultedUnit:
    """Record that the actor's unit has no objection (无意见). A unit that already commented keeps its
    comments and is not marked "no objection". Raises as :func:`comment_create`."""
    with transaction.atomic():
        rnd = _locked_round(round)
        row = _check_commenter(actor, rnd)
        if row.response == Response.COMMENTED:
            raise StateError(_("本单位已提出意见，不能再标记为无意见。"))
        row.response = Response.NO_OBJECTION
        row.responded_at = timezone.now()
        row.responded_by = actor
        row.save(update_fields=["response", "responded_at", "responded_by"])
        audit_record(
            actor=actor,
            action="consultation.no_objection",
            obj=rnd,
            payload={"plan_id": rnd.plan_id, "unit_id": row.unit_id},
        )
    return row


def round_close(
    *, actor: Any, round: ConsultationRound, now: dt.datetime | None = None, early: bool = False
) -> ConsultationRound:
    """Close an open round: units that said nothing are recorded as silent (视为无意见) with the time,
    and the plan returns to draft so the handler can dispose of the comments and revise it.

    Closing on or before the closing date (``closes_on``, the last day units may answer) while units
    have not answered is an early close: the handler must confirm it (``early=True``), and those units
    are shown as "提前截止时未反馈，视为无意见", never as late (逾期). ``actor`` None is the system closing
    a round after its closing date. Raises ``PermissionDenied``, ``StateError`` (already closed),
    ``ValidationError`` (an early close with units pending, not confirmed).
    """
    now = now or timezone.now()
    with transaction.atomic():
        rnd = _locked_round(round)
        _check_manager(actor, rnd.plan)
        if rnd.status != RoundStatus.OPEN:
            raise StateError(_("本轮征求意见已经截止。"))
        silent = list(rnd.consulted.filter(response=Response.PENDING).select_related("unit"))
        closed_early = timezone.localtime(now).date() <= rnd.closes_on
        if silent and closed_early and actor is not None and not early:
            raise ValidationError(
                _(
                    "反馈截止日期（%(date)s）未到，还有%(n)d个单位未反馈：%(units)s。"
                    "如确需提前截止，请勾选“确认提前截止”；这些单位将记为“提前截止时未反馈，视为无意见”。"
                )
                % {
                    "date": rnd.closes_on.isoformat(),
                    "n": len(silent),
                    "units": "、".join(s.unit.name for s in silent),
                }
            )
        ConsultedUnit.objects.filter(pk__in=[s.pk for s in silent]).update(
            response=Response.SILENT, responded_at=now
        )
        updated = ConsultationRound.objects.filter(pk=rnd.pk, lock_version=rnd.lock_version).update(
            status=RoundStatus.CLOSED, closed_at=now, closed_by=actor, lock_version=F("lock_version") + 1
        )
        if updated != 1:
            raise ConflictError(_("该轮次已被他人处理，请刷新后重试。"))
        for s in silent:
            audit_record(
                actor=actor,
                action="consultation.silence",
                obj=rnd,
                payload={
                    "plan_id": rnd.plan_id,
                    "unit_id": s.unit_id,
                    "unit": s.unit.name,
                    "rule": "提前截止时未反馈视为无意见" if closed_early else "逾期未反馈视为无意见",
                    "at": now.isoformat(),
                },
            )
        audit_record(
            actor=actor,
            action="consultation.close",
            obj=rnd,
            payload={
                "plan_id": rnd.plan_id,
                "closed_at": now.isoformat(),
                "silent_units": [s.unit_id for s in silent],
                "closes_on": rnd.closes_on.isoformat(),
                "closed_early": closed_early,
                "by": "handler" if actor is not None else "closing_date",
            },
        )
        if rnd.plan.status == PlanStatus.CONSULTING:
            plan_set_status(
                actor=actor, plan=rnd.plan, status=PlanStatus.DRAFT, note=_("征求意见截止，进入修改")
            )
        notify(
            recipients=selectors.lead_handlers(rnd.plan),
            subject=_("《%(title)s》征求意见已截止，请逐条处理反馈意见") % {"title": rnd.plan.title},
            link=_round_link(rnd),
            obj=rnd,
            dedupe_key=f"consultation.close:{rnd.pk}",
        )
        rnd.refresh_from_db()
    return rnd


def rounds_close_due(*, on: dt.date | None = None) -> int:
    """Close, as the system, every open round whose closing date has passed (run daily); returns how many."""
    day = on or today()
    closed = 0
    for pk in ConsultationRound.objects.filter(status=RoundStatus.OPEN, closes_on__lt=day).values_list(
        "pk", flat=True
    ):
        try:
            round_close(actor=None, round=ConsultationRound(pk=pk))
        except (StateError, ConflictError):
            continue  # closed meanwhile by the handler or another runner
        closed += 1
    return closed


def comment_dispose(
    *, actor: Any, comment: Comment, disposition: str, reason: str = "", lock_version: int
) -> Comment:
    """The lead unit's answer to a comment: adopted / partly adopted / not adopted, with a reason
    (required unless adopted). ``lock_version`` is the comment's version the handler read; if another
    handler disposed of it meanwhile this raises ``ConflictError`` naming who and what, and nothing is
    overwritten. Allowed once the round is closed and until the plan goes to sign-off.
    Raises ``PermissionDenied``, ``StateError``, ``ConflictError``, ``ValidationError``.
    """
    if disposition not in (Disposition.ADOPTED, Disposition.PARTLY_ADOPTED, Disposition.NOT_ADOPTED):
        raise ValidationError(_("请选择采纳情况：采纳、部分采纳或不予采纳。"))
    reason = (reason or "").strip()
    if disposition in REASON_REQUIRED and not reason:
        raise ValidationError(_("部分采纳或不予采纳的，必须说明理由。"))
    with transaction.atomic():
        current = Comment.objects.select_related("round", "round__plan").get(pk=comment.pk)
        plan = current.round.plan
        _check_manager(actor, plan)
        if current.round.status == RoundStatus.OPEN:
            raise StateError(_("征求意见尚未截止，截止后再逐条处理意见。"))
        if plan.status != PlanStatus.DRAFT:
            raise StateError(
                _("方案处于“%(status)s”状态，已冻结，不能再修改采纳情况。")
                % {"status": plan.get_status_display()}
            )
        before = {"disposition": current.disposition, "reason": current.reason}
        now = timezone.now()
        updated = Comment.objects.filter(pk=current.pk, lock_version=lock_version).update(
            disposition=disposition,
            reason=reason,
            disposed_by=actor,
            disposed_at=now,
            lock_version=F("lock_version") + 1,
        )
        if updated != 1:
            current.refresh_from_db()
            who = current.disposed_by or _("他人")
            raise ConflictError(
                _("这条意见已由%(who)s处理为“%(what)s”，您的处理未保存。请刷新查看后再决定是否修改。")
                % {"who": who, "what": current.get_disposition_display()}
            )
        audit_record(
            actor=actor,
            action="consultation.dispose",
            obj=current,
            payload={
                "round_id": current.round_id,
                "plan_id": plan.pk,
                "before": before,
                "after": {"disposition": disposition, "reason": reason},
            },
        )
        current.refresh_from_db()
    return current


def _content(snapshot: dict[str, Any]) -> Any:
    """What a revision must change: the plan's title and the tasks without their run-time state."""
    volatile = {"status", "warnings"}
    return (
        (snapshot.get("plan") or {}).get("title"),
        [{k: v for k, v in t.items() if k not in volatile} for t in snapshot.get("tasks", [])],
    )


def plan_revision_create(*, actor: Any, plan: Plan, note: str = "") -> PlanVersion:
    """Freeze the handler's changes to a draft (e.g. the adopted comments) as a new version (修改稿).

    Raises ``PermissionDenied``, ``StateError`` (not a draft, or nothing changed since the last
    version).
    """
    with transaction.atomic():
        current = Plan.objects.select_for_update().select_related("lead_unit").get(pk=plan.pk)
        _check_manager(actor, current)
        if current.status != PlanStatus.DRAFT:
            raise StateError(_("只有草稿可以生成修改稿。"))
        last = PlanVersion.objects.filter(plan=current).order_by("-number").first()
        if last is not None and _content(last.snapshot) == _content(plan_snapshot(current)):
            raise StateError(_("方案与第%(n)s版相比没有变化，无需生成新版本。") % {"n": last.number})
        version = plan_version_create(
            actor=actor, plan=current, reason=PlanVersion.Reason.REVISED, note=note.strip() or _("修改稿")
        )
        if last is not None:
            changes = version_diff(last.snapshot, version.snapshot)
            audit_record(
                actor=actor,
                action="consultation.revise",
                obj=version,
                payload={
                    "plan_id": current.pk,
                    "from": last.number,
                    "to": version.number,
                    "changes": [{"kind": c.kind, "no": c.no, "fields": list(c.fields)} for c in changes],
                },
            )
    return version


def plan_has_unsaved_changes(plan: Plan) -> bool:
    """True when the draft differs from its latest version (or has none)."""
    last = PlanVersion.objects.filter(plan=plan).order_by("-number").first()
    return last is None or _content(last.snapshot) != _content(plan_snapshot(plan))
