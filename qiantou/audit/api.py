"""REST endpoints of the accountability record under ``/api/audit/`` (auth: see ``qiantou/api.py``).

- ``GET /api/audit/events?object_type=plans.plan&object_id=12`` — the object's trail (with its
  children's events). Users with ``audit.view_events`` (auditor, supervision office, security auditor)
  may query any object or, with no filter, the whole record; everyone else must name an object they may
  see (``plans.plan``, ``plans.task``, ``units.unit``), otherwise 404 — the same answer as for a
  missing object, so existence is never revealed. Paged (``page``, 100 per page), oldest first.
  On a plan's trail, a user who may not see a restricted task does not get the events about it (a
  comment on it, its disposition) and gets the events naming it among others (a revision, a balancing)
  without those parts (``audit.redaction``); such a payload no longer matches the event's ``hash``.
- ``GET /api/audit/verify`` — verify the whole chain (``audit.view_events`` only, else 403).
- ``GET /api/audit/head`` — the chain head (``audit.view_events`` only).
- ``GET /api/audit/export?since=1`` — the JSON-lines bundle ``qiantou audit verify --bundle`` checks
  offline (``audit.view_events`` only).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from qiantou.audit.schemas import ErrorOut, EventOut, HeadOut, VerifyOut
from qiantou.audit.selectors import audit_events_all, audit_events_for, can_read_all, object_get_for

router = Router(tags=["audit"])

PAGE_SIZE = 100
_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _user(request: HttpRequest) -> Any:
    """The authenticated user (bearer token or session), set by the API's auth."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


def _require_reader(user: Any) -> None:
    if not can_read_all(user):
        raise PermissionDenied(_("只有审计、督查室和安全审计员可以查看完整审计记录。"))


@router.get("/events", response={200: list[EventOut], **_ERRORS}, summary="审计记录（某对象的轨迹）")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_events(request: HttpRequest, object_type: str = "", object_id: str = "") -> Any:
    """Events about one object (and its children), or — for whole-record readers — all events."""
    user = _user(request)
    if can_read_all(user):
        if not object_type:
            return audit_events_all(user)
        return audit_events_for(user, object_type, object_id)
    obj = object_get_for(user, object_type, object_id)  # Http404 when missing or not visible
    return audit_events_for(user, obj)


@router.get("/verify", response={200: VerifyOut, **_ERRORS}, summary="校验审计链")
def verify(request: HttpRequest) -> Any:
    """Recompute every hash; the first broken event (seq, reason) or the head."""
    from qiantou.audit.verification import verify_chain

    _require_reader(_user(request))
    result = verify_chain()
    broken = result.broken
    return {
        "ok": result.ok,
        "count": result.count,
        "head_seq": result.head_seq,
        "head_hash": result.head_hash,
        "broken_seq": broken.seq if broken else None,
        "reason": broken.reason if broken else None,
        "message": broken.message if broken else None,
        "notes": result.notes,
    }


@router.get("/head", response={200: HeadOut, **_ERRORS}, summary="审计链链头")
def head(request: HttpRequest) -> Any:
    """The last event's seq and hash."""
    from qiantou.audit.verification import chain_head

    _require_reader(_user(request))
    seq, hash_ = chain_head()
    return {"seq": seq, "hash": hash_}


@router.get("/export", response={200: None, **_ERRORS}, summary="导出审计链（离线校验包）")
def export(request: HttpRequest, since: int = 1) -> Any:
    """The events from ``since`` on as a JSON-lines bundle (``application/x-ndjson``)."""
    import io

    from qiantou.audit.verification import export_bundle

    _require_reader(_user(request))
    buffer = io.StringIO()
    export_bundle(buffer, since=since)
    response = StreamingHttpResponse(iter([buffer.getvalue().encode()]), content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="qiantou-audit-bundle.jsonl"'
    return response
