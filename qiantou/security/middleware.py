"""Request-level controls (issue 9, web hardening and authentication).

- :class:`RequestLimitMiddleware` — 413 for a body over ``QIANTOU_MAX_REQUEST_BYTES``; 400 for an
  upload that is an executable or whose name claims another format (``uploads.check_upload``).
- :class:`RateLimitMiddleware` — 429 for too many login POSTs from one address
  (``QIANTOU_RATE_LOGIN``) or API calls with one credential (``QIANTOU_RATE_API``).
- :class:`SessionGuardMiddleware` — logout after ``QIANTOU_SESSION_IDLE_MINUTES`` idle; the initial
  password must be changed first (``User.must_change_password``); a user with a TOTP device (or a
  role in ``QIANTOU_OTP_REQUIRED_ROLES``) passes the second step before anything else.
- :class:`ExportStampMiddleware` — a downloaded attachment names the exporting user and time
  (headers; OOXML core properties) and is recorded as ``export.download``.

API requests get ``{"detail": …}`` JSON, pages a Chinese page; neither shows a stack trace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
import time
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import TypeAdapter, ValidationError

from qiantou.security import ratelimit
from qiantou.security.uploads import SNIFF_BYTES, check_upload

Handler = Callable[[HttpRequest], HttpResponse]


def is_api(request: HttpRequest) -> bool:
    """True for the REST API (JSON errors) rather than the web UI."""
    return request.path_info.startswith("/api/")


def client_ip(request: HttpRequest) -> str:
    """The client's address as django-axes resolves it (``QIANTOU_PROXY_COUNT`` behind a proxy)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "") or "?"


def refuse(request: HttpRequest, status: int, message: str, **headers: str) -> HttpResponse:
    """A refusal in the caller's language of choice: JSON for the API, a page otherwise."""
    if is_api(request):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = render(
            request, "security/refused.html", {"message": message, "status": status}, status=status
        )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class RequestLimitMiddleware:
    """Body size limit and the upload floor (see module docstring)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.QIANTOU_MAX_REQUEST_BYTES
        if length > limit:
            return refuse(
                request,
                413,
                _("提交的内容过大（%(size)s MB），上限为 %(limit)s MB。")
                % {"size": f"{length / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            )
        refusal = _unstorable_input(request)
        if refusal is not None:
            return refuse(request, *refusal)
        if request.method in {"POST", "PUT", "PATCH"} and request.content_type == "multipart/form-data":
            memory = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if is_api(request) and (memory is None or length <= memory):
                # Keep the raw body: parsing the form below reads the stream, and django-ninja still
                # reads request.body for an endpoint with an optional JSON body (an empty multipart
                # POST, as a test client or a form library sends, was a RawPostDataException → 500).
                request.body  # noqa: B018
            try:
                files = request.FILES
            except (RequestDataTooBig, TooManyFilesSent, TooManyFieldsSent, MultiPartParserError):
                return refuse(request, 400, _("上传的表单过大或文件过多，请分批提交。"))
            refusal = _form_refusal(request)
            if refusal is not None:
                return refuse(request, *refusal)
            for upload in (f for name in files for f in files.getlist(name)):
                head = upload.read(SNIFF_BYTES)
                upload.seek(0)
                reason = check_upload(upload.name or "", head)
                if reason:  # the API's status for invalid input is 422; a page's is 400
                    return refuse(request, 422 if is_api(request) else 400, reason)
        response = self.get_response(request)
        if is_api(request) and not settings.DEBUG:
            return _api_error_as_json(request, response)
        return response


def _api_error_as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Django's and django-ninja's own 404 (no such path), 405 (method not allowed) and 500 pages, as
    the API's ``{"detail": …}`` (the traceback of a 500 is logged by Django as before)."""
    status = response.status_code
    if status not in {404, 405} and status < 500:
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    if status == 404:
        return refuse(request, 404, _("未找到，或您无权查看。"))
    if status == 405:
        allowed = response.get("Allow", "")
        return refuse(
            request,
            405,
            _("此接口不支持 %(method)s 请求，可用：%(allowed)s。")
            % {"method": request.method, "allowed": allowed or "-"},
            Allow=allowed,
        )
    return refuse(request, status, _("系统出错，请稍后重试；如仍出错，请联系系统管理员。"))


#: The largest integer an id or count may have in a request: JSON-safe (2**53 - 1), so arithmetic on it
#: (page × page size) stays inside the databases' 64-bit integers.
MAX_REQUEST_INT = 2**53 - 1
#: The deepest nesting of lists and objects a JSON body may have (the API's own schemas need a handful).
MAX_JSON_DEPTH = 64
#: Fewer characters than this cannot spell an integer beyond :data:`MAX_REQUEST_INT` (it has 16 digits).
_SHORTEST_BIG_INT = len(str(MAX_REQUEST_INT))
_AS_INT: TypeAdapter[int] = TypeAdapter(int)


def request_int(text: str) -> int | None:
    """The integer the API's validation (pydantic, lax mode) makes of a query, path or form value, or None.

    Asks pydantic itself, so every spelling it accepts counts: surrounding whitespace, a sign, ``_``
    between digits, a zero fraction (``"12.0"``), leading zeros.
    """
    try:
        return _AS_INT.validate_python(text)
    except ValidationError:
        return None


def too_big(text: str) -> bool:
    """A value the API would read as an integer beyond :data:`MAX_REQUEST_INT`.

    Cheap for ordinary input: a value shorter than 16 characters is never parsed.
    """
    if len(text) < _SHORTEST_BIG_INT:
        return False
    value = request_int(text)
    return value is not None and abs(value) > MAX_REQUEST_INT


class _NonFinite(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a JSON text (Python's json module accepts them)."""


def _no_constants(name: str) -> Any:
    raise _NonFinite(name)


def _json_refusal(data: Any) -> tuple[int, str] | None:
    """Why parsed JSON cannot be stored: a NUL in a string or key, a number that is not finite or an
    integer beyond :data:`MAX_REQUEST_INT` (naming its field), nesting deeper than :data:`MAX_JSON_DEPTH`.

    Iterative (no recursion limit to hit); the field named is the path of object keys (``figures.a``).
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, name = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return 400, _("请求中含有不允许的空字符（NUL）。")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_REQUEST_INT:
                return 422, _("参数“%(name)s”的数值超出范围。") % {"name": name or "?"}
        elif isinstance(value, float):
            if not math.isfinite(value):
                message = _("参数“%(name)s”的数值无效（NaN 或无穷大）。")
                return 422, message % {"name": name or "?"}
        elif depth >= MAX_JSON_DEPTH:
            return 400, _("提交的数据嵌套层次过深（上限 %(n)d 层）。") % {"n": MAX_JSON_DEPTH}
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return 400, _("请求中含有不允许的空字符（NUL）。")
                stack.append((item, depth + 1, f"{name}.{key}" if name else key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, name) for item in value)
    return None


def _json_body_refusal(body: bytes | str) -> tuple[int, str] | None:
    """:func:`_json_refusal` of a JSON text; None for text that is not JSON (the API answers 400 itself)."""
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except _NonFinite as exc:
        return 422, _("提交的数据中有无效的数值（%(v)s）。") % {"v": exc.args[0]}
    except RecursionError:
        return 400, _("提交的数据嵌套层次过深（上限 %(n)d 层）。") % {"n": MAX_JSON_DEPTH}
    except ValueError:  # also UnicodeDecodeError
        return None
    return _json_refusal(data)


_FORMS = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _unstorable_input(request: HttpRequest) -> tuple[int, str] | None:
    """Input no database can take, refused before a view turns it into a 500.

    NUL characters (PostgreSQL text cannot hold them) anywhere in the path, query, a form or a JSON
    body (on the API, any body that is not a form is read as JSON, as django-ninja does whatever its
    content type); in a JSON body, ``NaN``/``Infinity``/numbers too large for a float and nesting deeper
    than :data:`MAX_JSON_DEPTH`; and, on the API, integers beyond :data:`MAX_REQUEST_INT` — in any
    spelling pydantic accepts — in the path (404: no such object), the query or a JSON body (422,
    naming the parameter). Strings in a body that only an integer field would read as one are checked
    after validation (``qiantou.api``), where the schema is known.
    """
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query:
        return 400, _("请求中含有不允许的空字符（NUL）。")
    api = is_api(request)
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        content_type = request.content_type or ""
        if content_type == "application/json" or (api and content_type not in _FORMS):
            try:
                body = request.body
            except RequestDataTooBig:
                return 413, _("提交的内容过大。")
            if body:
                refusal = _json_body_refusal(body)
                if refusal is not None:
                    return refusal
        elif content_type == "application/x-www-form-urlencoded":
            try:
                body = request.body
            except RequestDataTooBig:
                return 413, _("提交的内容过大。")
            if b"%00" in body or b"\x00" in body:
                return 400, _("请求中含有不允许的空字符（NUL）。")
    if api:
        if any(too_big(part) for part in request.path.split("/")):
            return 404, _("未找到，或您无权查看。")
        for name, values in request.GET.lists():
            if any(too_big(v) for v in values):
                return 422, _("参数“%(name)s”的数值超出范围。") % {"name": name}
    return None


def _form_refusal(request: HttpRequest) -> tuple[int, str] | None:
    """A NUL in a multipart form's field names, values or file names."""
    for name, values in request.POST.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return 400, _("请求中含有不允许的空字符（NUL）。")
    for upload in (f for name in request.FILES for f in request.FILES.getlist(name)):
        if "\x00" in (upload.name or ""):
            return 400, _("请求中含有不允许的空字符（NUL）。")
    return None


class RateLimitMiddleware:
    """Login attempts per client address; API calls per token, session or (anonymous) address."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        wait = None
        if request.method == "POST" and request.path_info in _login_paths():
            wait = ratelimit.hit("login", client_ip(request), settings.QIANTOU_RATE_LOGIN)
        elif is_api(request):
            wait = ratelimit.hit("api", _api_credential(request), settings.QIANTOU_RATE_API)
        if wait is not None:
            return refuse(
                request, 429, _("请求过于频繁，请 %(s)d 秒后再试。") % {"s": wait}, Retry_After=str(wait)
            )
        return self.get_response(request)


def _login_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}


def _api_credential(request: HttpRequest) -> str:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:7].lower() == "bearer ":
        return "t:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:24]
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key and getattr(request, "user", None) is not None and request.user.is_authenticated:
        return "s:" + hashlib.sha256(session_key.encode()).hexdigest()[:24]
    return "ip:" + client_ip(request)


#: Session key of the last request's time (epoch seconds), refreshed at most once a minute.
LAST_SEEN = "qiantou_last_seen"
_LAST_SEEN_GRANULARITY = 60


def _exempt(path: str) -> bool:
    prefixes = [
        reverse("logout"),
        reverse("login"),
        reverse("accounts:password_change"),
        reverse("accounts:otp_verify"),
        reverse("accounts:otp_setup"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/i18n/",
    ]
    return any(path.startswith(p) for p in prefixes)


class SessionGuardMiddleware:
    """Idle timeout, forced password change and the TOTP step for session users."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        last = request.session.get(LAST_SEEN)
        idle = settings.QIANTOU_SESSION_IDLE_MINUTES * 60
        if isinstance(last, (int, float)) and now - last > idle:
            request.qiantou_logout_reason = "idle_timeout"  # type: ignore[attr-defined]
            logout(request)
            message = _("您已超过 %(m)d 分钟未操作，已自动退出，请重新登录。") % {
                "m": settings.QIANTOU_SESSION_IDLE_MINUTES
            }
            if is_api(request):
                return JsonResponse({"detail": message}, status=401)
            messages.warning(request, message)
            return _to(request, reverse("login") + "?next=" + quote(request.get_full_path()))
        if not isinstance(last, (int, float)) or now - last > _LAST_SEEN_GRANULARITY:
            request.session[LAST_SEEN] = now
        if not _exempt(request.path_info):
            step = _pending_step(request, user)
            if step is not None:
                url, message = step
                if is_api(request):
                    return JsonResponse({"detail": message}, status=403)
                return _to(request, url)
        return self.get_response(request)


def _pending_step(request: HttpRequest, user: Any) -> tuple[str, str] | None:
    """Where a logged-in user must go before anything else, with the reason; None if nowhere."""
    from qiantou.security.services import otp_device_for, otp_required_for

    if user.must_change_password:
        return reverse("accounts:password_change"), _("请先修改初始密码。")
    if not user.is_verified():
        if otp_device_for(user) is not None:
            return reverse("accounts:otp_verify"), _("请输入动态口令完成第二步验证。")
        if otp_required_for(user):
            return reverse("accounts:otp_setup"), _("您的角色须启用动态口令，请先绑定。")
    return None


def _to(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect; for htmx requests an ``HX-Redirect`` so the whole page goes there."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


_OOXML_TYPES = ("application/vnd.openxmlformats-officedocument.",)
_CORE = "docProps/core.xml"


class ExportStampMiddleware:
    """Stamp downloads with the exporting user and time; record them (``export.download``)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user: Any = getattr(request, "user", None)
        disposition = response.get("Content-Disposition", "")
        if (
            response.status_code != 200
            or "attachment" not in disposition.lower()
            or response.streaming
            or user is None
            or not user.is_authenticated
        ):
            return response
        now = timezone.now()
        if response.get("Content-Type", "").startswith(_OOXML_TYPES):
            stamped = stamp_ooxml(response.content, exported_by=_who(user), exported_at=now)
            if stamped is not None:
                response.content = stamped
        response["X-Qiantou-Exported-By"] = quote(_who(user))
        response["X-Qiantou-Exported-At"] = now.isoformat(timespec="seconds")
        from qiantou.security.services import export_record

        export_record(
            actor=user,
            path=request.path_info,
            filename=_filename(disposition),
            content=response.content,
            content_type=response.get("Content-Type", ""),
            exported_at=now,
        )
        return response


def _who(user: Any) -> str:
    name = getattr(user, "display_name", "") or ""
    return f"{name}（{user.get_username()}）" if name else user.get_username()


def _filename(disposition: str) -> str:
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition, re.IGNORECASE) or re.search(
        r'filename="?([^";]+)', disposition
    )
    if not match:
        return ""
    from urllib.parse import unquote

    return unquote(match.group(1))[:200]


_XMLNS = {
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "dcterms": "http://purl.org/dc/terms/",
}


def stamp_ooxml(data: bytes, *, exported_by: str, exported_at: dt.datetime) -> bytes | None:
    """Set ``lastModifiedBy`` and ``modified`` of an OOXML file's core properties to the exporting user
    and time (what Word/WPS show under 属性); None if ``data`` is not an OOXML package with them."""
    from xml.sax.saxutils import escape

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            if _CORE not in src.namelist():
                return None
            core = src.read(_CORE).decode("utf-8")
            when = exported_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            by = f"<cp:lastModifiedBy>{escape(exported_by)}</cp:lastModifiedBy>"
            modified = f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
            core = re.sub(
                r"<cp:lastModifiedBy\s*/>|<cp:lastModifiedBy>.*?</cp:lastModifiedBy>", "", core, flags=re.S
            )
            core = re.sub(
                r"<dcterms:modified[^>]*/>|<dcterms:modified[^>]*>.*?</dcterms:modified>",
                "",
                core,
                flags=re.S,
            )
            root = re.search(r"<cp:coreProperties\b[^>]*>", core)
            if root is None:
                return None
            # Declared on the root (a removed element may have carried its own declaration).
            for prefix, uri in _XMLNS.items():
                if f"xmlns:{prefix}=" not in root.group(0):
                    core = core.replace("<cp:coreProperties", f'<cp:coreProperties xmlns:{prefix}="{uri}"', 1)
            core = core.replace("</cp:coreProperties>", by + modified + "</cp:coreProperties>")
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
                for info in src.infolist():
                    payload = core.encode("utf-8") if info.filename == _CORE else src.read(info.filename)
                    dst.writestr(info, payload)
            return out.getvalue()
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError):
        return None
