"""htmx helpers shared by the views."""

from __future__ import annotations

from django.http import HttpRequest


def wants_fragment(request: HttpRequest) -> bool:
    """True for an htmx request that swaps a fragment (not a history restore, which needs the page)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not details.history_restore_request  # type: ignore[union-attr]
