"""Downloading a file handed in with a material submission or a progress report.

Shared by the page (``/chasing/attachments/<id>/``) and the API (``/api/chasing/attachments/<id>``).
Whoever may see the material request or report request may download its files; anyone else gets a 404,
as for a file that does not exist. The response is an attachment, so ``ExportStampMiddleware`` records
the download (``export.download``: who, when, file name and SHA-256).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse

from qiantou.chasing import selectors
from qiantou.chasing.uploads import content_type
from qiantou.web.responses import download


def attachment_download(user: Any, pk: int) -> HttpResponse:
    """The stored file ``pk`` as a download, or :class:`~django.http.Http404` when the user may not see
    it or its content is missing from storage."""
    att = selectors.attachments_visible_to(user).filter(pk=pk).first()
    if att is None:
        raise Http404
    try:
        with att.file.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    return download(data, att.original_name, content_type(att.kind))
