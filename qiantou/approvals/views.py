"""Sign-off and issuing pages under /approvals/: what waits for me, a plan's chain and requests
(approve / return for the current approver, submit and issue for the handler), the official document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiantou.approvals import selectors, services
from qiantou.approvals.documents import default_body, official_document_for
from qiantou.approvals.models import ApprovalRequest, RequestStatus
from qiantou.approvals.rules import current_approver_
from qiantou.consultation.selectors import plan_for_consultation, undisposed_comments
from qiantou.documents import official_docx, official_pdf
from qiantou.plans.models import Plan, PlanStatus
from qiantou.plans.rules import plan_editor_
from qiantou.plans.selectors import past_deadlines, today
from qiantou.web.responses import DOCX, SERVICE_ERRORS, download, fail
from qiantou.workdays import EARLIEST_DATE, LATEST_DATE


def _plan(user: Any, plan_id: int) -> Plan:
    """The plan if the user sees it (plans or consultation) or is an approver on one of its requests."""
    try:
        return plan_for_consultation(user, plan_id)
    except Http404:
        request = ApprovalRequest.objects.filter(plan_id=plan_id, steps__approver_id=user.pk).first()
        if request is None:
            raise
        return Plan.objects.select_related("lead_unit", "issuing_unit").get(pk=plan_id)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Sign-offs waiting for me."""
    return render(
        request, "approvals/index.html", {"nav": "approvals", "pending": selectors.pending_for(request.user)}
    )


@login_required
def plan_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's sign-off chain, its requests with every step and remark, and the actions allowed now."""
    user: Any = request.user
    plan = _plan(user, plan_id)
    requests = list(selectors.requests_for_plan(plan))
    latest = requests[0] if requests else None
    manager = plan_editor_(user, plan)
    chain = selectors.chain_for(plan)
    ctx = {
        "nav": "plans",
        "plan": plan,
        "requests": requests,
        "latest": latest,
        "chain": chain,
        "slots": [u.pk for u in chain] + [None] * max(0, 3 - len(chain)),
        "eligible": selectors.eligible_approvers(plan) if manager and plan.status == PlanStatus.DRAFT else [],
        "manager": manager,
        "can_submit": manager and plan.status == PlanStatus.DRAFT,
        "undisposed": undisposed_comments(plan).count(),
        "can_act": latest is not None and current_approver_(user, latest),
        "can_issue": manager
        and latest is not None
        and latest.status == RequestStatus.APPROVED
        and plan.status == PlanStatus.APPROVING,
        "issued": latest is not None and latest.status == RequestStatus.ISSUED,
        "default_body": default_body(plan.title, plan.lead_rule),
        "today": today().isoformat(),
    }
    if ctx["can_issue"]:  # issuing makes a past deadline overdue at once: say so before the button
        ctx["past_deadlines"] = past_deadlines(plan)
    return render(request, "approvals/plan.html", ctx)


@login_required
@require_POST
def chain_set(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Set the ordered chain from the form's ``approver`` selects (blank ones are skipped)."""
    user: Any = request.user
    plan = _plan(user, plan_id)
    back = reverse("approvals:plan", args=[plan.pk])
    try:
        ids = [int(v) for v in request.POST.getlist("approver") if v.isdigit()]
        services.chain_set(actor=user, plan=plan, approvers=ids)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("签批链已保存。"))
    return redirect(back)


@login_required
@require_POST
def submit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Send the draft for sign-off."""
    user: Any = request.user
    plan = _plan(user, plan_id)
    back = reverse("approvals:plan", args=[plan.pk])
    try:
        services.plan_submit(actor=user, plan=plan, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("已送签。"))
    return redirect(back)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (``action=approve``) or return (``action=return``) as the current approver."""
    user: Any = request.user
    req = ApprovalRequest.objects.filter(pk=pk).first()
    if req is None:
        raise Http404
    plan = _plan(user, req.plan_id)
    back = reverse("approvals:plan", args=[plan.pk])
    remarks = request.POST.get("remarks", "")
    try:
        lock_version = int(request.POST.get("lock_version", "-1"))
        action = request.POST.get("action")
        if action == "return":
            services.approval_return(actor=user, request=req, lock_version=lock_version, remarks=remarks)
            messages.success(request, _("已退回修改。"))
        elif action == "approve":  # a signature is never the default of a malformed request
            services.approval_approve(actor=user, request=req, lock_version=lock_version, remarks=remarks)
            messages.success(request, _("已签批同意。"))
        else:
            return fail(request, ValidationError(_("请选择“同意”或“退回修改”。")), back)
    except ValueError:
        return fail(request, ValidationError(_("表单已过期，请刷新。")), back)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    return redirect(back)


@login_required
@require_POST
def issue(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Issue the approved plan with its document number, main recipients, covering text and date."""
    user: Any = request.user
    plan = _plan(user, plan_id)
    back = reverse("approvals:plan", args=[plan.pk])
    try:
        raw = request.POST.get("issued_on", "").strip()
        issued_on = dt.date.fromisoformat(raw) if raw else None
        if issued_on is not None and not EARLIEST_DATE <= issued_on <= LATEST_DATE:
            return fail(request, ValidationError(_("日期应在 2000 年至 2100 年之间。")), back)
        services.plan_issue(
            actor=user,
            plan=plan,
            doc_number=request.POST.get("doc_number", ""),
            main_recipients=request.POST.get("main_recipients", ""),
            body=request.POST.get("body", ""),
            issued_on=issued_on,
        )
    except ValueError:
        return fail(request, ValidationError(_("日期格式不正确。")), back)
    except SERVICE_ERRORS as exc:
        return fail(request, exc, back)
    messages.success(request, _("方案已印发，已通知各牵头单位和配合单位。"))
    return redirect(back)


@login_required
def official_file(request: HttpRequest, plan_id: int, fmt: str) -> HttpResponse:
    """The official document of the approved (or issued) version, as .docx or .pdf."""
    plan = _plan(request.user, plan_id)
    req = (
        ApprovalRequest.objects.filter(plan=plan, status__in=[RequestStatus.APPROVED, RequestStatus.ISSUED])
        .select_related("plan", "plan__lead_unit", "plan__issuing_unit", "version")
        .order_by("-submitted_at", "-id")
        .first()
    )
    if req is None:
        raise Http404(_("方案尚未签批，没有可导出的公文。"))
    doc = official_document_for(req, reader=request.user)
    name = f"{plan.title}{'（' + req.doc_number + '）' if req.doc_number else ''}"
    if fmt == "pdf":
        return download(official_pdf(doc), f"{name}.pdf", "application/pdf")
    return download(official_docx(doc), f"{name}.docx", DOCX)
