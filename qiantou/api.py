"""The REST API (django-ninja): one NinjaAPI, one router per app, OpenAPI at /api/openapi.json.

Every route is authenticated by default (``auth=`` on the NinjaAPI): a bearer token
(``Authorization: Bearer qt_…``, see ``qiantou token_create``) or the browser session, whose unsafe
requests (POST/PUT/PATCH/DELETE) must carry the CSRF token (``X-CSRFToken`` header).

Errors, all ``{"detail": "<Chinese message>"}``:
401 not authenticated · 403 a forbidden action on an object the user may see (or a CSRF failure) ·
404 missing *or* invisible (same body, so existence is never revealed) · 409 a conflict
(``ConflictError``: changed since read; ``StateError``: frozen) · 422 invalid input (``errors`` lists
the fields) or another refusal of a service (``QiantouError``) — among them an integer beyond
``MAX_REQUEST_INT`` in any parameter or field an integer is read from · 400 a body that is not JSON.
Under /api/, a 404 for an unknown path, a 405 for a method the path does not take and a 500 are JSON
too (``qiantou.security.middleware.RequestLimitMiddleware``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import BaseModel

from qiantou.accounts.services import api_token_authenticate
from qiantou.errors import ConflictError, QiantouError, StateError
from qiantou.security.middleware import MAX_REQUEST_INT


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` checked against the stored hashes (``ApiToken``)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return api_token_authenticate(token.strip())


class SessionCsrfAuth(APIKeyCookie):
    """The Django session; unsafe methods must pass Django's CSRF check.

    Unlike ninja's ``SessionAuth``, an anonymous request is simply "not authenticated" (so it gets 401
    and a bearer token can still be tried), and CSRF is checked only for a logged-in session.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("CSRF 校验失败：请刷新页面后重试（请求头需带 X-CSRFToken）。"))
        return "session"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = request.user
        return user if user.is_authenticated and user.is_active else None


api = NinjaAPI(
    title="Qiantou API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionCsrfAuth()],
    description="牵头 — 分工方案、任务与单位的 REST 接口。认证：Bearer 令牌或会话（写操作需 CSRF）。",
)


def _detail(request: HttpRequest, status: int, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = _("请求内容无法解析：须为合法的 JSON。")
    return _detail(request, exc.status_code, message)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _detail(
        request, 401, _("未登录或访问令牌无效：请先登录，或在请求头提供 Authorization: Bearer <令牌>。")
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The selectors word "missing" and "not visible" identically; anything else gets the generic text.
    message = str(exc) if "无权查看" in str(exc) else _("未找到，或您无权查看。")
    return _detail(request, 404, message)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _detail(request, 403, str(exc) or _("您无权执行此操作。"))


@api.exception_handler(ConflictError)
def _conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
    return _detail(request, 409, str(exc) or _("数据已被他人修改，请刷新后重试。"))


@api.exception_handler(StateError)
def _state(request: HttpRequest, exc: StateError) -> HttpResponse:
    return _detail(request, 409, str(exc) or _("当前状态下不能执行此操作。"))


@api.exception_handler(QiantouError)
def _refused(request: HttpRequest, exc: QiantouError) -> HttpResponse:
    # Any other refusal of a service (ninja picks the most specific handler, so the two above win).
    return _detail(request, 422, str(exc) or _("无法完成此操作。"))


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _detail(request, 422, "；".join(exc.messages) or _("提交的数据有误。"))


def _error_field(loc: Any) -> str:
    """A pydantic error location as the caller wrote the field: ``("body", "payload", "title")`` is
    ``title`` (the view's parameter name is no field of the request), ``("query", "page")`` ``page``."""
    parts = [str(p) for p in loc or ()]
    if parts[:1] in (["body"], ["form"], ["file"]) and len(parts) > 2:
        parts = parts[2:]
    else:
        parts = parts[1:]
    return ".".join(parts) or "?"


@api.exception_handler(NinjaValidationError)
def _invalid_schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = sorted({_error_field(e.get("loc")) for e in exc.errors})
    return _detail(
        request,
        422,
        _("提交的数据有误，请检查这些字段：%(fields)s") % {"fields": "、".join(fields)},
        errors=exc.errors,
    )


def _big_int_field(values: dict[str, Any]) -> str | None:
    """The first field (dotted path below the view's argument) whose validated value is an integer beyond
    ``MAX_REQUEST_INT``, or None. Iterative; walks models, dicts, lists, tuples and sets (a few µs for
    a task's fields: paths are only spelled out for the field reported)."""
    stack: list[tuple[Any, Any, str]] = [(value, None, name) for name, value in values.items()]
    while stack:
        value, parent, key = stack.pop()
        cls = type(value)
        if cls is str or value is None:
            continue
        if cls is int or (isinstance(value, int) and not isinstance(value, bool)):
            if abs(value) > MAX_REQUEST_INT:
                path = [key]
                while parent is not None:
                    parent, key = parent
                    path.append(key)
                return ".".join(str(k) for k in reversed(path))
            continue
        if isinstance(value, BaseModel):
            items: Any = value.__dict__.items()
        elif isinstance(value, dict):
            items = value.items()
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend((v, parent, key) for v in value)
            continue
        else:
            continue
        here = (parent, key)
        stack.extend((v, here, k) for k, v in items)
    return None


def _refuse_big_ints(view: Callable[..., Any]) -> Callable[..., Any]:
    """After validation: 422 for an integer no database id or count can be. pydantic reads strings such
    as ``"+1_000.0"`` and integral floats as integers; only the schema says whether a string in a body is
    one, so the request guard (which checks the query, the path and JSON numbers) cannot."""

    @functools.wraps(view)
    def checked(request: HttpRequest, **values: Any) -> Any:
        field = _big_int_field(values)
        if field is not None:
            # The argument's own name (``payload``, ``filters``) means nothing to the caller.
            shown = field.split(".", 1)[-1]
            raise HttpError(422, _("参数“%(name)s”的数值超出范围。") % {"name": shown})
        return view(request, **values)

    return checked


api.add_decorator(_refuse_big_ints, mode="operation")


# Each app that serves the API has an ``api.py`` with ``router``; mounted under /api/<prefix>/.
for _module, _prefix in [
    ("qiantou.units.api", "units"),
    ("qiantou.plans.api", "plans"),
    ("qiantou.audit.api", "audit"),
    ("qiantou.consultation.api", "consultation"),
    ("qiantou.approvals.api", "approvals"),
    ("qiantou.chasing.api", "chasing"),
    ("qiantou.assessment.api", "assessment"),
    ("qiantou.allocation.api", "allocation"),
    ("qiantou.matching.api", "matching"),
]:
    try:
        _router = import_module(_module).router
    except ModuleNotFoundError as exc:  # an app without an API yet
        if exc.name != _module:
            raise
        continue
    api.add_router(f"/{_prefix}/", _router)
