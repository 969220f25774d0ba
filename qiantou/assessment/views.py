"""Assessment pages: the role dashboard (charts), scoring rules and scorecards with click-through to the
events, circular drafts, the accountability report (HTML, PDF, .docx, offline bundle) and the ledger
(export .xlsx/.csv, import of the progress column). Views call selectors and services only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from qiantou.assessment import charts, exports, services
from qiantou.assessment.ledger import ledger_csv, ledger_rows, ledger_xlsx
from qiantou.assessment.models import CRITERIA, DEFAULT_PARAMETERS
from qiantou.assessment.report import ReportScopeError, build_report
from qiantou.assessment.rules import REPORT_ROLES
from qiantou.assessment.scoring import (
    CRITERION_LABELS,
    ROLE_COOPERATING,
    ROLE_LEAD,
    compute_scorecard,
    effective_parameters,
    effective_weights,
    score_trend,
)
from qiantou.assessment.selectors import (
    circulars_for,
    dashboard_figures,
    report_target_for,
    rules_for_dashboard,
    rules_get_for,
    rules_list_for,
)
from qiantou.chasing.models import MaterialSubmission, ProgressReport
from qiantou.chasing.selectors import items_visible_to, plans_led_by
from qiantou.errors import QiantouError
from qiantou.plans.selectors import plan_get_for, plan_list_for, task_list_for
from qiantou.units.models import Unit
from qiantou.web.responses import DOCX, download
from qiantou.workdays import EARLIEST_DATE, LATEST_DATE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today() -> dt.date:
    return timezone.localdate()


def _date(value: str | None, default: dt.date) -> dt.date:
    """A date from the query string; unreadable or outside the calendar's range (2000–2100) → ``default``."""
    try:
        parsed = dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return parsed if EARLIEST_DATE <= parsed <= LATEST_DATE else default


def _period(request: HttpRequest) -> tuple[dt.date, dt.date, dt.date]:
    today = _today()
    start = _date(request.GET.get("start"), dt.date(today.year, 1, 1))
    end = _date(request.GET.get("end"), dt.date(today.year, 12, 31))
    as_of = _date(request.GET.get("as_of"), today)
    return start, end, as_of


# --- Dashboard -------------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per role: overdue by unit, on-time rate trend, load per unit, score ranking — as charts."""
    today = _today()
    start = _date(request.GET.get("start"), dt.date(today.year, 1, 1))
    figs = dashboard_figures(request.user, today=today, start=start)
    ctx: dict[str, Any] = {"nav": "assessment", "figs": figs, "start": start, "today": today}
    ctx["overdue_chart"] = charts.overdue_by_unit_svg(figs["overdue"]) if figs["overdue"] else ""
    ctx["trend_chart"] = charts.on_time_trend_svg(
        [t[0] for t in figs["trend"]], [t[1] for t in figs["trend"]]
    )
    ctx["load_chart"] = ""
    # Load per unit is for those who distribute work (lead units, leaders, the supervision office).
    if getattr(request.user, "role", None) in REPORT_ROLES:
        try:
            from qiantou.allocation.charts import load_chart_svg
            from qiantou.allocation.selectors import unit_loads

            loads = [u for u in unit_loads(user=request.user) if u.score > 0][:15]
            ctx["load_chart"] = load_chart_svg(loads) if loads else ""
        except (ImportError, PermissionDenied):  # allocation app absent, or not for this user
            pass
    rules = rules_for_dashboard(request.user)
    ctx["rules"] = rules
    if rules is not None:
        card = compute_scorecard(rules, start=start, end=today, as_of=today, with_events=False)
        ctx["card"] = card
        ctx["ranking_chart"] = (
            charts.score_ranking_svg([(x.unit_name, x.total) for x in card.cooperating[:20]])
            if card.cooperating
            else ""
        )
    return render(request, "assessment/dashboard.html", ctx)


# --- Rules and scorecards -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rules_list(request: HttpRequest) -> HttpResponse:
    """Scoring rules the user may see; create new ones (supervision office, or a plan's lead unit)."""
    if request.method == "POST":
        plan = None
        if request.POST.get("plan"):
            plan = plan_get_for(request.user, request.POST["plan"])
        try:
            rules = services.rules_create(
                actor=request.user,
                name=request.POST.get("name", ""),
                plan=plan,
                leading_group=request.POST.get("leading_group", ""),
                weights={k: request.POST[k] for k in CRITERIA if request.POST.get(k)},
            )
        except (QiantouError, PermissionDenied) as exc:
            messages.error(request, str(exc) if isinstance(exc, QiantouError) else "无权设定考核细则。")
            return redirect("assessment:rules_list")
        return redirect("assessment:rules", pk=rules.pk)
    ctx = {
        "nav": "assessment",
        "rules_list": rules_list_for(request.user),
        "plans": plans_led_by(request.user)
        if getattr(request.user, "role", "") != "supervision_office"
        else plan_list_for(request.user),
        "criteria": [(k, CRITERION_LABELS[k]) for k in CRITERIA],
        "can_create": request.user.has_perm("assessment.manage_rules"),
    }
    return render(request, "assessment/rules_list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def rules_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A rules set: weights and parameters (editable), manual adjustments, link to the scorecard."""
    rules = rules_get_for(request.user, pk)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "adjustment":
                unit = Unit.objects.get(pk=request.POST.get("unit") or 0)
                services.adjustment_add(
                    actor=request.user,
                    rules=rules,
                    unit=unit,
                    points=request.POST.get("points", ""),
                    reason=request.POST.get("reason", ""),
                    on_date=_date(request.POST.get("on_date"), _today()),
                )
                messages.success(request, "已记录加减分。")
            else:
                services.rules_update(
                    actor=request.user,
                    rules=rules,
                    version=int(request.POST.get("version", 0)),
                    weights={k: request.POST[k] for k in CRITERIA if request.POST.get(k)},
                    parameters={k: request.POST[k] for k in DEFAULT_PARAMETERS if request.POST.get(k)},
                )
                messages.success(request, "考核细则已更新，得分已按新细则重新计算。")
        except PermissionDenied:
            messages.error(request, "无权修改该考核细则。")
        except (QiantouError, Unit.DoesNotExist, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, QiantouError) else "输入有误。")
        return redirect("assessment:rules", pk=rules.pk)
    weights, params = effective_weights(rules), effective_parameters(rules)
    ctx = {
        "nav": "assessment",
        "rules": rules,
        "weights": [(k, CRITERION_LABELS[k], weights[k]) for k in CRITERIA],
        "params": [(k, params[k]) for k in DEFAULT_PARAMETERS],
        "adjustments": rules.adjustments.select_related("unit").order_by("-on_date"),
        "units": Unit.objects.filter(active=True).order_by("code")[:500],
        "can_manage": request.user.has_perm("assessment.manage_rules", rules),
        "today": _today(),
    }
    return render(request, "assessment/rules_detail.html", ctx)


@login_required
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    """Ranked scorecard of the cooperating units, the lead units apart, the trend per month."""
    rules = rules_get_for(request.user, pk)
    if not request.user.has_perm("assessment.view_scores", rules):
        raise Http404
    start, end, as_of = _period(request)
    card = compute_scorecard(rules, start=start, end=end, as_of=as_of)
    top = [x.unit_id for x in card.cooperating[:8]]
    trend = score_trend(rules, start=start, end=min(end, as_of), as_of=as_of, unit_ids=top) if top else []
    names = {x.unit_id: x.unit_name for x in card.cooperating}
    trend_chart = (
        charts.score_trend_svg([t[0] for t in trend], {names[u]: [t[1].get(u) for t in trend] for u in top})
        if trend
        else ""
    )
    if request.GET.get("format") == "pdf":
        pdf = exports.scorecard_pdf(card, title=f"{rules.name}得分情况", trend_svg=trend_chart)
        return download(pdf, f"{rules.name}-得分.pdf", "application/pdf")
    ctx = {
        "nav": "assessment",
        "rules": rules,
        "card": card,
        "start": start,
        "end": end,
        "as_of": as_of,
        "criteria": [(k, CRITERION_LABELS[k]) for k in CRITERIA],
        "ranking_chart": charts.score_ranking_svg([(x.unit_name, x.total) for x in card.cooperating[:20]])
        if card.cooperating
        else "",
        "trend_chart": trend_chart,
        "can_circular": request.user.has_perm("assessment.draft_circular"),
    }
    return render(request, "assessment/scorecard.html", ctx)


@login_required
def scorecard_unit(request: HttpRequest, pk: int, unit_id: int) -> HttpResponse:
    """One unit's points and the events each came from (click-through from the scorecard)."""
    rules = rules_get_for(request.user, pk)
    if not request.user.has_perm("assessment.view_scores", rules):
        raise Http404
    start, end, as_of = _period(request)
    role = ROLE_LEAD if request.GET.get("role") == ROLE_LEAD else ROLE_COOPERATING
    card = compute_scorecard(rules, start=start, end=end, as_of=as_of, unit_ids=[unit_id])
    line = card.unit(unit_id, role)
    if line is None:
        raise Http404("该单位在此期间没有考核记录。")
    ctx = {"nav": "assessment", "rules": rules, "line": line, "start": start, "end": end, "as_of": as_of}
    return render(request, "assessment/scorecard_unit.html", ctx)


@login_required
@require_POST
def rate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Rate an accepted material submission or a progress report 1–5 with a comment."""
    visible = items_visible_to(request.user).values("pk")
    try:
        rating = int(request.POST.get("rating", "0"))
        if kind == "submission":
            sub = MaterialSubmission.objects.select_related("request__item__plan").get(
                pk=pk, request__item__in=visible
            )
            services.rating_give(
                actor=request.user, submission=sub, rating=rating, comment=request.POST.get("comment", "")
            )
        elif kind == "report":
            rep = ProgressReport.objects.select_related("request__item__plan").get(
                pk=pk, request__item__in=visible
            )
            services.rating_give(
                actor=request.user, report=rep, rating=rating, comment=request.POST.get("comment", "")
            )
        else:
            raise Http404
        messages.success(request, "已评分。")
    except (MaterialSubmission.DoesNotExist, ProgressReport.DoesNotExist):
        raise Http404 from None
    except PermissionDenied:
        messages.error(request, "只有牵头单位可以评分。")
    except (QiantouError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect(request.POST.get("next") or "assessment:dashboard")


# --- Circulars ---------------------------------------------------------------------------------------


@login_required
@require_POST
def circular_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft a circular from the scorecard of the chosen period."""
    rules = rules_get_for(request.user, pk)
    start = _date(request.POST.get("start"), dt.date(_today().year, 1, 1))
    end = _date(request.POST.get("end"), _today())
    try:
        draft = services.circular_draft_create(
            actor=request.user,
            rules=rules,
            start=start,
            end=end,
            authority=request.POST.get("authority") or f"{rules.leading_group or rules.name}办公室",
            signatory=request.POST.get("signatory") or f"{rules.leading_group or rules.name}办公室",
            as_of=_date(request.POST.get("as_of"), _today()),
        )
    except PermissionDenied:
        raise Http404 from None
    except QiantouError as exc:
        messages.error(request, str(exc))
        return redirect("assessment:scorecard", pk=rules.pk)
    return redirect("assessment:circular", pk=draft.pk)


@login_required
@require_http_methods(["GET", "POST"])
def circular(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the draft, download it as .docx, send (freeze) it."""
    try:
        draft = circulars_for(request.user).get(pk=pk)
    except Exception:
        raise Http404 from None
    if request.GET.get("format") == "docx":
        return download(exports.circular_docx(draft), f"{draft.title}.docx", DOCX)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send":
                services.circular_send(actor=request.user, draft=draft)
                messages.success(request, "通报已印发。")
            else:
                services.circular_draft_update(
                    actor=request.user,
                    draft=draft,
                    lock_version=int(request.POST.get("lock_version", -1)),
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    main_recipients=request.POST.get("main_recipients", ""),
                    doc_number=request.POST.get("doc_number", ""),
                    signatory=request.POST.get("signatory", ""),
                )
                messages.success(request, "已保存。")
        except PermissionDenied:
            messages.error(request, "无权修改通报。")
        except QiantouError as exc:
            messages.error(request, str(exc))
        return redirect("assessment:circular", pk=draft.pk)
    return render(
        request,
        "assessment/circular.html",
        {"nav": "assessment", "draft": draft, "can_edit": request.user.has_perm("assessment.draft_circular")},
    )


# --- Accountability report ---------------------------------------------------------------------------------


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """问责/审计材料 for ``scope`` (task / plan / unit) and ``id`` over ``start``–``end``; ``format`` pdf,
    docx or bundle (the zip for offline re-verification) downloads it and records a checkpoint."""
    scope = request.GET.get("scope", "")
    target = None
    if scope:
        target = report_target_for(request.user, scope, request.GET.get("id"))
    today = _today()
    start = _date(request.GET.get("start"), dt.date(today.year, 1, 1))
    end = _date(request.GET.get("end"), today)
    if target is None:
        ctx = {"nav": "assessment", "plans": plan_list_for(request.user)[:200], "start": start, "end": end}
        return render(request, "assessment/report_form.html", ctx)
    try:
        rep = build_report(scope=scope, obj=target, start=start, end=end, generated_by=request.user)
    except ReportScopeError as exc:
        messages.error(request, str(exc))
        return redirect("assessment:report")
    fmt = request.GET.get("format")
    if fmt in ("pdf", "docx", "bundle"):
        services.report_checkpoint(actor=request.user, report=rep)
        stem = f"问责材料-{scope}-{target.pk}-{start:%Y%m%d}-{end:%Y%m%d}"
        if fmt == "pdf":
            return download(exports.report_pdf(rep), f"{stem}.pdf", "application/pdf")
        if fmt == "docx":
            return download(exports.report_docx(rep), f"{stem}.docx", DOCX)
        return download(exports.report_bundle_zip(rep), f"{stem}-核验包.zip", "application/zip")
    counts = exports.reminder_counts(rep)
    ctx = {
        "nav": "assessment",
        "r": rep,
        "scope": scope,
        "target": target,
        "start": start,
        "end": end,
        "chart": charts.reminder_states_svg(counts) if counts else "",
        "query": request.GET.urlencode(),
    }
    return render(request, "assessment/report.html", ctx)


# --- Ledger ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ledger(request: HttpRequest) -> HttpResponse:
    """台账: choose a plan (or all), download .xlsx/.csv; upload an edited ledger to import progress."""
    plan_id = request.GET.get("plan") or None
    plan = plan_get_for(request.user, plan_id) if plan_id else None
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        tasks = task_list_for(request.user, plan=plan)
        rows = ledger_rows(tasks, today=_today())
        title = f"{plan.title}工作台账" if plan else "工作台账（全部方案）"
        stem = f"{title}-{_today():%Y%m%d}"
        if fmt == "csv":
            return download(ledger_csv(rows), f"{stem}.csv", "text/csv; charset=utf-8")
        return download(
            ledger_xlsx(rows, title=title, exported_at=timezone.localtime()), f"{stem}.xlsx", XLSX
        )
    errors: list[tuple[int, str]] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的台账文件。")
        elif upload.size and upload.size > 20 * 1024 * 1024:
            messages.error(request, "文件超过20MB。")
        else:
            try:
                result = services.ledger_import(
                    actor=request.user, name=upload.name or "", data=upload.read()
                )
                messages.success(request, f"已导入：{result['rows']}行，更新进展{result['updated']}项。")
                return redirect(request.get_full_path())
            except services.LedgerImportError as exc:
                errors = exc.errors
                messages.error(request, str(exc))
            except QiantouError as exc:
                messages.error(request, str(exc))
    ctx = {"nav": "assessment", "plans": plan_list_for(request.user)[:200], "plan": plan, "errors": errors}
    return render(request, "assessment/ledger.html", ctx)
