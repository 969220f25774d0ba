"""REST endpoints for sign-off and issuing under ``/api/approvals/``.

403 when the caller is not the current approver (or not an editor of the plan), 409 on a state or
lock conflict, 422 on bad input. Authentication: see ``qiantou/api.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from qiantou.approvals import selectors, services
from qiantou.approvals.models import ApprovalRequest
from qiantou.approvals.views import _plan

router = Router(tags=["approvals"])


class ErrorOut(Schema):
    detail: str


class StepOut(Schema):
    position: int
    approver_id: int
    approver: str
    decision: str
    remarks: str
    decided_at: dt.datetime | None


class RequestOut(Schema):
    id: int
    plan_id: int
    version: int
    status: str
    current_position: int
    lock_version: int
    doc_number: str
    issued_on: dt.date | None
    steps: list[StepOut]


class DecisionIn(Schema):
    lock_version: int
    remarks: str = ""


class ChainIn(Schema):
    approver_ids: list[int]


class IssueIn(Schema):
    """``doc_number`` required (422 when empty, unless the plan has one), at most 64 characters (the
    column); ``issued_on`` within 2000–2100."""

    doc_number: str = Field("", max_length=64)
    main_recipients: str = ""
    body: str = ""
    issued_on: dt.date | None = None


_ERR: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _out(r: ApprovalRequest) -> dict[str, Any]:
    r.refresh_from_db()
    return {
        "id": r.pk,
        "plan_id": r.plan_id,
        "version": r.version.number,
        "status": r.status,
        "current_position": r.current_position,
        "lock_version": r.lock_version,
        "doc_number": r.doc_number,
        "issued_on": r.issued_on,
        "steps": [
            {
                "position": s.position,
                "approver_id": s.approver_id,
                "approver": str(s.approver),
                "decision": s.decision,
                "remarks": s.remarks,
                "decided_at": s.decided_at,
            }
            for s in r.steps.select_related("approver").order_by("position")
        ],
    }


def _request(user: Any, pk: int) -> ApprovalRequest:
    """The request if the caller may see its plan or is on its chain; otherwise the same generic 404
    as for a request that does not exist (the body must not reveal that it exists)."""
    req = ApprovalRequest.objects.filter(pk=pk).select_related("version").first()
    try:
        if req is None:
            raise Http404
        _plan(user, req.plan_id)
    except Http404:
        raise Http404 from None
    return req


@router.get(
    "/plans/{int:plan_id}",
    response={200: list[RequestOut], 401: ErrorOut, 404: ErrorOut},
    summary="方案的签批记录",
)
def plan_requests(request: HttpRequest, plan_id: int) -> Any:
    """Every sign-off request of the plan, newest first, with its steps and remarks."""
    plan = _plan(_user(request), plan_id)
    return [_out(r) for r in selectors.requests_for_plan(plan)]


@router.put("/plans/{int:plan_id}/chain", response={200: list[int], **_ERR}, summary="设置签批链")
def set_chain(request: HttpRequest, plan_id: int, payload: ChainIn) -> Any:
    """Set the ordered chain (user ids) of a draft plan."""
    plan = _plan(_user(request), plan_id)
    rows = services.chain_set(actor=_user(request), plan=plan, approvers=payload.approver_ids)
    return [r.user_id for r in rows]


@router.post("/plans/{int:plan_id}/submit", response={201: RequestOut, **_ERR}, summary="送签")
def submit(request: HttpRequest, plan_id: int) -> Any:
    """Send the draft for sign-off (409 while a comment is unanswered)."""
    plan = _plan(_user(request), plan_id)
    return Status(201, _out(services.plan_submit(actor=_user(request), plan=plan)))


@router.post("/requests/{int:request_id}/approve", response={200: RequestOut, **_ERR}, summary="同意")
def approve(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    """Approve as the current approver (403 for anyone else)."""
    req = _request(_user(request), request_id)
    done = services.approval_approve(
        actor=_user(request), request=req, lock_version=payload.lock_version, remarks=payload.remarks
    )
    return _out(done)


@router.post("/requests/{int:request_id}/return", response={200: RequestOut, **_ERR}, summary="退回")
def return_(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    """Return with remarks as the current approver: the plan goes back to draft."""
    req = _request(_user(request), request_id)
    done = services.approval_return(
        actor=_user(request), request=req, lock_version=payload.lock_version, remarks=payload.remarks
    )
    return _out(done)


@router.post("/plans/{int:plan_id}/issue", response={200: RequestOut, **_ERR}, summary="印发")
def issue(request: HttpRequest, plan_id: int, payload: IssueIn) -> Any:
    """Issue the approved plan."""
    plan = _plan(_user(request), plan_id)
    done = services.plan_issue(
        actor=_user(request),
        plan=plan,
        doc_number=payload.doc_number,
        main_recipients=payload.main_recipients,
        body=payload.body,
        issued_on=payload.issued_on,
    )
    return _out(done)
