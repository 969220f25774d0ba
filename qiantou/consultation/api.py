"""REST endpoints for consultation under ``/api/consultation/``: rounds, comments, dispositions, diffs.

Reads go through the selectors (invisible = 404); writes through the services (403 not allowed,
409 frozen / closed / conflict, 422 bad input). Authentication: see ``qiantou/api.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from qiantou.consultation import selectors, services
from qiantou.consultation.diff import version_diff
from qiantou.consultation.models import Comment, ConsultationRound
from qiantou.consultation.visibility import task_filter_for

router = Router(tags=["consultation"])


class ErrorOut(Schema):
    detail: str


class RoundOpenIn(Schema):
    """``closes_on`` or ``working_days`` (one of them, not both); ``unit_ids`` default to every unit
    named in the plan."""

    closes_on: dt.date | None = None
    working_days: int | None = None
    unit_ids: list[int] | None = None
    note: str = ""


class CommentIn(Schema):
    body: str
    task_id: int | None = None


class DisposeIn(Schema):
    """``disposition``: adopted / partly_adopted / not_adopted; ``lock_version`` as read."""

    disposition: str = Field(..., max_length=16)
    reason: str = ""
    lock_version: int


class CommentOut(Schema):
    id: int
    unit_id: int
    unit: str
    task_id: int | None
    task_no: str
    body: str
    disposition: str
    reason: str
    lock_version: int


class CloseIn(Schema):
    """``early``: confirms closing before the closing date while units have not answered (required
    then; without it the close is refused with 422)."""

    early: bool = False


class ConsultedOut(Schema):
    """``response``: pending / commented / no_objection / silent; ``response_label`` as shown (a silent
    unit of a round closed early is "提前截止时未反馈，视为无意见", not late)."""

    unit_id: int
    unit: str
    response: str
    response_label: str
    responded_at: dt.datetime | None


class RoundOut(Schema):
    id: int
    plan_id: int
    number: int
    version: int
    status: str
    closes_on: dt.date
    closed_at: dt.datetime | None
    closed_early: bool
    note: str
    consulted: list[ConsultedOut]
    comments: list[CommentOut]


class ChangeOut(Schema):
    kind: str
    no: str
    fields: list[str]
    before: dict[str, str]
    after: dict[str, str]


_ERR: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _comment_out(c: Comment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "unit_id": c.unit_id,
        "unit": c.unit.name,
        "task_id": c.task_ref,
        "task_no": c.task_no,
        "body": c.body,
        "disposition": c.disposition,
        "reason": c.reason,
        "lock_version": c.lock_version,
    }


def _round_out(rnd: ConsultationRound, user: Any) -> dict[str, Any]:
    st = selectors.statement_for(rnd, user=user)
    return {
        "id": rnd.pk,
        "plan_id": rnd.plan_id,
        "number": rnd.number,
        "version": rnd.version.number,
        "status": rnd.status,
        "closes_on": rnd.closes_on,
        "closed_at": rnd.closed_at,
        "closed_early": rnd.closed_early,
        "note": rnd.note,
        "consulted": [
            {
                "unit_id": c.unit_id,
                "unit": c.unit.name,
                "response": c.response,
                "response_label": c.response_label,
                "responded_at": c.responded_at,
            }
            for c in st.consulted
        ],
        "comments": [_comment_out(c) for c in st.comments],
    }


@router.post("/plans/{int:plan_id}/rounds", response={201: RoundOut, **_ERR}, summary="发起征求意见")
def open_round(request: HttpRequest, plan_id: int, payload: RoundOpenIn) -> Any:
    """Circulate the draft plan (handler or unit head of the lead unit)."""
    user = _user(request)
    plan = selectors.plan_for_consultation(user, plan_id)
    rnd = services.round_open(
        actor=user,
        plan=plan,
        closes_on=payload.closes_on,
        working_days=payload.working_days,
        units=payload.unit_ids,
        note=payload.note,
    )
    return Status(201, _round_out(selectors.round_get_for(user, rnd.pk), user))


@router.get(
    "/rounds/{int:round_id}", response={200: RoundOut, 401: ErrorOut, 404: ErrorOut}, summary="征求意见轮次"
)
def get_round(request: HttpRequest, round_id: int) -> Any:
    """A round with every consulted unit's answer and every comment with its disposition."""
    user = _user(request)
    return _round_out(selectors.round_get_for(user, round_id), user)


@router.post("/rounds/{int:round_id}/comments", response={201: CommentOut, **_ERR}, summary="反馈意见")
def add_comment(request: HttpRequest, round_id: int, payload: CommentIn) -> Any:
    """A comment for the caller's own unit, on a task (``task_id``) or on the whole plan, while open."""
    user = _user(request)
    rnd = selectors.round_get_for(user, round_id)
    comment = services.comment_create(actor=user, round=rnd, body=payload.body, task_id=payload.task_id)
    return Status(201, _comment_out(comment))


@router.post("/rounds/{int:round_id}/no-objection", response={200: RoundOut, **_ERR}, summary="无意见")
def no_objection(request: HttpRequest, round_id: int) -> Any:
    """The caller's unit has no objection."""
    user = _user(request)
    rnd = selectors.round_get_for(user, round_id)
    services.no_objection_record(actor=user, round=rnd)
    return _round_out(rnd, user)


@router.post("/rounds/{int:round_id}/close", response={200: RoundOut, **_ERR}, summary="截止征求意见")
def close_round(request: HttpRequest, round_id: int, payload: CloseIn | None = None) -> Any:
    """Close the round; silent units are recorded as no objection. Before the closing date with units
    still to answer, ``{"early": true}`` is required (422 without it)."""
    user = _user(request)
    rnd = services.round_close(
        actor=user, round=selectors.round_get_for(user, round_id), early=bool(payload and payload.early)
    )
    return _round_out(rnd, user)


@router.post("/comments/{int:comment_id}/dispose", response={200: CommentOut, **_ERR}, summary="处理意见")
def dispose(request: HttpRequest, comment_id: int, payload: DisposeIn) -> Any:
    """Dispose of a comment; 409 when someone disposed of it since ``lock_version``."""
    user = _user(request)
    comment = Comment.objects.filter(pk=comment_id).first()
    try:
        if comment is None:
            raise Http404
        selectors.round_get_for(user, comment.round_id)
    except Http404:
        raise Http404 from None  # the same body whether the comment is missing or invisible
    done = services.comment_dispose(
        actor=user,
        comment=comment,
        disposition=payload.disposition,
        reason=payload.reason,
        lock_version=payload.lock_version,
    )
    return _comment_out(done)


@router.get(
    "/plans/{int:plan_id}/diff",
    response={200: list[ChangeOut], 401: ErrorOut, 404: ErrorOut},
    summary="版本对照",
)
def diff(request: HttpRequest, plan_id: int, a: int, b: int) -> Any:
    """Task-level changes from version ``a`` to version ``b``, without the tasks the caller may not see
    (restricted tasks: see ``qiantou.consultation.visibility``)."""
    user = _user(request)
    plan = selectors.plan_for_consultation(user, plan_id)
    va = selectors.version_get_for(user, plan, a)
    vb = selectors.version_get_for(user, plan, b)
    older, newer = task_filter_for(user, plan).pair(va.snapshot, vb.snapshot)
    return [
        {"kind": c.kind, "no": c.no, "fields": list(c.fields), "before": c.before, "after": c.after}
        for c in version_diff(older, newer)
    ]
