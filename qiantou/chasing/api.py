"""REST API of chasing at ``/api/chasing/`` (authentication: the API-wide list in ``qiantou/api.py``).

Reads are scoped by :mod:`qiantou.chasing.selectors` (an item the caller may not see is a 404, like a
missing one); writes go through :mod:`qiantou.chasing.services`, like the web pages'. Bad input —
a rule that fires on no working day, a date in an unloaded year, a refused upload — answers
422 ``{"detail": "<Chinese message>"}`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Form, Router, Status
from ninja.errors import HttpError

from qiantou.chasing import selectors, services
from qiantou.chasing.calendar import get_calendar, local_date
from qiantou.chasing.downloads import attachment_download
from qiantou.chasing.models import (
    ChaseItem,
    ItemState,
    MaterialRequest,
    MaterialSubmission,
    Petition,
    ReportCycle,
    ReportRequest,
)
from qiantou.chasing.schemas import (
    AckIn,
    CalendarDayOut,
    DecisionIn,
    InboxOut,
    ItemDetailOut,
    ItemOut,
    MaterialRequestIn,
    MaterialRequestOut,
    PetitionDecisionIn,
    PetitionIn,
    PetitionOut,
    ProgressReportIn,
    ReportCycleIn,
    ReportCycleOut,
    SubmissionOut,
    WorkdayOut,
)
from qiantou.errors import QiantouError, StateError
from qiantou.notifications.models import InboxItem
from qiantou.plans.models import Plan, Task
from qiantou.units.models import Unit
from qiantou.workdays import check_date_range
from qiantou.workdays.recurrence import RecurrenceRule

router = Router(tags=["chasing"])


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


def _call(fn: Any, **kwargs: Any) -> Any:
    """Run a service; its input errors become 422 with the service's message (state errors stay 409)."""
    try:
        return fn(**kwargs)
    except StateError:
        raise
    except QiantouError as exc:
        raise HttpError(422, str(exc)) from exc


def _item(request: HttpRequest, pk: int) -> ChaseItem:
    item = selectors.items_visible_to(_user(request)).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def _plan_managed(request: HttpRequest, plan_id: int) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None or not _user(request).has_perm("chasing.manage_plan", plan):
        raise Http404
    return plan


def _unit_field(unit_id: int) -> Unit:
    """The active unit ``unit_id`` of a request body; 422 naming the field when there is none."""
    unit = Unit.objects.filter(pk=unit_id, active=True).first()
    if unit is None:
        raise HttpError(422, _("unit_id：单位 %(id)s 不存在或已停用。") % {"id": unit_id})
    return unit


def _task_field(plan: Plan, task_id: int | None) -> Task | None:
    """The task ``task_id`` of ``plan`` (None when not given); 422 naming the field when it is not one."""
    if not task_id:
        return None
    task = Task.objects.filter(pk=task_id, plan=plan).first()
    if task is None:
        raise HttpError(422, _("task_id：任务 %(id)s 不属于该方案。") % {"id": task_id})
    return task


def _item_out(item: ChaseItem, today: dt.date) -> dict[str, Any]:
    try:
        light = str(selectors.status_light(item, today))
        overdue = selectors.working_days_overdue(item.due_date, today) if item.state == "open" else 0
    except QiantouError:
        light, overdue = str(selectors.Light.RED if today > item.due_date else selectors.Light.GREEN), 0
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "plan_id": item.plan_id,
        "task_id": item.task_id,
        "unit_id": item.unit_id,
        "unit_name": item.unit.name,
        "due_date": item.due_date,
        "state": item.state,
        "light": light,
        "working_days_overdue": overdue,
        "next_remind_at": item.next_remind_at,
    }


def _submission_out(sub: MaterialSubmission) -> dict[str, Any]:
    attachments = list(sub.attachments.all())  # read once for both keys
    return {
        "id": sub.pk,
        "request_id": sub.request_id,
        "text": sub.text,
        "submitted_at": sub.submitted_at,
        "decision": sub.decision,
        "reason": sub.reason,
        "files": [a.original_name for a in attachments],
        "attachments": [_attachment_out(a) for a in attachments],
    }


def _attachment_out(att: Any) -> dict[str, Any]:
    return {
        "id": att.pk,
        "name": att.original_name,
        "kind": att.kind,
        "size": att.size,
        "sha256": att.sha256,
        "url": f"/api/chasing/attachments/{att.pk}",
    }


def _cycle_out(cycle: ReportCycle) -> dict[str, Any]:
    return {
        "id": cycle.pk,
        "title": cycle.title,
        "rule": cycle.rule,
        "describe": RecurrenceRule.from_dict(cycle.rule).describe(),
        "start_date": cycle.start_date,
        "end_date": cycle.end_date,
        "next_generate_at": cycle.next_generate_at,
        "generate_from": cycle.generate_from,
    }


@router.get("/items", response={200: list[ItemOut], 422: dict[str, Any]})
def item_list(
    request: HttpRequest,
    state: str = "open",
    unit_id: int | None = None,
    light: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> Any:
    """Chase items the caller may see, soonest due first, with their status light.

    ``state`` open / done / cancelled; ``light`` green / yellow / red filters before paging
    (``offset``, ``limit`` ≤ 1000 count matching items). An unknown state or light is 422 naming it.
    """
    for name, value, allowed in (
        ("state", state, [str(v) for v in ItemState.values]),
        ("light", light, [str(v) for v in selectors.Light]),
    ):
        if value is not None and value not in allowed:
            detail = _("参数 %(name)s 应为 %(allowed)s 之一，实为“%(value)s”。") % {
                "name": name, "allowed": " / ".join(allowed), "value": value}
            return Status(422, {"detail": detail, "errors": {name: detail}})
    today = local_date(timezone.now())
    qs = selectors.items_visible_to(_user(request)).filter(state=state).order_by("due_date", "id")
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    offset, limit = max(offset, 0), max(0, min(limit, 1000))  # negative slices raise (a 500 before)
    if light is None:
        return [_item_out(i, today) for i in qs[offset : offset + limit]]
    # The light needs the working calendar, so it is computed here; the database narrows the candidates
    # first (only an open item past due is red; a yellow one is open and due from today on).
    if light == selectors.Light.RED:
        qs = qs.filter(state=ItemState.OPEN, due_date__lt=today)
    elif light == selectors.Light.YELLOW:
        qs = qs.filter(state=ItemState.OPEN, due_date__gte=today)
    rows = (_item_out(i, today) for i in qs.iterator(chunk_size=500))
    matches = (row for row in rows if row["light"] == light)
    return list(itertools.islice(matches, offset, offset + limit))


@router.get("/items/{item_id}", response=ItemDetailOut)
def item_detail(request: HttpRequest, item_id: int) -> dict[str, Any]:
    """One item with its reminders (sent, dispatched, acknowledged)."""
    item = _item(request, item_id)
    out = _item_out(item, local_date(timezone.now()))
    out["reminders"] = list(item.reminders.all())
    return out


@router.get("/board", response=list[ItemOut])
def overdue_board(request: HttpRequest) -> list[dict[str, Any]]:
    """Overdue open items the caller may see, most overdue units first."""
    today = local_date(timezone.now())
    return [
        _item_out(row.item, today)
        for _, rows in selectors.overdue_board(_user(request), today)
        for row in rows
    ]


@router.post("/plans/{plan_id}/material-requests", response={201: MaterialRequestOut})
def material_request_create(request: HttpRequest, plan_id: int, data: MaterialRequestIn) -> Any:
    """催交材料: ask a unit for materials by a date or within N working days."""
    plan = _plan_managed(request, plan_id)
    unit = _unit_field(data.unit_id)
    task = _task_field(plan, data.task_id)
    req = _call(
        services.material_request_create,
        actor=_user(request),
        plan=plan,
        unit=unit,
        title=data.title,
        description=data.description,
        task=task,
        due_date=data.due_date,
        due_working_days=data.due_working_days,
        issued_on=data.issued_on,
    )
    return Status(201, req)


@router.get("/material-requests/{request_id}", response=MaterialRequestOut)
def material_request_detail(request: HttpRequest, request_id: int) -> MaterialRequest:
    """One material request."""
    req = get_object_or_404(MaterialRequest, pk=request_id)
    _item(request, req.item_id)
    return req


@router.post("/material-requests/{request_id}/submissions", response={201: SubmissionOut})
def material_submit(request: HttpRequest, request_id: int, text: Form[str] = "") -> Any:
    """Hand in materials: multipart with ``text`` and any number of ``files`` parts. Every file is checked
    (type sniffed from its content, size limit) before anything is stored; a refused file answers 422."""
    req = get_object_or_404(MaterialRequest, pk=request_id)
    _item(request, req.item_id)
    uploads = [(f.name or "", f.read()) for f in request.FILES.getlist("files")]
    sub = _call(services.material_submit, actor=_user(request), request=req, text=text, files=uploads)
    return Status(201, _submission_out(sub))


@router.post("/submissions/{submission_id}/decision", response=SubmissionOut)
def material_decide(request: HttpRequest, submission_id: int, data: DecisionIn) -> dict[str, Any]:
    """Accept a submission, or return it with a reason."""
    sub = get_object_or_404(MaterialSubmission.objects.select_related("request"), pk=submission_id)
    _item(request, sub.request.item_id)
    sub = _call(
        services.material_decide, actor=_user(request), submission=sub, accept=data.accept, reason=data.reason
    )
    return _submission_out(sub)


@router.get("/attachments/{attachment_id}")
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Download a file handed in with a material submission or a progress report; 404 when the caller
    may not see the request it belongs to. Recorded as ``export.download``."""
    return attachment_download(_user(request), attachment_id)


@router.post("/plans/{plan_id}/report-cycles", response={201: ReportCycleOut})
def report_cycle_create(request: HttpRequest, plan_id: int, data: ReportCycleIn) -> Any:
    """A progress reporting cycle; 422 for a rule that fires on no working day or reaches an unloaded year."""
    plan = _plan_managed(request, plan_id)
    task = _task_field(plan, data.task_id)
    cycle = _call(
        services.report_cycle_create,
        actor=_user(request),
        plan=plan,
        title=data.title,
        rule=data.rule,
        start_date=data.start_date,
        end_date=data.end_date,
        task=task,
        lead_working_days=data.lead_working_days,
    )
    return Status(201, _cycle_out(cycle))


@router.post("/report-requests/{request_id}/reports", response={201: dict[str, Any]})
def progress_report_submit(request: HttpRequest, request_id: int, data: ProgressReportIn) -> Any:
    """A unit's report for one period."""
    req = get_object_or_404(ReportRequest, pk=request_id)
    _item(request, req.item_id)
    report = _call(
        services.progress_report_submit,
        actor=_user(request),
        request=req,
        status=data.status,
        text=data.text,
        figures=data.figures,
    )
    return Status(201, {"id": report.pk, "status": report.status})


@router.post("/items/{item_id}/petitions", response={201: PetitionOut})
def petition_raise(request: HttpRequest, item_id: int, data: PetitionIn) -> Any:
    """困难反映 or 延期申请 by the owing unit."""
    item = _item(request, item_id)
    return Status(
        201,
        _call(
            services.petition_raise,
            actor=_user(request),
            item=item,
            kind=data.kind,
            reason=data.reason,
            requested_due_date=data.requested_due_date,
        ),
    )


@router.post("/petitions/{petition_id}/decision", response=PetitionOut)
def petition_decide(request: HttpRequest, petition_id: int, data: PetitionDecisionIn) -> Petition:
    """Decide (granted / refused / resolved) or escalate to the leader in charge."""
    petition = get_object_or_404(Petition.objects.select_related("item"), pk=petition_id)
    _item(request, petition.item_id)
    result: Petition = _call(
        services.petition_decide,
        actor=_user(request),
        petition=petition,
        decision=data.decision,
        note=data.note,
        granted_due_date=data.granted_due_date,
    )
    return result


@router.post("/reminders/ack", response={200: dict[str, Any]})
def reminder_acknowledge(request: HttpRequest, data: AckIn) -> dict[str, Any]:
    """Acknowledge a reminder with the token from its link."""
    reminder = _call(services.reminder_acknowledge, token=data.token, user=_user(request))
    return {"reminder": reminder.pk, "acknowledged_at": reminder.acknowledged_at}


@router.get("/calendar/add", response=WorkdayOut)
def calendar_add(request: HttpRequest, start: dt.date, n: int) -> dict[str, Any]:
    """The n-th working day after ``start`` (before it when n < 0); 422 when a year is not loaded, when
    ``start`` lies outside 2000–2100 or |n| exceeds 250 (the page's calculator has the same limits)."""

    def add() -> dt.date:
        check_date_range(start, "起算日期")
        if abs(n) > 250:
            raise services.ChasingError("工作日数应在 -250 至 250 之间。")
        return get_calendar().add_working_days(start, n)

    result = _call(add)
    return {"start": start, "n": n, "result": result}


@router.get("/calendar/{year}", response=list[CalendarDayOut])
def calendar_year(request: HttpRequest, year: int) -> list[dict[str, Any]]:
    """A loaded year's holidays and adjusted working days; 404 when the year is not loaded."""
    cal = get_calendar()
    if year not in cal.years:
        raise Http404
    return [
        {"date": d, "is_working_day": w, "name": cal.holiday_name(d)}
        for d, w in sorted(cal.year_exceptions(year).items())
    ]


@router.get("/inbox", response=list[InboxOut])
def inbox(request: HttpRequest, unread: bool = False) -> list[dict[str, Any]]:
    """The caller's in-app messages, newest first."""
    qs = InboxItem.objects.filter(user_id=_user(request).pk or 0).select_related("message")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return [
        {
            "id": i.pk,
            "subject": i.message.subject,
            "body": i.message.body,
            "link": i.message.link,
            "created_at": i.message.created_at,
            "read": i.read_at is not None,
        }
        for i in qs[:200]
    ]
