"""Writes for chasing. Keyword-only ``<entity>_<action>`` functions that take ``actor=``, check
permissions, own the transaction and write the audit record; notifications go through
:func:`qiantou.notifications.services.notify` in the same transaction (their pushes are sent later by
the workers, so a rolled-back write notifies nobody).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from qiantou.audit.services import audit_record
from qiantou.chasing.calendar import get_calendar, local_date
from qiantou.chasing.ladder import Rung, parse_rungs, schedule
from qiantou.chasing.models import (
    Attachment,
    CalendarDay,
    ChaseItem,
    Decision,
    HolidayYear,
    ItemKind,
    ItemState,
    MaterialRequest,
    MaterialStatus,
    MaterialSubmission,
    Petition,
    PetitionKind,
    PetitionStatus,
    ProgressReport,
    ProgressStatus,
    Reminder,
    ReminderLadder,
    ReportCycle,
    ReportRequest,
)
from qiantou.chasing.selectors import LadderConfig, ladder_for, recipients_for
from qiantou.chasing.uploads import CheckedFile, check_upload
from qiantou.errors import QiantouError, StateError
from qiantou.notifications.services import notify
from qiantou.plans.models import Plan, PlanStatus, Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit, UnitKind
from qiantou.workdays import CalendarYearNotLoaded, RecurrenceRule, WorkingCalendar, check_date_range
from qiantou.workdays.calendar import chinese_calendar_entries
from qiantou.workdays.recurrence import Occurrence, occurrences, validate_rule

ACK_SALT = "qiantou.chasing.reminder-ack"


class ChasingError(QiantouError):
    """Bad input to a chasing service; the message says what to fix."""


#: What each permission lets one do, as the refusal says it (``rules.py`` says who holds it).
_REFUSALS = {
    "chasing.manage_plan": gettext_lazy(
        "只有方案牵头单位的经办人或单位负责人可以发起催办和报送要求。"
    ),
    "chasing.submit_item": gettext_lazy(
        "只有承办该事项的单位（联络员、经办人或单位负责人）可以报送材料、进展或提出申请。"
    ),
    "chasing.decide_item": gettext_lazy(
        "只有方案牵头单位的经办人或单位负责人可以审核报送材料和处理申请。"
    ),
    "chasing.decide_escalated": gettext_lazy(
        "只有分管领导或牵头单位（及其上级）的主要负责人可以处理已上报的申请。"
    ),
}


def _require(actor: Any, perm: str, obj: Any) -> None:
    """PermissionDenied with a sentence saying who may do this (the API shows it as the 403 body)."""
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(str(_REFUSALS.get(perm) or gettext("您无权执行此操作。")))


# --- Calendar -------------------------------------------------------------------------------------------


def calendar_load_year(*, actor: Any, year: int, source: str = "chinese-calendar") -> HolidayYear:
    """Load (or reload, replacing corrections) one year's holidays from the chinese-calendar package.

    Raises :class:`~qiantou.workdays.CalendarYearNotLoaded` when the package has no schedule for it.
    """
    import chinese_calendar

    entries = chinese_calendar_entries(year)
    with transaction.atomic():
        row, _created = HolidayYear.objects.update_or_create(
            year=year, defaults={"source": f"{source} {chinese_calendar.__version__}"}
        )
        CalendarDay.objects.filter(year=row).delete()
        CalendarDay.objects.bulk_create(
            [CalendarDay(year=row, date=d, is_working_day=w, name=n[:64]) for d, w, n in entries]
        )
        audit_record(
            actor=actor,
            action="calendar.load",
            obj=row,
            payload={
                "year": year,
                "source": row.source,
                "days": len(entries),
                "adjusted_working_days": [d.isoformat() for d, w, _ in entries if w],
            },
        )
    resume_paused_items(now=timezone.now())
    return row


def resume_paused_items(*, now: dt.datetime) -> int:
    """Reschedule open items whose ladder paused on an unloaded year (after that year is loaded)."""
    resumed = 0
    for item in ChaseItem.objects.filter(state=ItemState.OPEN, next_remind_at__isnull=True):
        try:
            with transaction.atomic():
                _item_reschedule(item, now=now)
        except CalendarYearNotLoaded:
            continue
        resumed += item.next_remind_at is not None
    return resumed


def calendar_day_set(*, actor: Any, day: dt.date, is_working_day: bool, name: str = "") -> CalendarDay:
    """Correct one day of a loaded year (e.g. a late State Council notice); audited."""
    with transaction.atomic():
        year = HolidayYear.objects.select_for_update().filter(year=day.year).first()
        if year is None:
            raise CalendarYearNotLoaded(day.year)
        row, _ = CalendarDay.objects.update_or_create(
            date=day, defaults={"year": year, "is_working_day": is_working_day, "name": name[:64]}
        )
        year.save(update_fields=["updated_at"])
        audit_record(
            actor=actor,
            action="calendar.correct",
            obj=row,
            payload={"date": day.isoformat(), "is_working_day": is_working_day, "name": name},
        )
    return row


# --- Scheduling items on the ladder --------------------------------------------------------------------


def _fired_keys(item: ChaseItem) -> set[str]:
    return set(Reminder.objects.filter(item=item).values_list("rung", flat=True)) if item.pk else set()


def item_schedule(
    item: ChaseItem,
    *,
    now: dt.datetime,
    calendar: WorkingCalendar | None = None,
    config: LadderConfig | None = None,
) -> None:
    """Set ``next_rung``/``next_remind_at`` on ``item`` (not saved) from its due date and fired rungs.

    Rungs already fired are never repeated; of rungs whose time has passed only the latest is kept.
    Raises :class:`~qiantou.workdays.CalendarYearNotLoaded` when a rung falls in an unloaded year.
    """
    if item.state != ItemState.OPEN:
        item.next_remind_at = None
        return
    cal = calendar or get_calendar()
    cfg = config or ladder_for(item.plan_id)
    fired = _fired_keys(item)
    rungs = cfg.rungs
    start = 0
    for i, rung in enumerate(rungs):
        if rung.key in fired:
            start = i + 1
    index, when = schedule(rungs, item.due_date, cal, cfg.send_time, start, not_before=now)
    item.next_rung = index
    item.next_remind_at = when


def _check_due(due: dt.date, calendar: WorkingCalendar) -> None:
    """Refuse a due date in an unloaded year (its reminders could not be placed)."""
    calendar.check_year(due)


def _item_create(
    *,
    kind: str,
    plan: Plan,
    unit: Unit,
    title: str,
    due: dt.date,
    now: dt.datetime,
    task: Task | None = None,
    calendar: WorkingCalendar | None = None,
) -> ChaseItem:
    cal = calendar or get_calendar()
    _check_due(due, cal)
    item = ChaseItem(
        kind=kind,
        plan=plan,
        task=task,
        unit=unit,
        title=title[:255],
        due_date=due,
        restricted=bool(task and task.restricted),
        created_at=now,
    )
    item_schedule(item, now=now, calendar=cal)
    item.save()
    return item


def _item_reschedule(item: ChaseItem, *, now: dt.datetime) -> None:
    item_schedule(item, now=now)
    ChaseItem.objects.filter(pk=item.pk).update(
        state=item.state,
        done_at=item.done_at,
        due_date=item.due_date,
        due_overridden=item.due_overridden,
        next_rung=item.next_rung,
        next_remind_at=item.next_remind_at,
    )


def item_close(item: ChaseItem, *, now: dt.datetime, state: str = ItemState.DONE) -> None:
    """Mark an item done (or cancelled): nothing more fires for it."""
    item.state = state
    item.done_at = now
    item.next_remind_at = None
    ChaseItem.objects.filter(pk=item.pk).update(state=state, done_at=now, next_remind_at=None)


def item_reopen(item: ChaseItem, *, now: dt.datetime) -> None:
    """Reopen an item (a submission returned): the ladder resumes from the rungs not yet fired."""
    item.state = ItemState.OPEN
    item.done_at = None
    _item_reschedule(item, now=now)


def ladder_set(
    *,
    actor: Any,
    plan: Plan,
    rungs: Sequence[dict[str, Any]],
    send_time: dt.time | None = None,
    warning_working_days: int | None = None,
    now: dt.datetime | None = None,
) -> ReminderLadder:
    """Set a plan's reminder ladder and reschedule its open items. Raises :class:`LadderError`."""
    _require(actor, "chasing.manage_plan", plan)
    parsed: list[Rung] = parse_rungs(list(rungs))
    now = now or timezone.now()
    with transaction.atomic():
        row, _ = ReminderLadder.objects.update_or_create(
            plan=plan,
            defaults={
                "rungs": [r.to_dict() for r in parsed],
                **({"send_time": send_time} if send_time else {}),
                **(
                    {"warning_working_days": warning_working_days} if warning_working_days is not None else {}
                ),
            },
        )
        for item in ChaseItem.objects.filter(plan=plan, state=ItemState.OPEN).select_for_update():
            _item_reschedule(item, now=now)
        audit_record(
            actor=actor,
            action="chasing.ladder_set",
            obj=plan,
            payload={
                "rungs": row.rungs,
                "send_time": str(row.send_time),
                "warning_working_days": row.warning_working_days,
            },
        )
    return row


# --- Task items (the units of an issued plan's tasks) -----------------------------------------------------


def task_items_sync(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Keep task items in step with issued plans: one per (task with a deadline, named unit).

    Creates missing items, closes items whose task is done or cancelled, and follows deadline changes
    (unless an extension moved the item's own date). Items whose deadline falls in an unloaded year are
    left out until the year is loaded (and counted in ``unplaceable``).
    """
    now = now or timezone.now()
    cal = get_calendar()
    counts = {"created": 0, "closed": 0, "moved": 0, "unplaceable": 0}
    missing = (
        TaskUnit.objects.filter(
            task__plan__status=PlanStatus.ISSUED,
            task__status=TaskStatus.OPEN,
            task__deadline__isnull=False,
            unit__isnull=False,
            role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING],
        )
        .exclude(unit__kind=UnitKind.GROUP)
        .exclude(task__chase_items__unit_id=F("unit_id"))
        .select_related("task", "task__plan", "unit")
    )
    for tu in missing.iterator(chunk_size=500):
        task = tu.task
        assert task.deadline is not None and tu.unit is not None
        try:
            with transaction.atomic():
                _item_create(
                    kind=ItemKind.TASK,
                    plan=task.plan,
                    task=task,
                    unit=tu.unit,
                    title=f"{task.no} {task.text}".strip(),
                    due=task.deadline,
                    now=now,
                    calendar=cal,
                )
            counts["created"] += 1
        except CalendarYearNotLoaded:
            counts["unplaceable"] += 1
        except IntegrityError:
            pass  # created meanwhile by another scheduler
    closed = ChaseItem.objects.filter(kind=ItemKind.TASK, state=ItemState.OPEN).exclude(
        task__status=TaskStatus.OPEN
    )
    counts["closed"] = closed.update(state=ItemState.DONE, done_at=now, next_remind_at=None)
    moved = ChaseItem.objects.filter(
        kind=ItemKind.TASK, state=ItemState.OPEN, due_overridden=False, task__deadline__isnull=False
    ).exclude(due_date=F("task__deadline"))
    for item in moved.select_related("task"):
        assert item.task is not None and item.task.deadline is not None
        item.due_date = item.task.deadline
        try:
            with transaction.atomic():
                _item_reschedule(item, now=now)
            counts["moved"] += 1
        except CalendarYearNotLoaded:
            counts["unplaceable"] += 1
    return counts


# --- Material requests ---------------------------------------------------------------------------------


def material_request_create(
    *,
    actor: Any,
    plan: Plan,
    unit: Unit,
    title: str,
    description: str = "",
    task: Task | None = None,
    due_date: dt.date | None = None,
    due_working_days: int | None = None,
    issued_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> MaterialRequest:
    """催交材料: ask ``unit`` for materials by ``due_date`` or within ``due_working_days`` working days.

    Working days count on the official calendar from ``issued_on`` (default today, Asia/Shanghai).
    Raises :class:`ChasingError` for a missing or past date, :class:`~qiantou.workdays.DateOutOfRange`
    for a date outside 2000–2100, and :class:`~qiantou.workdays.CalendarYearNotLoaded` when the date
    falls in an unloaded year.
    """
    _require(actor, "chasing.manage_plan", plan)
    now = now or timezone.now()
    check_date_range(issued_on, "发出日期")
    check_date_range(due_date, "截止日期")
    issued_on = issued_on or local_date(now)
    title = (title or "").strip()
    if not title:
        raise ChasingError("请填写要报送的材料名称。")
    if len(title) > 255:  # the column's limit (a 500 on PostgreSQL before)
        raise ChasingError(f"材料名称（title）不能超过 255 个字符，现有 {len(title)} 个。")
    if task is not None and task.plan_id != plan.pk:
        raise ChasingError("所选任务不属于该方案。")
    if unit.kind == UnitKind.GROUP:
        raise ChasingError(
            f"报送单位（unit_id）“{unit.name}”是集合主体，不是一个具体单位，无法向其催交材料；"
            "请逐一选择具体的报送单位。"
        )
    if (due_date is None) == (due_working_days is None):
        raise ChasingError("请给出截止日期，或“N个工作日内”中的 N（二选一）。")
    cal = get_calendar()
    if due_working_days is not None:
        if due_working_days < 1:
            raise ChasingError("工作日数应至少为 1。")
        due_date = cal.add_working_days(issued_on, due_working_days)
    assert due_date is not None
    if due_date < issued_on:
        raise ChasingError(f"截止日期 {due_date} 早于发出日期 {issued_on}。")
    _check_due(due_date, cal)
    with transaction.atomic():
        item = _item_create(
            kind=ItemKind.MATERIAL_REQUEST,
            plan=plan,
            task=task,
            unit=unit,
            title=f"报送材料：{title}",
            due=due_date,
            now=now,
            calendar=cal,
        )
        request = MaterialRequest.objects.create(
            item=item,
            plan=plan,
            task=task,
            unit=unit,
            title=title,
            description=description,
            issued_on=issued_on,
            due_working_days=due_working_days,
            due_date=due_date,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action="material_request.create",
            obj=request,
            payload={
                "plan": plan.pk,
                "task": getattr(task, "pk", None),
                "unit": unit.pk,
                "title": title,
                "due_date": due_date.isoformat(),
                "due_working_days": due_working_days,
                "issued_on": issued_on.isoformat(),
            },
        )
        notify(
            recipients=recipients_for("liaison", item),
            subject=f"【材料报送】{title}（{due_date}前）",
            body=f"{plan.lead_unit.name}请贵单位于{due_date:%Y年%m月%d日}前报送：{title}。{description}".strip(),
            link=reverse("chasing:material_request", args=[request.pk]),
            restricted=item.restricted,
            obj=request,
            group_units=[unit],
            as_of=now,
        )
    return request


def _store_files(
    files: Iterable[CheckedFile],
    *,
    actor: Any,
    submission: MaterialSubmission | None = None,
    report: ProgressReport | None = None,
) -> list[Attachment]:
    stored = []
    for f in files:
        att = Attachment(
            submission=submission,
            report=report,
            original_name=f.name[:255],
            kind=f.kind,
            size=len(f.data),
            sha256=hashlib.sha256(f.data).hexdigest(),
            uploaded_by=actor,
        )
        att.file.save(f.name, ContentFile(f.data), save=False)
        att.save()
        stored.append(att)
    return stored


def _check_files(files: Sequence[tuple[str, bytes]]) -> list[CheckedFile]:
    return [check_upload(name, data) for name, data in files]


def material_submit(
    *,
    actor: Any,
    request: MaterialRequest,
    text: str = "",
    files: Sequence[tuple[str, bytes]] = (),
    now: dt.datetime | None = None,
) -> MaterialSubmission:
    """The owing unit hands in materials (text and/or files). Every file is checked before anything is
    written; a refused file raises :class:`~qiantou.chasing.uploads.UploadRejected` and nothing changes.
    """
    _require(actor, "chasing.submit_item", request.item)
    checked = _check_files(files)
    if not checked and not (text or "").strip():
        raise ChasingError("请上传材料文件或填写报送内容。")
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            MaterialRequest.objects.select_for_update().select_related("item", "plan").get(pk=request.pk)
        )
        if request.status not in (MaterialStatus.OPEN, MaterialStatus.RETURNED):
            raise StateError(f"该材料要求当前状态为“{request.get_status_display()}”，不能再报送。")
        submission = MaterialSubmission.objects.create(
            request=request, text=text, submitted_by=actor, submitted_at=now
        )
        attachments = _store_files(checked, actor=actor, submission=submission)
        request.status = MaterialStatus.SUBMITTED
        request.save(update_fields=["status"])
        item_close(request.item, now=now)
        late = local_date(now) > request.due_date
        audit_record(
            actor=actor,
            action="material_request.submit",
            obj=request,
            payload={
                "submission": submission.pk,
                "late": late,
                "files": [{"name": a.original_name, "sha256": a.sha256, "size": a.size} for a in attachments],
            },
        )
        notify(
            recipients=recipients_for("handler", request.item),
            subject=f"【材料已报送】{request.title}",
            body=f"{request.unit.name}已报送材料“{request.title}”，请审核。",
            link=reverse("chasing:material_request", args=[request.pk]),
            obj=submission,
            restricted=request.item.restricted,
            as_of=now,
        )
    return submission


def material_decide(
    *,
    actor: Any,
    submission: MaterialSubmission,
    accept: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> MaterialSubmission:
    """The lead unit accepts a submission, or returns it with a reason (required); history is kept."""
    request = submission.request
    _require(actor, "chasing.decide_item", request.item)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ChasingError("退回材料须说明理由。")
    now = now or timezone.now()
    with transaction.atomic():
        submission = MaterialSubmission.objects.select_for_update().get(pk=submission.pk)
        if submission.decision != Decision.PENDING:
            raise StateError("该次报送已审核过。")
        submission.decision = Decision.ACCEPTED if accept else Decision.RETURNED
        submission.reason = reason
        submission.decided_by = actor
        submission.decided_at = now
        submission.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
        request.status = MaterialStatus.ACCEPTED if accept else MaterialStatus.RETURNED
        request.save(update_fields=["status"])
        if not accept:
            item_reopen(request.item, now=now)
        audit_record(
            actor=actor,
            action="material_request.accept" if accept else "material_request.return",
            obj=request,
            payload={"submission": submission.pk, "reason": reason},
        )
        notify(
            recipients=recipients_for("liaison", request.item),
            subject=f"【材料{'已采用' if accept else '被退回'}】{request.title}",
            body=(
                "材料已采用。"
                if accept
                else f"材料被退回，理由：{reason}。请于{request.due_date}前重新报送。"
            ),
            link=reverse("chasing:material_request", args=[request.pk]),
            obj=submission,
            restricted=request.item.restricted,
            as_of=now,
        )
    return submission


# --- Progress reporting cycles ------------------------------------------------------------------------


def cycle_units(cycle: ReportCycle) -> list[int]:
    """The responsible units of a cycle: the task's units, or every unit named on the plan's tasks."""
    qs = TaskUnit.objects.filter(
        unit__isnull=False, role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING]
    ).exclude(unit__kind=UnitKind.GROUP)
    qs = qs.filter(task_id=cycle.task_id) if cycle.task_id else qs.filter(task__plan_id=cycle.plan_id)
    return sorted(set(qs.values_list("unit_id", flat=True)))


def _generation_time(cycle: ReportCycle, due: dt.date, cal: WorkingCalendar) -> dt.datetime:
    from qiantou.chasing.calendar import at_local

    return at_local(cal.add_working_days(due, -cycle.lead_working_days), dt.time(0, 0))


def cycle_occurrences(cycle: ReportCycle, cal: WorkingCalendar) -> list[Occurrence]:
    """The periods a cycle generates requests for: those of its rule in [start, end] that are due on or
    after ``generate_from`` (the day the cycle was set up) — a period already past due is never created,
    so no unit is red and overdue the moment a cycle is set up."""
    rule = RecurrenceRule.from_dict(cycle.rule)
    found = occurrences(rule, cal, cycle.start_date, cycle.end_date)
    if cycle.generate_from is None:
        return found
    return [occ for occ in found if occ.due >= cycle.generate_from]


def next_generation_after(cycle: ReportCycle, now: dt.datetime, cal: WorkingCalendar) -> dt.datetime | None:
    """When the cycle's next period's requests are due to be created (the first such time after ``now``)."""
    for occ in cycle_occurrences(cycle, cal):
        when = _generation_time(cycle, occ.due, cal)
        if when > now:
            return when
    return None


#: How many working days before its due date a report request may be sent out at most.
MAX_LEAD_WORKING_DAYS = 60


def report_cycle_create(
    *,
    actor: Any,
    plan: Plan,
    title: str,
    rule: dict[str, Any],
    start_date: dt.date,
    end_date: dt.date,
    task: Task | None = None,
    lead_working_days: int = 5,
    now: dt.datetime | None = None,
) -> ReportCycle:
    """进展报送周期: create a cycle. Raises :class:`~qiantou.workdays.RuleError` for a malformed rule or
    one that would fire on no working day in [start, end], :class:`~qiantou.workdays.DateOutOfRange`
    for a date outside 2000–2100, and :class:`~qiantou.workdays.CalendarYearNotLoaded` when the range
    reaches an unloaded year.
    """
    _require(actor, "chasing.manage_plan", plan)
    check_date_range(start_date, "开始日期")
    check_date_range(end_date, "结束日期")
    if task is not None and task.plan_id != plan.pk:
        raise ChasingError("所选任务不属于该方案。")
    if not 0 <= lead_working_days <= MAX_LEAD_WORKING_DAYS:  # the web form's limits
        raise ChasingError(
            f"提前发起工作日数（lead_working_days）应在 0 至 {MAX_LEAD_WORKING_DAYS} 之间，"
            f"而不是 {lead_working_days}。"
        )
    parsed = RecurrenceRule.from_dict(rule)
    cal = get_calendar()
    found = validate_rule(parsed, cal, start_date, end_date)
    now = now or timezone.now()
    today = local_date(now)
    upcoming = [occ for occ in found if occ.due >= today]
    if not upcoming:
        raise ChasingError(
            f"该周期在 {start_date} 至 {end_date} 内各期的截止日期都早于今天（{today}），"
            "不会生成任何报送要求；请调整开始日期或结束日期。"
        )
    with transaction.atomic():
        cycle = ReportCycle(
            plan=plan,
            task=task,
            title=(title or parsed.describe())[:255],
            rule=parsed.to_dict(),
            start_date=start_date,
            end_date=end_date,
            lead_working_days=lead_working_days,
            generate_from=today,
            created_by=actor,
        )
        cycle.next_generate_at = _generation_time(cycle, upcoming[0].due, cal)
        cycle.save()
        audit_record(
            actor=actor,
            action="report_cycle.create",
            obj=cycle,
            payload={
                "rule": cycle.rule,
                "describe": parsed.describe(),
                "start": start_date.isoformat(),
                "end": end_date.isoformat(),
                "periods": len(upcoming),
                "skipped_past_periods": [occ.period for occ in found if occ.due < today],
            },
        )
    return cycle


def report_requests_generate(*, cycle: ReportCycle, now: dt.datetime) -> int:
    """Create the report requests of every period whose generation time has come (exactly once per
    cycle, unit and period — the unique constraint makes a repeat a no-op). Returns how many were new.
    """
    cal = get_calendar()
    units = {u.pk: u for u in Unit.objects.filter(pk__in=cycle_units(cycle))}
    created = 0
    for occ in cycle_occurrences(cycle, cal):
        if _generation_time(cycle, occ.due, cal) > now:
            break
        existing = set(
            ReportRequest.objects.filter(cycle=cycle, period=occ.period).values_list("unit_id", flat=True)
        )
        for unit_id, unit in units.items():
            if unit_id in existing:
                continue
            try:
                with transaction.atomic():
                    item = _item_create(
                        kind=ItemKind.REPORT_REQUEST,
                        plan=cycle.plan,
                        task=cycle.task,
                        unit=unit,
                        title=f"{cycle.title}（{occ.period}）",
                        due=occ.due,
                        now=now,
                        calendar=cal,
                    )
                    request = ReportRequest.objects.create(
                        item=item, cycle=cycle, unit=unit, period=occ.period, due_date=occ.due, created_at=now
                    )
                    audit_record(
                        actor=None,
                        action="report_request.create",
                        obj=request,
                        payload={
                            "cycle": cycle.pk,
                            "unit": unit_id,
                            "period": occ.period,
                            "due_date": occ.due.isoformat(),
                        },
                    )
                    notify(
                        recipients=recipients_for("liaison", item),
                        subject=f"【进展报送】{cycle.title}（{occ.period}）{occ.due}前",
                        body=f"请于{occ.due:%Y年%m月%d日}前报送{occ.period}期进展情况。",
                        link=reverse("chasing:report_request", args=[request.pk]),
                        obj=request,
                        restricted=item.restricted,
                        group_units=[unit],
                        as_of=now,
                    )
                created += 1
            except IntegrityError:
                continue  # another scheduler created it: exactly once holds
    return created


#: Most figures one report may carry, and the longest name.
MAX_FIGURES = 100
MAX_FIGURE_NAME = 64


def clean_figure(name: str, value: Any, where: str) -> str:
    """A figure's value as the number text stored (thousands separators removed); ChasingError naming
    ``where`` (the line or the name) for text that is no number, or for NaN / infinity / 1e999."""
    if isinstance(value, bool) or value is None:
        raise ChasingError(f"{where}：“{name}”的数值应为数字，而不是 {value!r}。")
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ChasingError(f"{where}：“{name}”的数值“{value}”不是数字。") from None
    if not number.is_finite() or not math.isfinite(float(number)) or len(text) > 40:
        raise ChasingError(f"{where}：“{name}”的数值“{value}”不是有效的有限数值。")
    return text


def clean_figures(figures: dict[str, Any] | None) -> dict[str, str]:
    """Check a report's figures (name → number); ChasingError naming the figure for a bad one."""
    figures = figures or {}
    if not isinstance(figures, dict):
        raise ChasingError("数据（figures）应为“名称: 数值”的对应表。")
    if len(figures) > MAX_FIGURES:
        raise ChasingError(f"数据（figures）最多 {MAX_FIGURES} 项，现有 {len(figures)} 项。")
    out: dict[str, str] = {}
    for name, value in figures.items():
        label = str(name).strip()
        if not label or len(label) > MAX_FIGURE_NAME:
            raise ChasingError(f"数据（figures）的名称应为 1 至 {MAX_FIGURE_NAME} 个字符：“{label[:20]}”。")
        out[label] = clean_figure(label, value, f"数据（figures）“{label}”")
    return out


def progress_report_submit(
    *,
    actor: Any,
    request: ReportRequest,
    status: str,
    text: str,
    figures: dict[str, Any] | None = None,
    files: Sequence[tuple[str, bytes]] = (),
    now: dt.datetime | None = None,
) -> ProgressReport:
    """A unit reports for a period: status, progress text, figures, attachments (checked first)."""
    _require(actor, "chasing.submit_item", request.item)
    if status not in ProgressStatus.values:
        raise ChasingError(f"进展状态无效：{status}")
    if not (text or "").strip():
        raise ChasingError("请填写进展情况。")
    figures = clean_figures(figures)
    checked = _check_files(files)
    now = now or timezone.now()
    with transaction.atomic():
        report = ProgressReport.objects.create(
            request=request,
            status=status,
            text=text,
            figures=figures or {},
            submitted_by=actor,
            submitted_at=now,
        )
        attachments = _store_files(checked, actor=actor, report=report)
        item_close(request.item, now=now)
        audit_record(
            actor=actor,
            action="progress_report.submit",
            obj=request,
            payload={
                "report": report.pk,
                "status": status,
                "period": request.period,
                "late": local_date(now) > request.due_date,
                "figures": figures or {},
                "files": [a.original_name for a in attachments],
            },
        )
    return report


# --- Difficulty and extension requests -------------------------------------------------------------------


def petition_raise(
    *,
    actor: Any,
    item: ChaseItem,
    kind: str,
    reason: str,
    requested_due_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """困难反映 / 延期申请 by the owing unit; the lead unit's handlers are notified."""
    _require(actor, "chasing.submit_item", item)
    if kind not in PetitionKind.values:
        raise ChasingError(f"类型无效：{kind}")
    reason = (reason or "").strip()
    if not reason:
        raise ChasingError("请说明理由。")
    if kind == PetitionKind.EXTENSION:
        if requested_due_date is None:
            raise ChasingError("延期申请须写明申请延至的日期。")
        check_date_range(requested_due_date, "申请延至的日期")
        if requested_due_date <= item.due_date:
            raise ChasingError(f"申请延至的日期应晚于原截止日期 {item.due_date}。")
        get_calendar().check_year(requested_due_date)
    now = now or timezone.now()
    with transaction.atomic():
        petition = Petition.objects.create(
            kind=kind,
            item=item,
            unit=item.unit,
            reason=reason,
            requested_due_date=requested_due_date,
            raised_by=actor,
            raised_at=now,
        )
        audit_record(
            actor=actor,
            action=f"petition.{kind}",
            obj=petition,
            payload={
                "item": item.pk,
                "reason": reason,
                "requested_due_date": requested_due_date.isoformat() if requested_due_date else None,
            },
        )
        notify(
            recipients=recipients_for("handler", item),
            subject=f"【{petition.get_kind_display()}】{item.unit.name}：{item.title}",
            body=reason,
            link=reverse("chasing:item", args=[item.pk]),
            obj=petition,
            restricted=item.restricted,
            as_of=now,
        )
    return petition


def petition_decide(
    *,
    actor: Any,
    petition: Petition,
    decision: str,
    note: str = "",
    granted_due_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """The lead unit decides (granted / refused / resolved) or escalates to the leader in charge.

    An escalated request is decided by the leader in charge (or principal) above the lead unit. Granting
    an extension moves the item's due date; rungs already fired are not repeated, the rest follow the
    new date. Refusing requires a note.
    """
    if petition.status not in (PetitionStatus.PENDING, PetitionStatus.ESCALATED):
        raise StateError("该申请已处理。")
    if petition.status == PetitionStatus.ESCALATED:
        _require(actor, "chasing.decide_escalated", petition)
    else:
        _require(actor, "chasing.decide_item", petition.item)
    allowed = {
        PetitionStatus.GRANTED,
        PetitionStatus.REFUSED,
        PetitionStatus.RESOLVED,
        PetitionStatus.ESCALATED,
    }
    if decision not in allowed or (
        decision == PetitionStatus.ESCALATED and petition.status == PetitionStatus.ESCALATED
    ):
        raise ChasingError(f"处理结果无效：{decision}")
    note = (note or "").strip()
    if decision in (PetitionStatus.REFUSED, PetitionStatus.ESCALATED) and not note:
        raise ChasingError("不同意或提请分管领导时须写明意见。")
    now = now or timezone.now()
    item = petition.item
    old_due = item.due_date
    new_due: dt.date | None = None
    if decision == PetitionStatus.GRANTED and petition.kind == PetitionKind.EXTENSION:
        new_due = granted_due_date or petition.requested_due_date
        if new_due is None or new_due <= item.due_date:
            raise ChasingError("同意延期须给出晚于原截止日期的新日期。")
        check_date_range(new_due, "同意延至的日期")
        get_calendar().check_year(new_due)
    with transaction.atomic():
        previous = petition.status
        petition.status = decision
        petition.decision_note = note
        if decision != PetitionStatus.ESCALATED:
            petition.decided_by = actor
            petition.decided_at = now
        petition.granted_due_date = new_due
        petition.save()
        if new_due is not None:
            item = ChaseItem.objects.select_for_update().get(pk=item.pk)
            item.due_date = new_due
            item.due_overridden = True
            _item_reschedule(item, now=now)
            MaterialRequest.objects.filter(item=item).update(due_date=new_due)
            ReportRequest.objects.filter(item=item).update(due_date=new_due)
        audit_record(
            actor=actor,
            action=f"petition.{decision}",
            obj=petition,
            payload={
                "item": item.pk,
                "previous": previous,
                "note": note,
                "old_due_date": old_due.isoformat() if new_due else None,
                "new_due_date": new_due.isoformat() if new_due else None,
            },
        )
        if decision == PetitionStatus.ESCALATED:
            leaders = recipients_for("leader_in_charge", ChaseItem(unit=item.plan.lead_unit, plan=item.plan))
            notify(
                recipients=leaders,
                subject=f"【提请决定】{petition.get_kind_display()}：{item.unit.name}",
                body=f"{petition.reason}\n牵头单位意见：{note}",
                link=reverse("chasing:item", args=[item.pk]),
                obj=petition,
                restricted=item.restricted,
                as_of=now,
            )
        else:
            notify(
                recipients=[petition.raised_by],
                subject=f"【{petition.get_kind_display()}】已处理：{petition.get_status_display()}",
                body=note or petition.get_status_display(),
                link=reverse("chasing:item", args=[item.pk]),
                obj=petition,
                restricted=item.restricted,
                as_of=now,
            )
    return petition


# --- Reminders: dispatch and acknowledgement ----------------------------------------------------------------


def ack_token(reminder_id: int, user_id: int | None) -> str:
    """A signed acknowledgement token for one reminder and recipient (no expiry: the record is permanent)."""
    return signing.dumps({"r": reminder_id, "u": user_id}, salt=ACK_SALT, compress=True)


def ack_link(reminder_id: int, user_id: int | None) -> str:
    """The path of a reminder's acknowledgement page for one recipient."""
    return reverse("chasing:ack", args=[ack_token(reminder_id, user_id)])


def reminder_acknowledge(*, token: str, user: Any = None, now: dt.datetime | None = None) -> Reminder:
    """Record that a reminder was acknowledged (the first acknowledgement counts; later ones are kept in
    the audit record). Raises :class:`ChasingError` for a forged or damaged token.
    """
    try:
        data = signing.loads(token, salt=ACK_SALT)
        reminder_id, user_id = int(data["r"]), data.get("u")
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ChasingError("确认链接无效或已损坏。") from exc
    now = now or timezone.now()
    actor = user if getattr(user, "is_authenticated", False) else None
    if actor is None and user_id is not None:
        from qiantou.accounts.models import User

        actor = User.objects.filter(pk=user_id).first()
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().select_related("item").filter(pk=reminder_id).first()
        if reminder is None:
            raise ChasingError("该催办记录不存在。")
        first = reminder.acknowledged_at is None
        if first:
            reminder.acknowledged_at = now
            reminder.acknowledged_by = actor
            reminder.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action="reminder.acknowledged",
            obj=reminder,
            payload={"item": reminder.item_id, "rung": reminder.rung, "token_user": user_id, "first": first},
        )
    return reminder


def _reminder_text(
    reminder: Reminder, item: ChaseItem, cal: WorkingCalendar, today: dt.date
) -> tuple[str, str]:
    unit = item.unit.name
    if today > item.due_date:
        try:
            late = cal.working_days_between(item.due_date, today)
        except CalendarYearNotLoaded:
            late = 0
        subject = f"【催办·{reminder.label}】{unit}：{item.title}已逾期{late}个工作日"
        body = (
            f"{unit}承担的“{item.title}”截止日期为{item.due_date:%Y年%m月%d日}，至今已逾期{late}个工作日，"
            f"请抓紧办理并报送。"
        )
    elif today == item.due_date:
        subject = f"【催办·{reminder.label}】{unit}：{item.title}今日到期"
        body = f"{unit}承担的“{item.title}”今日（{item.due_date:%Y年%m月%d日}）到期，请按时报送。"
    else:
        subject = f"【提醒·{reminder.label}】{unit}：{item.title}将于{item.due_date}到期"
        body = f"{unit}承担的“{item.title}”将于{item.due_date:%Y年%m月%d日}到期，请提前安排。"
    return subject, f"{body}\n牵头单位：{item.plan.lead_unit.name}；方案：{item.plan.title}"


def item_link(item: ChaseItem) -> str:
    """The page where ``item`` is handled: its material request or report request, else the item."""
    if hasattr(item, "material_request"):
        return reverse("chasing:material_request", args=[item.material_request.pk])
    if hasattr(item, "report_request"):
        return reverse("chasing:report_request", args=[item.report_request.pk])
    return reverse("chasing:item", args=[item.pk])


def reminders_dispatch(*, claims: Sequence[Sequence[str | int]], as_of: dt.datetime) -> dict[str, int]:
    """Fan claimed reminders out into notifications (job body).

    Each claim ``(reminder id, claimed lease)`` is taken over with a compare-and-set on
    ``next_dispatch_at`` inside the same transaction that writes the messages and the ``reminder.sent``
    audit event — a worker killed half-way leaves nothing, and the lease's expiry lets the scheduler
    hand the reminder out again. An item done meanwhile is not reminded (the reminder is cancelled).
    """
    counts = {"sent": 0, "cancelled": 0, "skipped": 0}
    cal = get_calendar()
    today = local_date(as_of)
    for pk_raw, claimed_raw in claims:
        pk = int(pk_raw)
        claimed = dt.datetime.fromisoformat(str(claimed_raw))
        with transaction.atomic():
            taken = Reminder.objects.filter(pk=pk, next_dispatch_at=claimed).update(
                next_dispatch_at=None, dispatched_at=timezone.now()
            )
            if not taken:
                counts["skipped"] += 1
                continue
            reminder = Reminder.objects.select_related(
                "item", "item__unit", "item__plan", "item__plan__lead_unit", "item__task"
            ).get(pk=pk)
            item = reminder.item
            task_done = item.task is not None and item.kind == "task" and item.task.status != TaskStatus.OPEN
            if item.state != ItemState.OPEN or task_done:
                Reminder.objects.filter(pk=pk).update(cancelled=True)
                audit_record(
                    actor=None,
                    action="reminder.cancelled",
                    obj=reminder,
                    payload={"item": item.pk, "rung": reminder.rung, "reason": "item done"},
                )
                counts["cancelled"] += 1
                continue
            people: dict[int, tuple[Any, str]] = {}
            for role in reminder.recipient_roles:
                for user in recipients_for(role, item):
                    people.setdefault(user.pk, (user, role))
            recipients = [{"user": u.pk, "name": str(u), "role": role} for u, role in people.values()]
            Reminder.objects.filter(pk=pk).update(recipients=recipients)
            subject, body = _reminder_text(reminder, item, cal, today)
            message = notify(
                recipients=[u for u, _ in people.values()],
                subject=subject,
                body=body,
                link=item_link(item),
                restricted=item.restricted,
                obj=reminder,
                dedupe_key=f"reminder:{reminder.pk}",
                group_units=[item.unit_id],
                ack_links={uid: ack_link(reminder.pk, uid) for uid in people},
                group_ack_link=ack_link(reminder.pk, None),
                as_of=as_of,
            )
            audit_record(
                actor=None,
                action="reminder.sent",
                obj=reminder,
                payload={
                    "item": item.pk,
                    "kind": item.kind,
                    "unit": item.unit_id,
                    "rung": reminder.rung,
                    "label": reminder.label,
                    "due_date": item.due_date.isoformat(),
                    "scheduled_for": reminder.scheduled_for.isoformat(),
                    "recipients": recipients,
                    "message": message.pk,
                    "channels": sorted(set(message.deliveries.values_list("channel", flat=True))),
                },
            )
            counts["sent"] += 1
    return counts
