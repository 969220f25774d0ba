"""Consultation pages under /consultation/: a plan's rounds and versions, a round (draft, comments,
dispositions, statement), the diff between two versions, and revising a task of the draft.

Objects come through the selectors (invisible = 404); writes go through the services, whose errors
are shown to the user as messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiantou.consultation import exports, selectors, services
from qiantou.consultation.diff import version_diff
from qiantou.consultation.forms import TASK_TEXT_MAX, TaskEditForm
from qiantou.consultation.models import Comment, Disposition, Response, RoundStatus
from qiantou.consultation.rules import may_comment_, round_manager_
from qiantou.consultation.visibility import task_filter_for
from qiantou.errors import QiantouError
from qiantou.plans.models import PlanStatus, PlanVersion, Task
from qiantou.plans.rules import plan_editor_
from qiantou.plans.selectors import task_get_for, task_units_by_role, today, with_units
from qiantou.plans.services import task_update
from qiantou.units.models import Unit
from qiantou.web.responses import DOCX, SERVICE_ERRORS, download, fail, service_message
from qiantou.workdays import EARLIEST_DATE, LATEST_DATE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """My consultation work: open rounds that ask my unit, and the rounds I can see."""
    user: Any = request.user
    ctx = {
        "nav": "consultation",
        "to_answer": selectors.open_rounds_for_unit(user),
        "rounds": selectors.round_list_for(user)[:100],
    }
    return render(request, "consultation/index.html", ctx)


@login_required
def plan_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A plan's consultation: its rounds, its versions (with diffs), the form to open a round."""
    user: Any = request.user
    plan = selectors.plan_for_consultation(user, plan_id)
    manager = plan_editor_(user, plan)
    versions = list(PlanVersion.objects.filter(plan=plan).order_by("number"))
    shown = task_filter_for(user, plan)
    for v in versions:
        v.visible_task_count = len(shown.tasks(v.snapshot))  # type: ignore[attr-defined]
    rounds = list(selectors.plan_rounds_for(user, plan))
    ctx = {
        "nav": "plans",
        "plan": plan,
        "rounds": rounds,
        "versions": versions,
        "manager": manager,
        "can_open": manager
        and plan.status == PlanStatus.DRAFT
        and not any(r.status == "open" for r in rounds),
        "can_revise": manager and plan.status == PlanStatus.DRAFT and services.plan_has_unsaved_changes(plan),
        "default_units": selectors.default_consulted_units(plan) if manager else [],
        "undisposed": selectors.undisposed_comments(plan).count(),
        "min_date": today().isoformat(),
    }
    return render(request, "consultation/plan.html", ctx)


@login_required
@require_POST
def round_open(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Open a round: the units checked (default: every unit named), a closing date or N working days."""
    user: Any = request.user
    plan = selectors.plan_for_consultation(user, plan_id)
    back = reverse("consultation:plan", args=[plan.pk])
    try:
        units = [int(u) for u in request.POST.getlist("units") if u.isdigit()]
        days_raw = request.POST.get("working_days", "").strip()
        date_raw = request.POST.get("closes_on", "").strip()
        closes_on = dt.date.fromisoformat(date_raw) if date_raw else None
        working_days = int(days_raw) if days_raw and not closes_on else None
        rnd = services.round_open(
            actor=user,
            plan=plan,
            closes_on=closes_on,
            working_days=working_days,
            units=units or None,
            note=request.POST.get("note", ""),
        )
    except ValueError:
        return fail(request, ValidationError(_("日期或工作日数格式不正确。")), back)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("已发出征求意见，截止日期 %(date)s。") % {"date": rnd.closes_on.isoformat()})
    return redirect("consultation:round", pk=rnd.pk)


@login_required
def round_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The round: the circulated draft with per-task comments, the units' answers, dispositions
    (without the restricted tasks the user may not see, nor the comments on them)."""
    user: Any = request.user
    rnd = selectors.round_get_for(user, pk)
    statement = selectors.statement_for(rnd, user=user)
    by_task: dict[Any, list[Comment]] = {}
    for c in statement.comments:
        by_task.setdefault(c.task_ref, []).append(c)
    tasks = [
        {"task": t, "comments": by_task.get(t.get("id"), [])}
        for t in task_filter_for(user, rnd.plan).tasks(rnd.version.snapshot)
    ]
    my_row = next((c for c in statement.consulted if c.unit_id == getattr(user, "unit_id", None)), None)
    ctx = {
        "nav": "plans",
        "round": rnd,
        "plan": rnd.plan,
        "statement": statement,
        "tasks": tasks,
        "plan_comments": by_task.get(None, []),
        "can_comment": may_comment_(user, rnd),
        "my_row": my_row,
        "manager": round_manager_(user, rnd),
        "can_dispose": round_manager_(user, rnd)
        and rnd.status == RoundStatus.CLOSED
        and rnd.plan.status == PlanStatus.DRAFT,
        "dispositions": [d for d in Disposition.choices if d[0]],
        "responses": Response,
        # closing now would cut short units that may still answer: the close form asks to confirm
        "close_is_early": rnd.status == RoundStatus.OPEN
        and today() <= rnd.closes_on
        and statement.counts.get(Response.PENDING, 0) > 0,
    }
    return render(request, "consultation/round.html", ctx)


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A liaison's comment on a task (``task``) or on the whole plan."""
    user: Any = request.user
    rnd = selectors.round_get_for(user, pk)
    back = reverse("consultation:round", args=[rnd.pk])
    task_raw = request.POST.get("task", "")
    try:
        services.comment_create(
            actor=user,
            round=rnd,
            body=request.POST.get("body", ""),
            task_id=int(task_raw) if task_raw.isdigit() else None,
        )
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("意见已提交。"))
    return redirect(back)


@login_required
@require_POST
def no_objection(request: HttpRequest, pk: int) -> HttpResponse:
    """The liaison's unit has no objection."""
    user: Any = request.user
    rnd = selectors.round_get_for(user, pk)
    back = reverse("consultation:round", args=[rnd.pk])
    try:
        services.no_objection_record(actor=user, round=rnd)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("已反馈：无意见。"))
    return redirect(back)


@login_required
@require_POST
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the round now (silent units are recorded as "no objection"). Before the closing date,
    with units still to answer, the form's ``early`` checkbox must be ticked (the service refuses)."""
    user: Any = request.user
    rnd = selectors.round_get_for(user, pk)
    back = reverse("consultation:round", args=[rnd.pk])
    try:
        closed = services.round_close(actor=user, round=rnd, early=bool(request.POST.get("early")))
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    if closed.closed_early:
        messages.success(request, _("征求意见已提前截止；截止时未反馈的单位视为无意见。"))
    else:
        messages.success(request, _("征求意见已截止；逾期未反馈的单位视为无意见。"))
    return redirect(back)


@login_required
@require_POST
def comment_dispose(request: HttpRequest, pk: int) -> HttpResponse:
    """The handler's disposition of one comment (with the ``lock_version`` the form was rendered with)."""
    user: Any = request.user
    comment = Comment.objects.select_related("round").filter(pk=pk).first()
    if comment is None:
        raise Http404
    rnd = selectors.round_get_for(user, comment.round_id)
    back = reverse("consultation:round", args=[rnd.pk]) + f"#comment-{comment.pk}"
    try:
        services.comment_dispose(
            actor=user,
            comment=comment,
            disposition=request.POST.get("disposition", ""),
            reason=request.POST.get("reason", ""),
            lock_version=int(request.POST.get("lock_version", "-1")),
        )
    except ValueError:
        return fail(request, ValidationError(_("表单已过期，请刷新。")), back)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("已保存采纳情况。"))
    return redirect(back)


@login_required
def statement_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The disposition statement (征求意见采纳情况说明) as .docx or .xlsx, for everyone who sees the round."""
    rnd = selectors.round_get_for(request.user, pk)
    statement = selectors.statement_for(rnd, user=request.user)
    name = f"{rnd.plan.title}-第{rnd.number}轮征求意见采纳情况说明"
    if fmt == "docx":
        return download(exports.statement_docx(statement), f"{name}.docx", DOCX)
    return download(exports.statement_xlsx(statement), f"{name}.xlsx", XLSX)


def _diff_versions(request: HttpRequest, plan: Any) -> tuple[PlanVersion, PlanVersion] | None:
    versions = list(PlanVersion.objects.filter(plan=plan).order_by("number"))
    if len(versions) < 2:
        return None
    by_no = {v.number: v for v in versions}
    try:
        a = by_no[int(request.GET.get("a") or versions[-2].number)]
        b = by_no[int(request.GET.get("b") or versions[-1].number)]
    except (KeyError, ValueError):
        raise Http404(_("未找到该版本。")) from None
    return a, b


@login_required
def diff_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Task-level differences between two versions (default: the last two), without the tasks the
    user may not see."""
    plan = selectors.plan_for_consultation(request.user, plan_id)
    pair = _diff_versions(request, plan)
    ctx: dict[str, Any] = {
        "nav": "plans",
        "plan": plan,
        "versions": PlanVersion.objects.filter(plan=plan).order_by("number"),
    }
    if pair:
        older, newer = task_filter_for(request.user, plan).pair(pair[0].snapshot, pair[1].snapshot)
        ctx.update(a=pair[0], b=pair[1], changes=version_diff(older, newer))
    return render(request, "consultation/diff.html", ctx)


@login_required
def diff_file(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The diff as .xlsx."""
    plan = selectors.plan_for_consultation(request.user, plan_id)
    pair = _diff_versions(request, plan)
    if pair is None:
        raise Http404(_("至少需要两个版本才能比较。"))
    data = exports.diff_xlsx(plan, pair[0], pair[1], tasks=task_filter_for(request.user, plan))
    return download(data, f"{plan.title}-第{pair[0].number}版与第{pair[1].number}版对照.xlsx", XLSX)


@login_required
@require_POST
def revise(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Freeze the revised draft as a new version (修改稿)."""
    user: Any = request.user
    plan = selectors.plan_for_consultation(user, plan_id)
    back = reverse("consultation:plan", args=[plan.pk])
    try:
        version = services.plan_revision_create(actor=user, plan=plan, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("已生成第%(n)s版（修改稿）。") % {"n": version.number})
    return redirect(reverse("consultation:diff", args=[plan.pk]) + f"?b={version.number}")


@login_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Revise one task of a draft (text, deadline, cooperating units) — e.g. to make an adopted change.

    Frozen plans (consulting, approving, issued) refuse with the service's message and change nothing.
    """
    user: Any = request.user
    task = task_get_for(user, pk)
    task = with_units(Task.objects.filter(pk=task.pk)).select_related("plan").get()
    plan = task.plan
    back = reverse("consultation:plan", args=[plan.pk])
    units = task_units_by_role(task)
    if request.method == "POST":
        if not plan_editor_(user, plan):
            messages.error(request, _("只有牵头单位的经办人或单位负责人可以修改任务。"))
            return render(request, "consultation/task_edit.html", _task_ctx(task, plan, units), status=403)
        form = TaskEditForm(request.POST)
        if not form.is_valid():
            if form.stale():  # not the number the page carried: treat it as a page gone stale
                messages.error(request, _("该任务已被他人修改，您看到的不是最新内容。请刷新后重新编辑。"))
                ctx = _task_ctx(task, plan, units)
                return render(request, "consultation/task_edit.html", ctx, status=409)
            for message in form.messages():
                messages.error(request, message)
            ctx = _task_ctx(task, plan, units) | {"posted": request.POST}
            return render(request, "consultation/task_edit.html", ctx, status=422)
        try:
            posted = request.POST.getlist("cooperating_units")
            coop_ids = [int(u) for u in posted if u.isdigit()]
            coop = list(Unit.objects.filter(pk__in=coop_ids, active=True))
            if len(coop_ids) < len(posted) or {u.pk for u in coop} != set(coop_ids):
                # A unit gone from the directory since the page was drawn: say so, save nothing.
                raise ValidationError(_("配合单位中有不存在或已撤销的单位，请刷新页面后重新选择。"))
            coop.sort(key=lambda u: coop_ids.index(u.pk))
            task_update(
                actor=user,
                task=task,
                lock_version=form.cleaned_data["lock_version"],
                cooperating_units=coop,
                **form.cleaned(),
            )
        except SERVICE_ERRORS as exc:
            messages.error(request, service_message(exc))
            status = (
                409 if isinstance(exc, QiantouError) else 403 if isinstance(exc, PermissionDenied) else 422
            )
            return render(request, "consultation/task_edit.html", _task_ctx(task, plan, units), status=status)
        messages.success(request, _("任务已修改。修改完毕后请生成新版本。"))
        return redirect(back)
    if not plan_editor_(user, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以修改任务。"))
    return render(request, "consultation/task_edit.html", _task_ctx(task, plan, units))


def _task_ctx(task: Task, plan: Any, units: dict[str, Any]) -> dict[str, Any]:
    return {
        "nav": "plans",
        "task": task,
        "plan": plan,
        "frozen": plan.status != PlanStatus.DRAFT,
        "cooperating_ids": [tu.unit_id for tu in units["cooperating"] if tu.unit_id],
        "all_units": Unit.objects.filter(active=True).exclude(kind="group").order_by("code"),
        "text_max": TASK_TEXT_MAX,
        "date_min": EARLIEST_DATE.isoformat(),
        "date_max": LATEST_DATE.isoformat(),
    }
