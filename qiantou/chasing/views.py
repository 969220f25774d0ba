"""Chasing pages: my items with status lights, the overdue board, material requests, progress reports,
difficulty / extension requests, reminder acknowledgement, the inbox and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qiantou.chasing import selectors, services
from qiantou.chasing.calendar import get_calendar, local_date
from qiantou.chasing.downloads import attachment_download
from qiantou.chasing.forms import (
    DecisionForm,
    MaterialRequestForm,
    PetitionDecisionForm,
    PetitionForm,
    ProgressReportForm,
    ReportCycleForm,
    SubmissionForm,
    WorkdayCalcForm,
)
from qiantou.chasing.models import (
    ChaseItem,
    HolidayYear,
    ItemKind,
    ItemState,
    MaterialRequest,
    MaterialSubmission,
    Petition,
    PetitionStatus,
    ReportCycle,
    ReportRequest,
)
from qiantou.errors import QiantouError
from qiantou.notifications.models import Delivery, InboxItem
from qiantou.notifications.services import inbox_mark_read
from qiantou.plans.models import Plan, Task
from qiantou.workdays.recurrence import RecurrenceRule, occurrences


def _today() -> dt.date:
    return local_date(timezone.now())


def _files(request: HttpRequest) -> list[tuple[str, bytes]]:
    return [(f.name or "", f.read()) for f in request.FILES.getlist("attachments")]


def _visible_item(request: HttpRequest, pk: int) -> ChaseItem:
    item = selectors.items_visible_to(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404  # no hint whether an item the user may not see exists
    return item


def _lighted(items: Any, today: dt.date) -> list[dict[str, Any]]:
    cal = get_calendar()
    rows = []
    for item in items:
        try:
            light = selectors.status_light(item, today, calendar=cal)
        except QiantouError:
            light = selectors.Light.GREEN
        rows.append(
            {
                "item": item,
                "light": light,
                "overdue": selectors.working_days_overdue(item.due_date, today, cal)
                if item.state == ItemState.OPEN and item.due_date < today
                else 0,
            }
        )
    return rows


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My chasing: what my unit owes, and what others owe on plans my unit leads."""
    today = _today()
    visible = selectors.items_visible_to(request.user).filter(state=ItemState.OPEN)
    unit_id = getattr(request.user, "unit_id", None) or 0
    owed = visible.filter(unit_id=unit_id).order_by("due_date")[:200]
    chasing = visible.filter(plan__lead_unit_id=unit_id).exclude(unit_id=unit_id).order_by("due_date")[:200]
    context = {
        "today": today,
        "owed": _lighted(owed, today),
        "chasing": _lighted(chasing, today),
        "plans": selectors.plans_led_by(request.user)[:50],
        "petitions": selectors.petitions_visible_to(request.user).filter(
            status__in=[PetitionStatus.PENDING, PetitionStatus.ESCALATED]
        )[:50],
        "failed": Delivery.objects.filter(
            message__object_type="chasing.reminder",
            state__in=["dead"],
            message__object_id__in=[
                str(i)
                for i in services.Reminder.objects.filter(item__plan__lead_unit_id=unit_id).values_list(
                    "id", flat=True
                )[:5000]
            ],
        ).select_related("message")[:50]
        if unit_id
        else [],
        "nav": "chasing",
    }
    return render(request, "chasing/home.html", context)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The overdue board: overdue items per unit, in working days."""
    today = _today()
    return render(
        request,
        "chasing/board.html",
        {"today": today, "board": selectors.overdue_board(request.user, today), "nav": "chasing"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """One item: its ladder, reminders (sent / delivered / acknowledged), petitions and their decisions."""
    obj = _visible_item(request, pk)
    today = _today()
    can_submit = request.user.has_perm("chasing.submit_item", obj)
    can_decide = request.user.has_perm("chasing.decide_item", obj)
    petition_form = PetitionForm(request.POST or None) if can_submit else None
    if request.method == "POST" and "raise" in request.POST:
        if petition_form is None:
            raise PermissionDenied
        if petition_form.is_valid():
            try:
                services.petition_raise(actor=request.user, item=obj, **petition_form.cleaned_data)
            except QiantouError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("已提交，牵头单位将处理。"))
                return redirect("chasing:item", pk=obj.pk)
    reminders = list(obj.reminders.select_related("acknowledged_by"))
    delivery_rows = Delivery.objects.filter(
        message__object_type="chasing.reminder", message__object_id__in=[str(r.pk) for r in reminders]
    )
    by_reminder: dict[str, list[Delivery]] = {}
    for d in delivery_rows.select_related("message"):
        by_reminder.setdefault(d.message.object_id, []).append(d)
    for r in reminders:
        r.delivery_list = by_reminder.get(str(r.pk), [])  # type: ignore[attr-defined]
    petitions = list(obj.petitions.select_related("raised_by", "decided_by", "item__plan__lead_unit"))
    for p in petitions:
        # The same checks as services.petition_decide: the lead unit while pending, the leader in
        # charge above it once escalated; nobody after a decision.
        if p.status == PetitionStatus.PENDING:
            p.may_decide = can_decide  # type: ignore[attr-defined]
        elif p.status == PetitionStatus.ESCALATED:
            p.may_decide = request.user.has_perm("chasing.decide_escalated", p)  # type: ignore[attr-defined]
        else:
            p.may_decide = False  # type: ignore[attr-defined]
    cfg = selectors.ladder_for(obj.plan_id)
    request_url = services.item_link(obj)
    context = {
        "item": obj,
        "request_url": request_url if obj.kind != ItemKind.TASK else "",
        "today": today,
        "light": selectors.status_light(obj, today),
        "reminders": reminders,
        "ladder": cfg,
        "petitions": petitions,
        "petition_form": petition_form,
        "can_decide": can_decide,
        "decision_form": PetitionDecisionForm(),
        "nav": "chasing",
    }
    return render(request, "chasing/item.html", context)


@login_required
@require_http_methods(["POST"])
def petition_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead unit (or, once escalated, the leader in charge) decides a petition."""
    petition = get_object_or_404(Petition.objects.select_related("item", "item__plan"), pk=pk)
    _visible_item(request, petition.item_id)
    form = PetitionDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.petition_decide(actor=request.user, petition=petition, **form.cleaned_data)
        except PermissionDenied:
            raise
        except QiantouError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已记录处理结果。"))
    return redirect("chasing:item", pk=petition.item_id)


def _managed_plan_and_task(request: HttpRequest, plan_id: int) -> tuple[Plan, Task | None]:
    """The plan the user chases for (404 when they may not), and the task named by ``?task=``, if any."""
    plan = get_object_or_404(Plan, pk=plan_id)
    if not request.user.has_perm("chasing.manage_plan", plan):
        raise Http404
    task_id = request.GET.get("task") or request.POST.get("task")
    task = get_object_or_404(Task, pk=task_id, plan=plan) if task_id else None
    return plan, task


@login_required
@require_http_methods(["GET", "POST"])
def material_request_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    """催交材料: ask a unit for materials by a date or within N working days."""
    plan, task = _managed_plan_and_task(request, plan_id)
    form = MaterialRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            req = services.material_request_create(
                actor=request.user,
                plan=plan,
                task=task,
                unit=d["unit"],
                title=d["title"],
                description=d["description"],
                due_date=d["due_date"] if d["due_mode"] == "date" else None,
                due_working_days=d["due_working_days"] if d["due_mode"] == "days" else None,
            )
        except QiantouError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已发出，截止日期 %(d)s。") % {"d": req.due_date})
            return redirect("chasing:material_request", pk=req.pk)
    return render(
        request,
        "chasing/material_request_new.html",
        {"plan": plan, "task": task, "form": form, "nav": "chasing"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def material_request(request: HttpRequest, pk: int) -> HttpResponse:
    """A material request: hand in (owing unit), accept or return (lead unit), the history."""
    req = get_object_or_404(MaterialRequest.objects.select_related("item", "plan", "unit", "task"), pk=pk)
    _visible_item(request, req.item_id)
    can_submit = request.user.has_perm("chasing.submit_item", req.item)
    can_decide = request.user.has_perm("chasing.decide_item", req.item)
    form = SubmissionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_submit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.material_submit(
                    actor=request.user, request=req, text=form.cleaned_data["text"], files=_files(request)
                )
            except QiantouError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已报送。"))
                return redirect("chasing:material_request", pk=req.pk)
    today = _today()
    return render(
        request,
        "chasing/material_request.html",
        {
            "req": req,
            "light": selectors.status_light(req, today),
            "form": form,
            "can_submit": can_submit,
            "can_decide": can_decide,
            "decision_form": DecisionForm(),
            "nav": "chasing",
            "submissions": req.submissions.select_related("submitted_by", "decided_by").prefetch_related(
                "attachments"
            ),
        },
    )


@login_required
@require_http_methods(["POST"])
def material_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or return a submission."""
    sub = get_object_or_404(MaterialSubmission.objects.select_related("request", "request__item"), pk=pk)
    _visible_item(request, sub.request.item_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.material_decide(
                actor=request.user,
                submission=sub,
                accept=form.cleaned_data["accept"] == "1",
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied:
            raise
        except QiantouError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已记录审核结果。"))
    return redirect("chasing:material_request", pk=sub.request_id)


@login_required
@require_http_methods(["GET", "POST"])
def report_cycle_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Set up a progress reporting cycle; the holiday policy is stated with the rule."""
    plan, task = _managed_plan_and_task(request, plan_id)
    form = ReportCycleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cycle = services.report_cycle_create(
                actor=request.user,
                plan=plan,
                task=task,
                title=d["title"],
                rule=form.rule(),
                start_date=d["start_date"],
                end_date=d["end_date"],
                lead_working_days=d["lead_working_days"],
            )
        except QiantouError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("已设置：%(r)s") % {"r": RecurrenceRule.from_dict(cycle.rule).describe()}
            )
            skipped = _skipped_periods(cycle)
            if skipped:
                messages.info(
                    request,
                    _(
                        "截止日期早于今天的 %(n)s 期（%(p)s）不生成报送要求，"
                        "自截止日期在 %(d)s 及以后的一期起生成。"
                    )
                    % {"n": len(skipped), "p": "、".join(skipped), "d": cycle.generate_from},
                )
            return redirect("chasing:cycle", pk=cycle.pk)
    return render(
        request, "chasing/report_cycle_new.html", {"plan": plan, "task": task, "form": form, "nav": "chasing"}
    )


def _skipped_periods(cycle: ReportCycle) -> list[str]:
    """Periods of the cycle's rule left out because they were already due when it was set up."""
    if cycle.generate_from is None:
        return []
    found = occurrences(
        RecurrenceRule.from_dict(cycle.rule), get_calendar(), cycle.start_date, cycle.end_date
    )
    return [occ.period for occ in found if occ.due < cycle.generate_from]


@login_required
def cycle(request: HttpRequest, pk: int) -> HttpResponse:
    """A reporting cycle: its rule in words and every unit's request per period."""
    obj = get_object_or_404(ReportCycle.objects.select_related("plan", "task"), pk=pk)
    visible = selectors.items_visible_to(request.user).filter(report_request__cycle=obj)
    if not visible.exists() and not request.user.has_perm("chasing.manage_plan", obj.plan):
        raise Http404
    today = _today()
    rows = _lighted(visible.select_related("report_request").order_by("due_date", "unit__code"), today)
    return render(
        request,
        "chasing/cycle.html",
        {
            "cycle": obj,
            "rule": RecurrenceRule.from_dict(obj.rule).describe(),
            "rows": rows,
            "skipped": _skipped_periods(obj),
            "nav": "chasing",
        },
    )


@login_required
def requests_list(request: HttpRequest) -> HttpResponse:
    """报送要求: the report cycles and material requests the user may see, by plan (``?plan=`` narrows)."""
    user = request.user
    materials = selectors.material_requests_visible_to(user).order_by("plan_id", "-issued_on", "-id")
    cycles = (
        selectors.report_cycles_visible_to(user).select_related("plan", "task").order_by("plan_id", "-id")
    )
    plan_id = request.GET.get("plan", "")
    if plan_id.isdecimal() and len(plan_id) < 12:
        materials = materials.filter(plan_id=int(plan_id))
        cycles = cycles.filter(plan_id=int(plan_id))
    today = _today()
    plans: dict[int, dict[str, Any]] = {}
    for c in cycles[:500]:
        entry = plans.setdefault(c.plan_id, {"plan": c.plan, "cycles": [], "materials": []})
        entry["cycles"].append({"cycle": c, "rule": RecurrenceRule.from_dict(c.rule).describe()})
    for m in materials[:1000]:
        entry = plans.setdefault(m.plan_id, {"plan": m.plan, "cycles": [], "materials": []})
        entry["materials"].append({"req": m, "light": selectors.status_light(m, today)})
    managed = {p.pk for p in selectors.plans_led_by(user) if user.has_perm("chasing.manage_plan", p)}
    for pk, entry in plans.items():
        entry["manage"] = pk in managed
    return render(
        request,
        "chasing/requests.html",
        {"plans": sorted(plans.values(), key=lambda e: e["plan"].title), "nav": "chasing"},
    )


def _with_lateness(due: dt.date, reports: Any) -> list[Any]:
    """The reports, each with ``late_days``: working days after ``due`` it was handed in (0 on time).

    A report handed in is done, so its light is green (红黄绿灯 shows what is still owed); how late it
    came is shown beside it and counts in the scorecard."""
    cal = get_calendar()
    out = []
    for r in reports:
        try:
            r.late_days = selectors.working_days_overdue(due, local_date(r.submitted_at), cal)
        except QiantouError:
            r.late_days = (local_date(r.submitted_at) - due).days if local_date(r.submitted_at) > due else 0
        out.append(r)
    return out


@login_required
@require_http_methods(["GET", "POST"])
def report_request(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's report for one period: the form and the reports handed in."""
    req = get_object_or_404(ReportRequest.objects.select_related("item", "cycle", "unit"), pk=pk)
    _visible_item(request, req.item_id)
    can_submit = request.user.has_perm("chasing.submit_item", req.item)
    form = ProgressReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_submit:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.progress_report_submit(
                    actor=request.user,
                    request=req,
                    status=d["status"],
                    text=d["text"],
                    figures=d["figures"],
                    files=_files(request),
                )
            except QiantouError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已报送。"))
                return redirect("chasing:report_request", pk=req.pk)
    return render(
        request,
        "chasing/report_request.html",
        {
            "req": req,
            "light": selectors.status_light(req, _today()),
            "form": form,
            "can_submit": can_submit,
            "reports": _with_lateness(
                req.due_date, req.reports.select_related("submitted_by").prefetch_related("attachments")
            ),
            "nav": "chasing",
        },
    )


@login_required
@require_http_methods(["GET"])
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a file handed in with a material submission or a progress report (404 for anyone who
    may not see the request it belongs to)."""
    return attachment_download(request.user, pk)


@require_http_methods(["GET", "POST"])
def ack(request: HttpRequest, token: str) -> HttpResponse:
    """A reminder's acknowledgement link: GET shows the reminder, POST records "received" (a link
    preview or mail scanner fetching the page acknowledges nothing)."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=services.ACK_SALT)
        reminder = services.Reminder.objects.select_related("item", "item__unit", "item__plan").get(
            pk=int(data["r"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, services.Reminder.DoesNotExist):
        return render(request, "chasing/ack.html", {"invalid": True}, status=400)
    if request.method == "POST":
        reminder = services.reminder_acknowledge(token=token, user=request.user)
        messages.success(request, _("已确认收到。"))
    return render(
        request,
        "chasing/ack.html",
        {"reminder": reminder, "item": reminder.item, "restricted": reminder.item.restricted},
    )


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    """The in-app inbox."""
    if request.method == "POST":
        inbox_mark_read(user=request.user)
        return redirect("chasing:inbox")
    items = InboxItem.objects.filter(user_id=request.user.pk or 0).select_related("message")[:200]
    return render(request, "chasing/inbox.html", {"items": items, "nav": "chasing"})


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    """The official calendar: loaded years, a year's holidays and adjusted working days, a calculator."""
    cal = get_calendar()
    years = list(HolidayYear.objects.all())
    try:
        year = int(request.GET.get("year") or _today().year)
    except ValueError:
        year = _today().year
    days = sorted(cal.year_exceptions(year).items()) if year in cal.years else []
    form = WorkdayCalcForm(request.GET if "start" in request.GET else None)
    result = error = None
    if form.is_bound and form.is_valid():
        try:
            result = cal.add_working_days(form.cleaned_data["start"], form.cleaned_data["n"])
        except QiantouError as exc:
            error = str(exc)
    return render(
        request,
        "chasing/calendar.html",
        {
            "years": years,
            "year": year,
            "loaded": year in cal.years,
            "days": [
                (d, w, cal.holiday_name(d)) for d, w in days if w or d.weekday() < 5 or cal.holiday_name(d)
            ],
            "form": form,
            "result": result,
            "error": error,
            "nav": "chasing",
        },
    )
