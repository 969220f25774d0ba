"""REST API of assessment, under /api/assessment/: scorecards (with the events behind each point), the
accountability report as JSON, and the ledger rows. Auth and errors are the API-wide ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Status

from qiantou.assessment.ledger import ledger_rows
from qiantou.assessment.report import ReportScopeError, build_report, period_check, report_params_check
from qiantou.assessment.scoring import compute_scorecard
from qiantou.assessment.selectors import report_target_for, rules_get_for, rules_list_for
from qiantou.plans.selectors import task_list_for

router = Router(tags=["assessment"])


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_iso(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@router.get("/rules")
def rules_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Scoring rules the caller may see: ``[{id, name, plan, weights, parameters, version}]``."""
    return [
        {
            "id": r.pk,
            "name": r.name,
            "plan": r.plan_id,
            "weights": r.weights,
            "parameters": r.parameters,
            "version": r.version,
        }
        for r in rules_list_for(_user(request))
    ]


@router.get("/rules/{rules_id}/scorecard", response={200: dict[str, Any], 422: dict[str, Any]})
def scorecard(
    request: HttpRequest, rules_id: int, start: dt.date, end: dt.date, as_of: dt.date | None = None
) -> Any:
    """Scores per unit for items due in ``[start, end]`` as known on ``as_of`` (default today):
    ``{"cooperating": [line], "lead": [line]}``; each line has ``criteria`` with ``score`` (0–100 or null
    when not counted), ``weight`` and ``events`` (``kind, label, url, points, on``),
    ``total`` and ``rank``."""
    user = _user(request)
    rules = rules_get_for(user, rules_id)
    if not user.has_perm("assessment.view_scores", rules):
        raise Http404
    try:
        period_check(start=start, end=end, as_of=as_of)
    except ReportScopeError as exc:
        return Status(422, {"detail": str(exc), "errors": {exc.field: str(exc)}})
    card = compute_scorecard(rules, start=start, end=end, as_of=as_of)
    return _iso(asdict(card))


@router.get("/report", response={200: dict[str, Any], 422: dict[str, Any]})
def report(request: HttpRequest, scope: str, id: int, start: dt.date, end: dt.date) -> Any:
    """The accountability report as JSON (timeline, reminders, findings, verification); 404 when the
    caller may not see the target (the same body as a missing one); 422 ``{"detail", "errors": {param:
    message}}`` for a scope other than task / plan / unit, a date outside 2000–2100 or an end before
    the start."""
    user = _user(request)
    try:
        report_params_check(scope=scope, start=start, end=end)
    except ReportScopeError as exc:
        return Status(422, {"detail": str(exc), "errors": {exc.field: str(exc)}})
    target = report_target_for(user, scope, id)
    rep = build_report(scope=scope, obj=target, start=start, end=end, generated_by=user)
    data = asdict(rep)
    for line, obj in zip(data["reminders"], rep.reminders, strict=True):
        line["state"], line["on_time"] = obj.state, obj.on_time
    return _iso(data)


@router.get("/ledger")
def ledger(request: HttpRequest, plan: int | None = None) -> list[dict[str, Any]]:
    """The ledger rows of a plan (or every visible plan) as JSON."""
    rows = ledger_rows(task_list_for(_user(request), plan=plan), today=timezone.localdate())
    return [_iso(asdict(r)) for r in rows]
