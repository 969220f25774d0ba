"""Responses shared by the web views: file downloads, and a service's refusal shown to the user."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from qiantou.errors import ConflictError, QiantouError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: What a service may refuse with; a view shows it and goes back (:func:`fail`).
SERVICE_ERRORS = (QiantouError, ValidationError, PermissionDenied)


def service_message(exc: Exception) -> str:
    """The user-facing text of a service's refusal (a ``ValidationError``'s messages joined)."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or _("您无权执行此操作。")


def fail(request: HttpRequest, exc: Exception, url: str) -> HttpResponse:
    """Show the service's error and go back to ``url``; a conflict also sets ``X-Qiantou-Conflict``."""
    messages.error(request, service_message(exc))
    response = HttpResponseRedirect(url)
    if isinstance(exc, ConflictError):
        response["X-Qiantou-Conflict"] = "1"
    return response


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    """``content`` as an attachment named ``filename`` (non-ASCII names per RFC 6266 / RFC 5987)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
