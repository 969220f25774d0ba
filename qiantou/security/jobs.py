"""Background work of the security app (django.tasks)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from qiantou.security.services import retention_purge


@task()
def retention_purge_job(days: int | None = None) -> list[dict[str, Any]]:
    """Delete data-check files past their retention period (``services.retention_purge``)."""
    return retention_purge(actor=None, days=days)
